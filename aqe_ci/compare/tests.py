"""Test-results deltas by test identity.

A test's identity is ``(suite, classname, name, file)`` (DESIGN: "+ file when present"); when one
run holds the same identity several times (parametrised tests without ids, Playwright projects in
JUnit) the n-th occurrence gets ``#n`` so the pairs still line up in report order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

FAILING = frozenset({"failed", "error"})
PASSING = frozenset({"passed", "flaky"})
MESSAGE_CAP = 500
DETAILS_CAP = 4000

_COUNTS = ("tests_run", "passed", "failed", "errors", "skipped", "flaky")


def identity(t: Mapping[str, Any]) -> str:
    return "\x1f".join((t.get("suite") or "", t.get("classname") or "", t.get("name") or "", t.get("file") or ""))


def _keyed(items: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    out: dict[str, Mapping[str, Any]] = {}
    seen: dict[str, int] = {}
    for t in items:
        ident = identity(t)
        n = seen.get(ident, 0) + 1
        seen[ident] = n
        out[ident if n == 1 else f"{ident}#{n}"] = t
    return out


def retried_flaky(t: Mapping[str, Any]) -> bool:
    """Failed and passed within one run: status ``flaky``, or retries that disagree with the end."""
    status = t.get("status")
    if status == "flaky":
        return True
    retries = t.get("retries") or ()
    if status == "passed":
        return any(r.get("status") in FAILING for r in retries)
    if status in FAILING:
        return any(r.get("status") == "passed" for r in retries)
    return False


def _cap(text: Any, cap: int) -> str | None:
    if text is None:
        return None
    s = str(text)
    return s if len(s) <= cap else s[:cap] + "…"


def _item(t: Mapping[str, Any], before: Mapping[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"suite": t.get("suite"), "classname": t.get("classname"), "name": t.get("name")}
    if t.get("file"):
        out["file"] = t["file"]
    out["status"] = t.get("status")
    if before is not None:
        out["before_status"] = before.get("status")
    if t.get("duration") is not None:
        out["duration"] = t["duration"]
    return out


def _failure_item(t: Mapping[str, Any], failure: Mapping[str, Any] | None,
                  before: Mapping[str, Any] | None) -> dict[str, Any]:
    out = _item(t, before)
    src = failure or t
    out["message"] = _cap(src.get("message"), MESSAGE_CAP)
    if failure is not None:
        if failure.get("type"):
            out["type"] = failure["type"]
        details = failure.get("details")
        if isinstance(details, Mapping) and details.get("text"):
            out["details"] = _cap(details["text"], DETAILS_CAP)
    return out


def _metric(before: float | int | None, after: float | int | None, ndigits: int | None = None) -> dict[str, Any]:
    change = None if before is None or after is None else after - before
    if ndigits is not None and change is not None:
        change = round(change, ndigits)
    return {"before": before, "after": after, "change": change}


def compare_tests(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, *,
                  same_commit_runs: Sequence[tuple[str, Mapping[str, Any]]] = (),
                  head_commit: str | None = None, diff_only: bool = False) -> dict[str, Any]:
    """``before``/``after`` are the ``data`` of two test_results documents (either may be None).

    ``same_commit_runs``: (run key, data) of other runs of the head's commit, for cross-run flakes.
    """
    b_run = before.get("tests_run") if before else None
    a_run = after.get("tests_run") if after else None
    out: dict[str, Any] = _metric(b_run, a_run)
    for name in _COUNTS[1:]:
        out[name] = _metric(before.get(name, 0) if before else None, after.get(name, 0) if after else None)
    out["duration"] = _metric(before.get("duration") if before else None,
                              after.get("duration") if after else None, 3)
    if after is None:
        out["note"] = "the head run has no test_results document"
        return out

    a_tests = after.get("tests")
    a_fail = _keyed(after.get("failures") or [])
    flaky: list[dict[str, Any]] = []
    flaky_keys: set[str] = set()
    if a_tests is not None:
        for k, t in _keyed(a_tests).items():
            if retried_flaky(t):
                item = _item(t)
                item["reason"] = "failed and passed within this run's retries"
                flaky.append(item)
                flaky_keys.add(k)
    if before is None:
        out["note"] = "the baseline has no test_results document"
        out["flaky_tests"] = flaky + _cross_run_flaky(a_tests, same_commit_runs, head_commit, flaky_keys)
        out["new_failures"] = [_failure_item(f, f, None) for f in after.get("failures") or []]
        return out

    b_tests = before.get("tests")
    if a_tests is None or b_tests is None:
        # summary-only documents: failing sets from failures[], nothing else is knowable
        b_fail = _keyed(before.get("failures") or [])
        out["identity_detail"] = "failures-only"
        out["new_failures"] = [_failure_item(f, f, None) for k, f in a_fail.items() if k not in b_fail]
        still = [_failure_item(f, f, b_fail[k]) for k, f in a_fail.items() if k in b_fail]
        out["still_failing"] = len(still) if diff_only else still
        out["fixed"] = [_item(f) for k, f in b_fail.items() if k not in a_fail]
        out["added"] = out["removed"] = out["newly_skipped"] = None
        out["flaky_tests"] = flaky
        return out

    a_map = _keyed(a_tests)
    b_map = _keyed(b_tests)
    new_failures: list[dict[str, Any]] = []
    still_failing: list[dict[str, Any]] = []
    fixed: list[dict[str, Any]] = []
    added: list[dict[str, Any]] = []
    newly_skipped: list[dict[str, Any]] = []
    for k, t in a_map.items():
        st = t.get("status")
        bt = b_map.get(k)
        if bt is None:
            added.append(_item(t))
            if st in FAILING:
                new_failures.append(_failure_item(t, a_fail.get(k), None))
            continue
        bst = bt.get("status")
        if st in FAILING:
            if bst in FAILING:
                still_failing.append(_failure_item(t, a_fail.get(k), bt))
            else:
                new_failures.append(_failure_item(t, a_fail.get(k), bt))
        elif bst in FAILING and st in PASSING:
            fixed.append(_item(t, bt))
        if st == "skipped" and bst != "skipped":
            newly_skipped.append(_item(t, bt))
    removed = [_item(t) for k, t in b_map.items() if k not in a_map]
    out["new_failures"] = new_failures
    out["still_failing"] = len(still_failing) if diff_only else still_failing
    out["fixed"] = fixed
    out["added"] = added
    out["removed"] = removed
    out["newly_skipped"] = newly_skipped
    out["flaky_tests"] = flaky + _cross_run_flaky(a_tests, same_commit_runs, head_commit, flaky_keys)
    return out


def _cross_run_flaky(a_tests: Sequence[Mapping[str, Any]] | None,
                     runs: Sequence[tuple[str, Mapping[str, Any]]], commit: str | None,
                     skip: set[str]) -> list[dict[str, Any]]:
    """Tests that passed in one run and failed in another run of the same commit."""
    if not a_tests or not runs:
        return []
    a_map = _keyed(a_tests)
    outcome: dict[str, dict[str, list[str]]] = {}
    for k, t in a_map.items():
        st = t.get("status")
        if st in PASSING or st in FAILING:
            outcome[k] = {"pass" if st in PASSING else "fail": ["this run"]}
    for run_key, data in runs:
        for k, t in _keyed(data.get("tests") or []).items():
            slot = outcome.get(k)
            if slot is None:
                continue
            st = t.get("status")
            if st in PASSING:
                slot.setdefault("pass", []).append(run_key)
            elif st in FAILING:
                slot.setdefault("fail", []).append(run_key)
    found: list[dict[str, Any]] = []
    short = (commit or "")[:12]
    for k, slot in outcome.items():
        if "pass" in slot and "fail" in slot and k not in skip:
            item = _item(a_map[k])
            item["reason"] = (f"passed in {', '.join(slot['pass'])} and failed in {', '.join(slot['fail'])}"
                              f" on the same commit {short}")
            found.append(item)
    return found
