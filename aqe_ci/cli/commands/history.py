"""``aqe artifacts trend``, ``aqe artifacts flaky`` and ``aqe artifacts report``: what the history says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from aqe_ci.cli.options import format_option
from aqe_ci.cli.output import echo, write_atomic
from aqe_ci.model.keys import DOC_TYPES


@click.command(epilog="""\b
Examples:
  aqe artifacts trend --type coverage --branch main --last 30
  aqe artifacts trend --type test_results --branch main --format csv > tests.csv
  aqe artifacts trend --type security --format markdown --output trend.md
  aqe artifacts trend --type coverage --format json

\b
Reads only the index and manifests' summaries (never a payload): one listing, newest first.
Parts of one run (matrix legs) are combined: counts summed; coverage line rate = covered/valid
over the parts (branch rate left out for multi-part runs). Points are oldest first.""")
@click.option("--type", "doc_type", type=click.Choice(DOC_TYPES), default="coverage", show_default=True,
              help="Document type.")
@click.option("--branch", metavar="NAME", help="Only runs of this branch (default: all branches).")
@click.option("--last", type=click.IntRange(min=1, max=10_000), default=30, show_default=True,
              help="The last N runs.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Also write the output to this file.")
@format_option("table", "json", "markdown", "csv", default="table")
@click.pass_obj
def trend(runtime: Any, doc_type: str, branch: str | None, last: int, output: str | None, format: str) -> None:
    """Show how coverage, tests or security findings moved over the last N runs."""
    from aqe_ci.app.trend import trend as trend_use_case
    from aqe_ci.render import trend as render

    result = trend_use_case(runtime.store, doc_type=doc_type, branch=branch, last=last)
    if format == "json":
        text = json.dumps({"store": runtime.store.location, **result.as_json()}, indent=2, ensure_ascii=False)
    elif format == "csv":
        text = render.render_csv(result)
    elif format == "markdown":
        text = render.render_markdown(result)
    else:
        text = render.render_table(result)
    _emit(text, output)


def _emit(text: str, output: str | None) -> None:
    from aqe_ci import secrets

    if output:
        write_atomic(Path(output), [secrets.redact(text)])
    echo(text)


@click.command(epilog="""\b
Examples:
  aqe artifacts flaky --last 50
  aqe artifacts flaky --last 50 --output quarantine.json
  aqe artifacts flaky --branch develop --threshold 0.2 --format markdown

\b
Flaky: passed and failed on the same commit (reruns, retried jobs, matrix legs), failed and
passed within one run's retries, or flipped between pass and fail on the default branch in
more than THRESHOLD of consecutive runs (at least --min-runs runs, two flips). Reads each test
document of the window once (the last N runs on the branch and on any branch). --output writes
the quarantine list (JSON: tests[].id = "classname::name", plus suite/classname/name/file and
the evidence); `aqe artifacts compare --known-flaky FILE` reads it. See docs/history.md.""")
@click.option("--last", type=click.IntRange(min=2, max=10_000), default=50, show_default=True,
              help="The last N test runs.")
@click.option("--branch", metavar="NAME",
              help="Default branch the flip rate is measured on (default: the CI's default branch, else main).")
@click.option("--threshold", type=click.FloatRange(min=0, max=1, min_open=True), default=0.1, show_default=True,
              help="Flip rate (flips / consecutive-run pairs) from which a test is flaky.")
@click.option("--min-runs", type=click.IntRange(min=2), default=5, show_default=True,
              help="Default-branch runs a test needs before its flip rate counts.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the quarantine list (JSON) here.")
@format_option("table", "json", "markdown", default="table")
@click.pass_obj
def flaky(runtime: Any, last: int, branch: str | None, threshold: float, min_runs: int, output: str | None,
          format: str) -> None:
    """Find flaky tests in the stored history and write a quarantine list."""
    from aqe_ci.app.flaky import find_flaky
    from aqe_ci.render import flaky as render

    branch = branch or runtime.ci_context().default_branch or "main"
    report = find_flaky(runtime.store, last=last, branch=branch, threshold=threshold, min_runs=min_runs,
                        progress=_progress("reading test runs"))
    quarantine = json.dumps({"store": runtime.store.location, **report.as_json()}, indent=2, ensure_ascii=False)
    if output:
        write_atomic(Path(output), [quarantine])
        echo(f"wrote {len(report.tests)} flaky tests to {output}", err=True)
    if format == "json":
        echo(quarantine)
    else:
        echo(render.render_markdown(report) if format == "markdown" else render.render_table(report))


def _progress(what: str) -> Any:
    """Progress on stderr: a line every 10 items (and the last), never on stdout."""

    def report(i: int, total: int, _name: str) -> None:
        if i == total or i % 10 == 0:
            echo(f"{what}: {i}/{total}", err=True)

    return report


@click.command(epilog="""\b
Examples:
  aqe artifacts report --html public/
  aqe artifacts report --html site --last 100 --branch main --title "acme/app quality"

\b
Writes a static site (no server, no CDN; assets inlined, works offline and on GitHub/GitLab
Pages): index.html with the runs table and trend charts for coverage, tests and security,
runs/<key>.html per run (failing tests, coverage by file, findings), flaky.html, and
compare.html (any two runs of the window). Reads each document of the window once.
OUTDIR must be new, empty, or an earlier report (which is then replaced).""")
@click.option("--html", "outdir", required=True, metavar="OUTDIR", type=click.Path(file_okay=False),
              help="Directory to write the site to.")
@click.option("--last", type=click.IntRange(min=1, max=1000), default=50, show_default=True,
              help="The last N runs.")
@click.option("--branch", metavar="NAME", help="Only runs of this branch (default: all branches).")
@click.option("--flaky-branch", metavar="NAME",
              help="Default branch for the flaky flip rate (default: the CI's default branch, else main).")
@click.option("--title", default="aqe-artifacts history", show_default=True, help="Site title.")
@click.pass_obj
def report(runtime: Any, outdir: str, last: int, branch: str | None, flaky_branch: str | None, title: str) -> None:
    """Write a static HTML history report: runs, trends, per-run detail, flaky tests, compare."""
    from aqe_ci.app.report import write_report

    flaky_branch = flaky_branch or runtime.ci_context().default_branch or "main"
    result, files = write_report(runtime.store, Path(outdir), last=last, branch=branch, flaky_branch=flaky_branch,
                                 title=title, progress=_progress("reading runs"))
    echo(f"wrote {len(files)} pages for {len(result.runs)} runs to {Path(outdir) / 'index.html'}")
