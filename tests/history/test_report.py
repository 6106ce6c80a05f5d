"""`aqe artifacts report --html`: the static site's files, escaping, CSP, and replacing an earlier report."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import pytest

from aqe_ci.app.report import build_report
from aqe_ci.errors import NotFoundError, UsageError
from aqe_ci.render.html import json_block, write_site
from aqe_ci.storage.store import Store
from tests.history.report_store import HOSTILE, fill_report_store


def test_report_cli_writes_the_site(aqe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: Store,
                                    cli_config: Path) -> None:
    keys = fill_report_store(store)
    monkeypatch.setenv("AQE_CONFIG", str(cli_config))
    out = tmp_path / "site"
    r = aqe("artifacts", "report", "--html", str(out), "--title", "acme <app>")
    assert r.code == 0, r.err
    assert f"wrote {3 + len(keys)} pages for {len(keys)} runs" in r.out
    assert "reading runs: 9/9" in r.err
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html"))
    assert names == sorted(["index.html", "flaky.html", "compare.html", *[f"runs/{k}.html" for k in keys]])
    index = (out / "index.html").read_text()
    assert "<title>acme &lt;app&gt; · acme &lt;app&gt;</title>" in index
    for k in keys:
        assert f'href="runs/{k}.html"' in index
    flaky = (out / "flaky.html").read_text()
    assert "c::test_net" in flaky and "flip-rate" in flaky


def all_pages(out: Path) -> list[tuple[Path, str]]:
    return [(p, p.read_text()) for p in sorted(out.rglob("*.html"))]


def test_untrusted_text_is_escaped_everywhere(store: Store, tmp_path: Path) -> None:
    fill_report_store(store)
    out = tmp_path / "site"
    write_site(out, build_report(store))
    for path, text in all_pages(out):
        assert "<img" not in text, path
        assert "alert(2)</script>" not in text.replace("\\u003c", "<").split('id="aqe-data">')[0], path
        assert text.count("<script") == text.count("</script>"), path
    run = (out / "runs" / "main-07.html").read_text()
    assert "&lt;img src=x onerror=alert(1)&gt;&quot;&lt;/script&gt;" in run
    data_block = (out / "compare.html").read_text().split('id="aqe-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in data_block and ">" not in data_block
    data = json.loads(data_block)
    failing = {f[0] for r in data["runs"] for f in r["failing"]}
    assert f"c::{HOSTILE}" in failing  # the data keeps the text; the script sets it as textContent


def test_csp_allows_exactly_the_inlined_blocks(store: Store, tmp_path: Path) -> None:
    fill_report_store(store)
    out = tmp_path / "site"
    write_site(out, build_report(store))
    for path, text in all_pages(out):
        csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', text).group(1)
        assert csp.startswith("default-src 'none';"), path
        style = re.search(r"<style>(.*?)</style>", text, re.S).group(1)
        assert _sha(style) in csp
        scripts = re.findall(r"<script>(.*?)</script>", text, re.S)
        if scripts:
            [script] = scripts
            assert f"script-src {_sha(script)};" in csp
        else:
            assert "script-src 'none';" in csp
        assert "http://" not in text.replace("http://www.w3.org", "") and "https://" not in text, path


def _sha(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_report_details(store: Store) -> None:
    fill_report_store(store)
    report = build_report(store, last=5)
    assert [r.key for r in report.runs] == ["pr-7", "main-07", "main-06", "main-05", "main-04"]
    main7 = report.runs[1]
    assert main7.failures_total == 1 and main7.failures[0].name == HOSTILE
    assert main7.files_total == 3 and main7.files[0].line_rate == 50.0  # lowest coverage first
    assert [f.severity for f in main7.findings] == ["high", "medium"]
    assert len(report.trends["coverage"].points) == 4 and len(report.trends["test_results"].points) == 5


def test_outdir_rules(store: Store, tmp_path: Path) -> None:
    fill_report_store(store, runs=3)
    out = tmp_path / "site"
    write_site(out, build_report(store))
    assert (out / "runs" / "main-02.html").exists()
    store.delete("main-02")
    write_site(out, build_report(store))  # an earlier report is replaced whole
    assert not (out / "runs" / "main-02.html").exists() and (out / "runs" / "main-01.html").exists()
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    with pytest.raises(UsageError, match="not empty"):
        write_site(other, build_report(store))
    assert (other / "notes.txt").read_text() == "keep me" and len(list(other.iterdir())) == 1
    assert not list(tmp_path.glob(".aqe-report-*"))


def test_empty_store(store: Store) -> None:
    with pytest.raises(NotFoundError, match="no runs stored"):
        build_report(store)


def test_json_block_cannot_close_its_element() -> None:
    text = json_block({"x": "</script><!-- \u2028 & >"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"x": "</script><!-- \u2028 & >"}
