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
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO


@dataclass(frozen=True, kw_only=True)
class ObjectInfo:
    name: str
    size: int
    modified: float | None = None  # epoch seconds, when the backend reports it


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

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
