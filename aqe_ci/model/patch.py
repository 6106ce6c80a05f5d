"""Patch coverage as a value: the coverage of the lines a change adds or edits (docs/compare.md).

Built by :func:`aqe_ci.compare.patch.patch_coverage`; rendered by the JSON, table and markdown
renderings; read by the ``patch_coverage`` gate and the action's ``patch-coverage`` output.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

UNCOVERED_CAP = 200  # uncovered line numbers listed per file in the JSON (the count is always exact)


def rate(covered: int, executable: int) -> float | None:
    """Covered / executable in percent (4 decimals), None when no changed line is executable."""
    return round(100.0 * covered / executable, 4) if executable else None


@dataclass(frozen=True, kw_only=True)
class PatchFile:
    """A changed file the coverage report measures."""

    file: str  # the path in the repository (the diff's head side)
    coverage_file: str  # the file's key in the coverage document (may differ: absolute or relative paths)
    status: str  # added | modified | renamed | copied
    old_path: str | None = None  # the base side's path of a rename or copy
    changed_lines: int = 0  # head lines added or changed
    executable: int = 0  # of them, the lines the report lists (the others are blank, comments, …)
    covered: int = 0
    uncovered: tuple[int, ...] = ()  # executable changed lines with 0 hits, ascending

    @property
    def missed(self) -> int:
        return self.executable - self.covered

    @property
    def rate(self) -> float | None:
        return rate(self.covered, self.executable)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"file": self.file}
        if self.coverage_file != self.file:
            out["coverage_file"] = self.coverage_file
        out["status"] = self.status
        if self.old_path and self.old_path != self.file:
            out["old_path"] = self.old_path
        out.update(changed_lines=self.changed_lines, executable=self.executable, covered=self.covered,
                   missed=self.missed, rate=self.rate, uncovered_count=len(self.uncovered),
                   uncovered_lines=list(self.uncovered[:UNCOVERED_CAP]))
        return out

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> PatchFile:
        """Read :meth:`as_json` back (``uncovered`` holds the listed lines: the first 200)."""
        return cls(file=str(d["file"]), coverage_file=str(d.get("coverage_file") or d["file"]), status=str(d["status"]),
                   old_path=d.get("old_path"), changed_lines=int(d["changed_lines"]),
                   executable=int(d["executable"]), covered=int(d["covered"]),
                   uncovered=tuple(int(x) for x in d.get("uncovered_lines") or ()))


@dataclass(frozen=True, kw_only=True)
class NotMeasured:
    """A changed file the coverage report does not name: listed, never counted as 0 %."""

    file: str
    status: str
    changed_lines: int
    reason: str = "not in the coverage report"

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "status": self.status, "changed_lines": self.changed_lines, "reason": self.reason}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> NotMeasured:
        return cls(file=str(d["file"]), status=str(d["status"]), changed_lines=int(d["changed_lines"]),
                   reason=str(d.get("reason") or "not in the coverage report"))


@dataclass(frozen=True, kw_only=True)
class PatchCoverage:
    """Patch coverage of a change ``base..head``; ``available`` is False (with ``note``) when it could not
    be computed (no checkout, a commit missing from it, no head coverage)."""

    available: bool = True
    base: str | None = None  # the diff's base commit (the merge-base)
    head: str | None = None
    base_method: str | None = None  # how the base was chosen: merge-base | baseline-commit
    files: tuple[PatchFile, ...] = ()  # measured files, most missed lines first
    not_measured: tuple[NotMeasured, ...] = ()
    note: str | None = None

    @property
    def executable(self) -> int:
        return sum(f.executable for f in self.files)

    @property
    def covered(self) -> int:
        return sum(f.covered for f in self.files)

    @property
    def changed_lines(self) -> int:
        return sum(f.changed_lines for f in self.files) + sum(f.changed_lines for f in self.not_measured)

    @property
    def rate(self) -> float | None:
        return rate(self.covered, self.executable) if self.available else None

    @classmethod
    def unavailable(cls, note: str, *, base: str | None = None, head: str | None = None) -> PatchCoverage:
        return cls(available=False, base=base, head=head, note=note)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"available": self.available, "rate": self.rate, "covered": self.covered,
                               "executable": self.executable, "missed": self.executable - self.covered,
                               "changed_lines": self.changed_lines, "base": self.base, "head": self.head}
        if self.base_method:
            out["base_method"] = self.base_method
        out["files"] = [f.as_json() for f in self.files]
        out["not_measured"] = [f.as_json() for f in self.not_measured]
        if self.note:
            out["note"] = self.note
        return out

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> PatchCoverage:
        return cls(available=bool(d.get("available", True)), base=d.get("base"), head=d.get("head"),
                   base_method=d.get("base_method"), files=tuple(PatchFile.from_json(f) for f in d.get("files") or ()),
                   not_measured=tuple(NotMeasured.from_json(f) for f in d.get("not_measured") or ()),
                   note=d.get("note"))
