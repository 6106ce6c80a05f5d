"""Which stored run a head run is compared against, and why (DESIGN "Comparison and baseline").

Order:

1. **merge-base**: the run for the merge-base commit of the head commit and the base branch. The
   merge-base comes from ``git merge-base HEAD <base sha | origin/BASE | BASE>`` when a checkout is
   present; without one, from the CI's base sha only when the platform says it *is* the merge-base
   (GitLab's ``CI_MERGE_REQUEST_DIFF_BASE_SHA``; GitHub's ``pull_request.base.sha`` is the base tip).
2. **ancestor**: with a checkout, the nearest stored first-parent ancestor of the merge-base, at most
   ``max_ancestors`` commits behind it.
3. **latest-on-branch**: the newest run on the base branch created before the head run.
4. **none**: said plainly, with the reason; the comparison then shows the head alone.

With no base branch known (a push build), the previous run on the head's own branch is used
(**previous-on-branch**). ``compare A B`` is **explicit**.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from aqe_ci.git import Git
from aqe_ci.storage.layout import Entry
from aqe_ci.storage.store import Query, Store

MAX_ANCESTORS = 50
PLATFORMS_WITH_MERGE_BASE_SHA = frozenset({"gitlab"})


@dataclass(frozen=True, kw_only=True)
class RunInfo:
    key: str
    created_ms: int
    commit: str | None = None
    branch: str | None = None
    pr: int | None = None
    base_branch: str | None = None
    base_sha: str | None = None
    platform: str | None = None
    types: tuple[str, ...] = ()
    created_at: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "commit": self.commit, "branch": self.branch, "pr": self.pr,
                "created_at": self.created_at, "types": list(self.types)}


@dataclass(frozen=True, kw_only=True)
class Baseline:
    method: str  # explicit | merge-base | ancestor | latest-on-branch | previous-on-branch | none
    reason: str
    run: RunInfo | None = None
    base_branch: str | None = None
    merge_base: str | None = None
    distance: int | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    base_tip: dict[str, Any] | None = None

    def as_json(self, head: RunInfo) -> dict[str, Any]:
        out: dict[str, Any] = {
            "key": self.run.key if self.run else None,
            "commit": self.run.commit if self.run else None,
            "branch": self.run.branch if self.run else None,
            "created_at": self.run.created_at if self.run else None,
            "age_seconds": round((head.created_ms - self.run.created_ms) / 1000) if self.run else None,
            "method": self.method,
            "reason": self.reason,
            "base_branch": self.base_branch,
            "merge_base": self.merge_base,
            "distance": self.distance,
        }
        if self.notes:
            out["notes"] = list(self.notes)
        if self.base_tip:
            out["base_tip"] = self.base_tip
        return out


def short(sha: str | None) -> str:
    return (sha or "")[:12]


def run_from_entries(entries: Sequence[Entry]) -> RunInfo:
    first = min(entries, key=lambda e: e.created_ms)
    return RunInfo(key=first.key, created_ms=first.created_ms, created_at=first.created_at, commit=first.commit,
                   branch=first.branch, pr=first.pr, types=tuple(sorted({e.type for e in entries})))


def _pick(entries: Iterable[Entry], *, exclude: set[str], types: Sequence[str]) -> list[Entry] | None:
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


def resolve_baseline(store: Store, head: RunInfo, *, types: Sequence[str], base_branch: str | None = None,
                     base_sha: str | None = None, git: Git | None = None,
                     max_ancestors: int = MAX_ANCESTORS, scan_limit: int = 200) -> Baseline:
    """Choose the baseline run for ``head`` (see the module docstring)."""
    exclude = {head.key}
    base_branch = base_branch or head.base_branch
    base_sha = base_sha or head.base_sha
    notes: list[str] = []
    have_git = git is not None and git.available()

    if not base_branch:
        if head.branch:
            entries = store.list(Query(branch=head.branch, until_ms=head.created_ms - 1, limit=scan_limit))
            picked = _pick(entries, exclude=exclude, types=types)
            if picked:
                return Baseline(method="previous-on-branch", run=run_from_entries(picked), base_branch=head.branch,
                                reason=f"no base branch known (not a PR/MR): the previous run on {head.branch}")
        return Baseline(method="none", reason="no baseline: no base branch known (pass --baseline BRANCH) and no "
                        "earlier run on the head's branch")

    # 1. merge-base
    mb: str | None = None
    if head.commit and have_git:
        assert git is not None
        for ref in ([base_sha] if base_sha else []) + [f"refs/remotes/origin/{base_branch}", base_branch]:
            if git.resolve(ref):
                mb = git.merge_base(head.commit, ref)
                if mb:
                    break
        if mb is None:
            notes.append(f"git could not compute the merge-base of {short(head.commit)} and {base_branch} "
                         "(commit missing from the checkout? use fetch-depth: 0)")
    elif base_sha and head.platform in PLATFORMS_WITH_MERGE_BASE_SHA:
        mb = base_sha
    elif base_sha:
        notes.append(f"the CI base sha {short(base_sha)} is the base branch tip, not the merge-base, and no git "
                     "checkout is available to compute it")
    else:
        notes.append("no git checkout and no merge-base sha from the CI")

    if mb:
        picked = _pick(store.by_commit(mb), exclude=exclude, types=types)
        if picked:
            return _with_tip(store, Baseline(
                method="merge-base", run=run_from_entries(picked), base_branch=base_branch, merge_base=mb, distance=0,
                reason=f"merge-base of {short(head.commit)} and {base_branch} ({short(mb)}), 0 commits away",
                notes=tuple(notes)), types, exclude)
        # 2. nearest stored ancestor of the merge-base
        if have_git:
            assert git is not None
            for distance, sha in enumerate(git.first_parent_ancestors(mb, max_ancestors)):
                if distance == 0:
                    continue
                picked = _pick(store.by_commit(sha), exclude=exclude, types=types)
                if picked:
                    return _with_tip(store, Baseline(
                        method="ancestor", run=run_from_entries(picked), base_branch=base_branch, merge_base=mb,
                        distance=distance, notes=tuple(notes),
                        reason=f"nearest stored ancestor, {distance} commit{'s' if distance != 1 else ''} behind "
                               f"merge-base {short(mb)} of {short(head.commit)} and {base_branch}"), types, exclude)
            notes.append(f"no run stored for merge-base {short(mb)} or its {max_ancestors} nearest ancestors")
        else:
            notes.append(f"no run stored for merge-base {short(mb)}")

    # 3. newest run on the base branch older than the head
    entries = store.list(Query(branch=base_branch, until_ms=head.created_ms - 1, limit=scan_limit))
    picked = _pick(entries, exclude=exclude, types=types)
    if picked:
        why = "; ".join(notes) if notes else "no merge-base known"
        return Baseline(method="latest-on-branch", run=run_from_entries(picked), base_branch=base_branch,
                        merge_base=mb, notes=tuple(notes),
                        reason=f"newest run on {base_branch} older than the head ({why})")
    notes.append(f"no run on {base_branch} older than the head")
    return Baseline(method="none", base_branch=base_branch, merge_base=mb, notes=tuple(notes),
                    reason="no baseline: " + "; ".join(notes))


def _with_tip(store: Store, b: Baseline, types: Sequence[str], exclude: set[str]) -> Baseline:
    """Disclose drift: the newest run on the base branch when it is not the baseline's commit."""
    if not b.base_branch or not b.run:
        return b
    picked = _pick(store.list(Query(branch=b.base_branch, limit=50)), exclude=exclude, types=types)
    if not picked:
        return b
    tip = run_from_entries(picked)
    if tip.commit == b.run.commit:
        return b
    return replace(b, base_tip={"key": tip.key, "commit": tip.commit, "created_at": tip.created_at,
                                "note": f"{b.base_branch} has moved on since the merge-base"})
