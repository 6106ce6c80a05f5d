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

from aqe_ci.ingest.base import ReportError, ReportParser, SourceInfo
from aqe_ci.ingest.coverage.sniff import text_head
from aqe_ci.ingest.coverage_writer import MAX_HITS, MAX_LINE
from aqe_ci.ingest.stream.opener import open_report

_FIRST = re.compile(rb"(?:TN|SF|VER):")
_KNOWN = re.compile(rb"^(?:TN|SF|VER|FN|FNDA|FNF|FNH|FNL|FNA|DA|LF|LH|BRDA|BRF|BRH|end_of_record)\b", re.M)


def _count(text: str, lineno: int) -> int:
    text = text.strip()
    try:
        n = int(text)
    except ValueError:
        try:
            f = float(text)
        except ValueError:
            raise ReportError(f"execution count {text[:40]!r} is not a number", line=lineno) from None
        if f != f or f in (float("inf"), float("-inf")):
            raise ReportError(f"execution count {text[:40]!r} is not a number", line=lineno) from None
        n = int(f)
    return 0 if n < 0 else min(n, MAX_HITS)


def _numbered(key: str, value: str, fields: int, line: str, lineno: int) -> tuple[list[str], int]:
    """A ``DA``/``BRDA`` record's comma-separated fields (at least ``fields``) and its line number."""
    parts = value.split(",")
    if len(parts) >= fields:
        try:
            return parts, int(parts[0])
        except ValueError:
            pass
    raise ReportError(f"malformed {key} record {line[:60]!r}", line=lineno)


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
        sec: _Section | None = None
        saw_any = False
        with open_report(path, "text") as f:
            for lineno, raw in enumerate(f, 1):
                if sec is not None and raw.startswith(b"DA:"):  # fast path: most lines are DA
                    comma = raw.find(b",", 3)
                    if comma > 3:
                        end = raw.find(b",", comma + 1)
                        try:
                            ln = int(raw[3:comma])
                            h = int(raw[comma + 1:end] if end > 0 else raw[comma + 1:])
                        except ValueError:
                            pass  # the slow path below explains what is wrong
                        else:
                            if 0 <= ln <= MAX_LINE and 0 <= h <= MAX_HITS:
                                sec.lines.append(ln)
                                sec.hits.append(h)
                                continue
                try:
                    line = raw.decode("utf-8").strip()
                except UnicodeDecodeError:
                    raise ReportError("not UTF-8 text: this is not an LCOV tracefile", line=lineno) from None
                if not line:
                    continue
                key, sep, value = line.partition(":")
                if key == "DA":
                    if sec is None:
                        raise ReportError("DA record outside an SF section", line=lineno)
                    parts, ln = _numbered(key, value, 2, line, lineno)
                    if not 0 <= ln <= MAX_LINE:
                        raise ReportError(f"line number out of range in {line[:60]!r}", line=lineno)
                    sec.lines.append(ln)
                    sec.hits.append(_count(parts[1], lineno))
                elif key == "BRDA":
                    if sec is None:
                        raise ReportError("BRDA record outside an SF section", line=lineno)
                    parts, ln = _numbered(key, value, 4, line, lineno)
                    taken = parts[-1].strip()
                    hit = 0 if taken in ("-", "") else _count(taken, lineno)
                    entry = sec.branches.get(ln)
                    if entry is None:
                        sec.branches[ln] = [1 if hit else 0, 1]
                    else:
                        entry[0] += 1 if hit else 0
                        entry[1] += 1
                    sec.has_branches = True
                elif key == "SF":
                    if sec is not None:
                        raise ReportError(f"SF record inside the unterminated section of {sec.path[:100]!r}",
                                          line=lineno)
                    if not value:
                        raise ReportError("SF record without a path", line=lineno)
                    sec = _Section(value, lineno)
                    saw_any = True
                elif key == "end_of_record":
                    if sec is None:
                        raise ReportError("end_of_record without an SF section", line=lineno)
                    self._emit(sec, writer)
                    sec = None
                elif not sep:
                    raise ReportError(f"not an LCOV record: {line[:60]!r}", line=lineno)
                elif sec is None:
                    if key in ("TN", "VER"):
                        continue
                    if _KNOWN.match(key.encode("utf-8", "replace")):
                        raise ReportError(f"{key} record outside an SF section", line=lineno)
                    continue
                elif key == "FN":
                    parts = value.split(",")
                    if len(parts) < 2:
                        raise ReportError(f"malformed FN record {line[:60]!r}", line=lineno)
                    sec.fn_names.add(parts[-1])
                elif key == "FNDA":
                    count, _, name = value.partition(",")
                    if not _:
                        raise ReportError(f"malformed FNDA record {line[:60]!r}", line=lineno)
                    sec.fn_hits[name] = max(sec.fn_hits.get(name, 0), _count(count, lineno))
                elif key == "FNL":
                    sec.fnl.add(value.split(",", 1)[0])
                elif key == "FNA":
                    parts = value.split(",", 2)
                    if len(parts) < 2:
                        raise ReportError(f"malformed FNA record {line[:60]!r}", line=lineno)
                    sec.fna[parts[0]] = max(sec.fna.get(parts[0], 0), _count(parts[1], lineno))
                elif key == "FNF":
                    sec.fnf = self._total(value, lineno)
                elif key == "FNH":
                    sec.fnh = self._total(value, lineno)
                elif key in ("BRF", "BRH"):
                    sec.has_branches = True
                # LF/LH (we count ourselves), TN, VER and unknown newer records are ignored
        if sec is not None:
            raise ReportError(f"truncated: the section of {sec.path[:100]!r} has no end_of_record", line=sec.start)
        if not saw_any:
            raise ReportError("no SF section: this is not an LCOV tracefile")

    @staticmethod
    def _total(value: str, lineno: int) -> int:
        try:
            n = int(value.strip())
        except ValueError:
            raise ReportError(f"malformed count {value[:40]!r}", line=lineno) from None
        return max(n, 0)

    @staticmethod
    def _emit(sec: _Section, writer: Any) -> None:
        branches = None
        if sec.has_branches:
            branches = {ln: (c, v) for ln, (c, v) in sec.branches.items()}
        writer.add_file(sec.path, sec.lines, sec.hits, branches=branches, functions=sec.functions(), exact_ints=True)
