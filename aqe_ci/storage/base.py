"""The backend interface: a handful of object primitives every backend implements.

Everything above it (immutability, atomic visibility, integrity, indexes, queries) lives in
:class:`aqe_ci.storage.store.Store`, once, so every backend gets the same guarantees and runs the
same conformance suite (tests/conformance.py).

Contract for implementers:

* names are ASCII, ``/``-separated, relative to the backend root (see ``layout.py``);
* ``put_file(..., if_absent=True)`` is an atomic create-only write: exactly one of several
  concurrent callers succeeds, the others raise :class:`~aqe_ci.errors.ObjectExists`; a reader never
  sees a partially written object under ``name``;
* ``list`` yields objects whose names start with ``prefix`` in ascending byte order, after
  ``start_after`` when given, and costs what it returns (S3: one ListObjectsV2 page per 1,000);
* ``open``/``get_bytes`` raise :class:`~aqe_ci.errors.ObjectMissing` for a missing object;
* ``delete`` of a missing object is not an error;
* errors reaching the backend raise :class:`~aqe_ci.errors.BackendError` naming the location,
  never a credential.

A backend never parses object names to learn what an object is: the Store writes every object of a
document through :meth:`Backend.put_object` with its :class:`ObjectMeta` (document type and kind).
The default ignores it and calls ``put_file`` / ``put_bytes``, so a backend that has nothing to
attach implements only the primitives; the S3 backend turns it into object tags for lifecycle rules.

Document backends (:class:`DocumentBackend`) are stores whose unit of atomic, immutable storage is a
whole document rather than an object: CI platforms' artifact services (GitHub Actions artifacts),
which have no create-only object write and no prefix listing. The Store hands them the whole
document at once (:class:`DocumentWrite`: the manifest, the files it names and the listing entry),
asks them to answer queries (``query``) instead of listing index prefixes, and to delete whole
documents. Reads stay object reads (``open``/``get_bytes``/``list("runs/<key>/")``) of the names
the manifest uses, which are the paths inside the stored document.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal

if TYPE_CHECKING:
    from aqe_ci.storage.layout import Entry
    from aqe_ci.storage.query import Query

ObjectKind = Literal["doc", "index", "claim"]
TYPE_TAG = "aqe-type"
KIND_TAG = "aqe-kind"


@dataclass(frozen=True, kw_only=True)
class ObjectInfo:
    name: str
    size: int
    modified: float | None = None  # epoch seconds, when the backend reports it


@dataclass(frozen=True, kw_only=True)
class ObjectMeta:
    """What an object is, as the Store knows it: the document type it belongs to and its kind —
    ``doc`` (manifest, payload, blobs, tombstone), ``index`` (an index entry) or ``claim`` (a write
    claim of the S3 fallback protocol)."""

    doc_type: str
    kind: ObjectKind

    def tags(self) -> dict[str, str]:
        """The object tags that carry it (S3 writes them; lifecycle rules filter on them)."""
        return {TYPE_TAG: self.doc_type, KIND_TAG: self.kind}


class Backend(ABC):
    #: short backend name: local, s3, github, gitlab
    kind: str = "abstract"

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the store is, for messages (``/path/.qe-artifacts``, ``s3://bucket/prefix``). No secrets."""

    @abstractmethod
    def put_file(self, name: str, path: Path, *, if_absent: bool = False) -> None:
        """Store the file at ``path`` under ``name``."""

    @abstractmethod
    def put_bytes(self, name: str, data: bytes, *, if_absent: bool = False) -> None:
        """Store ``data`` under ``name``."""

    @abstractmethod
    def open(self, name: str) -> BinaryIO:
        """A readable binary stream of the object. The caller closes it."""

    def get_bytes(self, name: str) -> bytes:
        with self.open(name) as stream:
            return stream.read()

    @abstractmethod
    def list(self, prefix: str, *, start_after: str | None = None, limit: int | None = None) -> Iterator[ObjectInfo]:
        """Objects under ``prefix`` in ascending name order."""

    @abstractmethod
    def exists(self, name: str) -> bool: ...

    @abstractmethod
    def delete(self, name: str) -> None: ...

    def put_object(self, name: str, source: Path | bytes, *, meta: ObjectMeta, if_absent: bool = False) -> None:
        """Store a document's object with what it is; the Store writes every document object this way.

        The default has no use for ``meta`` and calls :meth:`put_file` or :meth:`put_bytes`.
        """
        if isinstance(source, bytes):
            self.put_bytes(name, source, if_absent=if_absent)
        else:
            self.put_file(name, source, if_absent=if_absent)

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


@dataclass(frozen=True, kw_only=True)
class DocumentWrite:
    """One document as the Store hands it to a :class:`DocumentBackend`, with its metadata, so the
    backend never has to parse object names."""

    key: str
    type: str
    part: str
    manifest_name: str
    manifest: bytes
    #: (object name, local file) for the payload and each blob, as the manifest names them
    files: tuple[tuple[str, Path], ...]
    #: what ``list`` shows for the document (the same card the index entries of object stores carry)
    entry: Entry
    #: the retention of the document's type in days (None: the backend's default)
    retention_days: int | None = None
    overwrite: bool = False


class DocumentBackend(Backend):
    """A backend that stores whole documents atomically (see the module docstring)."""

    @abstractmethod
    def put_document(self, doc: DocumentWrite) -> None:
        """Store the document; visible whole or not at all. Raises :class:`~aqe_ci.errors.ObjectExists`
        when ``(key, type, part)`` is already stored and ``doc.overwrite`` is false."""

    @abstractmethod
    def query(self, q: Query) -> Iterator[Entry]:
        """Entries matching ``q`` (the Store filters again), newest first, fetched lazily so that a
        consumer that stops early stops the requests."""

    @abstractmethod
    def delete_document(self, key: str, doc_type: str, part: str) -> None:
        """Remove the document; a missing one is not an error."""

    def repair(self, *, grace_seconds: float, dry_run: bool, now: float) -> dict[str, Any]:
        """Finish what killed writers left (the platform collects unfinished uploads by itself)."""
        return {"finished_deletes": [], "reindexed": [], "stale_index": [], "orphans": []}

    def put_file(self, name: str, path: Path, *, if_absent: bool = False) -> None:
        raise NotImplementedError(f"{self.kind} stores whole documents: use Store.put")

    def put_bytes(self, name: str, data: bytes, *, if_absent: bool = False) -> None:
        raise NotImplementedError(f"{self.kind} stores whole documents: use Store.put")
