"""coverage.py JSON (``coverage json``, meta format 1-3).

Per file: valid lines = ``executed_lines`` ∪ ``missing_lines`` (hits 1 / 0: coverage.py records
no counts); branches per source line from ``executed_branches`` / ``missing_branches`` arcs
(``[from, to]``, grouped by ``from``); functions (coverage.py ≥ 7.5 ``functions`` regions, the
module-level ``""`` region excluded): covered when one of its lines ran. ``totals`` gives the
producer's own statement and branch percentages for the cross-check. Files stream one at a time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from aqe_ci.ingest.base import ReportError, ReportParser, SourceInfo
from aqe_ci.ingest.coverage.writer import CoverageWriter, percent_or_none
from aqe_ci.ingest.stream.jsonhead import json_keys
from aqe_ci.ingest.stream.jsonstream import JsonStream, check_depth, object_keys, top_level_value
from aqe_ci.ingest.stream.opener import open_report


def _lines(value: Any, what: str, path: str) -> list[int]:
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise ReportError(f"{path}: {what} is not a list of line numbers")
    return value


class CoveragePyJsonParser(ReportParser):
    format: ClassVar[str] = "coveragepy-json"
    doc_type: ClassVar[str] = "coverage"
    priority: ClassVar[int] = 50

    @classmethod
    def detect(cls, head: bytes) -> bool:
        top = json_keys(head)
        if top is None or top.kind != "object" or top.type_of("meta") != "object":
            return False
        meta = top.get("meta")
        marked = isinstance(meta, dict) and ("branch_coverage" in meta or "show_contexts" in meta)
        return (top.has("files") or b'"files"' in head) and (
            marked or b'"branch_coverage"' in head or b'"show_contexts"' in head)

    def parse(self, path: Path, writer: CoverageWriter, source: SourceInfo) -> None:
        what = "a coverage.py JSON report"
        with open_report(path, "json") as f:
            meta = top_level_value(f, "meta", what)  # first: files need its branch mode
            if not isinstance(meta, dict):
                raise ReportError("no meta object: this is not a coverage.py JSON report")
            version = meta.get("version")
            branch_mode = bool(meta.get("branch_coverage"))
            f.seek(0)
            js = JsonStream(f)
            seen = False
            totals = None
            for key in object_keys(js, what):
                if key == "files" and not seen and js.peek() == "{":
                    seen = True
                    for name in js.iter_object():
                        self._file(name, check_depth(js.value()), writer, branch_mode)
                elif key == "files":
                    seen = True
                    js.skip()
                elif key == "totals" and totals is None:
                    totals = check_depth(js.value())
                else:
                    js.skip()
            if not seen:
                raise ReportError("no files object: this is not a coverage.py JSON report")
        line_rate = branch_rate = None
        if isinstance(totals, dict):
            line_rate = percent_or_none(totals.get("percent_statements_covered"), fraction=False)
            if line_rate is None and totals.get("num_statements"):
                line_rate = percent_or_none(totals.get("covered_lines", 0) * 100.0 / totals["num_statements"],
                                            fraction=False)
            if branch_mode:
                branch_rate = percent_or_none(totals.get("percent_branches_covered"), fraction=False)
        writer.set_source_details(producer=f"coverage.py {version}" if version else "coverage.py",
                                  reported_line_rate=line_rate, reported_branch_rate=branch_rate)

    @staticmethod
    def _file(name: str, data: Any, writer: CoverageWriter, branch_mode: bool) -> None:
        if not isinstance(data, dict):
            raise ReportError(f"{name}: file entry is not an object")
        executed = _lines(data.get("executed_lines", []), "executed_lines", name)
        missing = _lines(data.get("missing_lines", []), "missing_lines", name)
        lines = executed + missing
        hits = [1] * len(executed) + [0] * len(missing)
        branches: dict[int, tuple[int, int]] | None = None
        if branch_mode or "executed_branches" in data:
            acc: dict[int, list[int]] = {}
            for key, covered in (("executed_branches", 1), ("missing_branches", 0)):
                arcs = data.get(key, [])
                if not isinstance(arcs, list):
                    raise ReportError(f"{name}: {key} is not a list")
                for arc in arcs:
                    if not (isinstance(arc, list) and len(arc) == 2 and isinstance(arc[0], int)):
                        raise ReportError(f"{name}: {key} holds {str(arc)[:40]} instead of [from, to]")
                    if arc[0] < 0:
                        continue
                    e = acc.setdefault(arc[0], [0, 0])
                    e[0] += covered
                    e[1] += 1
            branches = {ln: (c, v) for ln, (c, v) in acc.items()}
        functions = None
        regions = data.get("functions")
        if isinstance(regions, dict):
            valid = covered_fn = 0
            for fname, region in regions.items():
                if fname == "" or not isinstance(region, dict):
                    continue
                valid += 1
                if region.get("executed_lines"):
                    covered_fn += 1
            functions = (valid, covered_fn)
        writer.add_file(name, lines, hits, branches=branches, functions=functions)
