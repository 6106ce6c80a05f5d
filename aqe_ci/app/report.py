"""Use case: the static HTML history report (``aqe artifacts report --html OUTDIR``).

The window is the last ``last`` runs (on ``branch``, else all branches) from one index listing; their
numbers come from the index cards (as ``trend``), their details from one streamed read of each
document: failing tests (and the flaky detector's input), per-file coverage, security findings. The
site is written by :func:`aqe_ci.render.html.write_site`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from aqe_ci.app.flaky import read_tests
from aqe_ci.app.trend import collect_runs, combine, point
from aqe_ci.compare.flaky import DEFAULT_MIN_RUNS, DEFAULT_THRESHOLD, FlakyDetector, RunRef
from aqe_ci.compare.testindex import FAILING
from aqe_ci.errors import NotFoundError, UsageError
from aqe_ci.model import keys
from aqe_ci.model.history import FlakyReport, Trend
from aqe_ci.model.keys import DOC_TYPES, SEVERITY_RANK
from aqe_ci.model.linehits import union_line_hits
from aqe_ci.model.report import (
    FAILURES_CAP,
    FILES_CAP,
    FINDINGS_CAP,
    FailureRow,
    FileRow,
    FindingRow,
    Report,
    ReportRun,
)
from aqe_ci.storage.layout import Entry
from aqe_ci.storage.store import Manifest, Query, Store

Progress = Callable[[int, int, str], None]


@contextmanager
def _payload(store: Store, m: Manifest) -> Iterator[IO[bytes]]:
    """A verified temporary copy of a document's payload, for streaming with ijson."""
    with tempfile.TemporaryFile(prefix="aqe-report-") as tmp:
        store.copy_payload(m, tmp)
        tmp.seek(0)
        yield tmp


def _tests(store: Store, run: ReportRun, manifests: Sequence[Manifest], detector: FlakyDetector) -> None:
    failures: list[FailureRow] = []
    total = 0
    for m in manifests:
        idx = read_tests(store, m)
        for f in idx.failures.values():
            total += 1
            if len(failures) < FAILURES_CAP:
                failures.append(FailureRow(suite=f.get("suite") or "", classname=f.get("classname") or "",
                                           name=f.get("name") or "", status=f.get("status") or "failed",
                                           message=(str(f["message"])[:500] if f.get("message") else None)))
        for _k, r in idx.items():
            if r.retried_flaky and len(run.retried) < FAILURES_CAP:
                run.retried.append(f"{r.classname or r.suite}::{r.name}")
        if idx.tests is not None:
            detector.add(RunRef(key=run.key, part=m.part, commit=m.commit, branch=m.branch,
                                created_ms=m.created_ms, created_at=m.created_at), idx.items())
    failures.sort(key=lambda f: (f.status not in FAILING, f.id))
    run.failures, run.failures_total = failures, total


def _coverage(store: Store, run: ReportRun, manifests: Sequence[Manifest]) -> None:
    import ijson

    rows: dict[str, FileRow] = {}
    hits: dict[str, list[str]] = {}
    for m in manifests:
        with _payload(store, m) as fh:
            for path, f in ijson.kvitems(fh, "data.files", use_float=True):
                if path in rows and f.get("line_hits") is not None and path in hits:
                    hits[path].append(f["line_hits"])
                    merged = union_line_hits(hits[path])
                    covered = sum(1 for h in merged.values() if h)
                    rows[path] = FileRow(path=path, lines_valid=len(merged), lines_covered=covered,
                                         line_rate=round(100.0 * covered / len(merged), 4) if merged else None)
                    continue
                rows[path] = FileRow(path=path, lines_valid=int(f.get("lines_valid") or 0),
                                     lines_covered=int(f.get("lines_covered") or 0), line_rate=f.get("line_rate"),
                                     branch_rate=f.get("branch_rate"))
                if len(manifests) > 1 and f.get("line_hits") is not None:
                    hits[path] = [f["line_hits"]]
    ordered = sorted(rows.values(), key=lambda r: (r.line_rate if r.line_rate is not None else 101.0, r.path))
    run.files, run.files_total = ordered[:FILES_CAP], len(ordered)


def _location(v: Mapping[str, Any]) -> str | None:
    loc = v.get("location") or {}
    if loc.get("path"):
        return f"{loc['path']}:{loc['start_line']}" if loc.get("start_line") is not None else str(loc["path"])
    pkg = v.get("package") or {}
    if pkg.get("name"):
        return str(pkg["name"]) + (f"@{pkg['installed_version']}" if pkg.get("installed_version") else "")
    return None


def _security(store: Store, run: ReportRun, manifests: Sequence[Manifest]) -> None:
    import ijson

    best: dict[str, FindingRow] = {}
    for m in manifests:
        with _payload(store, m) as fh:
            for v in ijson.items(fh, "data.vulnerabilities.item", use_float=True):
                if v.get("suppressed") or v.get("severity") not in SEVERITY_RANK or not v.get("fingerprint"):
                    continue
                old = best.get(v["fingerprint"])
                if old is None or SEVERITY_RANK[v["severity"]] > SEVERITY_RANK[old.severity]:
                    best[v["fingerprint"]] = FindingRow(fingerprint=v["fingerprint"], severity=v["severity"],
                                                        tool=v.get("tool"), rule_id=v.get("rule_id"),
                                                        title=v.get("title"), location=_location(v))
    ordered = sorted(best.values(), key=lambda f: (-SEVERITY_RANK[f.severity], f.rule_id or "", f.location or "",
                                                   f.fingerprint))
    run.findings, run.findings_total = ordered[:FINDINGS_CAP], len(ordered)


def _run(parts: Sequence[Entry]) -> ReportRun:
    first = min(parts, key=lambda e: e.created_ms)
    run = ReportRun(key=first.key, created_ms=first.created_ms, created_at=first.created_at, commit=first.commit,
                    branch=first.branch, pr=first.pr)
    for t in DOC_TYPES:
        of_type = [e for e in parts if e.type == t]
        if of_type:
            run.numbers[t] = combine(t, of_type)
            run.parts[t] = sorted(e.part for e in of_type)
    return run


def _details(store: Store, run: ReportRun, parts: Sequence[Entry], detector: FlakyDetector) -> None:
    manifests: dict[str, list[Manifest]] = {}
    for e in sorted(parts, key=lambda x: (x.created_ms, x.part)):
        try:
            manifests.setdefault(e.type, []).append(store.manifest(e.key, e.type, e.part))
        except NotFoundError:
            continue  # deleted since the listing
    if not any(manifests.values()):
        return
    first = min((m for ms in manifests.values() for m in ms), key=lambda m: m.created_ms)
    run.run_url, run.platform = first.data.get("run_url"), first.data.get("platform")
    if manifests.get("test_results"):
        _tests(store, run, manifests["test_results"], detector)
    if manifests.get("coverage"):
        _coverage(store, run, manifests["coverage"])
    if manifests.get("security"):
        _security(store, run, manifests["security"])


def build_report(store: Store, *, last: int = 50, branch: str | None = None, flaky_branch: str | None = "main",
                 title: str = "aqe-artifacts history", threshold: float = DEFAULT_THRESHOLD,
                 min_runs: int = DEFAULT_MIN_RUNS, progress: Progress | None = None) -> Report:
    """Read the window of runs and everything the site shows about them."""
    if not 1 <= last <= 1000:
        raise UsageError(f"--last {last} is out of range", hint="use 1 to 1000 runs")
    groups = collect_runs(store.list(Query(branch=branch)), last)
    if not groups:
        where = f" on branch {branch}" if branch else ""
        raise NotFoundError(f"no runs stored{where} in {store.location}", hint="store a run first")
    chronological = sorted(groups, key=lambda g: min(e.created_ms for e in g))
    detector = FlakyDetector(default_branch=flaky_branch, threshold=threshold, min_runs=min_runs,
                             shared_commits=_shared_commits(chronological))
    runs: list[ReportRun] = []
    for i, parts in enumerate(chronological, 1):
        run = _run(parts)
        if progress is not None:
            progress(i, len(chronological), run.key)
        _details(store, run, parts, detector)
        runs.append(run)
    trends = {t: Trend(type=t, branch=branch, last=last,
                       points=tuple(point(t, [e for e in g if e.type == t]) for g in chronological
                                    if any(e.type == t for e in g)))
              for t in DOC_TYPES}
    flaky = FlakyReport(branch=flaky_branch, last=last, threshold=threshold, min_runs=min_runs,
                        runs_read=detector.runs_read, tests=tuple(detector.result()))
    return Report(title=title, generated_at=keys.format_time(keys.utc_now()), branch=branch, last=last,
                  runs=tuple(reversed(runs)), trends=trends, flaky=flaky)


def _shared_commits(groups: Sequence[Sequence[Entry]]) -> set[str]:
    seen: dict[str, int] = {}
    for g in groups:
        for e in g:
            if e.type == "test_results" and e.commit:
                seen[e.commit] = seen.get(e.commit, 0) + 1
    return {c for c, n in seen.items() if n > 1}


def write_report(store: Store, outdir: Path, **kwargs: Any) -> tuple[Report, list[Path]]:
    """Build the report and write the static site into ``outdir`` (see :func:`aqe_ci.render.html.write_site`)."""
    from aqe_ci.render.html import write_site

    report = build_report(store, **kwargs)
    return report, write_site(outdir, report)
