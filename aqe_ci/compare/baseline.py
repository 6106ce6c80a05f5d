"""The baseline rules that need no I/O: which of the candidate runs a rule picks, and drift.

The resolution itself (DESIGN "Comparison and baseline": merge-base, nearest stored ancestor,
newest on the base branch, previous on the head's branch, none) asks the store and git, so it lives
in the use case, ``aqe_ci.app.baseline.resolve_baseline``, which hands its candidates to these.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from aqe_ci.model.comparison import Baseline, BaseTip, RunRef
from aqe_ci.storage.layout import Entry


def short(sha: str | None) -> str:
    return (sha or "")[:12]


def run_from_entries(entries: Sequence[Entry]) -> RunRef:
    """The run the index entries of one key describe (the facts of its first document)."""
    first = min(entries, key=lambda e: e.created_ms)
    return RunRef(key=first.key, created_ms=first.created_ms, created_at=first.created_at, commit=first.commit,
                  branch=first.branch, pr=first.pr, types=tuple(sorted({e.type for e in entries})))


def pick_run(entries: Iterable[Entry], *, exclude: set[str], types: Sequence[str]) -> list[Entry] | None:
    """Of entries (newest first), the run key with the most of ``types``; ties go to the newest."""
    by_key: dict[str, list[Entry]] = {}
    order: list[str] = []
    for e in entries:
        if e.key in exclude or e.type not in types:
            continue
        if e.key not in by_key:
            order.append(e.key)
        by_key.setdefault(e.key, []).append(e)
    if not order:
        return None
    best = max(order, key=lambda k: (len({e.type for e in by_key[k]}), -order.index(k)))
    return by_key[best]


def with_tip(b: Baseline, tip: RunRef | None) -> Baseline:
    """Disclose drift: ``tip`` (the newest run on the base branch) when it is not the baseline's commit."""
    if tip is None or not b.base_branch or not b.run or tip.commit == b.run.commit:
        return b
    return replace(b, base_tip=BaseTip(key=tip.key, commit=tip.commit, created_at=tip.created_at,
                                       note=f"{b.base_branch} has moved on since the merge-base"))
