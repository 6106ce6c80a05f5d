"""Istanbul / nyc / c8 / jest / vitest ``coverage-final.json`` and ``coverage-summary.json``.

``coverage-final.json`` (``{path: FileCoverage}``, also a single FileCoverage object with a
``path``, and the old ``{path: {"data": FileCoverage}}`` wrapping): a line's hits are the MAX of
the statements STARTING on it (istanbul-lib-coverage ``getLineCoverage``); branches per line from
``branchMap[k].line`` (else ``loc.start.line``) with ``b[k]`` counts; functions from ``f``.
Statements as such are not kept: line totals equal Istanbul's "lines" metric, not "statements".

``coverage-summary.json`` carries totals only: its files become entries WITHOUT ``line_hits``
(no per-line diff or patch coverage possible from it); ``total`` is the producer's cross-check.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from aqe_ci.ingest.base import LINE_OUT_OF_RANGE, ReportError, ReportParser, SourceInfo, json_object
from aqe_ci.ingest.coverage.jsonutil import as_int, first_keys
from aqe_ci.ingest.coverage.writer import MAX_HITS, MAX_LINE, CoverageWriter, percent_or_none
from aqe_ci.ingest.stream.jsonhead import json_keys
from aqe_ci.ingest.stream.jsonstream import JsonStream, check_depth, object_keys
from aqe_ci.ingest.stream.opener import open_report

_FILE_KEYS = (b"path", b"statementMap", b"fnMap", b"branchMap", b"s", b"f", b"b", b"_coverageSchema", b"hash",
              b"inputSourceMap", b"all", b"bT")
_METRICS = (b"lines", b"statements", b"functions", b"branches", b"branchesTrue")


def _first_inner_key(rest: bytes) -> bytes | None:
    fk = first_keys(rest)
    return fk[0] if fk else None


def _count(value: Any, what: str) -> int:
    if value is None:
        return 0  # Istanbul treats a null count as "not hit" (seen in real reports)
    n = as_int(value, what)
    return 0 if n < 0 else min(n, MAX_HITS)


def _line_of(loc: Any) -> int | None:
    if isinstance(loc, dict):
        start = loc.get("start")
        if isinstance(start, dict):
            ln = start.get("line")
            if isinstance(ln, int | float) and not isinstance(ln, bool) and 0 <= ln <= MAX_LINE:
                return int(ln)
            if isinstance(ln, int | float) and not isinstance(ln, bool) and ln > MAX_LINE:
                raise ReportError(LINE_OUT_OF_RANGE)
    return None


class IstanbulFinalParser(ReportParser):
    format: ClassVar[str] = "istanbul"
    doc_type: ClassVar[str] = "coverage"
    priority: ClassVar[int] = 50

    @classmethod
    def detect(cls, head: bytes) -> bool:
        fk = first_keys(head)
        top = json_keys(head)
        if fk is None or top is None:
            return False
        key, rest = fk
        if top.has("statementMap") or (top.has("path") and b'"statementMap"' in head):
            return True  # a single FileCoverage object
        if key in (b"total", b"meta", b"title") or any(top.has(k) for k in ("total", "meta", "title")):
            return False
        inner = _first_inner_key(rest)
        if inner == b"data":
            inner = _first_inner_key(rest[rest.find(b":") + 1:]) if b":" in rest else None
        return inner in _FILE_KEYS and b'"statementMap"' in head

    def parse(self, path: Path, writer: CoverageWriter, source: SourceInfo) -> None:
        with open_report(path, "json") as f:
            top = json_keys(f.read(1 << 16))
            f.seek(0)
            js = JsonStream(f)
            first = next(iter(top.keys), None) if top is not None else None
            if first in ("statementMap", "path") or (top is not None and top.has("statementMap")):
                obj = check_depth(js.value())  # a single FileCoverage object
                js.end()
                if not isinstance(obj, dict) or not isinstance(obj.get("path"), str) or not obj["path"]:
                    raise ReportError("a single Istanbul FileCoverage object without a \"path\": "
                                      "cannot name its file")
                self._file(obj["path"], obj, writer)
                return self._done(writer)
            for key in object_keys(js, "an Istanbul coverage-final.json"):
                value = check_depth(js.value())
                if isinstance(value, dict) and isinstance(value.get("data"), dict) and "statementMap" not in value:
                    value = value["data"]
                name = value.get("path") if isinstance(value, dict) else None
                self._file(name if isinstance(name, str) and name else key, value, writer)
        return self._done(writer)

    @staticmethod
    def _done(writer: CoverageWriter) -> None:
        writer.set_source_details(producer="istanbul")

    @staticmethod
    def _file(name: str, fc: Any, writer: CoverageWriter) -> None:
        if not isinstance(fc, dict):
            raise ReportError(f"{name}: file coverage is not an object")
        smap, s = fc.get("statementMap", {}), fc.get("s", {})
        bmap, b = fc.get("branchMap", {}), fc.get("b", {})
        fmap, fcount = fc.get("fnMap", {}), fc.get("f", {})
        for what, obj in (("statementMap", smap), ("s", s), ("branchMap", bmap), ("b", b), ("fnMap", fmap),
                          ("f", fcount)):
            if not isinstance(obj, dict):
                raise ReportError(f"{name}: {what} is not an object")
        per_line: dict[int, int] = {}
        for sid, count in s.items():
            ln = _line_of(smap.get(sid))
            if ln is None:
                continue  # istanbul-lib-coverage skips statements without a location too
            c = _count(count, f"{name}: statement count")
            if c > per_line.get(ln, -1):
                per_line[ln] = c
        lines = sorted(per_line)
        hits = [per_line[ln] for ln in lines]
        branches: dict[int, tuple[int, int]] = {}
        for bid, counts in b.items():
            meta = bmap.get(bid)
            if not isinstance(meta, dict):
                continue
            ln = meta.get("line")
            if not isinstance(ln, int | float) or isinstance(ln, bool) or not 0 < ln <= MAX_LINE:
                ln = _line_of(meta.get("loc"))
            if ln is None:
                continue
            if not isinstance(counts, list):
                raise ReportError(f"{name}: branch counts of {str(bid)[:20]} are not a list")
            covered = sum(1 for c in counts if _count(c, f"{name}: branch count") > 0)
            old = branches.get(int(ln), (0, 0))
            branches[int(ln)] = (old[0] + covered, old[1] + len(counts))
        functions = (len(fcount), sum(1 for c in fcount.values() if _count(c, f"{name}: function count") > 0))
        writer.add_file(name, lines, hits, branches=branches, functions=functions)


class IstanbulSummaryParser(ReportParser):
    format: ClassVar[str] = "istanbul-summary"
    doc_type: ClassVar[str] = "coverage"
    priority: ClassVar[int] = 50

    @classmethod
    def detect(cls, head: bytes) -> bool:
        top = json_keys(head)
        if top is None or top.kind != "object" or top.type_of("total") != "object":
            return False
        total = top.get("total")
        if isinstance(total, dict):
            return any(k.encode() in _METRICS for k in total)
        fk = first_keys(head)  # "total" first and cut by the head's end
        return fk is not None and fk[0] == b"total" and _first_inner_key(fk[1]) in _METRICS

    def parse(self, path: Path, writer: CoverageWriter, source: SourceInfo) -> None:
        total: dict[str, Any] | None = None
        with open_report(path, "json") as f:
            js = JsonStream(f)
            for key in object_keys(js, "an Istanbul coverage-summary.json"):
                value = check_depth(js.value())
                if not isinstance(value, dict):
                    raise ReportError(f"{key[:100]}: summary entry is not an object")
                if key == "total":
                    total = value
                    continue
                lines = self._metric(value, "lines", key)
                if lines is None:
                    raise ReportError(f"{key[:100]}: no lines metric")
                writer.add_file_summary(key, lines_valid=lines[0], lines_covered=lines[1],
                                        branches=self._metric(value, "branches", key),
                                        functions=self._metric(value, "functions", key))
        if total is None:
            raise ReportError("no total entry: this is not an Istanbul coverage-summary.json")
        lines_pct = total.get("lines", {}).get("pct") if isinstance(total.get("lines"), dict) else None
        br = json_object(total.get("branches"))
        writer.set_source_details(producer="istanbul (json-summary)",
                                  reported_line_rate=percent_or_none(lines_pct, fraction=False),
                                  reported_branch_rate=percent_or_none(br.get("pct"), fraction=False)
                                  if br.get("total") else None)

    @staticmethod
    def _metric(value: dict[str, Any], name: str, key: str) -> tuple[int, int] | None:
        m = value.get(name)
        if m is None:
            return None
        if not isinstance(m, dict):
            raise ReportError(f"{key[:100]}: {name} is not an object")
        total = as_int(m.get("total", 0), f"{key[:100]}: {name}.total")
        covered = as_int(m.get("covered", 0), f"{key[:100]}: {name}.covered")
        if total < 0 or covered < 0 or covered > total:
            raise ReportError(f"{key[:100]}: {name} covered {covered} of {total} is impossible")
        return total, covered
