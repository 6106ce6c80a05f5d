"""``aqe artifacts store``: validate documents (or ingest raw reports) and store them under a run key."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from aqe_ci.cli.options import parse_tags, run_options
from aqe_ci.cli.output import echo, echo_json, human_bytes
from aqe_ci.model.keys import DOC_TYPES, check_part
from aqe_ci.model.runinput import parse_metadata

if TYPE_CHECKING:
    from aqe_ci.cli.runtime import Runtime
    from aqe_ci.model.context import CiContext
    from aqe_ci.storage.store import Manifest


@click.command(epilog="""\b
Examples:
  aqe artifacts store --file junit.xml --file coverage.xml --key build-$GITHUB_SHA
  aqe artifacts store --file 'reports/**/*.xml' --file trivy.json --tag suite=unit
  aqe artifacts store --type test_results --file results.json --key build-abc123
  aqe artifacts store --type coverage --file cov.json --part linux-py311 --key build-abc123
  AQE_ARTIFACTS_STORE_KEY=build-abc123 aqe artifacts store --file results.json

Prints the run key. Exit 3 if the document exists (use --overwrite), 7 if a file is invalid:
then nothing is stored.""")
@click.option("--type", "doc_type", type=click.Choice(DOC_TYPES),
              help="Document type (default: from each file's content).")
@click.option("--file", "file", multiple=True, required=True, metavar="PATH",
              help="Report or normalised document; repeatable; globs (quoted) such as 'reports/**/*.xml'.")
@click.option("--format", "input_format", default="auto", show_default=True, metavar="NAME",
              help="Input format: auto (by content), document (normalised aqe JSON), or a report format "
                   "(see `aqe artifacts ingest --help`).")
@run_options
@click.option("--overwrite", is_flag=True, help="Replace an existing document instead of failing.")
@click.option("--output-format", "output_format", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="How to print what was stored.")
@click.pass_obj
def store(runtime: Runtime, /, doc_type: str | None, file: tuple[str, ...], input_format: str, key: str | None,
          part: str, metadata: str | None, tag: tuple[str, ...], overwrite: bool, output_format: str,
          **ctx_flags: str | int | None) -> None:
    """Ingest reports (or validate normalised documents) and store them under one run key.

    Several files of one type merge into one document (sharded JUnit, several SARIF runs).
    """
    from aqe_ci.app.store import StoreRequest, store_run

    check_part(part)
    meta = parse_metadata(metadata)
    tags = parse_tags(tag)
    ctx = runtime.ci_context(ctx_flags, metadata=meta)
    request = StoreRequest(files=file, doc_type=doc_type, input_format=input_format, key=key, part=part,
                           metadata=meta, tags=tags, overwrite=overwrite)
    result = store_run(lambda: runtime.store, request, ctx=ctx, limits=runtime.config.limits)
    report(result.stored, result.key, result.location, output_format)
    notify_stored(runtime, ctx, result.key, result.stored)


def notify_stored(runtime: Runtime, ctx: CiContext, key: str, stored: Sequence[Manifest]) -> None:
    """The ``stored`` webhook event (config ``notify``), after what was stored has been printed."""
    from aqe_ci.app.notify import notifier_from_config, send_events, stored_events

    notifier = notifier_from_config(runtime.config.section("notify"))
    if notifier is None:
        return
    run = {k: getattr(ctx, k, None) for k in ("commit", "branch", "pr", "platform", "repository", "run_url")}
    documents = [{"type": m.type, "part": m.part, "summary": m.summary} for m in stored]
    send_events(notifier, stored_events(store=runtime.store.location, key=key, run=run, documents=documents),
                lambda line: echo(line, err=True))


def stored_json(stored: Sequence[Manifest], key: str, location: str) -> dict[str, Any]:
    """What was stored, as ``--output-format json`` prints it (``aqe execute --format json`` too)."""
    return {"key": key, "store": location, "documents": [
        {"key": m.key, "type": m.type, "part": m.part, "created_at": m.created_at,
         "size": m.payload["size"], "stored_size": m.payload["stored_size"], "sha256": m.payload["sha256"],
         "summary": m.summary} for m in stored]}


def report(stored: Sequence[Manifest], key: str, location: str, format: str) -> None:
    if format == "json":
        echo_json(stored_json(stored, key, location))
        return
    for m in stored:
        p = m.payload
        echo(f"stored {m.key}/{m.type}/{m.part}: {human_bytes(p['size'])} -> {human_bytes(p['stored_size'])} "
             f"{p['codec']}, sha256 {p['sha256'][:12]}")
    echo(f"key: {key}")
