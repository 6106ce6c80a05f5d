"""Patch coverage of a compared head run: which commits to diff (git), then the pure computation.

The base of the diff is the merge-base of the head and its base: the one baseline resolution found,
else the merge-base with the baseline run's commit (``compare A B``, a push build's previous run),
else with the base branch (``origin/BASE``, then ``BASE``). See docs/history.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aqe_ci.compare.patch import patch_coverage
from aqe_ci.git import Git
from aqe_ci.model.comparison import Baseline, RunRef
from aqe_ci.model.patch import PatchCoverage


def short(sha: str | None) -> str:
    return (sha or "")[:12]


def patch_base(git: Git, head: RunRef, baseline: Baseline) -> tuple[str | None, str]:
    """The commit the change is diffed from, and how it was found ("" when none was)."""
    if baseline.merge_base and git.resolve(baseline.merge_base):
        return baseline.merge_base, "merge-base"
    if baseline.run is not None and baseline.run.commit and head.commit:
        mb = git.merge_base(head.commit, baseline.run.commit)
        if mb:
            return mb, "merge-base with the baseline run's commit"
    if baseline.base_branch and head.commit:
        for ref in (f"refs/remotes/origin/{baseline.base_branch}", baseline.base_branch):
            mb = git.merge_base(head.commit, ref) if git.resolve(ref) else None
            if mb:
                return mb, f"merge-base with {ref}"
    return None, ""


def patch_for(git: Git | None, head: RunRef, baseline: Baseline, coverage: Mapping[str, Any]) -> PatchCoverage:
    """Patch coverage of ``head``: ``git diff`` merge-base..head joined with its coverage ``data``."""
    if git is None or not git.available():
        return PatchCoverage.unavailable("no git checkout to diff the change in (--git-dir)")
    if not head.commit or not git.resolve(head.commit):
        return PatchCoverage.unavailable(f"the head commit {short(head.commit) or '(none)'} is not in the checkout "
                                         "(fetch it, e.g. actions/checkout with fetch-depth: 0)", head=head.commit)
    base, method = patch_base(git, head, baseline)
    if base is None:
        return PatchCoverage.unavailable("no merge-base of the head and a base branch or baseline run in the "
                                         "checkout", head=head.commit)
    diffs = git.changed_files(base, head.commit)
    if diffs is None:
        return PatchCoverage.unavailable(f"git diff {short(base)}..{short(head.commit)} failed", base=base,
                                         head=head.commit)
    return patch_coverage(diffs, coverage, base=base, head=head.commit, base_method=method)
