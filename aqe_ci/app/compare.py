"""``compare_run``: compare a stored run with its baseline (or with a given run).

The seam the CLI (``aqe artifacts compare``), the GitHub action entrypoint and the GitLab component
call::

    comparison = compare_run(store, CompareRequest(head_key="build-def456"), git=Git(Path(".")), ci=ctx)
    print(comparison.to_json())
    check_outcome(comparison, require_baseline=False)   # GateFailed (exit 6) when a gate failed

It asks the store and git for the baseline (:func:`aqe_ci.app.baseline.resolve_baseline`), loads
each document type of both runs — one pair in memory at a time; test results stream into a
:class:`~aqe_ci.compare.testindex.TestIndex` — and hands them to the pure
:mod:`aqe_ci.compare.engine`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import IO, Any

from aqe_ci.app.baseline import resolve_baseline
from aqe_ci.app.patch import patch_for
from aqe_ci.app.trend import comparison_trend
from aqe_ci.compare.engine import Loaded, build_comparison, compare_section
from aqe_ci.compare.flaky import mark_known_flaky
from aqe_ci.compare.gates import Gate, check_gates, raise_if_failed
from aqe_ci.compare.testindex import TestIndex
from aqe_ci.errors import GateFailed, NotFoundError
from aqe_ci.git import Git
from aqe_ci.model.comparison import Baseline, Comparison, CoverageComparison, RunRef, Section, TestsComparison
from aqe_ci.model.context import CiContext
from aqe_ci.model.keys import DOC_TYPES, check_key
from aqe_ci.model.merge import merge_documents
from aqe_ci.storage.store import Manifest, Store

SAME_COMMIT_RUNS = 5  # other runs of the head commit read for cross-run flaky detection


@dataclass(frozen=True, kw_only=True)
class CompareRequest:
    """What to compare. Base branch / sha: these first, then what the head run recorded, then the CI
    context of this process."""

    head_key: str
    base_key: str | None = None  # an explicit baseline run ("compare A B"); else the rules choose
    types: tuple[str, ...] = ()  # only these document types (empty: all)
    base_branch: str | None = None
    base_sha: str | None = None
    diff_only: bool = False
    gates: tuple[Gate, ...] = ()  # evaluated into Comparison.gates
    same_commit_flaky: bool = True  # read other runs of the head commit for cross-run flakes
    #: (suite, classname, name, file) → why, of tests known to be flaky: their new failures are marked
    known_flaky: Mapping[tuple[str, ...], str] = field(default_factory=dict)
    exclude_flaky: bool = False  # the new_failures gate leaves out new failures of known-flaky tests
    patch: bool = True  # patch coverage (needs ``git``: the diff merge-base..head)
    trend_last: int = 20  # the base branch's last N runs as Comparison.trend (one index listing; 0: none)

    def __post_init__(self) -> None:
        check_key(self.head_key)
        if self.base_key is not None:
            check_key(self.base_key)


def compare_run(store: Store, request: CompareRequest, *, git: Git | None = None,
                ci: CiContext | None = None) -> Comparison:
    """Compare ``request.head_key`` with its baseline (see the module docstring)."""
    head, head_manifests = run_ref(store, request.head_key)
    read = {request.head_key: head_manifests}  # manifests already read, by run key
    wanted = [t for t in DOC_TYPES if not request.types or t in request.types]
    if request.base_key is not None:
        base_run, read[request.base_key] = run_ref(store, request.base_key)
        baseline = Baseline(method="explicit", run=base_run, reason="given on the command line")
    else:
        ci = ci or CiContext()
        baseline = resolve_baseline(store, head, types=[t for t in wanted if t in head.types] or wanted,
                                    base_branch=request.base_branch or head.base_branch or ci.base_branch,
                                    base_sha=request.base_sha or head.base_sha or ci.base_sha, git=git)
    sections = _sections(store, request, head, baseline, wanted, read, git)
    comparison = build_comparison(head, baseline, sections, diff_only=request.diff_only)
    if request.trend_last:
        comparison = replace(comparison, trend=comparison_trend(store, comparison, last=request.trend_last))
    if request.gates:
        comparison = replace(comparison, gates=check_gates(comparison, request.gates,
                                                           exclude_flaky=request.exclude_flaky))
    return comparison


def check_outcome(comparison: Comparison, *, require_baseline: bool = False) -> None:
    """After the report is out: GateFailed (exit 6) when no baseline was found but one was required,
    or when a gate failed."""
    if require_baseline and not comparison.has_baseline:
        raise GateFailed(f"no baseline: {comparison.baseline.reason}",
                         hint="store a run for the base branch first, or drop --require-baseline")
    raise_if_failed(comparison.gates)


def _sections(store: Store, request: CompareRequest, head: RunRef, baseline: Baseline, wanted: Sequence[str],
              read: dict[str, list[Manifest]], git: Git | None) -> Iterator[Section]:
    """Each wanted type's section, loading one pair of documents at a time."""
    for doc_type in wanted:
        after = load_section(store, head.key, doc_type, read[head.key]) if doc_type in head.types else None
        base = baseline.run
        before = (load_section(store, base.key, doc_type, read.get(base.key))
                  if base is not None and doc_type in base.types else None)
        if after is None and before is None:
            continue
        others: list[tuple[str, TestIndex | dict[str, Any]]] = []
        if doc_type == "test_results" and request.same_commit_flaky and after is not None:
            others = _same_commit_runs(store, head, exclude={head.key})
        section = compare_section(doc_type, before, after, diff_only=request.diff_only, same_commit_runs=others,
                                  head_commit=head.commit)
        if isinstance(section, TestsComparison):
            section = mark_known_flaky(section, request.known_flaky)
        elif isinstance(section, CoverageComparison) and request.patch and isinstance(after, Mapping):
            section = replace(section, patch=patch_for(git, head, baseline, after))
        del before, after, others
        yield section


def run_ref(store: Store, key: str) -> tuple[RunRef, list[Manifest]]:
    """What a run key holds, and its manifests, from one listing + one small read per document."""
    manifests = store.manifests(key)
    if not manifests:
        raise NotFoundError(f"no documents stored under run key {key} in {store.location}",
                            hint="check the key with `aqe artifacts list`")
    first = min(manifests, key=lambda m: m.created_ms)
    run = first.run
    return RunRef(key=key, created_ms=first.created_ms, created_at=first.created_at, commit=run.commit,
                  branch=run.branch, pr=run.pr, base_branch=run.base_branch, base_sha=run.base_sha,
                  platform=run.platform, types=tuple(t for t in DOC_TYPES if any(m.type == t for m in manifests))
                  ), manifests


def load_section(store: Store, key: str, doc_type: str, manifests: list[Manifest] | None = None) -> Loaded:
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
        return TestIndex.from_payloads(_payloads(store, manifests))
    data: dict[str, Any] = merge_documents(doc_type, [store.load(m) for m in manifests])["data"]
    return data


def _payloads(store: Store, manifests: Sequence[Manifest]) -> Iterator[tuple[dict[str, Any], IO[bytes]]]:
    """(summary, verified temp copy of the payload) of each part; each copy is gone once the next is read."""
    for m in manifests:
        with tempfile.TemporaryFile(prefix="aqe-tests-") as tmp:
            store.copy_payload(m, tmp)  # verified: sha256 and size
            yield m.summary, tmp


def _same_commit_runs(store: Store, head: RunRef, *, exclude: set[str]) -> list[tuple[str, TestIndex | dict[str, Any]]]:
    if not head.commit:
        return []
    keys: list[str] = []
    for e in store.by_commit(head.commit, "test_results"):
        if e.key not in exclude and e.key not in keys and e.commit == head.commit:
            keys.append(e.key)
        if len(keys) >= SAME_COMMIT_RUNS:
            break
    out: list[tuple[str, TestIndex | dict[str, Any]]] = []
    for k in keys:
        data = load_section(store, k, "test_results")
        if isinstance(data, TestIndex):
            out.append((k, data))
    return out
