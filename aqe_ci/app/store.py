"""``store_run``: validate documents (or ingest raw reports) and store them under one run key.

The seam ``aqe artifacts store``, ``aqe execute``, the GitHub action entrypoint and the GitLab
component call::

    result = store_run(lambda: app.store, StoreRequest(files=("junit.xml", "coverage.xml")),
                       ctx=app.ci_context(), limits=app.config.limits)
    print(result.key)

All or nothing: every file is read and checked first (any invalid file → InvalidInputError listing
every problem), every document is checked for a conflict before any is written, and a failure
part way removes what this call wrote.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeAlias

from aqe_ci.errors import AqeError, ConflictError, InvalidInputError, NotFoundError
from aqe_ci.ingest.base import WrittenDocument
from aqe_ci.model.context import CiContext
from aqe_ci.model.jsontypes import JsonValue
from aqe_ci.model.keys import check_key, check_part, utc_now
from aqe_ci.model.limits import Limits
from aqe_ci.storage.store import Manifest, Store

#: a normalised document read from a file (a dict), or a report ingested and spooled on disk
Document: TypeAlias = "dict[str, Any] | WrittenDocument"


@dataclass(frozen=True, kw_only=True)
class StoreRequest:
    files: tuple[str, ...]  # paths or globs ('reports/**/*.xml')
    doc_type: str | None = None  # every document must be of this type (default: each file's own)
    input_format: str = "auto"  # auto (by content), document (normalised aqe JSON) or a report format
    key: str | None = None  # the run key (default: derived from the CI context)
    part: str = "default"
    metadata: Mapping[str, JsonValue] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    overwrite: bool = False

    def __post_init__(self) -> None:
        check_part(self.part)
        if self.key is not None:
            check_key(self.key)


@dataclass(frozen=True, kw_only=True)
class StoreResult:
    key: str
    location: str  # where the store is, for messages
    stored: tuple[Manifest, ...]


def store_run(store: Store | Callable[[], Store], request: StoreRequest, *, ctx: CiContext, limits: Limits,
              now: datetime | None = None) -> StoreResult:
    """Store ``request.files`` under one run key; the manifests record ``ctx``'s run facts.

    ``store`` may be a callable that builds it (``lambda: app.store``): every file is read and checked
    before it is called, so a bad report is reported before any storage problem.
    """
    from aqe_ci.context.keys import default_key

    key = request.key or default_key(ctx, now or utc_now())
    with tempfile.TemporaryDirectory(prefix="aqe-store-") as tmp:
        docs = collect_documents(list(request.files), doc_type=request.doc_type, fmt=request.input_format,
                                 limits=limits, workdir=Path(tmp))
        target = store if isinstance(store, Store) else store()
        stored = put_all(target, docs, key=key, part=request.part, ctx=ctx, tags=request.tags,
                         metadata=request.metadata, overwrite=request.overwrite)
    return StoreResult(key=key, location=target.location, stored=tuple(stored))


def collect_documents(patterns: Sequence[str], *, doc_type: str | None, fmt: str, limits: Limits,
                      workdir: Path) -> dict[str, Document]:
    """Load normalised documents and ingest raw reports; one document per type.

    Any invalid file → InvalidInputError listing every problem, and nothing is kept.
    """
    from aqe_ci.ingest.driver import expand_globs, ingest_files

    docs: dict[str, Document] = {}
    problems: list[str] = []
    raw: list[Path] = []
    for path in expand_globs(patterns):
        _read_document(path, fmt, limits, docs, raw, problems)
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


def _read_document(path: Path, fmt: str, limits: Limits, docs: dict[str, Document], raw: list[Path],
                   problems: list[str]) -> None:
    """A normalised document into ``docs``; a raw report (by content, or by ``fmt``) onto ``raw``."""
    from aqe_ci.ingest.base import read_head
    from aqe_ci.model.files import load_document_file, looks_like_document
    from aqe_ci.model.limits import check_report_file

    if fmt == "auto":
        try:
            check_report_file(path, limits)
            is_doc = looks_like_document(read_head(path))
        except InvalidInputError as exc:
            problems.append(exc.one_line())
            return
    else:
        is_doc = fmt == "document"
    if not is_doc:
        raw.append(path)
        return
    try:
        doc = load_document_file(path, limits)
    except InvalidInputError as exc:
        problems.append(exc.one_line())
        return
    if doc["type"] in docs:
        problems.append(f"{path}: a second {doc['type']} document in one store call "
                        "(store it with its own --part)")
        return
    docs[doc["type"]] = doc


def put_all(store: Store, docs: Mapping[str, Document], *, key: str, part: str, ctx: CiContext,
            tags: Mapping[str, str], metadata: Mapping[str, JsonValue], overwrite: bool) -> list[Manifest]:
    """Store every document or none: conflicts are checked first, and a failure removes what this call wrote."""
    if not overwrite:
        for t in docs:
            try:
                store.manifest(key, t, part)
            except NotFoundError:
                continue
            raise ConflictError(f"document {key}/{t}/{part} already exists in {store.location}",
                                hint="documents are immutable; use another --key or --part, or --overwrite "
                                     "(docs/troubleshooting.md#document-already-exists)")
    stored: list[Manifest] = []
    run = ctx.run_facts()
    try:
        for t, doc in docs.items():
            if isinstance(doc, dict):
                stored.append(store.put_document(doc, key=key, part=part, run=run, tags=tags, metadata=metadata,
                                                 overwrite=overwrite))
            else:  # an ingested WrittenDocument spooled on disk
                stored.append(store.put(doc_type=t, key=key, part=part, run=run, payload=doc.path,
                                        summary=doc.summary, blobs=doc.blobs, tags=tags, metadata=metadata,
                                        overwrite=overwrite))
    except AqeError:
        if not overwrite:
            for m in stored:
                store.delete_manifest(m)
        raise
    return stored
