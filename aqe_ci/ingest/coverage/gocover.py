"""Go coverprofile (``go test -coverprofile``; modes set, count, atomic).

Each block ``file:L1.C1,L2.C2 NUMSTMT COUNT`` covers lines L1..L2; a line's hits are the MAX count of
the blocks touching it (a line is covered when any statement on it ran). Blocks with 0 statements are
ignored (``go tool cover`` counts nothing for them). Repeated blocks (``-coverpkg`` profiles list a
block once per test binary) merge the same way. ``go tool cover -func`` reports covered STATEMENTS;
our line rate counts lines, so the two differ where blocks span several lines (documented).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from aqe_ci.ingest.base import LINE_OUT_OF_RANGE, MAX_LINE, ReportError, ReportParser, SourceInfo
from aqe_ci.ingest.coverage.sniff import text_head
from aqe_ci.ingest.coverage.writer import MAX_HITS, CoverageWriter
from aqe_ci.ingest.stream.opener import open_report

_MODE = re.compile(rb"mode: (set|count|atomic)[ \t]*\r?(?:\n|$)")
_BLOCK = re.compile(r"(.+):(\d+)\.(\d+),(\d+)\.(\d+) (\d+) (\d+)")
_BLOCK_B = re.compile(rb"[^\n]+:\d+\.\d+,\d+\.\d+ \d+ \d+\r?(?:\n|$)")
MAX_BLOCK_LINES = 1_000_000


class GoCoverParser(ReportParser):
    format: ClassVar[str] = "go-coverprofile"
    doc_type: ClassVar[str] = "coverage"
    priority: ClassVar[int] = 50

    @classmethod
    def detect(cls, head: bytes) -> bool:
        h = text_head(head)
        m = _MODE.match(h)
        if m is None:
            return False
        rest = h[m.end():]
        return not rest.strip() or bool(_BLOCK_B.match(rest))

    def parse(self, path: Path, writer: CoverageWriter, source: SourceInfo) -> None:
        current: str | None = None
        per_line: dict[int, int] = {}
        mode = None
        with open_report(path, "text") as f:
            for lineno, raw in enumerate(f, 1):
                try:
                    line = raw.decode("utf-8").strip()
                except UnicodeDecodeError:
                    raise ReportError("not UTF-8 text: this is not a Go coverprofile", line=lineno) from None
                if not line:
                    continue
                if line.startswith("mode:"):
                    m = line[5:].strip()
                    if m not in ("set", "count", "atomic"):
                        raise ReportError(f"unknown coverprofile mode {m[:20]!r}", line=lineno)
                    if mode is not None and m != mode:
                        raise ReportError(f"mode {m} after mode {mode} in one profile", line=lineno)
                    mode = m
                    continue
                if mode is None:
                    raise ReportError("no 'mode:' line: this is not a Go coverprofile", line=lineno)
                bm = _BLOCK.fullmatch(line)
                if bm is None:
                    raise ReportError("malformed coverprofile block (expected FILE:LINE.COL,LINE.COL STATEMENTS "
                                      "COUNT)", line=lineno)
                name = bm.group(1)
                if max(len(bm.group(2)), len(bm.group(4))) > 10 or max(int(bm.group(2)), int(bm.group(4))) > MAX_LINE:
                    raise ReportError(LINE_OUT_OF_RANGE, line=lineno)
                l1, l2 = int(bm.group(2)), int(bm.group(4))
                stmts = int(bm.group(6)) if len(bm.group(6)) <= 20 else MAX_HITS
                count = int(bm.group(7)) if len(bm.group(7)) <= 20 else MAX_HITS
                if l2 < l1 or l2 - l1 > MAX_BLOCK_LINES:
                    raise ReportError("a block ends before it starts or is implausibly long", line=lineno)
                if name != current:
                    if current is not None:
                        self._emit(current, per_line, writer)
                    current, per_line = name, {}
                if stmts == 0:
                    continue
                count = min(count, MAX_HITS)
                get = per_line.get
                for ln in range(l1, l2 + 1):
                    if count > get(ln, -1):
                        per_line[ln] = count
        if mode is None:
            raise ReportError("no 'mode:' line: this is not a Go coverprofile")
        if current is not None:
            self._emit(current, per_line, writer)
        writer.set_source_details(producer=f"go test -coverprofile (mode {mode})")

    @staticmethod
    def _emit(name: str, per_line: dict[int, int], writer: CoverageWriter) -> None:
        lines = sorted(per_line)
        writer.add_file(name, lines, [per_line[ln] for ln in lines], exact_ints=True)
