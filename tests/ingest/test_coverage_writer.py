"""CoverageWriter: compact encodings, merge rules, totals conventions, rollback, and small parsers' mappings."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from aqe_ci.ingest import registry
from aqe_ci.ingest.base import ReportError, SourceInfo
from aqe_ci.ingest.coverage.writer import CoverageWriter, normalise_path
from aqe_ci.model.limits import Limits
from aqe_ci.model.linehits import decode_branch_hits, decode_line_hits, encode_branch_hits
from aqe_ci.model.linehits import encode_line_runs as encode_line_hits
from aqe_ci.model.schema import schema, validate_document
from tests.ingest.cobertura_accel import cobertura_path  # noqa: F401  (fixture, used by pytestmark)

#: every test here runs on the C accelerator and on the pure-Python reference path
pytestmark = pytest.mark.usefixtures("cobertura_path")

LINE_HITS = re.compile(schema("coverage")["$defs"]["file"]["properties"]["line_hits"]["pattern"])
BRANCH_HITS = re.compile(schema("coverage")["$defs"]["file"]["properties"]["branch_hits"]["pattern"])


def src(name: str = "r", fmt: str = "lcov") -> SourceInfo:
    return SourceInfo(file=name, format=fmt, bytes=1)


def finish(w: CoverageWriter) -> dict[str, Any]:
    written = w.finish(timestamp="2026-01-01T00:00:00Z")
    doc = json.loads(written.path.read_text())
    validate_document(doc)
    assert written.summary["files"] == len(doc["data"]["files"])
    written.cleanup()
    return doc["data"]


@pytest.fixture()
def writer(tmp_path: Path) -> CoverageWriter:
    return CoverageWriter(workdir=tmp_path, limits=Limits())


def test_line_hits_are_run_length_encoded_and_round_trip() -> None:
    lines = [1, 2, 3, 5, 6, 9, 10, 11]
    hits = [4, 4, 4, 0, 0, 7, 1, 1]
    text = encode_line_hits(lines, hits)
    assert text == "1-3:4,5-6:0,9:7,10-11:1"
    assert LINE_HITS.fullmatch(text)
    assert decode_line_hits(text) == dict(zip(lines, hits, strict=True))
    assert encode_line_hits([], []) == ""
    big = encode_line_hits([7], [(1 << 64) - 1])
    assert LINE_HITS.fullmatch(big) and decode_line_hits(big) == {7: (1 << 64) - 1}


def test_branch_hits_encoding() -> None:
    text = encode_branch_hits(sorted({12: (1, 2), 3: (0, 4)}.items()))
    assert text == "3:0/4,12:1/2" and BRANCH_HITS.fullmatch(text)
    assert decode_branch_hits(text) == {3: (0, 4), 12: (1, 2)}


def test_paths_are_normalised_but_otherwise_kept() -> None:
    assert normalise_path(".\\src\\a.py") == "src/a.py"
    assert normalise_path("././x/y.go") == "x/y.go"
    assert normalise_path("/abs/path.py") == "/abs/path.py"
    assert normalise_path("../up/file.js") == "../up/file.js"


def test_unsorted_duplicate_lines_keep_the_max(writer: CoverageWriter) -> None:
    writer.begin_source(src())
    writer.add_file("a.py", [5, 1, 5, 2], [0, 3, 2, 0])
    writer.commit_source()
    f = finish(writer)["files"]["a.py"]
    assert f["line_hits"] == "1:3,2:0,5:2"
    assert (f["lines_valid"], f["lines_covered"]) == (3, 2)


def test_totals_conventions(writer: CoverageWriter) -> None:
    writer.begin_source(src())
    writer.add_file("empty.py", [], [])  # no executable line: 100 %, like coverage.py and istanbul
    writer.add_file("half.py", [1, 2], [1, 0], branches={})  # branch data known, but no branch: null rate
    writer.commit_source()
    data = finish(writer)
    assert data["files"]["empty.py"]["line_rate"] == 100.0
    assert data["files"]["half.py"]["branch_rate"] is None
    assert data["line_rate"] == 50.0
    assert data["branch_rate"] is None and data["branches_valid"] == 0
    assert data["function_rate"] is None and "functions_valid" not in data


def test_no_executable_lines_at_all_is_100_percent(writer: CoverageWriter) -> None:
    data = finish(writer)
    assert data["line_rate"] == 100.0 and data["files"] == {} and data["branch_rate"] is None


def test_sharded_reports_merge_union_with_max_hits(writer: CoverageWriter) -> None:
    writer.begin_source(src("shard1"))
    writer.add_file("a.py", [1, 2, 3], [1, 0, 0], branches={2: (1, 2)}, functions=(2, 1))
    writer.add_file("b.py", [1], [0])
    writer.commit_source()
    writer.begin_source(src("shard2"))
    writer.add_file("./a.py", [2, 3, 4], [5, 0, 1], branches={2: (2, 2), 4: (0, 2)}, functions=(2, 2))
    writer.commit_source()
    data = finish(writer)
    a = data["files"]["a.py"]
    assert a["line_hits"] == "1:1,2:5,3:0,4:1"
    assert (a["lines_valid"], a["lines_covered"]) == (4, 3)
    assert a["branch_hits"] == "2:2/2,4:0/2"
    assert (a["branches_valid"], a["branches_covered"]) == (4, 2)
    assert (a["functions_valid"], a["functions_covered"]) == (2, 2)  # same functions: max, not sum
    assert (data["lines_valid"], data["lines_covered"]) == (5, 3)
    assert [s["file"] for s in data["sources"]] == ["shard1", "shard2"]
    assert list(data["files"]) == ["a.py", "b.py"]


def test_split_parts_of_one_report_add_their_functions(writer: CoverageWriter) -> None:
    writer.begin_source(src("r", "cobertura"))
    writer.add_file("Foo.java", [1, 2], [1, 0], functions=(3, 1), split=True)
    writer.add_file("Foo.java", [10, 11], [0, 2], functions=(2, 2), split=True)  # Foo$Inner
    writer.commit_source()
    f = finish(writer)["files"]["Foo.java"]
    assert (f["functions_valid"], f["functions_covered"]) == (5, 3)
    assert f["line_hits"] == "1:1,2:0,10:0,11:2"


def test_summary_only_entries_yield_to_per_line_data(writer: CoverageWriter) -> None:
    writer.begin_source(src("summary", "istanbul-summary"))
    writer.add_file_summary("a.js", lines_valid=10, lines_covered=9, branches=(4, 2))
    writer.add_file_summary("b.js", lines_valid=3, lines_covered=1)
    writer.commit_source()
    writer.begin_source(src("summary2", "istanbul-summary"))
    writer.add_file_summary("b.js", lines_valid=3, lines_covered=2)
    writer.commit_source()
    writer.begin_source(src("final", "istanbul"))
    writer.add_file("a.js", [1, 2], [1, 0])
    writer.commit_source()
    files = finish(writer)["files"]
    assert files["a.js"]["line_hits"] == "1:1,2:0" and files["a.js"]["lines_valid"] == 2
    assert "line_hits" not in files["b.js"] and files["b.js"]["lines_covered"] == 2


def test_a_failed_file_adds_nothing(writer: CoverageWriter) -> None:
    writer.begin_source(src("good"))
    writer.add_file("a.py", [1], [1])
    writer.commit_source()
    writer.begin_source(src("bad"))
    writer.add_file("a.py", [2], [0])
    writer.add_file("c.py", [1], [0])
    writer.rollback_source()
    writer.begin_source(src("good2"))
    writer.add_file("d.py", [1], [1])
    writer.commit_source()
    data = finish(writer)
    assert set(data["files"]) == {"a.py", "d.py"}
    assert data["files"]["a.py"]["line_hits"] == "1:1"
    assert [s["file"] for s in data["sources"]] == ["good", "good2"]


def test_reported_rates_are_kept_as_cross_check_only(writer: CoverageWriter) -> None:
    writer.begin_source(src("r", "cobertura"))
    writer.set_source_details(producer="gcovr 5.0", reported_line_rate=99.0, reported_branch_rate=None)
    writer.add_file("a.c", [1, 2], [1, 0])
    writer.commit_source()
    data = finish(writer)
    assert data["line_rate"] == 50.0
    assert data["sources"][0]["reported_line_rate"] == 99.0
    assert data["sources"][0]["producer"] == "gcovr 5.0"
    assert "reported_branch_rate" not in data["sources"][0]


def test_abort_removes_temp_files(tmp_path: Path) -> None:
    w = CoverageWriter(workdir=tmp_path, limits=Limits())
    w.begin_source(src())
    w.add_file("a.py", [1], [1])
    w.commit_source()
    w.abort()
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------- small per-format mappings


def run(tmp_path: Path, fmt: str, content: str | bytes) -> dict[str, Any]:
    path = tmp_path / "report"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    w = CoverageWriter(workdir=tmp_path / "w", limits=Limits())
    s = SourceInfo(file="report", format=fmt, bytes=path.stat().st_size)
    w.begin_source(s)
    try:
        registry.by_format(fmt)().parse(path, w, s)
    except BaseException:
        w.abort()
        raise
    w.commit_source()
    return finish(w)


def test_go_blocks_map_to_lines_with_max_hits_and_skip_empty_blocks(tmp_path: Path) -> None:
    data = run(tmp_path, "go-coverprofile", "mode: count\n"
               "example.com/m/a.go:3.10,5.2 2 4\n"
               "example.com/m/a.go:5.2,7.3 1 0\n"     # shares line 5 with the covered block
               "example.com/m/a.go:9.1,9.20 0 0\n"    # no statement: ignored
               "example.com/m/b.go:1.1,1.9 1 0\n"
               "example.com/m/a.go:7.3,8.1 1 2\n")    # a.go again later: merged
    a = data["files"]["example.com/m/a.go"]
    assert a["line_hits"] == "3-5:4,6:0,7-8:2"
    assert data["files"]["example.com/m/b.go"]["line_hits"] == "1:0"
    assert data["sources"][0]["producer"] == "go test -coverprofile (mode count)"


def test_lcov_records_functions_branches_and_checksums(tmp_path: Path) -> None:
    data = run(tmp_path, "lcov", "TN:unit\nSF:./src/a.c\nFN:1,main\nFN:7,helper\nFNDA:3,main\nFNDA:0,helper\n"
               "DA:1,3,abcdef\nDA:2,0\nDA:3,-1\nBRDA:2,0,0,-\nBRDA:2,0,1,2\nBRF:2\nBRH:1\nLF:3\nLH:1\n"
               "end_of_record\nTN:other\nSF:src/a.c\nFNDA:1,helper\nDA:2,5\nend_of_record\n")
    f = data["files"]["src/a.c"]
    assert f["line_hits"] == "1:3,2:5,3:0"
    assert f["branch_hits"] == "2:1/2"
    # functions merge by the max of the counts (documented lower bound: names are not kept)
    assert (f["functions_valid"], f["functions_covered"]) == (2, 1)


@pytest.mark.parametrize("record", ["DA:99999999999999999999999,1", "DA:-3,1", "DA:x,1", "DA:5"])
def test_lcov_bad_line_numbers_are_clear_problems(record: str, tmp_path: Path) -> None:
    with pytest.raises(ReportError) as info:
        run(tmp_path, "lcov", f"SF:a.c\nDA:1,1\n{record}\nend_of_record\n")
    assert info.value.line == 3


def test_lcov_without_end_of_record_is_truncated(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="truncated"):
        run(tmp_path, "lcov", "SF:a.c\nDA:1,1\n")


def test_cobertura_condition_coverage_and_method_lines(tmp_path: Path) -> None:
    data = run(tmp_path, "cobertura", '<?xml version="1.0"?>\n<coverage line-rate="0.5" branch-rate="0.5" '
               'branches-valid="2" version="7.4"><sources><source>/src</source></sources><packages><package name="p">'
               '<classes><class name="a" filename="pkg\\a.py"><methods><method name="f" hits="1"><lines>'
               '<line number="1" hits="1"/></lines></method><method name="g" hits="0"/></methods><lines>'
               '<line number="1" hits="1" branch="true" condition-coverage="50% (1/2)"/>'
               '<line number="2" hits="0"/></lines></class></classes></package></packages></coverage>')
    f = data["files"]["pkg/a.py"]
    assert f["line_hits"] == "1:1,2:0"  # method lines are not counted twice
    assert f["branch_hits"] == "1:1/2"
    assert (f["functions_valid"], f["functions_covered"]) == (2, 1)
    assert data["sources"][0]["reported_line_rate"] == 50.0


def test_cobertura_bad_hits_name_the_line(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="hits='many'") as info:
        run(tmp_path, "cobertura", '<coverage line-rate="1">\n<packages><package><classes>\n'
            '<class filename="a.py"><lines>\n<line number="1" hits="many"/>\n</lines></class>'
            '</classes></package></packages></coverage>')
    assert info.value.line == 4


def test_istanbul_line_hits_are_the_max_of_statements_starting_on_the_line(tmp_path: Path) -> None:
    fc = {"/p/a.js": {"path": "/p/a.js",
                      "statementMap": {"0": {"start": {"line": 1, "column": 0}, "end": {"line": 3, "column": 1}},
                                       "1": {"start": {"line": 1, "column": 5}, "end": {"line": 1, "column": 9}},
                                       "2": {"start": {"line": 2, "column": 2}, "end": {"line": 2, "column": 9}}},
                      "s": {"0": 1, "1": 7, "2": 0},
                      "branchMap": {"0": {"line": 2, "loc": {"start": {"line": 2, "column": 0}}, "type": "if"}},
                      "b": {"0": [0, 3]},
                      "fnMap": {"0": {"name": "f"}}, "f": {"0": 0}}}
    f = run(tmp_path, "istanbul", json.dumps(fc))["files"]["/p/a.js"]
    assert f["line_hits"] == "1:7,2:0"
    assert f["branch_hits"] == "2:1/2"
    assert (f["functions_valid"], f["functions_covered"]) == (1, 0)
