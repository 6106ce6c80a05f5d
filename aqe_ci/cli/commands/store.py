"""``aqe artifacts store``: validate documents (or ingest raw reports) and store them under a run key."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import click

from aqe_ci.cli.options import context_options, format_option, parse_tags, tag_option
from aqe_ci.cli.output import echo, echo_json, human_bytes
from aqe_ci.errors import AqeError, ConflictError, InvalidInputError, UsageError
from aqe_ci.storage.layout import DOC_TYPES, check_key, check_part


@click.command(epilog="""\b
Examples:
  aqe artifacts store --type test_results --file results.json --key build-abc123
  aqe artifacts store --file coverage.json --file security.json --tag suite=unit
  aqe artifacts store --type coverage --file cov.json --part linux-py311 --key build-abc123
  AQE_ARTIFACTS_STORE_KEY=build-abc123 aqe artifacts store --file results.json

Prints the run key. Exit 3 if the document exists (use --overwrite), 7 if a file is invalid:
then nothing is stored.""")
@click.option("--type", "doc_type", type=click.Choice(DOC_TYPES),
              help="Document type (default: from each file's content).")
@click.option("--file", "file", multiple=True, required=True, metavar="PATH",
              help="Normalised document (JSON) to store; repeatable.")
@click.option("--key", "--artifact-key", "key", metavar="KEY",
              help="Run key, e.g. build-$SHA (default: derived from the CI context, printed).")
@click.option("--part", default="default", show_default=True, metavar="NAME",
              help="Part name, for matrix/sharded jobs storing one type several times under one key.")
@click.option("--metadata", metavar="JSON", help="JSON object of user metadata kept in the manifest.")
@tag_option
@click.option("--overwrite", is_flag=True, help="Replace an existing document instead of failing.")
@context_options
@format_option("table", "json", default="table")
@click.pass_obj
def store(runtime: Any, doc_type: str | None, file: tuple[str, ...], key: str | None, part: str,
          metadata: str | None, tag: tuple[str, ...], overwrite: bool, format: str, **ctx_flags: Any) -> None:
    """Validate documents and store them under one run key."""
    check_part(part)
    meta = parse_metadata(metadata)
    tag_map = parse_tags(tag)
    ctx = runtime.ci_context(**ctx_flags)
    run_key = check_key(key) if key else runtime.default_key(ctx)
    cfg = runtime.config
    with tempfile.TemporaryDirectory(prefix="aqe-store-") as tmp:
        docs = collect_documents([Path(f) for f in file], doc_type=doc_type, limits=cfg.limits,
                                 workdir=Path(tmp))
        stored = put_all(runtime.store, docs, key=run_key, part=part, ctx=ctx, tags=tag_map, metadata=meta,
                         overwrite=overwrite)
    report(stored, run_key, runtime.store.location, format)


def parse_metadata(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--metadata is not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(value, dict):
        raise UsageError("--metadata must be a JSON object")
    return value


def collect_documents(paths: list[Path], *, doc_type: str | None, limits: Any, workdir: Path) -> dict[str, Any]:
    """Load and validate every file; one document per type. Any invalid file → InvalidInputError, nothing kept."""
    from aqe_ci.documents.files import load_document_file

    docs: dict[str, Any] = {}
    problems: list[str] = []
    for path in paths:
        try:
            doc = load_document_file(path, limits)
        except InvalidInputError as exc:
            problems.append(exc.one_line())
            continue
        if doc_type and doc["type"] != doc_type:
            problems.append(f"{path}: is a {doc['type']} document, not {doc_type}")
            continue
        if doc["type"] in docs:
            problems.append(f"{path}: a second {doc['type']} document in one store call "
                            "(store it with its own --part, or merge the reports first)")
            continue
        docs[doc["type"]] = doc
    if problems:
        raise InvalidInputError("; ".join(problems), hint="nothing was stored")
    return docs


def put_all(store: Any, docs: dict[str, Any], *, key: str, part: str, ctx: Any, tags: dict[str, str],
            metadata: dict[str, Any], overwrite: bool) -> list[Any]:
    """Store every document or none: conflicts are checked first, and a failure removes what this call wrote."""
    from aqe_ci.errors import NotFoundError

    if not overwrite:
        for t in docs:
            try:
                store.manifest(key, t, part)
            except NotFoundError:
                continue
            raise ConflictError(f"document {key}/{t}/{part} already exists in {store.location}",
                                hint="documents are immutable; use another --key or --part, or --overwrite")
    stored = []
    try:
        for t, doc in docs.items():
            kwargs = dict(key=key, part=part, context=ctx, tags=tags, metadata=metadata, overwrite=overwrite)
            if isinstance(doc, dict):
                stored.append(store.put_document(doc, **kwargs))
            else:  # an ingested WrittenDocument spooled on disk
                stored.append(store.put(doc_type=t, payload=doc.path, summary=doc.summary, blobs=doc.blobs, **kwargs))
    except AqeError:
        if not overwrite:
            for m in stored:
                store.delete_manifest(m)
        raise
    return stored


def report(stored: list[Any], key: str, location: str, format: str) -> None:
    if format == "json":
        echo_json({"key": key, "store": location, "documents": [
            {"key": m.key, "type": m.type, "part": m.part, "created_at": m.created_at,
             "size": m.payload["size"], "stored_size": m.payload["stored_size"], "sha256": m.payload["sha256"],
             "summary": m.summary} for m in stored]})
        return
    for m in stored:
        p = m.payload
        echo(f"stored {m.key}/{m.type}/{m.part}: {human_bytes(p['size'])} -> {human_bytes(p['stored_size'])} "
             f"{p['codec']}, sha256 {p['sha256'][:12]}")
    echo(f"key: {key}")
