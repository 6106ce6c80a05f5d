"""Flaky tests from stored history. Pure: runs' test outcomes in, :class:`~aqe_ci.model.history.FlakyTest` out.

A test is flaky when, within the runs fed to :class:`FlakyDetector`:

* **same-commit** — it passed in one run (or part) and failed in another run of the same commit
  (reruns, retried jobs, matrix legs);
* **retries** — it failed and passed within one run (status ``flaky``, or retries that disagree);
* **flip-rate** — on the default branch its outcome flips between pass and fail between consecutive
  runs of one part more often than ``threshold`` (flips / transitions), over at least ``min_runs``
  runs and with at least two flips. A test broken once and fixed once flips twice: over a long
  window that stays under the threshold.

Skipped tests are not observations. Runs are fed oldest first; memory is one small state per test,
plus per-commit outcomes only for the commits the caller says were run more than once.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, cast

from aqe_ci.compare.testindex import FAILING, PASSING, Rec
from aqe_ci.model.comparison import TestItem, TestsComparison
from aqe_ci.model.history import FLIP_RATE, RETRIES, SAME_COMMIT, FlakyTest, Observation

DEFAULT_THRESHOLD = 0.1
DEFAULT_MIN_RUNS = 5
EVIDENCE_CAP = 10  # failing observations kept per test (and as many passing ones of the same commits)


@dataclass(frozen=True, kw_only=True)
class RunRef:
    """One stored test_results document (a run key's part) as an observation of its tests."""

    key: str
    part: str
    commit: str | None
    branch: str | None
    created_ms: int
    created_at: str


class _State:
    __slots__ = ("rec", "runs", "passed", "failed", "retried", "last", "flips", "transitions", "masks",
                 "fail_obs", "pass_obs", "retry_obs", "last_failed_at")

    def __init__(self, rec: Rec) -> None:
        self.rec = rec
        self.runs = self.passed = self.failed = self.flips = self.transitions = 0
        self.retried = False
        self.last: dict[str, bool] = {}  # part → passed, of the last default-branch observation
        self.masks: dict[str, int] = {}  # shared commit → 1 passed | 2 failed
        self.fail_obs: list[Observation] = []
        self.pass_obs: dict[str, list[Observation]] = {}  # shared commit → passing observations
        self.retry_obs: list[Observation] = []
        self.last_failed_at: str | None = None


class FlakyDetector:
    """Accumulates runs (oldest first) and names the flaky tests with their evidence."""

    def __init__(self, *, default_branch: str | None, shared_commits: Collection[str] = (),
                 threshold: float = DEFAULT_THRESHOLD, min_runs: int = DEFAULT_MIN_RUNS) -> None:
        self.default_branch = default_branch
        self.shared = set(shared_commits)
        self.threshold = threshold
        self.min_runs = min_runs
        self.states: dict[tuple[Any, ...], _State] = {}
        self.runs_read = 0

    def add(self, run: RunRef, tests: Iterable[tuple[tuple[Any, ...], Rec]]) -> None:
        """Feed one run's tests (``TestIndex.items()``: identity key → record)."""
        self.runs_read += 1
        on_default = self.default_branch is not None and run.branch == self.default_branch
        shared = run.commit if run.commit in self.shared else None
        for key, rec in tests:
            if rec.status in PASSING:
                ok = True
            elif rec.status in FAILING:
                ok = False
            else:
                continue
            st = self.states.get(key)
            if st is None:
                st = self.states[key] = _State(rec)
            self._observe(st, run, rec, ok, on_default, shared)

    def _observe(self, st: _State, run: RunRef, rec: Rec, ok: bool, on_default: bool, shared: str | None) -> None:
        st.runs += 1
        obs: Observation | None = None
        if ok:
            st.passed += 1
        else:
            st.failed += 1
            st.last_failed_at = run.created_at
            obs = _obs(run, rec)
            if len(st.fail_obs) < EVIDENCE_CAP:
                st.fail_obs.append(obs)
        if rec.retried_flaky:
            st.retried = True
            if len(st.retry_obs) < EVIDENCE_CAP:
                st.retry_obs.append(obs or _obs(run, rec))
        if on_default:
            prev = st.last.get(run.part)
            if prev is not None:
                st.transitions += 1
                st.flips += prev != ok
            st.last[run.part] = ok
        if shared is not None:
            st.masks[shared] = st.masks.get(shared, 0) | (1 if ok else 2)
            if ok:
                kept = st.pass_obs.setdefault(shared, [])
                if len(kept) < 3:
                    kept.append(_obs(run, rec))

    def result(self) -> list[FlakyTest]:
        """The flaky tests, highest flip rate first, then most failures."""
        found = [t for t in (self._verdict(st) for st in self.states.values()) if t is not None]
        found.sort(key=lambda t: (-(t.flip_rate or 0.0), -t.failed, t.id, t.file or ""))
        return found

    def _verdict(self, st: _State) -> FlakyTest | None:
        commits = tuple(sorted(c for c, m in st.masks.items() if m == 3))
        flip_rate = round(st.flips / st.transitions, 4) if st.transitions else None
        reasons = []
        if commits:
            reasons.append(SAME_COMMIT)
        if st.retried:
            reasons.append(RETRIES)
        if (flip_rate is not None and st.transitions + 1 >= self.min_runs and st.flips >= 2
                and flip_rate >= self.threshold):
            reasons.append(FLIP_RATE)
        if not reasons:
            return None
        evidence = list(st.fail_obs) + [o for o in st.retry_obs if o not in st.fail_obs]
        for c in commits:
            evidence.extend(st.pass_obs.get(c, ()))
        evidence.sort(key=lambda o: o.created_at, reverse=True)
        r = st.rec
        return FlakyTest(suite=r.suite, classname=r.classname, name=r.name, file=r.file, reasons=tuple(reasons),
                         runs=st.runs, passed=st.passed, failed=st.failed, flips=st.flips, flip_rate=flip_rate,
                         commits=commits, evidence=tuple(evidence), last_failed_at=st.last_failed_at)


def _obs(run: RunRef, rec: Rec) -> Observation:
    return Observation(key=run.key, part=run.part, commit=run.commit, branch=run.branch, created_at=run.created_at,
                       status=rec.status, retried=rec.retried_flaky)


def identity_of(t: Any) -> tuple[str, str, str, str]:
    """(suite, classname, name, file) of a comparison item or quarantine entry (a mapping)."""
    return (t.get("suite") or "", t.get("classname") or "", t.get("name") or "", t.get("file") or "")


def mark_known_flaky(tests: TestsComparison, known: Mapping[tuple[str, ...], str]) -> TestsComparison:
    """The tests section with the new failures of flaky tests marked: ``known_flaky`` = why.

    Known: ``known`` ((suite, classname, name, file) → why; a file-less key matches any file) and the
    section's own ``flaky_tests`` (a rerun of the head commit passed, or the run's retries did).
    ``new_failures_flaky`` counts them (None when the head has no test results).
    """
    if tests.new_failures is None:
        return tests
    reasons = dict(known)
    for t in tests.flaky_tests or ():
        reasons.setdefault(identity_of(t), t.get("reason") or "flaky")
    marked: list[TestItem] = []
    n = 0
    for f in tests.new_failures:
        ident = identity_of(f)
        why = reasons.get(ident) or reasons.get((*ident[:3], ""))
        if why:
            f = cast(TestItem, {**f, "known_flaky": why})  # a new item: the comparison's items are shared
            n += 1
        marked.append(f)
    return replace(tests, new_failures=tuple(marked), new_failures_flaky=n)
