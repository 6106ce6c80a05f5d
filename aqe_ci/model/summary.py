"""The numbers a manifest keeps from a document (``summarize``) and the ones a card shows.

Kept apart from :mod:`aqe_ci.storage.store` so the ingest writers can summarise a document without
importing the storage and CI-context stack (~40 ms of start-up); ``store`` re-exports these names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SUMMARY_FIELDS: dict[str, tuple[str, ...]] = {
    "test_results": ("tests_run", "passed", "failed", "errors", "skipped", "flaky", "duration", "suites"),
    "coverage": ("line_rate", "branch_rate", "function_rate", "lines_valid", "lines_covered", "branches_valid",
                 "branches_covered", "functions_valid", "functions_covered"),
    "security": ("critical", "high", "medium", "low", "info", "total", "suppressed"),
}
CARD_FIELDS: dict[str, tuple[str, ...]] = {
    "test_results": ("tests_run", "passed", "failed", "errors", "skipped", "flaky", "duration"),
    "coverage": ("line_rate", "branch_rate", "lines_valid", "lines_covered"),
    "security": ("critical", "high", "medium", "low", "info", "total"),
}


def summarize(doc_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The numbers a manifest keeps, from a document's ``data`` (arrays are not needed)."""
    src: Mapping[str, Any] = data.get("summary", {}) if doc_type == "security" else data
    out: dict[str, Any] = {}
    for name in SUMMARY_FIELDS[doc_type]:
        value = src.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float | type(None)):
            continue
        if name in src:
            out[name] = value
    if doc_type == "coverage" and "files" in data and isinstance(data["files"], Mapping):
        out["files"] = len(data["files"])
    if doc_type == "security" and "total" not in out:
        out["total"] = sum(int(src.get(s) or 0) for s in ("critical", "high", "medium", "low", "info"))
    return out


def card_summary(doc_type: str, summary: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in CARD_FIELDS.get(doc_type, ()):
        v = summary.get(name)
        if v is None:
            continue
        out[name] = round(v, 3) if isinstance(v, float) else v
    return out
