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
(**previous-on-branch**). ``compare A B`` is **explicit**. This is the part of the comparison that
asks the store and git; the choice among candidates is :mod:`aqe_ci.compare.baseline`'s.
"""

from __future__ import annotations

from collections.abc import Sequence

from aqe_ci.compare.baseline import pick_run, run_from_entries, short, with_tip
from aqe_ci.git import Git
from aqe_ci.model.comparison import Baseline, RunRef
from aqe_ci.storage.query import Query
from aqe_ci.storage.store import Store

MAX_ANCESTORS = 50
PLATFORMS_WITH_MERGE_BASE_SHA = frozenset({"gitlab"})


def resolve_baseline(store: Store, head: RunRef, *, types: Sequence[str], base_branch: str | None = None,
                     base_sha: str | None = None, git: Git | None = None,
                     max_ancestors: int = MAX_ANCESTORS, scan_limit: int = 200) -> Baseline:
    """Choose the baseline run for ``head`` (see the module docstring)."""
    exclude = {head.key}
    base_branch = base_branch or head.base_branch
    base_sha = base_sha or head.base_sha
    if not base_branch:
        return _previous_on_branch(store, head, types=types, exclude=exclude, scan_limit=scan_limit)
    notes: list[str] = []
    have_git = git is not None and git.available()
    mb = _merge_base(head, base_branch, base_sha, git if have_git else None, notes)
    if mb:
        found = _at_merge_base(store, head, mb, base_branch, types=types, exclude=exclude, notes=notes,
                               git=git if have_git else None, max_ancestors=max_ancestors)
        if found is not None:
            return _with_tip(store, found, types, exclude)
    # 3. newest run on the base branch older than the head
    entries = store.list(Query(branch=base_branch, until_ms=head.created_ms - 1, limit=scan_limit))
    picked = pick_run(entries, exclude=exclude, types=types)
    if picked:
        why = "; ".join(notes) if notes else "no merge-base known"
        return Baseline(method="latest-on-branch", run=run_from_entries(picked), base_branch=base_branch,
                        merge_base=mb, notes=tuple(notes),
                        reason=f"newest run on {base_branch} older than the head ({why})")
    notes.append(f"no run on {base_branch} older than the head")
    return Baseline(method="none", base_branch=base_branch, merge_base=mb, notes=tuple(notes),
                    reason="no baseline: " + "; ".join(notes))


def _previous_on_branch(store: Store, head: RunRef, *, types: Sequence[str], exclude: set[str],
                        scan_limit: int) -> Baseline:
    """No base branch known (a push build): the previous run on the head's own branch."""
    if head.branch:
        entries = store.list(Query(branch=head.branch, until_ms=head.created_ms - 1, limit=scan_limit))
        picked = pick_run(entries, exclude=exclude, types=types)
        if picked:
            return Baseline(method="previous-on-branch", run=run_from_entries(picked), base_branch=head.branch,
                            reason=f"no base branch known (not a PR/MR): the previous run on {head.branch}")
    return Baseline(method="none", reason="no baseline: no base branch known (pass --baseline BRANCH) and no "
                    "earlier run on the head's branch")


def _merge_base(head: RunRef, base_branch: str, base_sha: str | None, git: Git | None,
                notes: list[str]) -> str | None:
    """1. the merge-base: from git when there is a checkout, else the CI's sha where it is one."""
    if head.commit and git is not None:
        for ref in ([base_sha] if base_sha else []) + [f"refs/remotes/origin/{base_branch}", base_branch]:
            if git.resolve(ref):
                mb = git.merge_base(head.commit, ref)
                if mb:
                    return mb
        notes.append(f"git could not compute the merge-base of {short(head.commit)} and {base_branch} "
                     "(commit missing from the checkout? use fetch-depth: 0)")
        return None
    if base_sha and head.platform in PLATFORMS_WITH_MERGE_BASE_SHA:
        return base_sha
    if base_sha:
        notes.append(f"the CI base sha {short(base_sha)} is the base branch tip, not the merge-base, and no git "
                     "checkout is available to compute it")
    else:
        notes.append("no git checkout and no merge-base sha from the CI")
    return None


def _at_merge_base(store: Store, head: RunRef, mb: str, base_branch: str, *, types: Sequence[str],
                   exclude: set[str], notes: list[str], git: Git | None, max_ancestors: int) -> Baseline | None:
    """The run of the merge-base, else (with git) of its nearest stored first-parent ancestor."""
    picked = pick_run(store.by_commit(mb), exclude=exclude, types=types)
    if picked:
        return Baseline(method="merge-base", run=run_from_entries(picked), base_branch=base_branch, merge_base=mb,
                        distance=0, notes=tuple(notes),
                        reason=f"merge-base of {short(head.commit)} and {base_branch} ({short(mb)}), 0 commits away")
    if git is None:
        notes.append(f"no run stored for merge-base {short(mb)}")
        return None
    # 2. nearest stored ancestor of the merge-base
    for distance, sha in enumerate(git.first_parent_ancestors(mb, max_ancestors)):
        if distance == 0:
            continue
        picked = pick_run(store.by_commit(sha), exclude=exclude, types=types)
        if picked:
            return Baseline(method="ancestor", run=run_from_entries(picked), base_branch=base_branch, merge_base=mb,
                            distance=distance, notes=tuple(notes),
                            reason=f"nearest stored ancestor, {distance} commit{'s' if distance != 1 else ''} "
                                   f"behind merge-base {short(mb)} of {short(head.commit)} and {base_branch}")
    notes.append(f"no run stored for merge-base {short(mb)} or its {max_ancestors} nearest ancestors")
    return None


def _with_tip(store: Store, b: Baseline, types: Sequence[str], exclude: set[str]) -> Baseline:
    """Disclose drift: the newest run on the base branch when it is not the baseline's commit."""
    if not b.base_branch or not b.run:
        return b
    picked = pick_run(store.list(Query(branch=b.base_branch, limit=50)), exclude=exclude, types=types)
    return with_tip(b, run_from_entries(picked) if picked else None)
