"""History values: a trend of runs (from manifest summaries) and flaky tests found in stored runs.

Built by :mod:`aqe_ci.app.trend` and :mod:`aqe_ci.app.flaky` (with :mod:`aqe_ci.compare.flaky`),
rendered by :mod:`aqe_ci.render.trend` and the HTML report; the JSON shapes are in docs/history.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: per document type: the numbers a trend point carries (all from the manifest summary), in column order
TREND_METRICS: dict[str, tuple[str, ...]] = {
    "coverage": ("line_rate", "branch_rate", "lines_valid", "lines_covered"),
    "test_results": ("tests_run", "passed", "failed", "errors", "skipped", "flaky", "duration"),
    "security": ("critical", "high", "medium", "low", "info", "total"),
}
#: the number a chart of the type shows, and its label
HEADLINE: dict[str, tuple[str, str]] = {
    "coverage": ("line_rate", "Line coverage (%)"),
    "test_results": ("failed", "Failed tests"),
    "security": ("total", "Security findings"),
}


@dataclass(frozen=True, kw_only=True)
class TrendPoint:
    """One run: its parts' summaries combined (counts summed; a multi-part coverage rate is covered/valid
    over the parts, its branch rate unknown)."""

    key: str
    created_ms: int
    created_at: str
    commit: str | None = None
    branch: str | None = None
    pr: int | None = None
    parts: int = 1
    values: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "created_at": self.created_at, "commit": self.commit, "branch": self.branch,
                "pr": self.pr, "parts": self.parts, **{k: self.values.get(k) for k in self.values}}


@dataclass(frozen=True, kw_only=True)
class Trend:
    """The last runs of one document type (on one branch, or all), oldest first."""

    type: str
    branch: str | None
    last: int
    points: tuple[TrendPoint, ...] = ()

    @property
    def metrics(self) -> tuple[str, ...]:
        return TREND_METRICS[self.type]

    def series(self, metric: str) -> list[Any]:
        return [p.values.get(metric) for p in self.points]

    def stats(self) -> dict[str, Any]:
        """first / last / change / min / max of the headline metric over the points that have it."""
        name = HEADLINE[self.type][0]
        values = [v for v in self.series(name) if v is not None]
        if not values:
            return {"metric": name, "first": None, "last": None, "change": None, "min": None, "max": None}
        change = values[-1] - values[0]
        return {"metric": name, "first": values[0], "last": values[-1],
                "change": round(change, 4) if isinstance(change, float) else change,
                "min": min(values), "max": max(values)}

    def as_json(self) -> dict[str, Any]:
        return {"type": self.type, "branch": self.branch, "last": self.last, "count": len(self.points),
                "metrics": list(self.metrics), "stats": self.stats(), "points": [p.as_json() for p in self.points]}


# ------------------------------------------------------------------------------------------------
# flaky tests


@dataclass(frozen=True, kw_only=True)
class Observation:
    """One run (one part of it) in which a test ran: the evidence of a flaky verdict."""

    key: str
    part: str
    commit: str | None
    branch: str | None
    created_at: str
    status: str  # passed | failed | error | flaky
    retried: bool = False  # failed and passed within this run's retries

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "part": self.part, "commit": self.commit, "branch": self.branch,
                               "created_at": self.created_at, "status": self.status}
        if self.retried:
            out["retried"] = True
        return out


#: why a test is flaky
SAME_COMMIT = "same-commit"  # passed in one run and failed in another run of the same commit
RETRIES = "retries"  # failed and passed within one run (status flaky, or retries that disagree)
FLIP_RATE = "flip-rate"  # flips between pass and fail on the default branch above the threshold


@dataclass(frozen=True, kw_only=True)
class FlakyTest:
    suite: str
    classname: str
    name: str
    file: str | None = None
    reasons: tuple[str, ...] = ()
    runs: int = 0  # observations in the window
    passed: int = 0
    failed: int = 0
    flips: int = 0  # on the default branch, consecutive runs of one part
    flip_rate: float | None = None  # flips / (default-branch observations - 1)
    commits: tuple[str, ...] = ()  # commits on which it both passed and failed
    evidence: tuple[Observation, ...] = ()  # failing runs first, then passing runs of those commits
    last_failed_at: str | None = None

    @property
    def id(self) -> str:
        """``classname::name`` (suite when there is no classname): what a runner's quarantine hook matches."""
        return f"{self.classname or self.suite}::{self.name}"

    @property
    def identity(self) -> tuple[str, str, str, str]:
        return (self.suite, self.classname, self.name, self.file or "")

    def describe(self) -> str:
        """One plain line of evidence (trusted numbers and ids; names are escaped by the renderers)."""
        bits = []
        if SAME_COMMIT in self.reasons:
            shas = ", ".join(c[:12] for c in self.commits[:3]) + (" …" if len(self.commits) > 3 else "")
            bits.append(f"passed and failed on the same commit ({shas})")
        if RETRIES in self.reasons:
            bits.append("failed and passed within a run's retries")
        if FLIP_RATE in self.reasons and self.flip_rate is not None:
            bits.append(f"flipped {self.flips} times in {self.runs} runs ({self.flip_rate:.0%} flip rate)")
        return "; ".join(bits)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "suite": self.suite, "classname": self.classname, "name": self.name}
        if self.file:
            out["file"] = self.file
        out.update(reasons=list(self.reasons), description=self.describe(), runs=self.runs, passed=self.passed,
                   failed=self.failed, flips=self.flips, flip_rate=self.flip_rate, commits=list(self.commits),
                   last_failed_at=self.last_failed_at, evidence=[o.as_json() for o in self.evidence])
        return out


@dataclass(frozen=True, kw_only=True)
class FlakyReport:
    """Flaky tests over a window of stored runs, most flaky first."""

    branch: str | None  # the default branch the flip rate is measured on
    last: int
    threshold: float
    min_runs: int
    runs_read: int  # test_results runs read
    tests: tuple[FlakyTest, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """The quarantine file: ``tests[].id`` (and suite/classname/name/file) is what a runner matches."""
        return {"version": 1, "window": {"last": self.last, "branch": self.branch, "threshold": self.threshold,
                                         "min_runs": self.min_runs, "runs_read": self.runs_read},
                "count": len(self.tests), "tests": [t.as_json() for t in self.tests]}

    def by_identity(self) -> dict[tuple[str, str, str, str], FlakyTest]:
        return {t.identity: t for t in self.tests}


# ------------------------------------------------------------------------------------------------
# the trend a comparison carries (the PR/MR comment's chart)


@dataclass(frozen=True, kw_only=True)
class ChartPoint:
    key: str
    commit: str | None
    created_at: str | None
    value: float | int | None

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "commit": self.commit, "created_at": self.created_at, "value": self.value}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ChartPoint:
        return cls(key=str(d["key"]), commit=d.get("commit"), created_at=d.get("created_at"), value=d.get("value"))


@dataclass(frozen=True, kw_only=True)
class ComparisonTrend:
    """The base branch's last runs of one metric and the head's value: ``comparison.trend``."""

    type: str
    branch: str
    last: int
    metric: str
    label: str
    points: tuple[ChartPoint, ...]  # oldest first
    head_key: str | None
    head_commit: str | None
    head_pr: int | None
    head_value: float | int

    @property
    def head_label(self) -> str:
        return f"PR #{self.head_pr}" if self.head_pr else "this run"

    def as_json(self) -> dict[str, Any]:
        return {"type": self.type, "branch": self.branch, "last": self.last, "metric": self.metric,
                "label": self.label, "points": [p.as_json() for p in self.points],
                "head": {"key": self.head_key, "commit": self.head_commit, "pr": self.head_pr,
                         "value": self.head_value}}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ComparisonTrend:
        h = d.get("head") or {}
        return cls(type=str(d["type"]), branch=str(d["branch"]), last=int(d["last"]), metric=str(d["metric"]),
                   label=str(d["label"]), points=tuple(ChartPoint.from_json(p) for p in d.get("points") or ()),
                   head_key=h.get("key"), head_commit=h.get("commit"), head_pr=h.get("pr"), head_value=h["value"])
