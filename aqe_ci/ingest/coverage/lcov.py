"""LCOV tracefiles (geninfo/lcov 1.x and 2.x, Istanbul, coverage.py, c8, grcov, ...).

Line-oriented and streamed: one ``SF`` … ``end_of_record`` section at a time is held in memory.
``DA`` gives line hits (a trailing checksum is ignored), ``BRDA`` per-branch counts (``-`` means
the branch's block was never reached: not covered), ``FN``/``FNDA`` (or lcov 2.2 ``FNL``/``FNA``)
the functions, falling back to ``FNF``/``FNH`` when a section only has the counts. ``TN`` test
names are ignored: several sections of one file (one per test) merge in the writer.
"""

from __future__ import annotations

import re
from array import array
from pathlib import Path
from typing import Any, ClassVar

from aqe_ci.ingest.base import LINE_OUT_OF_RANGE, ReportError, ReportParser, SourceInfo, too_many_digits
from aqe_ci.ingest.coverage.sniff import text_head
from aqe_ci.ingest.coverage.writer import MAX_HITS, MAX_LINE
from aqe_ci.ingest.stream.opener import open_report

_FIRST = re.compile(rb"(?:TN|SF|VER):")
_KNOWN = re.compile(rb"^(?:TN|SF|VER|FN|FNDA|FNF|FNH|FNL|FNA|DA|LF|LH|BRDA|BRF|BRH|end_of_record)\b", re.M)


def _count(text: str, lineno: int) -> int:
    text = text.strip()
    try:
        n = int(text)
    except ValueError as exc:
        if too_many_digits(exc):
            return MAX_HITS  # counts are clamped at MAX_HITS, however many digits they have
        try:
            f = float(text)
        except ValueError:
            raise ReportError("an execution count is not a number", line=lineno) from None
        if f != f or f in (float("inf"), float("-inf")):
            raise ReportError("an execution count is not a number", line=lineno) from None
        n = int(f)
    return 0 if n < 0 else min(n, MAX_HITS)


def _numbered(key: str, value: str, fields: int, lineno: int) -> tuple[list[str], int]:
    """A ``DA``/``BRDA`` record's comma-separated fields (at least ``fields``) and its line number."""
    parts = value.split(",")
    if len(parts) >= fields:
        try:
            ln = int(parts[0])
        except ValueError as exc:
            if too_many_digits(exc):
                raise ReportError(f"{key} record: {LINE_OUT_OF_RANGE}", line=lineno) from None
        else:
            if not 0 <= ln <= MAX_LINE:
                raise ReportError(f"{key} record: {LINE_OUT_OF_RANGE}", line=lineno)
            return parts, ln
    shape = "DA:LINE,HITS" if key == "DA" else "BRDA:LINE,BLOCK,BRANCH,TAKEN"
    raise ReportError(f"malformed {key} record (expected {shape})", line=lineno)


def _total(value: str, lineno: int) -> int:
    try:
        n = int(value.strip())
    except ValueError:
        raise ReportError("malformed count (not a whole number)", line=lineno) from None
    return max(n, 0)


class _Section:
    __slots__ = ("path", "lines", "hits", "branches", "has_branches", "fn_names", "fn_hits", "fnl", "fna",
                 "fnf", "fnh", "start")

    def __init__(self, path: str, start: int) -> None:
        self.path = path
        self.start = start
        self.lines = array("Q")  # compact: 8 bytes a line, however large the section
        self.hits = array("Q")
        self.branches: dict[int, list[int]] = {}
        self.has_branches = False
        self.fn_names: set[str] = set()
        self.fn_hits: dict[str, int] = {}
        self.fnl: set[str] = set()
        self.fna: dict[str, int] = {}
        self.fnf: int | None = None
        self.fnh: int | None = None

    def functions(self) -> tuple[int, int] | None:
        names = self.fn_names | set(self.fn_hits)
        if names:
            return len(names), sum(1 for n in names if self.fn_hits.get(n, 0) > 0)
        if self.fnl or self.fna:
            idx = self.fnl | set(self.fna)
            return len(idx), sum(1 for i in idx if self.fna.get(i, 0) > 0)
        if self.fnf is not None:
            return self.fnf, min(self.fnh or 0, self.fnf)
        return None


class LcovParser(ReportParser):
    format: ClassVar[str] = "lcov"
    doc_type: ClassVar[str] = "coverage"
    priority: ClassVar[int] = 50

    @classmethod
    def detect(cls, head: bytes) -> bool:
        h = text_head(head)
        if b"\x00" in head or not _FIRST.match(h):
            return False
        return b"SF:" in h and bool(re.search(rb"^(?:DA|LF|FN|BRDA|end_of_record)", h, re.M))

    def parse(self, path: Path, writer: Any, source: SourceInfo) -> None:
        run = _LcovRun(writer)
        with open_report(path, "text") as f:
            for lineno, raw in enumerate(f, 1):
                if run.sec is not None and raw.startswith(b"DA:") and run.fast_da(raw):
                    continue  # the fast path: most lines are plain DA records
                run.record(raw, lineno)
        run.finish()


class _LcovRun:
    """One tracefile's pass: the open section and what each record adds to it."""

    def __init__(self, writer: Any) -> None:
        self.writer = writer
        self.sec: _Section | None = None
        self.saw_any = False
        self.in_section = {"DA": _da, "BRDA": _brda, "FN": _fn, "FNDA": _fnda, "FNL": _fnl, "FNA": _fna,
                           "FNF": _fnf, "FNH": _fnh, "BRF": _brf, "BRH": _brf}

    def fast_da(self, raw: bytes) -> bool:
        """A ``DA:LINE,HITS`` line of plain in-range numbers, added (True); else False."""
        sec = self.sec
        assert sec is not None
        comma = raw.find(b",", 3)
        if comma <= 3:
            return False
        end = raw.find(b",", comma + 1)
        try:
            ln = int(raw[3:comma])
            h = int(raw[comma + 1:end] if end > 0 else raw[comma + 1:])
        except ValueError:
            return False  # the slow path explains what is wrong
        if 0 <= ln <= MAX_LINE and 0 <= h <= MAX_HITS:
            sec.lines.append(ln)
            sec.hits.append(h)
            return True
        return False

    def record(self, raw: bytes, lineno: int) -> None:
        try:
            line = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise ReportError("not UTF-8 text: this is not an LCOV tracefile", line=lineno) from None
        if not line:
            return
        key, sep, value = line.partition(":")
        if key == "SF":
            self._sf(value, lineno)
        elif key == "end_of_record":
            self._end(lineno)
        elif key in ("DA", "BRDA") or sep:
            if self.sec is not None:
                handler = self.in_section.get(key)
                if handler is not None:  # LF/LH (we count ourselves), TN, VER and newer records: ignored
                    handler(self.sec, value, lineno)
            elif key not in ("TN", "VER") and _KNOWN.match(key.encode("utf-8", "replace")):
                raise ReportError(f"{key} record outside an SF section", line=lineno)
        else:
            raise ReportError("not an LCOV record (KEY:VALUE)", line=lineno)

    def finish(self) -> None:
        if self.sec is not None:
            raise ReportError(f"truncated: the section of {self.sec.path[:100]!r} has no end_of_record",
                              line=self.sec.start)
        if not self.saw_any:
            raise ReportError("no SF section: this is not an LCOV tracefile")

    def _sf(self, value: str, lineno: int) -> None:
        if self.sec is not None:
            raise ReportError(f"SF record inside the unterminated section of {self.sec.path[:100]!r}", line=lineno)
        if not value:
            raise ReportError("SF record without a path", line=lineno)
        self.sec = _Section(value, lineno)
        self.saw_any = True

    def _end(self, lineno: int) -> None:
        sec = self.sec
        if sec is None:
            raise ReportError("end_of_record without an SF section", line=lineno)
        branches = None
        if sec.has_branches:
            branches = {ln: (c, v) for ln, (c, v) in sec.branches.items()}
        self.writer.add_file(sec.path, sec.lines, sec.hits, branches=branches, functions=sec.functions(),
                             exact_ints=True)
        self.sec = None


# -- the records of a section (sec, value after the colon, line number) ---------------------------
def _da(sec: _Section, value: str, lineno: int) -> None:
    parts, ln = _numbered("DA", value, 2, lineno)
    sec.lines.append(ln)
    sec.hits.append(_count(parts[1], lineno))


def _brda(sec: _Section, value: str, lineno: int) -> None:
    parts, ln = _numbered("BRDA", value, 4, lineno)
    taken = parts[-1].strip()
    hit = 0 if taken in ("-", "") else _count(taken, lineno)
    entry = sec.branches.get(ln)
    if entry is None:
        sec.branches[ln] = [1 if hit else 0, 1]
    else:
        entry[0] += 1 if hit else 0
        entry[1] += 1
    sec.has_branches = True


def _fn(sec: _Section, value: str, lineno: int) -> None:
    if len(value.split(",")) < 2:
        raise ReportError("malformed FN record (expected FN:LINE,NAME)", line=lineno)
    sec.fn_names.add(value.split(",")[-1])


def _fnda(sec: _Section, value: str, lineno: int) -> None:
    count, comma, name = value.partition(",")
    if not comma:
        raise ReportError("malformed FNDA record (expected FNDA:HITS,NAME)", line=lineno)
    sec.fn_hits[name] = max(sec.fn_hits.get(name, 0), _count(count, lineno))


def _fnl(sec: _Section, value: str, lineno: int) -> None:
    sec.fnl.add(value.split(",", 1)[0])


def _fna(sec: _Section, value: str, lineno: int) -> None:
    parts = value.split(",", 2)
    if len(parts) < 2:
        raise ReportError("malformed FNA record (expected FNA:INDEX,HITS,NAME)", line=lineno)
    sec.fna[parts[0]] = max(sec.fna.get(parts[0], 0), _count(parts[1], lineno))


def _fnf(sec: _Section, value: str, lineno: int) -> None:
    sec.fnf = _total(value, lineno)


def _fnh(sec: _Section, value: str, lineno: int) -> None:
    sec.fnh = _total(value, lineno)


def _brf(sec: _Section, value: str, lineno: int) -> None:
    sec.has_branches = True
