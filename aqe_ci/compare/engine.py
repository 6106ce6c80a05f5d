"""Compare two stored runs: load (and merge) each type's documents, run the per-type comparisons.

The result is the JSON documented in docs/compare.md::

    {"comparison": {"head": {...}, "baseline": {...},
                    "coverage": {...}, "tests": {...}, "security": {...}}}

Only one document pair is held in memory at a time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aqe_ci.compare.baseline import Baseline, RunInfo, resolve_baseline, short
from aqe_ci.compare.coverage import compare_coverage
from aqe_ci.compare.flaky import mark_known_flaky
from aqe_ci.compare.patch import patch_coverage
from aqe_ci.compare.security import compare_security
from aqe_ci.compare.testindex import TestIndex
from aqe_ci.compare.tests import compare_tests
from aqe_ci.errors import NotFoundError
from aqe_ci.git import Git
from aqe_ci.model.keys import DOC_TYPES
from aqe_ci.model.merge import merge_documents
from aqe_ci.model.patch import PatchCoverage
from aqe_ci.storage.store import Manifest, Store

#: comparison section name for each document type (the guide's names: "tests", "coverage")
SECTION = {"test_results": "tests", "coverage": "coverage", "security": "security"}
SAME_COMMIT_RUNS = 5  # other runs of the head commit read for cross-run flaky detection


def run_info(store: Store, key: str) -> tuple[RunInfo, list[Manifest]]:
    """What a run key holds, and its manifests, from one listing + one small read per document."""
    manifests = store.manifests(key)
    if not manifests:
        raise NotFoundError(f"no documents stored under run key {key} in {store.location}",
                            hint="check the key with `aqe artifacts list`")
    first = min(manifests, key=lambda m: m.created_ms)
    d = first.data
    return RunInfo(key=key, created_ms=first.created_ms, created_at=d["created_at"], commit=d.get("commit"),
                   branch=d.get("branch"), pr=d.get("pr"), base_branch=d.get("base_branch"),
                   base_sha=d.get("base_sha"), platform=d.get("platform"),
                   types=tuple(t for t in DOC_TYPES if any(m.type == t for m in manifests))), manifests


def load_section(store: Store, key: str, doc_type: str, manifests: list[Manifest] | None = None) -> Any:
    """A run's ``doc_type`` as the comparison reads it, None when absent: test results as a streamed
    :class:`TestIndex` (parts concatenated), other types as the ``data`` of their merged parts.

    ``manifests``: the run's manifests when already read (any types), else they are listed here.
    """
    if manifests is None:
        manifests = store.manifests(key, doc_type)
    else:
        manifests = [m for m in manifests if m.type == doc_type]
    if not manifests:
        return None
    if doc_type == "test_results":
        return TestIndex.from_store(store, manifests)
    return merge_documents(doc_type, [store.load(m) for m in manifests])["data"]


def compare_runs(store: Store, head_key: str, *, base_key: str | None = None, types: Sequence[str] | None = None,
                 base_branch: str | None = None, base_sha: str | None = None, git: Git | None = None,
                 diff_only: bool = False, same_commit_flaky: bool = True, env_base_branch: str | None = None,
                 env_base_sha: str | None = None, known_flaky: Mapping[tuple[str, ...], str] | None = None,
                 patch: bool = True) -> dict[str, Any]:
    """Compare ``head_key`` against ``base_key`` (explicit) or the baseline the rules choose.

    Base branch / sha: the explicit arguments first, then what the head run's manifest recorded,
    then the CI environment of this process (``env_*``). ``git``: the checkout for merge-bases and,
    with ``patch``, the diff of patch coverage. ``known_flaky``: (suite, classname, name, file) →
    why, for tests known to be flaky (a quarantine file, the history).
    """
    head, head_manifests = run_info(store, head_key)
    read = {head_key: head_manifests}  # manifests already read, by run key
    wanted = [t for t in DOC_TYPES if (types is None or t in types)]
    if base_key is not None:
        base_run, read[base_key] = run_info(store, base_key)
        baseline = Baseline(method="explicit", run=base_run, reason="given on the command line")
    else:
        baseline = resolve_baseline(store, head, types=[t for t in wanted if t in head.types] or wanted,
                                    base_branch=base_branch or head.base_branch or env_base_branch,
                                    base_sha=base_sha or head.base_sha or env_base_sha, git=git)
    result: dict[str, Any] = {"head": head.as_json(), "baseline": baseline.as_json(head)}
    for doc_type in wanted:
        after = load_section(store, head_key, doc_type, head_manifests) if doc_type in head.types else None
        before = (load_section(store, baseline.run.key, doc_type, read.get(baseline.run.key))
                  if baseline.run is not None and doc_type in baseline.run.types else None)
        if after is None and before is None:
            continue
        if doc_type == "test_results":
            others = _same_commit_runs(store, head, exclude={head_key}) if same_commit_flaky and after else []
            section = mark_known_flaky(compare_tests(before, after, same_commit_runs=others, head_commit=head.commit,
                                                     diff_only=diff_only), known_flaky or {})
        elif doc_type == "coverage":
            section = compare_coverage(before, after, diff_only=diff_only)
            if patch and after is not None:
                section["patch"] = patch_of(git, head, baseline, after).as_json()
        else:
            section = compare_security(before, after, diff_only=diff_only)
        del before, after
        if diff_only and not has_changes(SECTION[doc_type], section):
            continue
        result[SECTION[doc_type]] = section
    return {"comparison": result}


def patch_base(git: Git, head: RunInfo, baseline: Baseline) -> tuple[str | None, str]:
    """The commit the change is diffed from — the merge-base of the head and the base — and how it was found."""
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


def patch_of(git: Git | None, head: RunInfo, baseline: Baseline, coverage: Mapping[str, Any]) -> PatchCoverage:
    """Patch coverage of the head run: ``git diff`` merge-base..head joined with the head's coverage."""
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


def _same_commit_runs(store: Store, head: RunInfo, *, exclude: set[str]) -> list[tuple[str, TestIndex]]:
    if not head.commit:
        return []
    keys: list[str] = []
    for e in store.by_commit(head.commit, "test_results"):
        if e.key not in exclude and e.key not in keys and e.commit == head.commit:
            keys.append(e.key)
        if len(keys) >= SAME_COMMIT_RUNS:
            break
    out = []
    for k in keys:
        data = load_section(store, k, "test_results")
        if data is not None:
            out.append((k, data))
    return out


def has_changes(section_name: str, s: dict[str, Any]) -> bool:
    """True when a comparison section reports any change (for ``--diff-only``)."""
    if s.get("note"):
        return True
    if section_name == "tests":
        return bool(s.get("change") or any((s.get(n) or {}).get("change") for n in ("passed", "failed", "errors",
                                                                                    "skipped", "flaky"))
                    or s.get("new_failures") or s.get("fixed") or s.get("added") or s.get("removed")
                    or s.get("newly_skipped") or s.get("flaky_tests"))
    if section_name == "coverage":
        files = s.get("files") or {}
        patch = s.get("patch") or {}
        return bool(s.get("change") or (s.get("branch_rate") or {}).get("change") or files.get("changed")
                    or files.get("added") or files.get("removed") or patch.get("executable")
                    or patch.get("not_measured"))
    return bool(s.get("change") or s.get("new") or s.get("fixed") or s.get("severity_changed"))
