"""The programmatic API: the store, its history and comparisons from Python, without the CLI.

Stable under semantic versioning: the names in ``__all__``, their parameters and the fields of the
values they return change only in a major release (new optional parameters and new fields may come
in minor ones). Documents and comparisons are the JSON shapes of the CLI (``aqe artifacts get`` /
``compare --format json``), as plain ``dict``s.

    from aqe_ci import api

    with api.open_store("config/storage.json") as store:
        store.store_files(["junit.xml", "coverage.xml"], key="build-1", branch="main", commit="1a2b3c4d")
        latest = store.list_runs(limit=1)[0]
        coverage = store.get_run(latest.key, type="coverage")["data"]["line_rate"]

docs/api.md has the whole tour; its examples run as tests (tests/test_api_docs.py).

Everything raises :class:`aqe_ci.errors.AqeError` subclasses on failure; ``err.exit_code`` is the
CLI's exit code for the same failure (README, "Exit codes").
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aqe_ci.config import Config, load_config, parse_config
from aqe_ci.errors import NotFoundError, UsageError
from aqe_ci.model.keys import check_key, check_part
from aqe_ci.storage.layout import Entry
from aqe_ci.storage.store import Query, Store

__all__ = ["ArtifactStore", "Document", "Run", "StoredRun", "TrendPoint", "open_store"]


@dataclass(frozen=True, kw_only=True)
class Document:
    """One stored document of a run, as ``list`` shows it (no payload read)."""

    key: str
    type: str
    part: str
    created_at: str
    commit: str | None
    branch: str | None
    pr: int | None
    summary: Mapping[str, Any] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def _from_entry(cls, e: Entry) -> Document:
        return cls(key=e.key, type=e.type, part=e.part, created_at=e.created_at, commit=e.commit,
                   branch=e.branch, pr=e.pr, summary=dict(e.summary), tags=dict(e.tags))


@dataclass(frozen=True, kw_only=True)
class Run:
    """A run key with the documents listed for it, newest first."""

    key: str
    created_at: str
    commit: str | None
    branch: str | None
    pr: int | None
    documents: tuple[Document, ...]

    @property
    def types(self) -> tuple[str, ...]:
        return tuple(sorted({d.type for d in self.documents}))


@dataclass(frozen=True, kw_only=True)
class StoredRun:
    key: str
    documents: tuple[Document, ...]


@dataclass(frozen=True, kw_only=True)
class TrendPoint:
    """One run of a trend: its key, time, commit and the summary numbers of the type."""

    key: str
    created_at: str
    commit: str | None
    branch: str | None
    summary: Mapping[str, Any]


def open_store(config: str | os.PathLike[str] | Mapping[str, Any] | Config | None = None, *,
               environ: Mapping[str, str] | None = None) -> ArtifactStore:
    """Open the store a config describes.

    ``config`` is a path to a config file (``config/storage.json``), the config itself as a mapping
    (the file's JSON, ``${VAR}`` expanded from ``environ``), an already loaded :class:`Config`, or
    None for the CLI's lookup (``AQE_CONFIG``, ``./config/storage.json``, built-in defaults).
    """
    env = dict(os.environ if environ is None else environ)
    if isinstance(config, Config):
        cfg = config
    elif isinstance(config, Mapping):
        cfg = parse_config(json.dumps(config), source="<api config>", environ=env)
    else:
        cfg = load_config(None if config is None else os.fspath(config), env)
    from aqe_ci.app.root import store_for

    return ArtifactStore(cfg, store_for(cfg))


class ArtifactStore:
    """A store opened by :func:`open_store`. Use it as a context manager, or call :meth:`close`."""

    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self._store = store

    def __enter__(self) -> ArtifactStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._store.backend.close()

    @property
    def location(self) -> str:
        """Where the store is (``/path/.qe-artifacts``, ``s3://bucket/prefix/``); never a credential."""
        return self._store.location

    # -- reading ------------------------------------------------------------------------------
    def list_documents(self, *, limit: int | None = 20, type: str | None = None, branch: str | None = None,
                       commit: str | None = None, pr: int | None = None, key: str | None = None,
                       tags: Mapping[str, str] | None = None) -> list[Document]:
        """Documents newest first, filtered like ``aqe artifacts list`` (same request costs)."""
        q = Query(type=type, branch=branch, commit=commit, pr=pr, key=key, tags=dict(tags or {}), limit=limit)
        return [Document._from_entry(e) for e in self._store.list(q)]

    def list_runs(self, *, limit: int = 20, type: str | None = None, branch: str | None = None,
                  commit: str | None = None, pr: int | None = None) -> list[Run]:
        """Runs newest first (a run groups the documents of one key), at most ``limit`` of them."""
        runs: dict[str, list[Document]] = {}
        q = Query(type=type, branch=branch, commit=commit, pr=pr)
        for e in self._store.list(q):
            if e.key not in runs and len(runs) == limit:
                break
            runs.setdefault(e.key, []).append(Document._from_entry(e))
        return [_run(key, docs) for key, docs in runs.items()]

    def get_run(self, key: str | None = None, *, commit: str | None = None, branch: str | None = None,
                type: str | None = None, part: str | None = None) -> dict[str, Any]:
        """A run's documents, parts merged: ``{"key", "commit", "branch", "pr", "created_at",
        "documents": {TYPE: document}}``, or with ``type`` the document itself. Give exactly one of
        ``key``, ``commit`` (the newest run of that commit) or ``branch`` (the newest run on it).
        Every read is checked against its sha256."""
        run_key = self._resolve(key=key, commit=commit, branch=branch, doc_type=type)
        manifests = self._store.manifests(run_key, type)
        if part is not None:
            check_part(part)
            manifests = [m for m in manifests if m.part == part]
        if not manifests:
            raise NotFoundError(f"run {run_key} has no {type or ''} documents in {self.location}".replace("  ", " "))
        by_type: dict[str, list[dict[str, Any]]] = {}
        for m in manifests:
            by_type.setdefault(m.type, []).append(self._store.load(m))
        documents = {t: _merged(t, docs) for t, docs in by_type.items()}
        if type is not None:
            return documents[type]
        first = manifests[0]
        return {"key": run_key, "commit": first.data.get("commit"), "branch": first.data.get("branch"),
                "pr": first.data.get("pr"), "created_at": min(m.data["created_at"] for m in manifests),
                "documents": documents}

    def trend(self, type: str, *, branch: str, last: int = 30) -> list[TrendPoint]:
        """The last ``last`` runs of ``type`` on ``branch``, oldest first, from manifest summaries only
        (no payload reads; parts of one run are combined as ``aqe artifacts trend`` combines them)."""
        from aqe_ci.model.keys import check_type

        check_type(type)
        if last < 1:
            raise UsageError("last must be at least 1")
        points: dict[str, list[Entry]] = {}
        for e in self._store.list(Query(type=type, branch=branch)):
            if e.key not in points and len(points) == last:
                break
            points.setdefault(e.key, []).append(e)
        out = [TrendPoint(key=k, created_at=min(e.created_at for e in es), commit=es[0].commit, branch=branch,
                          summary=_combined_summary(type, es)) for k, es in points.items()]
        return sorted(out, key=lambda p: p.created_at)

    # -- writing and comparing ------------------------------------------------------------------
    def store_files(self, files: Iterable[str | os.PathLike[str]], *, key: str, part: str = "default",
                    branch: str | None = None, commit: str | None = None, pr: int | None = None,
                    base_branch: str | None = None, tags: Mapping[str, str] | None = None,
                    metadata: Mapping[str, Any] | None = None, overwrite: bool = False) -> StoredRun:
        """Ingest report files (any format ``aqe artifacts ingest`` reads) or normalised documents
        and store them under ``key``: all or nothing, as ``aqe artifacts store``."""
        from aqe_ci.app.store import StoreRequest, store_run
        from aqe_ci.model.context import CiContext

        ctx = CiContext(branch=branch, commit=commit, pr=pr, base_branch=base_branch)
        request = StoreRequest(files=tuple(os.fspath(f) for f in files), key=check_key(key), part=check_part(part),
                               tags=dict(tags or {}), metadata=dict(metadata or {}), overwrite=overwrite)
        result = store_run(self._store, request, ctx=ctx, limits=self.config.limits)
        return StoredRun(key=result.key, documents=tuple(Document._from_entry(m.entry()) for m in result.stored))

    def compare(self, head: str, base: str | None = None, *, baseline: str | None = None,
                git_dir: str | os.PathLike[str] = ".", diff_only: bool = False,
                types: Sequence[str] | None = None) -> dict[str, Any]:
        """Compare run ``head`` with run ``base``, or with the baseline the rules choose (the merge-base
        run of ``baseline``'s branch, found with the git checkout at ``git_dir``): the JSON of
        ``aqe artifacts compare --format json`` (``{"comparison": {...}}``)."""
        from aqe_ci.app.compare import CompareRequest, compare_run
        from aqe_ci.git import Git

        request = CompareRequest(head_key=head, base_key=base, types=tuple(types or ()), base_branch=baseline,
                                 diff_only=diff_only)
        comparison = compare_run(self._store, request, git=Git(Path(git_dir)) if base is None else None)
        return comparison.as_json()

    # -- helpers ------------------------------------------------------------------------------
    def _resolve(self, *, key: str | None, commit: str | None, branch: str | None, doc_type: str | None) -> str:
        given = [x for x in (key, commit, branch) if x]
        if len(given) != 1:
            raise UsageError("give exactly one of key, commit or branch")
        if key:
            return check_key(key)
        if commit:
            found = self._store.by_commit(commit, doc_type)
            if not found:
                raise NotFoundError(f"no run stored for commit {commit} in {self.location}")
            return found[0].key
        entry = self._store.latest(branch=str(branch), doc_type=doc_type)
        if entry is None:
            raise NotFoundError(f"no run stored for branch {branch} in {self.location}")
        return entry.key


def _run(key: str, docs: list[Document]) -> Run:
    first = docs[0]
    return Run(key=key, created_at=min(d.created_at for d in docs), commit=first.commit, branch=first.branch,
               pr=first.pr, documents=tuple(docs))


def _merged(doc_type: str, docs: list[dict[str, Any]]) -> dict[str, Any]:
    if len(docs) == 1:
        return docs[0]
    from aqe_ci.model.merge import merge_documents

    return merge_documents(doc_type, docs)


def _combined_summary(doc_type: str, entries: list[Entry]) -> dict[str, Any]:
    """One run's summary from its parts' cards: counts add up; rates are recomputed from the counts."""
    if len(entries) == 1:
        return dict(entries[0].summary)
    out: dict[str, Any] = {}
    for e in entries:
        for name, value in e.summary.items():
            if isinstance(value, int | float) and not name.endswith("_rate"):
                out[name] = out.get(name, 0) + value
    if doc_type == "coverage" and out.get("lines_valid"):
        out["line_rate"] = round(100.0 * out.get("lines_covered", 0) / out["lines_valid"], 3)
    return out
