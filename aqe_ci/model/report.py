"""The HTML history report as a value: runs with their details, trends and the flaky list.

Built by :mod:`aqe_ci.app.report` from the store, written by :mod:`aqe_ci.render.html`. Every
string that came from a report (test names, messages, paths, titles, branches, URLs) is untrusted
and escaped by the renderer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aqe_ci.model.history import FlakyReport, Trend

FAILURES_CAP = 500  # failing tests kept per run (the count is exact)
FILES_CAP = 3000  # coverage files kept per run, lowest coverage first
FINDINGS_CAP = 1000  # security findings kept per run, most severe first


@dataclass(frozen=True, kw_only=True)
class FailureRow:
    suite: str
    classname: str
    name: str
    status: str
    message: str | None = None

    @property
    def id(self) -> str:
        return f"{self.classname or self.suite}::{self.name}"


@dataclass(frozen=True, kw_only=True)
class FileRow:
    path: str
    lines_valid: int
    lines_covered: int
    line_rate: float | None
    branch_rate: float | None = None


@dataclass(frozen=True, kw_only=True)
class FindingRow:
    fingerprint: str
    severity: str
    tool: str | None = None
    rule_id: str | None = None
    title: str | None = None
    location: str | None = None


@dataclass(kw_only=True)
class ReportRun:
    """One run key: its combined numbers per type (from the index) and the details read from its payloads."""

    key: str
    created_ms: int
    created_at: str
    commit: str | None = None
    branch: str | None = None
    pr: int | None = None
    run_url: str | None = None
    platform: str | None = None
    numbers: dict[str, dict[str, Any]] = field(default_factory=dict)  # type → combined summary numbers
    parts: dict[str, list[str]] = field(default_factory=dict)  # type → part names
    failures: list[FailureRow] = field(default_factory=list)
    failures_total: int = 0
    retried: list[str] = field(default_factory=list)  # tests that failed and passed within this run
    files: list[FileRow] = field(default_factory=list)
    files_total: int = 0
    findings: list[FindingRow] = field(default_factory=list)
    findings_total: int = 0


@dataclass(frozen=True, kw_only=True)
class Report:
    title: str
    generated_at: str
    branch: str | None  # the runs' branch filter (None: all branches)
    last: int
    runs: tuple[ReportRun, ...]  # newest first
    trends: dict[str, Trend]  # per document type, oldest first
    flaky: FlakyReport | None = None
