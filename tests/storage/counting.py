"""A Backend wrapper that counts calls (and can run a hook around each one)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from aqe_ci.storage.base import Backend, DocumentBackend, DocumentWrite, ObjectInfo


class CountingBackend(Backend):
    def __new__(cls, inner: Backend, hook: Callable[[int, str], None] | None = None) -> CountingBackend:
        # a document backend stays one when counted, so the Store keeps using its document protocol
        if cls is CountingBackend and isinstance(inner, DocumentBackend):
            return super().__new__(CountingDocumentBackend)
        return super().__new__(cls)

    def __init__(self, inner: Backend, hook: Callable[[int, str], None] | None = None) -> None:
        self.inner = inner
        self.kind = inner.kind
        self.calls: Counter[str] = Counter()
        self.total = 0
        self.hook = hook

    def _around(self, method: str, fn: Callable[[], Any]) -> Any:
        self.total += 1
        self.calls[method] += 1
        n = self.total
        if self.hook:
            self.hook(n, "before")
        result = fn()
        if self.hook:
            self.hook(n, "after")
        return result

    def reset(self) -> None:
        self.calls.clear()
        self.total = 0

    @property
    def location(self) -> str:
        return self.inner.location

    def put_file(self, name: str, path: Path, *, if_absent: bool = False) -> None:
        self._around("put_file", lambda: self.inner.put_file(name, path, if_absent=if_absent))

    def put_bytes(self, name: str, data: bytes, *, if_absent: bool = False) -> None:
        self._around("put_bytes", lambda: self.inner.put_bytes(name, data, if_absent=if_absent))

    def open(self, name: str) -> BinaryIO:
        return self._around("open", lambda: self.inner.open(name))

    def get_bytes(self, name: str) -> bytes:
        return self._around("get_bytes", lambda: self.inner.get_bytes(name))

    def list(self, prefix: str, *, start_after: str | None = None, limit: int | None = None) -> Iterator[ObjectInfo]:
        return self._around("list", lambda: self.inner.list(prefix, start_after=start_after, limit=limit))

    def exists(self, name: str) -> bool:
        return self._around("exists", lambda: self.inner.exists(name))

    def delete(self, name: str) -> None:
        self._around("delete", lambda: self.inner.delete(name))

    def remove_stale_temp_files(self, older_than_seconds: float, *, dry_run: bool = False) -> list[str]:
        fn = getattr(self.inner, "remove_stale_temp_files", None)
        return fn(older_than_seconds, dry_run=dry_run) if fn else []

    def close(self) -> None:
        self.inner.close()


class CountingDocumentBackend(CountingBackend, DocumentBackend):
    """CountingBackend over a :class:`DocumentBackend`: counts its document calls as well."""

    inner: DocumentBackend

    def put_document(self, doc: DocumentWrite) -> None:
        self._around("put_document", lambda: self.inner.put_document(doc))

    def query(self, q: Any) -> Iterator[Any]:
        return self._around("query", lambda: self.inner.query(q))  # type: ignore[no-any-return]

    def delete_document(self, key: str, doc_type: str, part: str) -> None:
        self._around("delete_document", lambda: self.inner.delete_document(key, doc_type, part))

    def repair(self, *, grace_seconds: float, dry_run: bool, now: float) -> dict[str, Any]:
        return self.inner.repair(grace_seconds=grace_seconds, dry_run=dry_run, now=now)

    def put_file(self, name: str, path: Path, *, if_absent: bool = False) -> None:
        CountingBackend.put_file(self, name, path, if_absent=if_absent)

    def put_bytes(self, name: str, data: bytes, *, if_absent: bool = False) -> None:
        CountingBackend.put_bytes(self, name, data, if_absent=if_absent)
