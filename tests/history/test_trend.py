"""`aqe artifacts trend`: points from manifest summaries only, parts combined, every format."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from aqe_ci.app.trend import collect_runs, trend
from aqe_ci.errors import UsageError
from aqe_ci.storage.store import Store
from tests.compare.compare_builders import cov_doc, cov_file, finding, put, results_doc, sec_doc
from tests.storage.counting import CountingBackend


def cov(covered: int, valid: int = 100, name: str = "a.py") -> dict:
    return cov_doc({name: cov_file({i: (1 if i <= covered else 0) for i in range(1, valid + 1)})})


def fill(store: Store) -> None:
    for i in range(12):
        put(store, f"main-{i:02d}", cov(60 + i), minutes=10 * i, commit=f"{i:040x}", branch="main")
        put(store, f"main-{i:02d}", results_doc([{"name": "a", "status": "failed" if i % 3 == 0 else "passed"},
                                                 {"name": "b", "status": "passed"}]),
            minutes=10 * i, commit=f"{i:040x}", branch="main")
        put(store, f"feat-{i:02d}", cov(30), minutes=10 * i + 5, commit=f"{i + 100:040x}", branch="feature")
    # a matrix run: two coverage parts and two security parts under one key, written 20 minutes apart
    put(store, "matrix", cov(50, 100, "x.py"), minutes=200, commit="f" * 40, branch="main", part="linux")
    put(store, "matrix", cov(90, 100, "y.py"), minutes=220, commit="f" * 40, branch="main", part="windows")
    put(store, "matrix", sec_doc([finding("1", "high"), finding("2", "low")]), minutes=200, commit="f" * 40,
        branch="main", part="linux")
    put(store, "matrix", sec_doc([finding("3", "high")]), minutes=221, commit="f" * 40, branch="main",
        part="windows")


def test_trend_points_come_from_summaries_without_payload_reads(store: Store, counting: CountingBackend) -> None:
    fill(store)
    counting.reset()
    t = trend(store, doc_type="coverage", branch="main", last=5)
    assert counting.calls["open"] == 0  # no payload read
    assert counting.calls["get_bytes"] == 0  # the index cards carried every summary
    assert counting.calls["list"] == 1
    assert [p.key for p in t.points] == ["main-08", "main-09", "main-10", "main-11", "matrix"]
    assert [p.values["line_rate"] for p in t.points[:4]] == [68.0, 69.0, 70.0, 71.0]
    m = t.points[-1]
    assert m.parts == 2 and m.values["lines_valid"] == 200 and m.values["lines_covered"] == 140
    assert m.values["line_rate"] == 70.0 and m.values["branch_rate"] is None
    assert t.stats() == {"metric": "line_rate", "first": 68.0, "last": 70.0, "change": 2.0, "min": 68.0,
                         "max": 71.0}


def test_trend_of_tests_and_security(store: Store) -> None:
    fill(store)
    tests = trend(store, doc_type="test_results", branch="main", last=30)
    assert len(tests.points) == 12
    assert tests.series("failed") == [1 if i % 3 == 0 else 0 for i in range(12)]
    assert tests.points[0].values["tests_run"] == 2
    sec = trend(store, doc_type="security", last=30)
    [p] = sec.points
    assert (p.values["high"], p.values["low"], p.values["total"], p.parts) == (2, 1, 3, 2)


def test_trend_all_branches_and_exclusions(store: Store) -> None:
    fill(store)
    t = trend(store, doc_type="coverage", last=3, exclude=["matrix"])
    assert [p.key for p in t.points] == ["feat-10", "main-11", "feat-11"]


def test_collect_runs_keeps_late_parts_inside_the_window() -> None:
    from aqe_ci.storage.layout import Entry

    hour = 3_600_000

    def e(key: str, ms: int, part: str = "default") -> Entry:
        return Entry(key=key, type="coverage", part=part, created_ms=ms)

    newest_first = [e("r3", 10 * hour), e("r2", 9 * hour), e("r3", 9 * hour - 1, "b"), e("r1", 8 * hour),
                    e("r2", 8 * hour + 1, "b"), e("r2", 7 * hour - 1, "c")]
    runs = collect_runs(newest_first, 2)
    assert [[x.part for x in r] for r in runs] == [["default", "b"], ["default", "b"]]


def test_last_is_bounded(store: Store) -> None:
    with pytest.raises(UsageError):
        trend(store, doc_type="coverage", last=0)


def test_cli_formats(aqe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: Store, cli_config: Path) -> None:
    fill(store)
    put(store, "evil", cov(10), minutes=500, commit="e" * 40, branch="=HYPERLINK(\"x\")\x1b[31m<b>")
    monkeypatch.setenv("AQE_CONFIG", str(cli_config))
    r = aqe("artifacts", "trend", "--type", "coverage", "--branch", "main", "--last", "4", "--format", "json")
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert data["count"] == 4 and data["points"][-1]["key"] == "matrix" and data["metrics"][0] == "line_rate"
    r = aqe("artifacts", "trend", "--type", "coverage", "--last", "3", "--format", "csv")
    rows = list(csv.reader(io.StringIO(r.out)))
    assert rows[0][:4] == ["created_at", "key", "commit", "branch"]
    assert rows[-1][1] == "evil" and rows[-1][3].startswith("'=HYPERLINK")  # no formula for a spreadsheet
    r = aqe("artifacts", "trend", "--type", "coverage", "--last", "3")
    assert r.code == 0 and "\x1b" not in r.out and "line_rate:" in r.out
    out = tmp_path / "t.md"
    r = aqe("artifacts", "trend", "--type", "coverage", "--branch", "main", "--format", "markdown", "-o", str(out))
    md = out.read_text()
    assert "```mermaid\nxychart-beta" in md and md.count("| `main-") == 12
    r = aqe("artifacts", "trend", "--type", "coverage", "--last", "2", "--format", "markdown")
    assert "<b>" not in r.out and "&lt;b&gt;" in r.out
    r = aqe("artifacts", "trend", "--type", "coverage", "--branch", "nope")
    assert r.code == 0 and "no coverage runs on nope" in r.out


def test_trend_and_report_on_s3(s3_bucket, aqe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """The same through real boto3 against the moto S3 server: one listing, no payload read for trend."""
    from aqe_ci.storage.factory import build_backend

    s3 = s3_bucket()
    counting = CountingBackend(build_backend("s3", s3))
    store = Store(counting)
    fill(store)
    counting.reset()
    t = trend(store, doc_type="coverage", branch="main", last=5)
    assert [p.key for p in t.points][-1] == "matrix" and counting.calls["list"] == 1
    assert counting.calls["open"] == counting.calls["get_bytes"] == 0
    cfg = tmp_path / "s3.json"
    cfg.write_text(json.dumps({"backend": "s3", "s3": s3}))
    monkeypatch.setenv("AQE_CONFIG", str(cfg))
    r = aqe("artifacts", "trend", "--type", "security", "--format", "json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["points"][0]["total"] == 3
    r = aqe("artifacts", "report", "--html", str(tmp_path / "site"), "--last", "5")
    assert r.code == 0, r.err
    assert (tmp_path / "site" / "runs" / "matrix.html").is_file()
