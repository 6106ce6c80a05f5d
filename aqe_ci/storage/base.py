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
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

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
