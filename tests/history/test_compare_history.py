"""What history adds to `aqe artifacts compare`: known-flaky new failures (marked, excludable from the
new_failures gate) and the base branch's trend chart in the markdown."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from aqe_ci.storage.store import Store
from tests.compare.compare_builders import cov_doc, cov_file, put, results_doc


def results_of(failing: tuple[str, ...] = ()) -> dict:
    return results_doc([{"name": n, "status": "failed" if n in failing else "passed"} for n in ("net", "real", "ok")])


def cov(covered: int) -> dict:
    return cov_doc({"a.py": cov_file({i: (1 if i <= covered else 0) for i in range(1, 101)})})


def fill(store: Store) -> None:
    """main: 10 runs, `net` fails in 3 of them; the PR head fails `net` and `real`."""
    for i in range(10):
        put(store, f"main-{i}", results_of(("net",) if i in (2, 5, 8) else ()), minutes=i, commit=f"{i + 1:040x}",
            branch="main")
        put(store, f"main-{i}", cov(70 + i), minutes=i, commit=f"{i + 1:040x}", branch="main")
    put(store, "head", results_of(("net", "real")), minutes=30, commit="a" * 40, branch="feature", base_branch="main")
    put(store, "head", cov(75), minutes=30, commit="a" * 40, branch="feature", base_branch="main")



@pytest.fixture
def env(aqe, store: Store, cli_config: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    fill(store)
    monkeypatch.setenv("AQE_CONFIG", str(cli_config))
    return aqe


def new_failures(out: str) -> dict[str, str | None]:
    return {f["name"]: f.get("known_flaky") for f in json.loads(out)["comparison"]["tests"]["new_failures"]}


def test_known_flaky_from_history(env) -> None:  # type: ignore[no-untyped-def]
    r = env("artifacts", "compare", "head", "--flaky-last", "10")
    assert r.code == 0, r.err
    nf = new_failures(r.out)
    assert nf["real"] is None and nf["net"].startswith("flipped 6 times")
    assert json.loads(r.out)["comparison"]["tests"]["new_failures_flaky"] == 1
    r = env("artifacts", "compare", "head", "--flaky-last", "10", "--fail-on", "new_failures>0", "--exclude-flaky")
    assert r.code == 6 and "new_failures>0 (1 new failures (1 of known-flaky tests not counted))" in r.err
    r = env("artifacts", "compare", "head", "--flaky-last", "10", "--fail-on", "new_failures>1", "--exclude-flaky")
    assert r.code == 0, r.err
    r = env("artifacts", "compare", "head", "--flaky-last", "10", "--fail-on", "new_failures>1")
    assert r.code == 6  # without --exclude-flaky every new failure counts


def test_known_flaky_from_a_quarantine_file(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    q = tmp_path / "quarantine.json"
    r = env("artifacts", "flaky", "--last", "10", "--output", str(q))
    assert r.code == 0, r.err
    assert [t["id"] for t in json.loads(q.read_text())["tests"]] == ["c::net"]
    r = env("artifacts", "compare", "head", "--known-flaky", str(q), "--format", "markdown")
    assert "1 new failure" not in r.out and "2 new failures (1 known flaky)" in r.out
    assert "New failures (2, 1 of known-flaky tests)" in r.out
    assert "failed (known flaky 🔁)" in r.out
    r = env("artifacts", "compare", "head", "--known-flaky", str(q), "--format", "table")
    assert "failed (known flaky)" in r.out
    r = env("artifacts", "compare", "head", "--known-flaky", str(tmp_path / "nope.json"))
    assert r.code == 4 and "known-flaky file" in r.err


def test_same_commit_rerun_marks_the_new_failure(env, store: Store) -> None:  # type: ignore[no-untyped-def]
    put(store, "head-rerun", results_of(("real",)), minutes=31, commit="a" * 40, branch="feature", base_branch="main")
    nf = new_failures(env("artifacts", "compare", "head").out)
    assert nf["real"] is None and "on the same commit" in nf["net"]


def test_trend_chart_in_the_comment(env) -> None:  # type: ignore[no-untyped-def]
    r = env("artifacts", "compare", "head", "--format", "markdown", "--trend-last", "5")
    assert r.code == 0, r.err
    chart = re.search(r"```mermaid\nxychart-beta\n(.*?)```", r.out, re.S).group(1)
    assert 'title "Line coverage (%) on main"' in chart
    xs = re.search(r"x-axis \[(.*)\]", chart).group(1).split(", ")
    ys = re.search(r"line \[(.*)\]", chart).group(1).split(", ")
    assert len(xs) == len(ys) == 6 and xs[-1] == '"this run"'
    assert ys == ["75", "76", "77", "78", "79", "75"]  # main's last 5 runs, then the head
    assert "📈 Line coverage \\(%\\) on main: the last 5 runs and this run" in r.out
    data = json.loads(env("artifacts", "compare", "head", "--trend-last", "5").out)["comparison"]["trend"]
    assert data["type"] == "coverage" and [p["key"] for p in data["points"]][-1] == "main-9"
    assert data["head"]["value"] == 75.0
    r = env("artifacts", "compare", "head", "--format", "markdown", "--trend-last", "0")
    assert "mermaid" not in r.out
    r = env("artifacts", "compare", "head", "--format", "table", "--trend-last", "5")
    assert "trend: Line coverage (%) on main, last 5 runs:" in r.out and "this run 75" in r.out


def test_trend_chart_is_shed_before_the_failures(env) -> None:  # type: ignore[no-untyped-def]
    r = env("artifacts", "compare", "head", "--format", "markdown", "--max-chars", "2000")
    assert len(r.out) <= 2001
    assert "New failures" in r.out
