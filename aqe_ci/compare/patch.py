"""Patch coverage: the head coverage of the lines a change adds or edits. Pure: diff and document in, value out.

The diff (:func:`aqe_ci.git.Git.changed_files`, ``git diff --unified=0 --find-renames`` between the
merge-base and the head) names, per file, the head line numbers added or changed; the head coverage
document names, per file, each executable line's hits. A changed line the report does not list is
not executable (blank, comment, a closing bracket) and does not count. A renamed or moved file
contributes only its edited lines.

Paths: a diff path is repository-relative; a coverage report may name the same file absolutely
(``/home/runner/work/app/app/src/a.py``) or relative to a source root (``a.py`` for ``src/a.py``).
The file matches the report key that is equal to it, else the one key that ends with it (or that it
ends with) on whole path segments with the most segments in common; a tie is "not measured"
(ambiguous), named with its candidates. Files the report does not name are "not measured", never 0 %.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from aqe_ci.git import FileDiff
from aqe_ci.model.linehits import decode_line_hits
from aqe_ci.model.patch import NotMeasured, PatchCoverage, PatchFile


def _norm(path: str) -> str:
    p = path.replace("\\", "/")
    while p.startswith("./"):
        p = p[2:]
    return p


def _common_segments(a: list[str], b: list[str]) -> int:
    """How many trailing path segments ``a`` and ``b`` share."""
    n = 0
    for x, y in zip(reversed(a), reversed(b), strict=False):
        if x != y:
            break
        n += 1
    return n


class PathMatcher:
    """Finds a repository path's key in a coverage document (see the module docstring)."""

    def __init__(self, keys: Iterable[str]) -> None:
        self.exact: dict[str, str] = {}
        self.by_name: dict[str, list[tuple[list[str], str]]] = {}
        for key in keys:
            norm = _norm(key)
            self.exact.setdefault(norm, key)
            segs = [s for s in norm.split("/") if s]
            if segs:
                self.by_name.setdefault(segs[-1], []).append((segs, key))

    def find(self, path: str) -> tuple[str | None, list[str]]:
        """(the matching key, []) or (None, the tied candidates — empty when none matches)."""
        norm = _norm(path)
        if norm in self.exact:
            return self.exact[norm], []
        segs = [s for s in norm.split("/") if s]
        if not segs:
            return None, []
        best = 0
        found: list[str] = []
        for key_segs, key in self.by_name.get(segs[-1], ()):
            common = _common_segments(segs, key_segs)
            if common < min(len(segs), len(key_segs)):
                continue  # they differ inside the shorter path: not the same file
            if common > best:
                best, found = common, [key]
            elif common == best:
                found.append(key)
        if len(found) == 1:
            return found[0], []
        return None, sorted(found)


def _measure(f: FileDiff, key: str, entry: Mapping[str, Any]) -> PatchFile:
    hits = decode_line_hits(entry.get("line_hits"))
    executable = [ln for ln in f.added if ln in hits]
    uncovered = tuple(ln for ln in executable if hits[ln] == 0)
    return PatchFile(file=f.path, coverage_file=key, status=f.status, old_path=f.old_path,
                     changed_lines=len(f.added), executable=len(executable),
                     covered=len(executable) - len(uncovered), uncovered=uncovered)


def patch_coverage(diffs: Sequence[FileDiff], head_coverage: Mapping[str, Any], *, base: str | None = None,
                   head: str | None = None, base_method: str | None = None) -> PatchCoverage:
    """Patch coverage of ``diffs`` (base → head) measured by ``head_coverage`` (a coverage document's ``data``)."""
    files: Mapping[str, Any] = head_coverage.get("files") or {}
    matcher = PathMatcher(files)
    measured: list[PatchFile] = []
    missing: list[NotMeasured] = []
    for f in diffs:
        if f.status == "deleted" or f.binary or not f.added:
            continue  # nothing on the head side to cover
        key, tied = matcher.find(f.path)
        if key is None:
            reason = (f"ambiguous: the report names {', '.join(tied[:3])}{' …' if len(tied) > 3 else ''}" if tied
                      else "not in the coverage report")
            missing.append(NotMeasured(file=f.path, status=f.status, changed_lines=len(f.added), reason=reason))
            continue
        entry = files[key]
        if entry.get("line_hits") is None:
            missing.append(NotMeasured(file=f.path, status=f.status, changed_lines=len(f.added),
                                       reason="the report has no per-line data for it"))
            continue
        measured.append(_measure(f, key, entry))
    measured.sort(key=lambda p: (-p.missed, -p.executable, p.file))
    missing.sort(key=lambda n: n.file)
    note = None
    if not any(p.executable for p in measured):
        note = ("no changed line is executable code the coverage report measures" if measured or missing
                else "the change adds or edits no lines")
    return PatchCoverage(base=base, head=head, base_method=base_method, files=tuple(measured),
                         not_measured=tuple(missing), note=note)
