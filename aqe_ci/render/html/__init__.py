"""The static HTML history report: ``index.html`` (runs, trend charts), ``runs/<key>.html`` (one run),
``flaky.html`` and ``compare.html`` (any two runs, client-side).

Offline by construction: the stylesheet and the one script ship in this package (``static/``) and are
inlined into each page; every page carries a Content-Security-Policy of ``default-src 'none'`` that
allows only those inlined blocks (by their sha256), so a page cannot load anything from anywhere.
Every untrusted string is HTML-escaped; the compare page's data is a JSON block with ``<``, ``>``,
``&`` escaped, and its script builds nodes with ``textContent`` only. Good for GitHub/GitLab Pages.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

from aqe_ci import __version__
from aqe_ci.errors import UsageError
from aqe_ci.model.report import Report
from aqe_ci.render.html import pages

MARKER = ".aqe-report"  # names a directory this module wrote, so a re-run may replace it
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def static_text(name: str) -> str:
    return resources.files("aqe_ci.render.html").joinpath("static", name).read_text(encoding="utf-8")


def _sha(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def json_block(data: Any) -> str:
    """JSON safe inside ``<script type="application/json">``: nothing in it can close the element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = _CONTROL.sub("", text)
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def page(title: str, body: str, *, root: str, report: Report, script: str | None = None,
         data: Any = None) -> str:
    css = static_text("report.css")
    script_src = _sha(script) if script else "'none'"
    csp = (f"default-src 'none'; style-src {_sha(css)}; script-src {script_src}; img-src data:; "
           "base-uri 'none'; form-action 'none'")
    nav = (f'<nav><a href="{root}index.html">Runs</a><a href="{root}flaky.html">Flaky tests</a>'
           f'<a href="{root}compare.html">Compare runs</a></nav>')
    tail = ""
    if data is not None:
        tail += f'<script type="application/json" id="aqe-data">{json_block(data)}</script>\n'
    if script:
        tail += f"<script>{script}</script>\n"
    where = f" · branch {escape(report.branch)}" if report.branch else ""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="referrer" content="no-referrer">
<title>{escape(title)} · {escape(report.title)}</title>
<link rel="icon" href="data:,">
<style>{css}</style>
</head>
<body>
<header>{nav}<h1>{escape(title)}</h1></header>
<main>
{body}
</main>
<footer>{escape(report.title)} · {len(report.runs)} runs{where} · generated {escape(report.generated_at)} by aqe-artifacts {escape(__version__)}</footer>
{tail}</body>
</html>
"""


def _files(report: Report) -> dict[str, str]:
    files = {"index.html": page(report.title, pages.index_body(report), root="", report=report),
             "flaky.html": page("Flaky tests", pages.flaky_body(report), root="", report=report),
             "compare.html": page("Compare runs", pages.compare_body(), root="", report=report,
                                  script=static_text("compare.js"), data=pages.compare_data(report))}
    ordered = list(report.runs)
    for i, run in enumerate(ordered):
        previous = ordered[i + 1] if i + 1 < len(ordered) else None
        files[f"runs/{run.key}.html"] = page(f"Run {run.key}", pages.run_body(run, previous), root="../",
                                             report=report)
    return files


def write_site(outdir: Path, report: Report) -> list[Path]:
    """Write the site into ``outdir``: built beside it, then moved in place whole.

    ``outdir`` must be absent, empty, or a previous report (it then is replaced, so runs that left the
    window leave the site too); anything else is refused, nothing is touched.
    """
    outdir = Path(outdir)
    if outdir.exists() and (not outdir.is_dir() or (any(outdir.iterdir()) and not (outdir / MARKER).exists())):
        raise UsageError(f"{outdir} is not empty and holds no earlier report",
                         hint="give a new or empty directory (a report directory is replaced on the next run)")
    outdir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".aqe-report-", dir=outdir.parent))
    try:
        written = []
        for name, text in _files(report).items():
            path = tmp / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(outdir / name)
        (tmp / MARKER).write_text(json.dumps({"generator": f"aqe-artifacts {__version__}",
                                              "generated_at": report.generated_at}) + "\n")
        os.chmod(tmp, 0o755)
        if outdir.exists():
            old = outdir.with_name(f".{outdir.name}.old-{os.getpid()}")
            outdir.rename(old)
            tmp.rename(outdir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(outdir)
    except BaseException:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp)
        raise
    return written
