"""Use case: flaky tests from the stored history (``aqe artifacts flaky``, the HTML report, compare).

Which runs: the last ``last`` test_results runs on the default branch (the flip rate is measured
there) and the last ``last`` runs on any branch (reruns of a PR commit count for "same commit");
each distinct document is read once, oldest first, streamed into a per-part
:class:`~aqe_ci.compare.testindex.TestIndex` and fed to the pure
:class:`~aqe_ci.compare.flaky.FlakyDetector`. Memory: one run's index plus a small state per test.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from aqe_ci.app.compare import load_section
from aqe_ci.app.trend import collect_runs
from aqe_ci.compare.flaky import DEFAULT_MIN_RUNS, DEFAULT_THRESHOLD, FlakyDetector, RunRef
from aqe_ci.compare.testindex import TestIndex
from aqe_ci.errors import InvalidInputError, NotFoundError, UsageError
from aqe_ci.model.history import FlakyReport
from aqe_ci.storage.layout import Entry
from aqe_ci.storage.store import Manifest, Query, Store

Progress = Callable[[int, int, str], None]


def window(store: Store, *, last: int, branch: str | None) -> list[Entry]:
    """The documents to read: the last runs on ``branch`` and on any branch, each once, oldest first."""
    chosen: dict[tuple[str, str, str], Entry] = {}
    sources: list[Iterable[Entry]] = [store.list(Query(type="test_results"))]
    if branch:
        sources.insert(0, store.list(Query(type="test_results", branch=branch)))
    for entries in sources:
        for run in collect_runs(entries, last):
            for e in run:
                chosen.setdefault(e.id, e)
    return sorted(chosen.values(), key=lambda e: (e.created_ms, e.key, e.part))


def read_tests(store: Store, manifest: Manifest) -> TestIndex:
    """One stored test_results document (one part), streamed into a :class:`TestIndex`."""
    idx = load_section(store, manifest.key, "test_results", [manifest])
    assert isinstance(idx, TestIndex)
    return idx


def find_flaky(store: Store, *, last: int = 50, branch: str | None = "main", threshold: float = DEFAULT_THRESHOLD,
               min_runs: int = DEFAULT_MIN_RUNS, progress: Progress | None = None) -> FlakyReport:
    if not 2 <= last <= 10_000:
        raise UsageError(f"--last {last} is out of range", hint="use 2 to 10000 runs")
    if not 0 < threshold <= 1:
        raise UsageError(f"--threshold {threshold} is out of range", hint="use a flip rate above 0 and at most 1")
    entries = window(store, last=last, branch=branch)
    per_commit = Counter(e.commit for e in entries if e.commit)
    detector = FlakyDetector(default_branch=branch, shared_commits={c for c, n in per_commit.items() if n > 1},
                             threshold=threshold, min_runs=min_runs)
    for i, e in enumerate(entries, 1):
        if progress is not None:
            progress(i, len(entries), e.key)
        try:
            manifest = store.manifest(e.key, e.type, e.part)
        except NotFoundError:
            continue  # deleted since the listing
        idx = read_tests(store, manifest)
        if idx.tests is None:
            continue  # a summary-only document names its failures, not its passes
        detector.add(RunRef(key=e.key, part=e.part, commit=e.commit, branch=e.branch, created_ms=e.created_ms,
                            created_at=e.created_at), idx.items())
    return FlakyReport(branch=branch, last=last, threshold=threshold, min_runs=min_runs,
                       runs_read=detector.runs_read, tests=tuple(detector.result()))


def load_quarantine(path: Path) -> list[Mapping[str, Any]]:
    """The ``tests`` of a quarantine file written by ``aqe artifacts flaky --output`` (clear errors otherwise)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotFoundError(f"known-flaky file {path} does not exist",
                            hint="write it with `aqe artifacts flaky --output FILE`") from None
    except (OSError, ValueError) as exc:
        raise InvalidInputError(f"{path}: not a readable JSON file ({exc})") from None
    tests = data.get("tests") if isinstance(data, dict) else None
    if not isinstance(tests, list) or not all(isinstance(t, dict) and isinstance(t.get("name"), str) for t in tests):
        raise InvalidInputError(f"{path}: $.tests must be a list of objects with a name",
                                hint="use the file `aqe artifacts flaky --output FILE` writes")
    return tests


def known_flaky_tests(store: Store, *, path: Path | None = None, last: int = 0,
                      branch: str = "main") -> dict[tuple[str, ...], str]:
    """(suite, classname, name, file) → why, for ``compare``: from a quarantine file and/or the flaky
    detection over the last ``last`` runs of ``branch`` (0: not read). A file-less key is added too, so
    a failure whose report names no file still matches."""
    known: dict[tuple[str, ...], str] = {}

    def add(t: Mapping[str, Any], why: str) -> None:
        ident = (t.get("suite") or "", t.get("classname") or "", t.get("name") or "", t.get("file") or "")
        known.setdefault(ident, why)
        known.setdefault((*ident[:3], ""), why)

    if path is not None:
        for t in load_quarantine(path):
            add(t, str(t.get("description") or f"listed in {path.name}"))
    if last:
        for ft in find_flaky(store, last=max(2, last), branch=branch).tests:
            add(ft.as_json(), ft.describe())
    return known
