"""``aqe artifacts delete``."""

from __future__ import annotations

import sys
from typing import Any

import click

from aqe_ci.cli.options import format_option, yes_option
from aqe_ci.cli.output import echo, echo_json
from aqe_ci.errors import UsageError
from aqe_ci.storage import layout
from aqe_ci.storage.layout import DOC_TYPES


def confirm(question: str, yes: bool) -> None:
    """Ask on a terminal; refuse without --yes when nobody can answer (CI has no stdin)."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError(f"{question} — not confirmed", hint="pass --yes to confirm in non-interactive runs")
    click.confirm(question, abort=True)


@click.command(epilog="""\b
Examples:
  aqe artifacts delete build-abc123
  aqe artifacts delete build-abc123 --type coverage --yes""")
@click.argument("key")
@click.option("--type", "doc_type", type=click.Choice(DOC_TYPES), help="Only this document type.")
@click.option("--part", metavar="NAME", help="Only this part.")
@yes_option
@format_option("table", "json", default="table")
@click.pass_obj
def delete(runtime: Any, key: str, doc_type: str | None, part: str | None, yes: bool, format: str) -> None:
    """Delete a run's documents (crash-safe: an interrupted delete is finished by cleanup)."""
    layout.check_key(key)
    if part:
        layout.check_part(part)
    store = runtime.store
    targets = [m for m in store.manifests(key, doc_type) if part is None or m.part == part]
    if targets:
        confirm(f"delete {len(targets)} document(s) of run {key} from {store.location}?", yes)
    removed = store.delete(key, doc_type, part)
    if format == "json":
        echo_json({"deleted": [{"key": m.key, "type": m.type, "part": m.part} for m in removed]})
        return
    for m in removed:
        echo(f"deleted {m.key}/{m.type}/{m.part}")
