"""Store.repair lists the documents (``runs/``) before the index, as a writer commits them: manifest, then index.

A run stored while cleanup is listing must not be reported (and re-written) as a repair: in that
order, a document committed after ``runs/`` was listed is simply not seen, and its index entries,
seen by the stale-index pass, have a manifest and stay.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from aqe_ci.model.run import RunFacts
from aqe_ci.storage.base import ObjectInfo
from aqe_ci.storage.local import LocalBackend
from aqe_ci.storage.store import Query, Store
from tests.storage.conformance import doc


class StoreDuringListing(LocalBackend):
    """Runs ``during`` once, when its first listing of ``prefix`` has been read (a concurrent writer)."""

    def __init__(self, root: Path, prefix: str, during: Callable[[], object]) -> None:
        super().__init__(root)
        self.listed: list[str] = []
        self._prefix = prefix
        self._during: Callable[[], object] | None = during

    def list(self, prefix: str, *, start_after: str | None = None, limit: int | None = None) -> Iterator[ObjectInfo]:
        self.listed.append(prefix)
        yield from super().list(prefix, start_after=start_after, limit=limit)
        if prefix == self._prefix and self._during is not None:
            during, self._during = self._during, None
            during()


def test_a_run_stored_during_repair_is_not_reported_as_reindexed(tmp_path: Path) -> None:
    root = tmp_path / "store"
    Store(LocalBackend(root)).put_document(doc(1), key="before", run=RunFacts(branch="main"))

    def concurrent_writer() -> None:
        Store(LocalBackend(root)).put_document(doc(2), key="during", run=RunFacts(branch="main"))

    backend = StoreDuringListing(root, "index/", concurrent_writer)
    report = Store(backend).repair(grace_seconds=0)
    assert report == {"finished_deletes": [], "reindexed": [], "stale_index": [], "orphans": []}
    assert backend.listed[:2] == ["runs/", "index/"]
    assert sorted(e.key for e in Store(LocalBackend(root)).list(Query())) == ["before", "during"]
