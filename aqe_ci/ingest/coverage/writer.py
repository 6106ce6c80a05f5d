"""The ``coverage`` document writer: per-file line/branch/function data merged across files.

Parsers hand over one source file at a time (:meth:`CoverageWriter.add_file` with parallel arrays
of line numbers and hits, or :meth:`CoverageWriter.add_file_summary` when a format only carries
totals). Each call is encoded at once into the schema's compact strings and appended to a spool
file; only a small index (path → spool records + counts) stays in memory, so a 1,000,000-line
report costs a few MB whatever its size.

Merge rules (docs/formats/coverage.md):

- The same path reported more than once — several Cobertura ``<class>`` elements of one file,
  several LCOV ``SF`` sections, or several reports of a sharded run — becomes ONE file entry: the
  union of its lines, each line keeping the MAX hits seen; per-line branches keep the max covered
  and the max valid count; functions keep the max valid/covered counts. Repeated paths are merged
  at :meth:`finish` by re-reading their spool records (the common single-record case is copied).
- Entries without per-line data (Istanbul ``coverage-summary.json``) are superseded by any entry
  with per-line data for the same path; between themselves the one with most covered lines wins.

Totals are ours: ``line_rate = lines_covered / lines_valid × 100`` (100 when a file or the whole
run has no executable line, as coverage.py and Istanbul report it); ``branch_rate`` likewise from
branches but ``null`` when no branch was measured; ``function_rate`` ``null`` without function data.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import islice
from operator import lt
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

from aqe_ci.ingest.base import (
    MAX_LINE as MAX_LINE,  # re-exported: the coverage parsers take both limits from here
)
from aqe_ci.ingest.base import DocumentWriter, ReportError, SourceInfo, WrittenDocument
from aqe_ci.model.limits import Limits
from aqe_ci.model.linehits import encode_branch_hits, encode_line_runs, union_branch_hits, union_line_hits
from aqe_ci.model.schema import ItemValidator, compile_validator, error_text, schema

MAX_HITS = (1 << 64) - 1


# compact encodings: aqe_ci.model.linehits owns the format


def rate(covered: int, valid: int) -> float:
    """Percent covered; 100 when nothing is valid (coverage.py / Istanbul convention)."""
    return 100.0 if valid == 0 else covered * 100.0 / valid


def rate_or_null(covered: int, valid: int) -> float | None:
    return None if valid == 0 else covered * 100.0 / valid


def normalise_path(path: str) -> str:
    """Forward slashes, no leading ``./``; otherwise the path exactly as the report names it."""
    p = path.replace("\\", "/")
    while p.startswith("./"):
        p = p[2:]
    return p


def percent_or_none(value: Any, *, fraction: bool) -> float | None:
    """A producer's reported rate → percent, or None when absent / NaN / out of range."""
    if value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    if f != f:  # NaN
        return None
    if fraction:
        f *= 100.0
    return f if 0.0 <= f <= 100.0 else None


@cache
def file_validator() -> ItemValidator:
    """Validator of ``$defs/file`` (:func:`aqe_ci.model.schema.compile_validator`, built once per process).

    The two compact strings are checked by construction instead of by their regex (matching the
    schema pattern costs ~0.3 s per million lines): the writer only builds them from exact
    non-negative ints (:func:`_check_ints`), and the tests match them against the schema pattern.
    """
    import copy

    full = schema("coverage")
    sub = copy.deepcopy(full["$defs"]["file"])
    for name in ("line_hits", "branch_hits"):
        sub["properties"][name].pop("pattern", None)
    sub["$defs"] = full["$defs"]
    sub["$schema"] = full["$schema"]
    return compile_validator(sub)


def _check_ints(values: Sequence[int], what: str, path: str, upper: int, *, exact: bool = False) -> None:
    """Every value an exact int (not bool/float) within 0..upper: the compact strings stay well-formed.

    ``exact``: the caller built ``values`` with ``int()`` (so the type scan is skipped; the range
    check is not).
    """
    if not values:
        return
    if not exact and not set(map(type, values)) <= {int}:
        raise ReportError(f"{path}: {what} must be whole numbers")
    if min(values) < 0 or max(values) > upper:
        raise ReportError(f"{path}: {what} out of range 0..{upper}")


def _fragment(path: str, entry: Mapping[str, Any]) -> bytes:
    """``"path":{...}`` for the spool; entry values are ints, floats, None or digit strings."""
    parts = []
    for key, value in entry.items():
        if isinstance(value, str):
            parts.append(f'"{key}":"{value}"')
        elif value is None:
            parts.append(f'"{key}":null')
        else:
            parts.append(f'"{key}":{value!r}')
    return (json.dumps(path) + ":{" + ",".join(parts) + "}").encode()


# --------------------------------------------------------------------------- the writer


@dataclass(slots=True)
class _Record:
    """One spooled file entry: where its JSON fragment is, and its counts."""

    offset: int
    length: int
    lines_valid: int
    lines_covered: int
    branches: tuple[int, int] | None
    functions: tuple[int, int] | None
    source: int = 0
    split: bool = False


@dataclass(slots=True)
class _Source:
    info: SourceInfo
    reported_line_rate: float | None = None
    reported_branch_rate: float | None = None
    producer: str | None = None


class CoverageWriter(DocumentWriter):
    """Streams a ``coverage`` document; see the module docstring for the merge rules."""

    doc_type: ClassVar[str] = "coverage"

    def __init__(self, *, workdir: Path, limits: Limits) -> None:
        super().__init__(workdir=workdir, limits=limits)
        self.workdir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix="coverage-spool-", suffix=".part", dir=self.workdir)
        self._spool_path = Path(name)
        self._spool: BinaryIO = os.fdopen(fd, "w+b")
        self._pos = 0
        self._files: dict[str, list[_Record]] = {}
        self._sources: list[_Source] = []
        self._current: _Source | None = None
        self._mark = 0
        self._touched: list[str] = []
        self._validate = file_validator()

    # -- source bracketing ------------------------------------------------------------------
    def begin_source(self, source: SourceInfo) -> None:
        if self._current is not None:
            raise RuntimeError("begin_source called twice without commit/rollback")
        self._current = _Source(info=source)
        self._mark = self._pos
        self._touched = []

    def set_source_sha256(self, sha256: str) -> None:
        if self._current is not None:
            self._current.info = dataclasses.replace(self._current.info, sha256=sha256)

    def set_source_warnings(self, warnings: list[str]) -> None:
        if self._current is not None and warnings:
            self._current.info = dataclasses.replace(self._current.info, warnings=tuple(warnings))

    def commit_source(self) -> None:
        if self._current is None:
            raise RuntimeError("commit_source without begin_source")
        self._sources.append(self._current)
        self._current = None
        self._touched = []

    def rollback_source(self) -> None:
        if self._current is None:
            return
        for path in reversed(self._touched):
            records = self._files[path]
            records.pop()
            if not records:
                del self._files[path]
        self._spool.seek(self._mark)
        self._spool.truncate()
        self._pos = self._mark
        self._current = None
        self._touched = []

    # -- what parsers call ------------------------------------------------------------------
    def set_source_details(self, *, producer: str | None = None, reported_line_rate: float | None = None,
                           reported_branch_rate: float | None = None) -> None:
        """The producer and its own rates (percent) as found in the report, kept as a cross-check."""
        src = self._require_source()
        if producer:
            src.producer = producer[:200]
        if reported_line_rate is not None:
            src.reported_line_rate = reported_line_rate
        if reported_branch_rate is not None:
            src.reported_branch_rate = reported_branch_rate

    def add_file(self, path: str, lines: Sequence[int], hits: Sequence[int], *,
                 branches: Mapping[int, tuple[int, int]] | None = None,
                 functions: tuple[int, int] | None = None, split: bool = False,
                 exact_ints: bool = False) -> None:
        """One source file's per-line data.

        ``lines``/``hits``: parallel sequences (any order, duplicates allowed: max hits wins).
        ``branches``: ``{line: (covered, valid)}``, or None when the format has no branch data
        for this file. ``functions``: ``(valid, covered)`` or None. ``split``: this is one part of
        a file the report splits over several elements (Cobertura classes of one file), so the
        function counts of the parts of one report add up instead of overlapping. ``exact_ints``:
        the parser made ``lines``/``hits`` with ``int()`` (skips a type scan; ranges are still checked).
        """
        self._require_source()
        n = len(lines)
        if n != len(hits):
            raise ValueError("lines and hits differ in length")
        _check_ints(lines, "line numbers", path, MAX_LINE, exact=exact_ints)
        _check_ints(hits, "hit counts", path, MAX_HITS, exact=exact_ints)
        if n > 1 and not all(map(lt, islice(lines, 0, n - 1), islice(lines, 1, None))):
            merged: dict[int, int] = {}
            get = merged.get
            for ln, h in zip(lines, hits, strict=True):
                if h > get(ln, -1):
                    merged[ln] = h
            lines = sorted(merged)
            hits = [merged[ln] for ln in lines]
            n = len(lines)
        covered = n - _count_zero(hits)
        branch_counts, branch_text = _branch_parts(path, branches)
        self._append(path, lines_valid=n, lines_covered=covered, branches=branch_counts,
                     functions=functions, line_hits=encode_line_runs(lines, hits), branch_hits=branch_text,
                     split=split)

    def add_file_encoded(self, path: str, line_hits: str, *, lines_valid: int, lines_covered: int,
                         branches: Mapping[int, tuple[int, int]] | None = None,
                         functions: tuple[int, int] | None = None, split: bool = False,
                         encoded_branches: tuple[int, int, str] | None = None) -> None:
        """:meth:`add_file` for a parser that built ``line_hits`` itself, exactly as
        :func:`~aqe_ci.model.linehits.encode_line_runs` would from strictly ascending lines (canonical decimal numbers,
        lines within 0..MAX_LINE, hits within 0..MAX_HITS, runs merged): the Cobertura fast reader
        makes it from the report's bytes without an int per line. The caller vouches for that
        (tests compare it with :meth:`add_file`); branches are checked as in :meth:`add_file`.
        ``encoded_branches``: instead of ``branches``, ``(valid, covered, branch_hits)`` already
        encoded exactly as :func:`~aqe_ci.model.linehits.encode_branch_hits` would (the
        Cobertura C reader; its tests compare it with the Python path).
        """
        self._require_source()
        branch_text: str | None
        if encoded_branches is not None:
            if branches is not None:
                raise ValueError("branches and encoded_branches are exclusive")
            bv, bc, branch_text = encoded_branches
            branch_counts: tuple[int, int] | None = (bv, bc)
        else:
            branch_counts, branch_text = _branch_parts(path, branches)
        self._append(path, lines_valid=lines_valid, lines_covered=lines_covered, branches=branch_counts,
                     functions=functions, line_hits=line_hits, branch_hits=branch_text, split=split)

    def add_file_summary(self, path: str, *, lines_valid: int, lines_covered: int,
                         branches: tuple[int, int] | None = None,
                         functions: tuple[int, int] | None = None) -> None:
        """A file known only by its totals (no per-line data). Tuples are ``(valid, covered)``."""
        self._require_source()
        self._append(path, lines_valid=lines_valid, lines_covered=lines_covered, branches=branches,
                     functions=functions, line_hits=None, branch_hits=None)

    # -- internals --------------------------------------------------------------------------
    def _require_source(self) -> _Source:
        if self._current is None:
            raise RuntimeError("add_* outside begin_source/commit_source")
        return self._current

    def _append(self, path: str, *, lines_valid: int, lines_covered: int,
                branches: tuple[int, int] | None, functions: tuple[int, int] | None,
                line_hits: str | None, branch_hits: str | None, split: bool = False) -> None:
        path = normalise_path(path)
        if not path:
            raise ReportError("a file entry has an empty path")
        entry = _entry_dict(lines_valid, lines_covered, branches, functions, line_hits, branch_hits)
        try:
            self._validate(entry)
        except Exception as exc:  # jsonschema_rs.ValidationError / jsonschema.ValidationError
            raise ReportError(f"file entry {path[:200]!r} does not match the coverage schema: "
                              f"{error_text(exc)}") from None
        frag = _fragment(path, entry)
        self._spool.write(frag)
        rec = _Record(self._pos, len(frag), lines_valid, lines_covered, branches, functions, len(self._sources), split)
        self._pos += len(frag)
        self._files.setdefault(path, []).append(rec)
        self._touched.append(path)

    # -- finishing --------------------------------------------------------------------------
    def finish(self, *, timestamp: str) -> WrittenDocument:
        if self._current is not None:
            raise RuntimeError("finish with an open source")
        from aqe_ci.model.schema import validate_document
        from aqe_ci.model.summary import summarize

        self._spool.flush()
        fd, name = tempfile.mkstemp(prefix="coverage-", suffix=".json", dir=self.workdir)
        out_path = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(b'{"type":"coverage","timestamp":' + json.dumps(timestamp).encode()
                          + b',"data":{"files":{')
                lv, lc, branches, functions = self._write_files(out)
                any_branch, (bv, bc) = branches is not None, branches or (0, 0)
                any_func, (fv, fc) = functions is not None, functions or (0, 0)
                data: dict[str, Any] = {
                    "line_rate": rate(lc, lv),
                    "branch_rate": rate_or_null(bc, bv) if any_branch else None,
                    "function_rate": rate_or_null(fc, fv) if any_func else None,
                    "lines_valid": lv,
                    "lines_covered": lc,
                }
                if any_branch:
                    data["branches_valid"] = bv
                    data["branches_covered"] = bc
                if any_func:
                    data["functions_valid"] = fv
                    data["functions_covered"] = fc
                data["sources"] = [_source_dict(s) for s in self._sources]
                tail = json.dumps(data, separators=(",", ":"))
                out.write(b"}," + tail[1:].encode() + b"}")
            envelope = {"type": "coverage", "timestamp": timestamp, "data": dict(data, files={})}
            validate_document(envelope, source="coverage document")
        except BaseException:
            out_path.unlink(missing_ok=True)
            raise
        finally:
            self._close_spool()
        summary = summarize("coverage", data)
        summary["files"] = len(self._files)
        return WrittenDocument(doc_type="coverage", path=out_path, summary=summary,
                               sources=[s.info for s in self._sources])

    def _write_files(self, out: BinaryIO) -> tuple[int, int, tuple[int, int] | None, tuple[int, int] | None]:
        """Every file's entry (merged when several sources had it) → ``out``; the totals: lines
        valid, lines covered, (branches valid, covered) and (functions valid, covered) or None."""
        lv = lc = bv = bc = fv = fc = 0
        any_branch = any_func = False
        first = True
        for path, records in self._files.items():
            if len(records) == 1:
                rec = records[0]
                self._spool.seek(rec.offset)
                frag = self._spool.read(rec.length)
            else:
                rec, frag = self._merge(path, records)
            if not first:
                out.write(b",")
            first = False
            out.write(frag)
            lv += rec.lines_valid
            lc += rec.lines_covered
            if rec.branches is not None:
                any_branch = True
                bv += rec.branches[0]
                bc += rec.branches[1]
            if rec.functions is not None:
                any_func = True
                fv += rec.functions[0]
                fc += rec.functions[1]
        return lv, lc, (bv, bc) if any_branch else None, (fv, fc) if any_func else None

    def _merge(self, path: str, records: list[_Record]) -> tuple[_Record, bytes]:
        entries = []
        for rec in records:
            self._spool.seek(rec.offset)
            frag = self._spool.read(rec.length)
            entries.append(json.loads(b"{" + frag + b"}")[path])
        with_lines = [e for e in entries if "line_hits" in e]
        functions = _merge_functions(records, entries)
        if not with_lines:
            best = max(entries, key=lambda e: (e["lines_covered"], e["lines_valid"]))
            branches = None
            if "branches_valid" in best:
                branches = (best["branches_valid"], best["branches_covered"])
            entry = _entry_dict(best["lines_valid"], best["lines_covered"], branches, functions, None, None)
        else:
            merged = union_line_hits(e["line_hits"] for e in with_lines)
            br = None
            if any("branch_hits" in e for e in with_lines):
                br = union_branch_hits(e["branch_hits"] for e in with_lines if "branch_hits" in e)
            lines = sorted(merged)
            hits = [merged[ln] for ln in lines]
            covered = len(lines) - _count_zero(hits)
            branches = None
            if br is not None:
                branches = (sum(v for _, v in br.values()), sum(c for c, _ in br.values()))
            entry = _entry_dict(len(lines), covered, branches, functions, encode_line_runs(lines, hits),
                                encode_branch_hits(sorted(br.items())) if br is not None else None)
        self._validate(entry)
        frag = _fragment(path, entry)
        return _Record(0, len(frag), entry["lines_valid"], entry["lines_covered"], branches, functions), frag

    def _close_spool(self) -> None:
        try:
            self._spool.close()
        finally:
            self._spool_path.unlink(missing_ok=True)

    def abort(self) -> None:
        self._close_spool()


# --------------------------------------------------------------------------- helpers


def _branch_parts(path: str, branches: Mapping[int, tuple[int, int]] | None
                  ) -> tuple[tuple[int, int] | None, str | None]:
    """``((valid, covered), branch_hits)`` of a ``{line: (covered, valid)}`` map, checked; (None, None) without."""
    if branches is None:
        return None, None
    bc = bv = 0
    _check_ints(list(branches), "branch line numbers", path, MAX_LINE)
    for c, v in branches.values():
        if type(c) is not int or type(v) is not int or not 0 <= c <= v:
            raise ReportError(f"{path}: branch counts {c!r}/{v!r} are impossible")
        bc += c
        bv += v
    return (bv, bc), encode_branch_hits(sorted(branches.items()))


def _count_zero(hits: Sequence[int]) -> int:
    count = getattr(hits, "count", None)
    if count is not None:
        return int(count(0))
    return sum(1 for h in hits if h == 0)


def _merge_functions(records: list[_Record], entries: list[dict[str, Any]]) -> tuple[int, int] | None:
    """Parts of one split file in one report add up; reports (and unsplit repeats) take the max."""
    per_source: dict[int, tuple[int, int]] = {}
    for rec, e in zip(records, entries, strict=True):
        if "functions_valid" not in e:
            continue
        pair = (e["functions_valid"], e["functions_covered"])
        old = per_source.get(rec.source)
        if old is None:
            per_source[rec.source] = pair
        elif rec.split:
            per_source[rec.source] = (old[0] + pair[0], old[1] + pair[1])
        else:
            per_source[rec.source] = (max(old[0], pair[0]), max(old[1], pair[1]))
    if not per_source:
        return None
    return max(v for v, _ in per_source.values()), max(c for _, c in per_source.values())


def _entry_dict(lines_valid: int, lines_covered: int, branches: tuple[int, int] | None,
                functions: tuple[int, int] | None, line_hits: str | None,
                branch_hits: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "lines_valid": lines_valid,
        "lines_covered": lines_covered,
        "line_rate": rate(lines_covered, lines_valid),
    }
    if branches is not None:
        entry["branches_valid"] = branches[0]
        entry["branches_covered"] = branches[1]
        entry["branch_rate"] = rate_or_null(branches[1], branches[0])
    if functions is not None:
        entry["functions_valid"] = functions[0]
        entry["functions_covered"] = functions[1]
    if line_hits is not None:
        entry["line_hits"] = line_hits
    if branch_hits is not None:
        entry["branch_hits"] = branch_hits
    return entry


def _source_dict(src: _Source) -> dict[str, Any]:
    info = src.info
    out: dict[str, Any] = {"file": info.file, "format": info.format}
    producer = src.producer or info.producer
    if producer:
        out["producer"] = producer
    if src.reported_line_rate is not None:
        out["reported_line_rate"] = src.reported_line_rate
    if src.reported_branch_rate is not None:
        out["reported_branch_rate"] = src.reported_branch_rate
    if info.sha256:
        out["sha256"] = info.sha256
    out["bytes"] = info.bytes
    if info.warnings:
        out["warnings"] = list(info.warnings)
    return out
