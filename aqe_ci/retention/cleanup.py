"""Executing retention: ``aqe artifacts cleanup`` and ``aqe artifacts delete --branch B --all``.

Crash safety comes from the store: every document is removed with ``Store.delete_manifest``, which
writes a tombstone first and removes the tombstone last, and every cleanup starts with
``Store.repair``, which finishes the deletes a killed cleanup left behind (tombstones), drops index
entries whose manifest is gone and re-creates missing ones. A cleanup killed at any instant
therefore leaves documents that are either whole and readable or invisible, and the next cleanup
completes the job: the plan is recomputed from what is left, and removing expired documents never
changes which runs the rules protect (see docs/retention.md).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aqe_ci.errors import IntegrityError, NotFoundError, UsageError
from aqe_ci.retention.policy import CleanupFilters, CleanupPlan, RetentionPolicy, plan_cleanup
from aqe_ci.storage import layout
from aqe_ci.storage.layout import Entry
from aqe_ci.storage.store import Query, Store

#: Test-only hook: seconds to sleep after each removed document, so a test can kill a cleanup
#: half way (tests/retention/test_crash.py). Never set it in production.
TEST_DELAY_ENV = "AQE_TEST_CLEANUP_DELAY"
PROGRESS_EVERY_SECONDS = 2.0

OnDelete = Callable[[Entry], None]
Progress = Callable[[str], None]


def _stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


@dataclass
class CleanupResult:
    plan: CleanupPlan
    dry_run: bool
    repair: dict[str, list[str]] = field(default_factory=dict)
    deleted: list[Entry] = field(default_factory=list)
    #: (entry, why) for planned documents not removed: gone already, or replaced since planning
    skipped: list[tuple[Entry, str]] = field(default_factory=list)

    @property
    def deleted_bytes(self) -> int:
        return sum(e.stored_size or 0 for e in self.deleted)


def _test_delay() -> float:
    raw = os.environ.get(TEST_DELAY_ENV)
    if not raw:
        return 0.0
    try:
        return max(float(raw), 0.0)
    except ValueError:
        return 0.0


def default_workers(store: Store) -> int:
    """Deletes in flight at once: 1 on the local disk (fsync-bound), 8 on object stores (latency-bound)."""
    return 1 if store.backend.kind == "local" else 8


def _delete_one(store: Store, e: Entry, delay: float) -> str | None:
    """Remove one document; None when removed, else why it was skipped."""
    try:
        m = store.manifest(*e.id)
    except NotFoundError:
        return "already deleted"
    except IntegrityError:
        m = None  # unreadable manifest: remove what we can through the tombstone protocol
    if m is not None and m.created_ms != e.created_ms:
        return "replaced after planning"
    if m is None:
        _remove_unreadable(store, e)
    else:
        store.delete_manifest(m)
    if delay:
        time.sleep(delay)
    return None


def delete_entries(store: Store, entries: Iterable[Entry], *, workers: int | None = None,
                   on_delete: OnDelete | None = None,
                   progress: Progress | None = None) -> tuple[list[Entry], list[tuple[Entry, str]]]:
    """Remove the listed documents, each with the tombstone protocol (crash-safe), in order.

    ``workers`` documents are removed at once (default: :func:`default_workers`); a process killed
    part way leaves at most that many documents half deleted, which the next repair finishes.
    A document whose manifest is gone is skipped; one whose manifest now has another creation time
    was replaced (``--overwrite``) after the plan was made and is left alone.
    """
    todo = list(entries)
    deleted: list[Entry] = []
    skipped: list[tuple[Entry, str]] = []
    delay = _test_delay()
    workers = max(1, workers if workers is not None else default_workers(store))
    last_report = time.monotonic()

    def record(e: Entry, why: str | None) -> None:
        nonlocal last_report
        if why is not None:
            skipped.append((e, why))
            return
        deleted.append(e)
        if on_delete is not None:
            on_delete(e)
        done = len(deleted) + len(skipped)
        if progress is not None and time.monotonic() - last_report >= PROGRESS_EVERY_SECONDS:
            progress(f"cleanup: removed {done}/{len(todo)} documents")
            last_report = time.monotonic()

    if workers == 1:
        for e in todo:
            record(e, _delete_one(store, e, delay))
        return deleted, skipped
    from collections import deque
    from concurrent.futures import Future, ThreadPoolExecutor

    pool = ThreadPoolExecutor(workers, thread_name_prefix="aqe-cleanup")
    in_flight: deque[tuple[Entry, Future[str | None]]] = deque()
    try:
        for e in todo:
            in_flight.append((e, pool.submit(_delete_one, store, e, delay)))
            if len(in_flight) >= 2 * workers:
                done_e, fut = in_flight.popleft()
                record(done_e, fut.result())
        while in_flight:
            done_e, fut = in_flight.popleft()
            record(done_e, fut.result())
    finally:
        # on an error, start no further deletes; those in flight finish (or the next repair does)
        pool.shutdown(wait=True, cancel_futures=True)
    return deleted, skipped


def _remove_unreadable(store: Store, e: Entry) -> None:
    """An unreadable manifest: tombstone the document, then let repair finish it."""
    import json

    from aqe_ci.storage import layout
    from aqe_ci.storage.base import ObjectMeta

    store.backend.put_object(layout.tombstone_name(*e.id), json.dumps({"upload_id": None}).encode(),
                             meta=ObjectMeta(doc_type=e.type, kind="doc"))
    for name in layout.entry_names(e):
        store.backend.delete(name)
    prefix = layout.doc_dir(*e.id)
    for info in list(store.backend.list(prefix)):
        if not info.name.endswith("/tombstone"):
            store.backend.delete(info.name)
    store.backend.delete(layout.tombstone_name(*e.id))


def run_cleanup(store: Store, policy: RetentionPolicy, *, filters: CleanupFilters | None = None,
                now_ms: int | None = None, dry_run: bool = False, workers: int | None = None,
                confirm: Callable[[CleanupPlan], None] | None = None,
                on_delete: OnDelete | None = None, progress: Progress | None = _stderr) -> CleanupResult:
    """Repair, plan over every stored document, then (unless ``dry_run``) remove the planned ones.

    ``confirm`` is called with the plan before anything is removed and may raise to abort.
    """
    repair = store.repair(dry_run=dry_run)
    if now_ms is None:
        now_ms = int(time.time() * 1000)
    entries = _entries_after_repair(store, repair) if dry_run else list(store.list(Query()))
    plan = plan_cleanup(entries, policy, now_ms, filters)
    result = CleanupResult(plan=plan, dry_run=dry_run, repair=repair)
    if dry_run or not plan.delete:
        return result
    if confirm is not None:
        confirm(plan)
    # oldest first: an interrupted cleanup has removed the most expired documents
    result.deleted, result.skipped = delete_entries(store, reversed(plan.delete), workers=workers,
                                                    on_delete=on_delete, progress=progress)
    return result


def _entries_after_repair(store: Store, repair: dict[str, list[str]]) -> list[Entry]:
    """The documents a listing shows once ``repair`` has been applied, without applying it.

    A dry run plans on these, so it names exactly what a real cleanup (which repairs first) removes:
    documents whose delete the repair would finish, or whose index entries are stale, are gone;
    documents whose missing index entries it would re-create are there.
    """
    gone = {tuple(name.split("/")) for name in repair.get("finished_deletes", [])}
    for name in repair.get("stale_index", []):
        stale = layout.parse_entry(name)
        if stale is not None:
            gone.add(stale.id)
    entries = [e for e in store.list(Query()) if e.id not in gone]
    listed = {e.id for e in entries}
    for name in repair.get("reindexed", []):
        key, doc_type, part = name.split("/")
        if (key, doc_type, part) in listed:
            continue
        try:
            entries.append(store.manifest(key, doc_type, part).entry())
        except (NotFoundError, IntegrityError):
            continue
    return entries


#: what each repair finding means, as (done, would be done) verbs
REPAIR_VERBS = {
    "finished_deletes": ("finished deleting", "would finish deleting"),
    "reindexed": ("re-indexed", "would re-index"),
    "stale_index": ("removed stale index entry", "would remove stale index entry"),
    "orphans": ("removed orphan", "would remove orphan"),
}


def repair_lines(repair: dict[str, list[str]], *, dry_run: bool) -> list[str]:
    """One line per thing the repair step did (or, in a dry run, would do): documents and object names."""
    return [f"{REPAIR_VERBS.get(kind, (kind, kind))[1 if dry_run else 0]} {name}"
            for kind, names in repair.items() for name in names]


@dataclass
class BranchDeletion:
    branch: str
    dry_run: bool
    planned: list[Entry] = field(default_factory=list)
    deleted: list[Entry] = field(default_factory=list)
    skipped: list[tuple[Entry, str]] = field(default_factory=list)

    @property
    def deleted_bytes(self) -> int:
        return sum(e.stored_size or 0 for e in self.deleted)

    def as_json(self) -> dict[str, Any]:
        docs = self.planned if self.dry_run else self.deleted
        return {
            "branch": self.branch, "dry_run": self.dry_run,
            "deleted" if not self.dry_run else "would_delete": [e.as_json() for e in docs],
            "documents": len(docs), "runs": len({e.key for e in docs}),
            "bytes": sum(e.stored_size or 0 for e in docs),
            "skipped": [{**e.as_json(), "why": why} for e, why in self.skipped],
        }


def delete_branch(store: Store, branch: str, *, policy: RetentionPolicy | None = None,
                  doc_type: str | None = None, dry_run: bool = False, workers: int | None = None,
                  confirm: Callable[[list[Entry]], None] | None = None, on_delete: OnDelete | None = None,
                  progress: Progress | None = _stderr) -> BranchDeletion:
    """Delete every document whose branch is ``branch`` (a merged feature branch).

    Refuses a protected branch: its documents are the baselines PRs compare against.
    """
    if not branch:
        raise UsageError("empty --branch", hint="name the branch to clear, e.g. --branch feature-x --all")
    if policy is not None and policy.is_protected(branch):
        raise UsageError(
            f"branch {branch!r} is protected (retention.protected_branches: {', '.join(policy.protected_branches)})",
            hint="its runs are PR baselines; delete single runs by key, or remove it from protected_branches",
        )
    planned = list(store.list(Query(branch=branch, type=doc_type)))
    if not planned:
        what = f"{doc_type} documents" if doc_type else "documents"
        raise NotFoundError(f"no {what} on branch {branch!r} in {store.location}",
                            hint="check the name with `aqe artifacts list --branch BRANCH`")
    result = BranchDeletion(branch=branch, dry_run=dry_run, planned=planned)
    if dry_run:
        return result
    if confirm is not None:
        confirm(planned)
    result.deleted, result.skipped = delete_entries(store, reversed(planned), workers=workers,
                                                    on_delete=on_delete, progress=progress)
    return result
