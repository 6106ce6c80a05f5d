"""``aqe artifacts copy``: migrate history between two stores (use case: aqe_ci/app/copy.py)."""

from __future__ import annotations

import os

import click

from aqe_ci.cli.options import format_option
from aqe_ci.cli.output import echo, echo_json
from aqe_ci.errors import ConflictError
from aqe_ci.model.keys import DOC_TYPES


@click.command(epilog="""\b
Examples:
  aqe artifacts copy --from-config config/local.json --to-config config/s3.json
  aqe artifacts copy --from-config config/github.json --to-config config/s3.json --since 2025-11-01
  aqe artifacts copy --from-config a.json --to-config b.json --dry-run --format json

Streams each document, verifies its sha256, keeps its key, part, creation time, commit, branch, PR,
tags and metadata. A rerun skips what is already there with the same sha256 (resumable, idempotent);
a document there with other content is a conflict: it is left alone and the command exits 3 after
copying the rest.""")
@click.option("--from-config", "from_config", required=True, metavar="PATH", help="Config of the source store.")
@click.option("--to-config", "to_config", required=True, metavar="PATH", help="Config of the target store.")
@click.option("--since", metavar="DATE", help="Only documents created on or after (YYYY-MM-DD or ISO time, UTC).")
@click.option("--until", metavar="DATE", help="Only documents created on or before (a date includes the day).")
@click.option("--type", "doc_type", type=click.Choice(DOC_TYPES), help="Only this document type.")
@click.option("--dry-run", is_flag=True, help="Show what would be copied; store nothing.")
@format_option("table", "json", default="table")
def copy(from_config: str, to_config: str, since: str | None, until: str | None, doc_type: str | None,
         dry_run: bool, format: str) -> None:
    """Copy stored history from one store to another (any two backends)."""
    from aqe_ci.app.copy import copy_between
    from aqe_ci.cli.commands.query import parse_date
    from aqe_ci.config import load_config

    source = load_config(from_config, os.environ)
    target = load_config(to_config, os.environ)

    def progress(what: str, name: str) -> None:
        echo(f"{what} {name}", err=True)

    report = copy_between(source, target, since_ms=parse_date(since, end=False, option="--since"),
                          until_ms=parse_date(until, end=True, option="--until"), doc_type=doc_type,
                          dry_run=dry_run, progress=progress)
    if format == "json":
        echo_json(report.as_json())
    else:
        verb = "would copy" if dry_run else "copied"
        echo(f"{verb} {len(report.copied)} documents ({report.bytes_copied:,} bytes) from {report.source} to "
             f"{report.target}; {len(report.skipped)} already there, {len(report.conflicts)} conflicts")
    if report.conflicts:
        raise ConflictError(f"{len(report.conflicts)} documents exist in {report.target} with other content "
                            f"(first: {report.conflicts[0]})",
                            hint="they were left alone; delete them in the target to copy them again")
