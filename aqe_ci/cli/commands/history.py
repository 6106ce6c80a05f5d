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
