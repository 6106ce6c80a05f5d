"""``cleanup_run``: apply the retention policy to a store (``aqe artifacts cleanup``, docs/retention.md).

The seam the CLI and a scheduled CI job call::

    report = cleanup_run(store, CleanupRequest(dry_run=True), policy=app.retention_policy())
    print(report.as_json())

Crash-safe: it repairs first (finishing what a killed cleanup left), plans over every stored
document, and removes the planned ones oldest first (:mod:`aqe_ci.retention.cleanup`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from aqe_ci.model.jsontypes import JsonObject
from aqe_ci.model.keys import format_time
from aqe_ci.retention.cleanup import CleanupResult, OnDelete, Progress, run_cleanup
from aqe_ci.retention.policy import CleanupFilters, CleanupPlan, RetentionPolicy, parse_duration
from aqe_ci.storage.layout import Entry
from aqe_ci.storage.store import Store


@dataclass(frozen=True, kw_only=True)
class CleanupRequest:
    older_than: str | None = None  # "90d", "36h", "2w": instead of the per-type retention days
    doc_types: tuple[str, ...] = ()  # only these types
    branch: str | None = None  # only this branch
    dry_run: bool = False

    def __post_init__(self) -> None:
        self.filters()  # a bad --older-than fails before any work

    def filters(self) -> CleanupFilters:
        return CleanupFilters(older_than_ms=parse_duration(self.older_than) if self.older_than else None,
                              doc_types=self.doc_types, branch=self.branch)


@dataclass(frozen=True, kw_only=True)
class CleanupReport:
    request: CleanupRequest
    policy: RetentionPolicy
    location: str
    now_ms: int
    result: CleanupResult

    @property
    def plan(self) -> CleanupPlan:
        return self.result.plan

    @property
    def removed(self) -> list[Entry]:
        """What was removed (a dry run: what would be)."""
        return self.plan.delete if self.request.dry_run else self.result.deleted

    @property
    def removed_bytes(self) -> int:
        return sum(e.stored_size or 0 for e in self.removed)

    def as_json(self) -> JsonObject:
        """The ``--format json`` report (docs/retention.md)."""
        removed, counts, req = self.removed, self.plan.counts(), self.request
        return {
            "store": self.location,
            "dry_run": req.dry_run,
            "now": format_time(datetime.fromtimestamp(self.now_ms / 1000, UTC)),
            "policy": self.policy.as_json(),
            "filters": {"older_than": req.older_than, "types": list(req.doc_types), "branch": req.branch},
            "repair": {k: len(v) for k, v in self.result.repair.items()},
            "repaired": {k: list(v) for k, v in self.result.repair.items()},
            "removed": [e.as_json() for e in removed],
            "protected": [{**k.entry.as_json(), "reasons": list(k.reasons)} for k in self.plan.protected],
            "skipped": [{**e.as_json(), "why": why} for e, why in self.result.skipped],
            "summary": {
                "documents_removed": len(removed), "runs_removed": len({e.key for e in removed}),
                "bytes_removed": self.removed_bytes, "protected": counts["protected"],
                "not_expired": counts["not_expired"], "not_selected": counts["not_selected"],
                "documents_before": counts["documents"],
                "documents_after": counts["documents"] - (0 if req.dry_run else len(removed)),
            },
        }


def cleanup_run(store: Store, request: CleanupRequest, *, policy: RetentionPolicy, now_ms: int | None = None,
                confirm: Callable[[CleanupPlan], None] | None = None, on_delete: OnDelete | None = None,
                progress: Progress | None = None) -> CleanupReport:
    """Repair, plan, and (unless a dry run) remove; ``confirm`` sees the plan first and may raise to abort."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    result = run_cleanup(store, policy, filters=request.filters(), now_ms=now_ms, dry_run=request.dry_run,
                         confirm=confirm, on_delete=on_delete, progress=progress)
    return CleanupReport(request=request, policy=policy, location=store.location, now_ms=now_ms, result=result)
