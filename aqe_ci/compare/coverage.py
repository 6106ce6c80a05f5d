"""Coverage deltas: totals, per-file changes ordered by impact, files added/removed, lines newly uncovered.

Fast path: a file whose numbers and ``line_hits`` string are equal in both runs is unchanged and is
never decoded. For a changed file only the *entries* that differ are expanded: an uncovered line in
the head that was covered in the baseline lies in a head entry (``…:0``) that the baseline lacks and
in a baseline entry (``…:N``, N > 0) that the head lacks — so two set differences of the split
strings find every newly uncovered line without building per-line maps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from aqe_ci.model.comparison import CoverageComparison, Delta, DeltaJson, FileChanges, FileRow
from aqe_ci.model.linehits import entry_lines

NEWLY_UNCOVERED_CAP = 200  # line numbers listed per file (the count is always exact)


def _metric(before: float | None, after: float | None, ndigits: int = 4) -> DeltaJson:
    change = None if before is None or after is None else round(after - before, ndigits)
    return {"before": before, "after": after, "change": change}


def _delta(before: float | None, after: float | None, ndigits: int = 4) -> Delta:
    change = None if before is None or after is None else round(after - before, ndigits)
    return Delta(before, after, change)


def newly_uncovered(before_hits: str, after_hits: str) -> list[int]:
    """Lines with hits > 0 in ``before_hits`` and 0 in ``after_hits`` (both compact strings)."""
    if before_hits == after_hits:
        return []
    b = set(before_hits.split(",")) if before_hits else set()
    a = set(after_hits.split(",")) if after_hits else set()
    zero_after: set[int] = set()
    for e in a - b:
        if e.endswith(":0"):
            zero_after.update(entry_lines(e))
    if not zero_after:
        return []
    out: list[int] = []
    for e in b - a:
        if not e.endswith(":0"):
            out.extend(ln for ln in entry_lines(e) if ln in zero_after)
    out.sort()
    return out


def _missed(f: Mapping[str, Any]) -> int:
    return int(f.get("lines_valid") or 0) - int(f.get("lines_covered") or 0)


def _file_row(path: str, b: Mapping[str, Any] | None, a: Mapping[str, Any] | None) -> FileRow:
    row: FileRow = {
        "file": path,
        "line_rate": _metric(b.get("line_rate") if b else None, a.get("line_rate") if a else None),
        "lines_valid": _metric(b.get("lines_valid") if b else None, a.get("lines_valid") if a else None),
        "lines_covered": _metric(b.get("lines_covered") if b else None, a.get("lines_covered") if a else None),
        "lines_missed": _metric(_missed(b) if b else None, _missed(a) if a else None),
    }
    if (b and "branches_valid" in b) or (a and "branches_valid" in a):
        row["branch_rate"] = _metric(b.get("branch_rate") if b else None, a.get("branch_rate") if a else None)
    return row


_NUMBERS = ("lines_valid", "lines_covered", "branches_valid", "branches_covered")


def compare_coverage(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, *,
                     diff_only: bool = False) -> CoverageComparison:
    """``before``/``after`` are the ``data`` of two coverage documents (either may be None)."""
    def count(name: str) -> Delta | None:
        bv = before.get(name) if before else None
        av = after.get(name) if after else None
        return None if bv is None and av is None else _delta(bv, av, 0)

    totals = CoverageComparison(
        line_rate=_delta(before.get("line_rate") if before else None, after.get("line_rate") if after else None),
        branch_rate=_delta(before.get("branch_rate") if before else None,
                           after.get("branch_rate") if after else None),
        lines_valid=count("lines_valid"), lines_covered=count("lines_covered"),
        branches_valid=count("branches_valid"), branches_covered=count("branches_covered"))
    if before is None or after is None:
        return replace(totals, note=("the baseline has no coverage document" if after is not None
                                     else "the head run has no coverage document"))
    files, total_new_uncovered = _files(before.get("files") or {}, after.get("files") or {})
    return replace(totals, files=files, newly_uncovered_lines=total_new_uncovered)


def _files(b_files: Mapping[str, Any], a_files: Mapping[str, Any]) -> tuple[FileChanges, int]:
    """Per-file changes (ordered by impact), files added and removed, and the newly uncovered line count."""
    changed: list[FileRow] = []
    unchanged = 0
    total_new_uncovered = 0
    for path, af in a_files.items():
        bf = b_files.get(path)
        if bf is None:
            continue
        bh = bf.get("line_hits")
        ah = af.get("line_hits")
        if bh == ah and all(bf.get(n) == af.get(n) for n in _NUMBERS):
            unchanged += 1
            continue
        row = _file_row(path, bf, af)
        if bh is not None and ah is not None:
            lines = newly_uncovered(bh, ah)
            row["newly_uncovered_count"] = len(lines)
            row["newly_uncovered"] = lines[:NEWLY_UNCOVERED_CAP]
            total_new_uncovered += len(lines)
        if all(bf.get(n) == af.get(n) for n in _NUMBERS) and not row.get("newly_uncovered_count"):
            unchanged += 1  # same numbers, hit counts changed on covered lines only
            continue
        changed.append(row)
    changed.sort(key=lambda r: (-abs(r["lines_missed"]["change"] or 0), -abs(r["line_rate"]["change"] or 0),
                                r["file"]))
    added = [_file_row(p, None, f) for p, f in a_files.items() if p not in b_files]
    removed = [_file_row(p, f, None) for p, f in b_files.items() if p not in a_files]
    added.sort(key=lambda r: (-(r["lines_missed"]["after"] or 0), r["file"]))
    removed.sort(key=lambda r: r["file"])
    return FileChanges(changed=tuple(changed), added=tuple(added), removed=tuple(removed),
                       unchanged=unchanged), total_new_uncovered
