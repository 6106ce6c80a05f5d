"""Test-results deltas by test identity.

A test's identity is ``(suite, classname, name, file)`` (DESIGN: "+ file when present"); when one
run holds the same identity several times (parametrised tests without ids, Playwright projects in
JUnit) the n-th occurrence is paired with the n-th occurrence in the other run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from aqe_ci.compare.testindex import FAILING, PASSING, Rec, TestIndex, retried_flaky
from aqe_ci.model.comparison import Delta, TestItem, TestsComparison

__all__ = ["compare_tests", "retried_flaky"]

MESSAGE_CAP = 500
DETAILS_CAP = 4000


def _cap(text: Any, cap: int) -> str | None:
    if text is None:
        return None
    s = str(text)
    return s if len(s) <= cap else s[:cap] + "…"


def _item(r: Rec, before: Rec | None = None) -> TestItem:
    out: TestItem
    if r.file:
        out = {"suite": r.suite, "classname": r.classname, "name": r.name, "file": r.file, "status": r.status}
    else:
        out = {"suite": r.suite, "classname": r.classname, "name": r.name, "status": r.status}
    if before is not None:
        out["before_status"] = before.status
    if r.duration is not None:
        out["duration"] = r.duration
    return out


def _fail_rec(f: Mapping[str, Any]) -> Rec:
    return Rec(f.get("suite") or "", f.get("classname") or "", f.get("name") or "", f.get("file"),
               f.get("status") or "failed", f.get("duration"), False)


def _failure_item(r: Rec, failure: Mapping[str, Any] | None, before: Rec | None) -> TestItem:
    out = _item(r, before)
    out["message"] = _cap((failure or {}).get("message"), MESSAGE_CAP)
    if failure is not None:
        if failure.get("type"):
            out["type"] = failure["type"]
        details = failure.get("details")
        if isinstance(details, Mapping) and details.get("text"):
            out["details"] = _cap(details["text"], DETAILS_CAP) or ""
    return out


def _metric(before: float | int | None, after: float | int | None, ndigits: int | None = None) -> Delta:
    change = None if before is None or after is None else after - before
    if ndigits is not None and change is not None:
        change = round(change, ndigits)
    return Delta(before, after, change)


def _index(x: TestIndex | Mapping[str, Any] | None) -> TestIndex | None:
    if x is None or isinstance(x, TestIndex):
        return x
    return TestIndex.from_data(x)


def _counts(b: TestIndex | None, a: TestIndex | None) -> TestsComparison:
    """The counter deltas alone: tests_run (``total``), passed … flaky, duration."""
    def count(name: str) -> Delta:
        return _metric(b.counts.get(name, 0) if b else None, a.counts.get(name, 0) if a else None)

    return TestsComparison(
        total=_metric(b.counts.get("tests_run") if b else None, a.counts.get("tests_run") if a else None),
        passed=count("passed"), failed=count("failed"), errors=count("errors"), skipped=count("skipped"),
        flaky=count("flaky"),
        duration=_metric(b.counts.get("duration") if b else None, a.counts.get("duration") if a else None, 3))


def compare_tests(before: TestIndex | Mapping[str, Any] | None, after: TestIndex | Mapping[str, Any] | None, *,
                  same_commit_runs: Sequence[tuple[str, TestIndex | Mapping[str, Any]]] = (),
                  head_commit: str | None = None, diff_only: bool = False) -> TestsComparison:
    """Compare two runs' test results (``data`` dicts or :class:`TestIndex`; either may be None).

    ``same_commit_runs``: (run key, results) of other runs of the head's commit, for cross-run flakes.
    """
    b = _index(before)
    a = _index(after)
    counts = _counts(b, a)
    if a is None:
        return replace(counts, note="the head run has no test_results document")
    flaky: list[TestItem] = []
    flaky_keys: set[tuple[Any, ...]] = set()
    for k, r in a.items():
        if r.retried_flaky:
            item = _item(r)
            item["reason"] = "failed and passed within this run's retries"
            flaky.append(item)
            flaky_keys.add(k)
    flaky_tests = tuple(flaky + _cross_run_flaky(a, same_commit_runs, head_commit, flaky_keys))
    if b is None:
        return replace(counts, note="the baseline has no test_results document", flaky_tests=flaky_tests,
                               new_failures=tuple(_failure_item(_fail_rec(f), f, None) for f in a.failures.values()))
    if a.tests is None or b.tests is None:
        return _failures_only(a, b, counts, flaky_tests, diff_only=diff_only)
    return _by_identity(a, b, a.tests, b.tests, counts, flaky_tests, diff_only=diff_only)


def _failures_only(a: TestIndex, b: TestIndex, counts: TestsComparison, flaky_tests: tuple[TestItem, ...], *,
                   diff_only: bool) -> TestsComparison:
    """Summary-only documents: failing sets from failures[], nothing else is knowable."""
    still = [_failure_item(_fail_rec(f), f, _fail_rec(b.failures[k])) for k, f in a.failures.items()
             if k in b.failures]
    return replace(
        counts, identity_detail="failures-only",
        new_failures=tuple(_failure_item(_fail_rec(f), f, None) for k, f in a.failures.items() if k not in b.failures),
        still_failing=len(still) if diff_only else tuple(still),
        fixed=tuple(_item(_fail_rec(f)) for k, f in b.failures.items() if k not in a.failures),
        flaky_tests=flaky_tests)


def _by_identity(a: TestIndex, b: TestIndex, a_map: dict[tuple[Any, ...], Rec], b_map: dict[tuple[Any, ...], Rec],
                 counts: TestsComparison, flaky_tests: tuple[TestItem, ...], *, diff_only: bool) -> TestsComparison:
    new_failures: list[TestItem] = []
    still_failing: list[TestItem] = []
    n_still = 0
    fixed: list[TestItem] = []
    added: list[TestItem] = []
    newly_skipped: list[TestItem] = []
    for k, r in a_map.items():
        st = r.status
        br = b_map.get(k)
        if br is None:
            added.append(_item(r))
            if st in FAILING:
                new_failures.append(_failure_item(r, a.failure_for(k), None))
            continue
        bst = br.status
        if st in FAILING:
            if bst in FAILING:
                n_still += 1
                if not diff_only:
                    still_failing.append(_failure_item(r, a.failure_for(k), br))
            else:
                new_failures.append(_failure_item(r, a.failure_for(k), br))
        elif bst in FAILING and st in PASSING:
            fixed.append(_item(r, br))
        if st == "skipped" and bst != "skipped":
            newly_skipped.append(_item(r, br))
    return replace(
        counts, new_failures=tuple(new_failures), still_failing=n_still if diff_only else tuple(still_failing),
        fixed=tuple(fixed), added=tuple(added), removed=tuple(_item(r) for k, r in b_map.items() if k not in a_map),
        newly_skipped=tuple(newly_skipped), flaky_tests=flaky_tests)


def _cross_run_flaky(a: TestIndex, runs: Sequence[tuple[str, TestIndex | Mapping[str, Any]]],
                     commit: str | None, skip: set[tuple[Any, ...]]) -> list[TestItem]:
    """Tests that passed in one run and failed in another run of the same commit."""
    if not a.tests or not runs:
        return []
    outcome: dict[tuple[Any, ...], dict[str, list[str]]] = {}
    for k, r in a.tests.items():
        if r.status in PASSING or r.status in FAILING:
            outcome[k] = {"pass" if r.status in PASSING else "fail": ["this run"]}
    for run_key, data in runs:
        other = _index(data)
        for k, r in (other.items() if other else ()):
            slot = outcome.get(k)
            if slot is None:
                continue
            if r.status in PASSING:
                slot.setdefault("pass", []).append(run_key)
            elif r.status in FAILING:
                slot.setdefault("fail", []).append(run_key)
    found: list[TestItem] = []
    short = (commit or "")[:12]
    for k, slot in outcome.items():
        if "pass" in slot and "fail" in slot and k not in skip:
            item = _item(a.tests[k])
            item["reason"] = (f"passed in {', '.join(slot['pass'])} and failed in {', '.join(slot['fail'])}"
                              f" on the same commit {short}")
            found.append(item)
    return found
