"""Assemble a :class:`~aqe_ci.model.comparison.Comparison` from documents: pure, no store, no git.

The use case ``aqe_ci.app.compare.compare_run`` finds the baseline, loads each type's documents
(one pair in memory at a time) and calls :func:`compare_section` for each, then
:func:`build_comparison` puts the sections together (``--diff-only`` drops the unchanged ones).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeAlias

from aqe_ci.compare.coverage import compare_coverage
from aqe_ci.compare.security import compare_security
from aqe_ci.compare.testindex import TestIndex
from aqe_ci.compare.tests import compare_tests
from aqe_ci.model.comparison import (
    Baseline,
    Comparison,
    CoverageComparison,
    RunRef,
    Section,
    SecurityComparison,
    TestsComparison,
)

#: one run's document of one type as the comparison reads it: test results as a streamed
#: :class:`TestIndex` (or their ``data``), other types as the ``data`` of their merged parts
Loaded: TypeAlias = "TestIndex | Mapping[str, Any] | None"


def _data(x: Loaded) -> Mapping[str, Any] | None:
    if isinstance(x, TestIndex):
        raise TypeError("a TestIndex is test results, not coverage or security data")
    return x


def compare_section(doc_type: str, before: Loaded, after: Loaded, *, diff_only: bool = False,
                    same_commit_runs: Sequence[tuple[str, TestIndex | Mapping[str, Any]]] = (),
                    head_commit: str | None = None) -> Section:
    """Compare the baseline's (``before``) and the head's (``after``) document of ``doc_type``."""
    if doc_type == "test_results":
        return compare_tests(before, after, same_commit_runs=same_commit_runs, head_commit=head_commit,
                             diff_only=diff_only)
    if doc_type == "coverage":
        return compare_coverage(_data(before), _data(after), diff_only=diff_only)
    return compare_security(_data(before), _data(after), diff_only=diff_only)


def build_comparison(head: RunRef, baseline: Baseline, sections: Iterable[Section], *,
                     diff_only: bool = False) -> Comparison:
    """The comparison of ``head`` with ``baseline``; with ``diff_only`` a section without change is left out."""
    tests: TestsComparison | None = None
    coverage: CoverageComparison | None = None
    security: SecurityComparison | None = None
    for section in sections:
        if diff_only and not section.has_changes():
            continue
        if isinstance(section, TestsComparison):
            tests = section
        elif isinstance(section, CoverageComparison):
            coverage = section
        else:
            security = section
    return Comparison(head=head, baseline=baseline, tests=tests, coverage=coverage, security=security)
