"""Use case: the trend of one document type over the last N runs, from manifest summaries only.

One listing of the index (the branch's, else the type's), newest first: the index entries carry each
document's summary, so no payload is read (an entry too long to carry its summary costs one manifest
read). Parts of one run (matrix legs, shards) are combined into one point; listing stops at the
first entry older than the N-th run by more than :data:`PART_WINDOW_MS`, so a part written a little
after another run started still joins its own run.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from aqe_ci.errors import UsageError
from aqe_ci.model import keys
from aqe_ci.model.comparison import Comparison
from aqe_ci.model.history import HEADLINE, TREND_METRICS, ChartPoint, ComparisonTrend, Trend, TrendPoint
from aqe_ci.model.keys import check_type
from aqe_ci.storage.layout import Entry
from aqe_ci.storage.store import Query, Store

PART_WINDOW_MS = 3_600_000  # parts of one run written up to an hour apart still form one point
MAX_LAST = 10_000


def collect_runs(entries: Iterable[Entry], last: int, *, exclude: Sequence[str] = ()) -> list[list[Entry]]:
    """Group newest-first entries into at most ``last`` runs (by key), newest run first."""
    runs: dict[str, list[Entry]] = {}
    cutoff: int | None = None
    for e in entries:
        if e.key in exclude:
            continue
        if cutoff is not None and e.created_ms < cutoff:
            break
        if e.key in runs:
            runs[e.key].append(e)
        elif len(runs) < last:
            runs[e.key] = [e]
            if len(runs) == last:
                cutoff = e.created_ms - PART_WINDOW_MS
    return list(runs.values())


def _sum(values: Iterable[Any]) -> Any:
    present = [v for v in values if v is not None]
    if not present:
        return None
    total = sum(present)
    return round(total, 3) if isinstance(total, float) else total


def combine(doc_type: str, parts: Sequence[Entry]) -> dict[str, Any]:
    """One run's numbers from its parts' summaries."""
    names = TREND_METRICS[doc_type]
    if len(parts) == 1:
        s = parts[0].summary
        return {n: s.get(n) for n in names}
    if doc_type != "coverage":
        return {n: _sum(p.summary.get(n) for p in parts) for n in names}
    valid = _sum(p.summary.get("lines_valid") for p in parts)
    covered = _sum(p.summary.get("lines_covered") for p in parts)
    line_rate = round(100.0 * covered / valid, 4) if valid and covered is not None else None
    return {"line_rate": line_rate, "branch_rate": None, "lines_valid": valid, "lines_covered": covered}


def point(doc_type: str, parts: Sequence[Entry]) -> TrendPoint:
    first = min(parts, key=lambda e: e.created_ms)
    return TrendPoint(key=first.key, created_ms=first.created_ms, created_at=first.created_at, commit=first.commit,
                      branch=first.branch, pr=first.pr, parts=len(parts), values=combine(doc_type, parts))


def trend(store: Store, *, doc_type: str, branch: str | None = None, last: int = 30,
          until_ms: int | None = None, exclude: Sequence[str] = ()) -> Trend:
    """The last ``last`` runs of ``doc_type`` (on ``branch``, else all branches), oldest first."""
    check_type(doc_type)
    if not 1 <= last <= MAX_LAST:
        raise UsageError(f"--last {last} is out of range", hint=f"use 1 to {MAX_LAST}")
    entries = store.list(Query(type=doc_type, branch=branch, until_ms=until_ms))
    runs = collect_runs(entries, last, exclude=exclude)
    points = sorted((point(doc_type, parts) for parts in runs), key=lambda p: (p.created_ms, p.key))
    return Trend(type=doc_type, branch=branch, last=last, points=tuple(points))


def _head_values(c: Comparison) -> Iterator[tuple[str, float | int | None]]:
    """(document type, the head's value) in the order a chart is chosen: coverage, tests, security."""
    if c.coverage is not None:
        yield "coverage", c.coverage.line_rate.after
    if c.tests is not None and c.tests.failed.after is not None:
        yield "test_results", c.tests.failed.after + (c.tests.errors.after or 0)
    if c.security is not None:
        yield "security", c.security.total.after


def comparison_trend(store: Store, c: Comparison, *, last: int = 20) -> ComparisonTrend | None:
    """The base branch's last ``last`` runs and the head's point, for the chart in a PR/MR comment.

    The first type the comparison has of coverage (line rate), tests (failed + errors), security (total);
    None without a base branch or a head value. Costs one index listing.
    """
    b, h = c.baseline, c.head
    branch = b.base_branch or (b.run.branch if b.run else None)
    if not branch or last < 1:
        return None
    for doc_type, head_value in _head_values(c):
        if head_value is None:
            continue
        until = keys.to_ms(keys.parse_time(h.created_at)) if h.created_at else None
        t = trend(store, doc_type=doc_type, branch=branch, last=last, until_ms=until, exclude=[h.key])
        metric, label = ("failed+errors", "Failed + errored tests") if doc_type == "test_results" else HEADLINE[doc_type]
        return ComparisonTrend(type=doc_type, branch=branch, last=last, metric=metric, label=label,
                               points=tuple(ChartPoint(key=p.key, commit=p.commit, created_at=p.created_at,
                                                       value=_value(doc_type, p.values)) for p in t.points),
                               head_key=h.key, head_commit=h.commit, head_pr=h.pr, head_value=head_value)
    return None


def _value(doc_type: str, values: Mapping[str, Any]) -> Any:
    if doc_type == "test_results":
        return None if values.get("failed") is None else values["failed"] + (values.get("errors") or 0)
    return values.get(HEADLINE[doc_type][0])
