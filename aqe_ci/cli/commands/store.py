"""``aqe artifacts store``: validate documents (or ingest raw reports) and store them under a run key."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import click

from aqe_ci.cli.options import context_options, parse_tags, tag_option
from aqe_ci.cli.output import echo, echo_json, human_bytes
from aqe_ci.errors import AqeError, ConflictError, InvalidInputError
from aqe_ci.model.keys import DOC_TYPES, check_key, check_part
from aqe_ci.model.runinput import parse_metadata


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
@click.option("--key", "--artifact-key", "key", metavar="KEY",
              help="Run key, e.g. build-$SHA (default: derived from the CI context, printed).")
@click.option("--part", default="default", show_default=True, metavar="NAME",
              help="Part name, for matrix/sharded jobs storing one type several times under one key.")
@click.option("--metadata", metavar="JSON",
              help='JSON object of user metadata kept in the manifest; its "branch" and "pr" fill what the CI '
                   'context does not say ("pr": "" = none).')
@tag_option
@click.option("--overwrite", is_flag=True, help="Replace an existing document instead of failing.")
@context_options
@click.option("--output-format", "output_format", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="How to print what was stored.")
@click.pass_obj
def store(runtime: Any, doc_type: str | None, file: tuple[str, ...], input_format: str, key: str | None, part: str,
          metadata: str | None, tag: tuple[str, ...], overwrite: bool, output_format: str, **ctx_flags: Any) -> None:
    """Ingest reports (or validate normalised documents) and store them under one run key.

    Several files of one type merge into one document (sharded JUnit, several SARIF runs).
    """
    check_part(part)
    meta = parse_metadata(metadata)
    tag_map = parse_tags(tag)
    ctx = runtime.ci_context(metadata=meta, **ctx_flags)
    run_key = check_key(key) if key else runtime.default_key(ctx)
    cfg = runtime.config
    with tempfile.TemporaryDirectory(prefix="aqe-store-") as tmp:
        docs = collect_documents(list(file), doc_type=doc_type, fmt=input_format, limits=cfg.limits,
                                 workdir=Path(tmp))
        stored = put_all(runtime.store, docs, key=run_key, part=part, ctx=ctx, tags=tag_map, metadata=meta,
                         overwrite=overwrite)
    report(stored, run_key, runtime.store.location, output_format)
    notify_stored(runtime, ctx, run_key, stored)


def notify_stored(runtime: Any, ctx: Any, key: str, stored: list[Any]) -> None:
    """The ``stored`` webhook event (config ``notify``), after what was stored has been printed."""
    from aqe_ci.app.notify import notifier_from_config, send_events, stored_events

    notifier = notifier_from_config(runtime.config.section("notify"))
    if notifier is None:
        return
    run = {k: getattr(ctx, k, None) for k in ("commit", "branch", "pr", "platform", "repository", "run_url")}
    documents = [{"type": m.type, "part": m.part, "summary": m.summary} for m in stored]
    send_events(notifier, stored_events(store=runtime.store.location, key=key, run=run, documents=documents),
                lambda line: echo(line, err=True))


def collect_documents(patterns: list[str], *, doc_type: str | None, fmt: str, limits: Any,
                      workdir: Path) -> dict[str, Any]:
    """Load normalised documents and ingest raw reports; one document per type.

    Any invalid file → InvalidInputError listing every problem, and nothing is kept.
    """
    from aqe_ci.ingest.base import read_head
    from aqe_ci.ingest.driver import expand_globs, ingest_files
    from aqe_ci.model.files import load_document_file, looks_like_document
    from aqe_ci.model.limits import check_report_file

    docs: dict[str, Any] = {}
    problems: list[str] = []
    raw: list[Path] = []
    for path in expand_globs(patterns):
        if fmt == "auto":
            try:
                check_report_file(path, limits)
                is_doc = looks_like_document(read_head(path))
            except InvalidInputError as exc:
                problems.append(exc.one_line())
                continue
        else:
            is_doc = fmt == "document"
        if not is_doc:
            raw.append(path)
            continue
        try:
            doc = load_document_file(path, limits)
        except InvalidInputError as exc:
            problems.append(exc.one_line())
            continue
        if doc["type"] in docs:
            problems.append(f"{path}: a second {doc['type']} document in one store call "
                            "(store it with its own --part)")
            continue
        docs[doc["type"]] = doc
    if raw:
        result = ingest_files(raw, fmt="auto" if fmt in ("auto", "document") else fmt, limits=limits,
                              workdir=workdir)
        problems.extend(p.one_line() for p in result.problems)
        for t, written in result.documents.items():
            if t in docs:
                problems.append(f"{', '.join(s.file for s in written.sources)}: {t} reports and a normalised "
                                f"{t} document in one store call")
            docs[t] = written
    if doc_type:
        for t, d in docs.items():
            if t != doc_type:
                names = ", ".join(s.file for s in d.sources) if not isinstance(d, dict) else "a document"
                problems.append(f"{names}: is {t}, not {doc_type} (--type)")
    if problems:
        raise InvalidInputError("; ".join(problems), hint="nothing was stored")
    if not docs:
        raise InvalidInputError("no document to store")
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
