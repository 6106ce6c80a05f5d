"""Quality gates over a comparison: ``--fail-on "coverage_drop>0.5,new_failures>0,new_security>=high"``.

Grammar (whitespace is ignored)::

    gates  := gate ("," gate)*
    gate   := METRIC OP VALUE
    OP     := ">=" | "<=" | "==" | "!=" | ">" | "<"
    VALUE  := a number | a severity (critical, high, medium, low, info)

A gate **fails when its condition holds** (``new_failures>0`` fails when there are new failures).
Delta metrics need a baseline; without one they are reported as skipped, never failed. See
:data:`METRICS` (and docs/compare.md) for every metric.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from aqe_ci.errors import GateFailed, UsageError
from aqe_ci.model.comparison import (
    Comparison,
    CoverageComparison,
    GateResult,
    SecurityComparison,
    TestItem,
    TestsComparison,
)
from aqe_ci.model.keys import SEVERITIES, SEVERITY_RANK

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b, "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b, ">": lambda a, b: a > b, "<": lambda a, b: a < b,
}
_GATE_RE = re.compile(r"^([a-z_]+)(>=|<=|==|!=|>|<)([A-Za-z]+|-?\d+(?:\.\d+)?)$")


@dataclass(frozen=True)
class Metric:
    section: str  # coverage | tests | security
    delta: bool  # needs a baseline
    unit: str
    help: str
    severity: bool = False  # accepts a severity value


METRICS: dict[str, Metric] = {
    "coverage": Metric("coverage", False, "%", "head line coverage"),
    "branch_coverage": Metric("coverage", False, "%", "head branch coverage"),
    "coverage_drop": Metric("coverage", True, "pp", "line coverage drop vs the baseline (percentage points)"),
    "branch_coverage_drop": Metric("coverage", True, "pp", "branch coverage drop vs the baseline"),
    "file_coverage_drop": Metric("coverage", True, "pp", "largest line-coverage drop of any changed file"),
    "newly_uncovered": Metric("coverage", True, "lines", "lines covered in the baseline, uncovered now"),
    "patch_coverage": Metric("coverage", False, "%", "coverage of the lines the change adds or edits (git diff "
                             "merge-base..head; needs a checkout)"),
    "new_failures": Metric("tests", True, "tests", "tests failing now that did not fail in the baseline"),
    "still_failing": Metric("tests", True, "tests", "tests failing in both runs"),
    "failed": Metric("tests", False, "tests", "failed + errored tests in the head run"),
    "flaky": Metric("tests", False, "tests", "flaky tests in the head run"),
    "removed_tests": Metric("tests", True, "tests", "tests present in the baseline, gone now"),
    "newly_skipped": Metric("tests", True, "tests", "tests skipped now, not skipped in the baseline"),
    "duration_increase": Metric("tests", True, "s", "total test duration increase (seconds)"),
    "new_security": Metric("security", True, "findings",
                           "new findings: a severity compares the highest new severity, a number their count",
                           severity=True),
    "security": Metric("security", False, "findings",
                       "head findings: a severity compares the highest severity, a number the total",
                       severity=True),
    **{f"security_{s}": Metric("security", False, "findings", f"{s} findings in the head run") for s in SEVERITIES},
}


@dataclass(frozen=True)
class Gate:
    metric: str
    op: str
    value: float
    text: str
    severity: str | None = None

    def holds(self, actual: float) -> bool:
        return _OPS[self.op](actual, self.value)


def parse_gates(expr: str | None) -> list[Gate]:
    """Parse a gate expression; a malformed one is a UsageError naming the bad token."""
    if not expr or not expr.strip():
        return []
    gates: list[Gate] = []
    for raw in expr.split(","):
        token = "".join(raw.split())
        if not token:
            raise UsageError(f"--fail-on {expr!r}: empty gate between commas",
                             hint="write gates as METRIC OP VALUE separated by commas, e.g. new_failures>0")
        m = _GATE_RE.match(token)
        if not m:
            raise UsageError(f"--fail-on: cannot parse gate {token!r}",
                             hint="write METRIC OP VALUE, e.g. coverage_drop>0.5 or new_security>=high")
        name, op, value = m.groups()
        metric = METRICS.get(name)
        if metric is None:
            raise UsageError(f"--fail-on: unknown metric {name!r} in {token!r}",
                             hint=f"use one of {', '.join(METRICS)}")
        if value[0].isalpha():
            sev = value.lower()
            if not metric.severity or sev not in SEVERITY_RANK:
                raise UsageError(f"--fail-on: {value!r} in {token!r} is not a valid value",
                                 hint="use a number" + (f" or one of {', '.join(SEVERITIES)}" if metric.severity
                                                        else ""))
            gates.append(Gate(name, op, float(SEVERITY_RANK[sev]), token, severity=sev))
        else:
            gates.append(Gate(name, op, float(value), token))
    return gates


def _max_rank(counts: Mapping[str, int | float | None]) -> int:
    ranks = [SEVERITY_RANK[s] for s in SEVERITIES if counts.get(s)]
    return max(ranks) if ranks else -1


Actual = tuple["int | float | None", str]  # the metric's value (None: cannot evaluate) and a description


def _coverage_actual(name: str, cov: CoverageComparison | None) -> Actual:
    if cov is None:
        return None, ""
    if name == "coverage":
        v = cov.line_rate.after
        return v, f"line coverage {v}%"
    if name == "branch_coverage":
        v = cov.branch_rate.after
        return v, f"branch coverage {v}%"
    if name in ("coverage_drop", "branch_coverage_drop"):
        m = cov.line_rate if name == "coverage_drop" else cov.branch_rate
        if m.change is None:
            return None, ""
        return round(-m.change, 4), f"{'line' if name == 'coverage_drop' else 'branch'} coverage changed by " \
                                   f"{m.change:+.2f} pp"
    if name == "file_coverage_drop":
        if not cov.files:
            return None, ""
        drops = [-(r["line_rate"]["change"] or 0) for r in cov.files.changed]
        worst = max(drops, default=0.0)
        return round(worst, 4), f"largest file coverage drop {worst:.2f} pp"
    if name == "patch_coverage":
        p = cov.patch
        if p is None or p.rate is None:
            return None, ""
        return p.rate, f"patch coverage {p.rate:.2f}% ({p.covered}/{p.executable} changed lines)"
    v = cov.newly_uncovered_lines  # newly_uncovered
    return v, f"{v} lines newly uncovered"


_TEST_LISTS = {"new_failures": "new_failures", "still_failing": "still_failing", "removed_tests": "removed",
               "newly_skipped": "newly_skipped", "flaky": "flaky_tests"}


def _tests_actual(name: str, tests: TestsComparison | None, has_baseline: bool, exclude_flaky: bool) -> Actual:
    if tests is None:
        return None, ""
    if name == "new_failures" and exclude_flaky and tests.new_failures is not None and has_baseline:
        flaky = sum(1 for f in tests.new_failures if f.get("known_flaky"))
        n = len(tests.new_failures) - flaky
        return n, f"{n} new failures ({flaky} of known-flaky tests not counted)"
    if name in _TEST_LISTS:
        v: tuple[TestItem, ...] | int | None = getattr(tests, _TEST_LISTS[name])
        if v is None or (name != "flaky" and not has_baseline):
            return None, ""
        n = v if isinstance(v, int) else len(v)
        return n, f"{n} {name.replace('_', ' ')}"
    if name == "failed":
        failed = (tests.failed.after or 0) + (tests.errors.after or 0)
        return failed, f"{failed} failed or errored tests"
    ch = tests.duration.change  # duration_increase
    return ch, f"duration changed by {ch:+.1f} s" if ch is not None else ""


def _security_actual(gate: Gate, sec: SecurityComparison | None, has_baseline: bool) -> Actual:
    name = gate.metric
    if sec is None:
        return None, ""
    if name == "new_security":
        if sec.new_by_severity is None or not has_baseline:
            return None, ""
        counts: Mapping[str, int | float | None] = sec.new_by_severity
        desc = ", ".join(f"{counts[s]} {s}" for s in SEVERITIES if counts.get(s)) or "none"
        total = sum(v or 0 for v in counts.values())
        return (_max_rank(counts) if gate.severity else total), f"new findings: {desc}"
    if sec.total.after is None:
        return None, ""
    if name == "security":
        counts = {s: sec.by_severity[s].after for s in SEVERITIES}
        desc = ", ".join(f"{counts[s]} {s}" for s in SEVERITIES if counts.get(s)) or "none"
        return (_max_rank(counts) if gate.severity else sec.total.after), f"findings: {desc}"
    sev = name.removeprefix("security_")
    v = sec.by_severity[sev].after
    return v, f"{v} {sev} findings"


def _actual(gate: Gate, c: Comparison, exclude_flaky: bool = False) -> Actual:
    """The metric's value in comparison ``c`` (None = cannot evaluate) and a short description."""
    section = METRICS[gate.metric].section
    if section == "coverage":
        return _coverage_actual(gate.metric, c.coverage)
    if section == "tests":
        return _tests_actual(gate.metric, c.tests, c.has_baseline, exclude_flaky)
    return _security_actual(gate, c.security, c.has_baseline)


def check_gates(comparison: Comparison, gates: Sequence[Gate], *,
                exclude_flaky: bool = False) -> tuple[GateResult, ...]:
    """Evaluate every gate: passed, failed or skipped (cannot be evaluated), with what was measured.

    ``exclude_flaky``: ``new_failures`` does not count the new failures marked ``known_flaky``.
    """
    out: list[GateResult] = []
    for g in gates:
        actual, desc = _actual(g, comparison, exclude_flaky)
        if actual is None:
            metric = METRICS[g.metric]
            why = ("no baseline to compare against" if metric.delta and not comparison.has_baseline
                   else f"no {metric.section} in the comparison")
            patch = comparison.coverage.patch if comparison.coverage else None
            if g.metric == "patch_coverage" and patch is not None:
                why = f"no patch coverage ({patch.note or 'nothing to measure'})"
            out.append(GateResult(gate=g.text, status="skipped", actual=None, message=f"not evaluated: {why}"))
            continue
        failed = g.holds(float(actual))
        shown: int | float | str | None = actual
        if g.severity:
            shown = next((s for s in SEVERITIES if SEVERITY_RANK[s] == actual), None)
        out.append(GateResult(gate=g.text, status="failed" if failed else "passed", actual=shown, message=desc))
    return tuple(out)


def raise_if_failed(results: Sequence[GateResult]) -> None:
    failed = [r for r in results if r.status == "failed"]
    if failed:
        names = "; ".join(f"{r.gate} ({r.message})" for r in failed)
        raise GateFailed(f"{len(failed)} quality gate{'s' if len(failed) != 1 else ''} failed: {names}")
