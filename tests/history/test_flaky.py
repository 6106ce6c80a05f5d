"""Flaky tests from history: the pure detector, the use case over a real store, the quarantine file
read by a real pytest run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from aqe_ci.app.flaky import find_flaky, load_quarantine
from aqe_ci.compare.flaky import FlakyDetector, RunRef
from aqe_ci.compare.testindex import Rec
from aqe_ci.errors import InvalidInputError, NotFoundError
from aqe_ci.storage.store import Store
from tests.compare.compare_builders import put, results_doc


def rec(name: str, status: str, retried: bool = False) -> tuple[tuple, Rec]:
    return ("s", "c", name, ""), Rec("s", "c", name, None, status, 0.1, retried)


def run(i: int, *, commit: str | None = None, branch: str = "main", part: str = "default") -> RunRef:
    return RunRef(key=f"r{i}", part=part, commit=commit or f"{i:040x}", branch=branch, created_ms=i * 1000,
                  created_at=f"2026-01-01T00:00:{i:02d}.000Z")


def test_same_commit_pass_and_fail_is_flaky() -> None:
    d = FlakyDetector(default_branch="main", shared_commits={"a" * 40})
    d.add(run(1, commit="a" * 40, branch="feature"), [rec("x", "failed"), rec("y", "passed")])
    d.add(run(2, commit="a" * 40, branch="feature"), [rec("x", "passed"), rec("y", "passed")])
    [t] = d.result()
    assert (t.name, t.reasons, t.commits, t.runs, t.failed) == ("x", ("same-commit",), ("a" * 40,), 2, 1)
    assert [(o.key, o.status) for o in t.evidence] == [("r2", "passed"), ("r1", "failed")]
    assert t.describe() == "passed and failed on the same commit (aaaaaaaaaaaa)"


def test_retries_within_a_run() -> None:
    d = FlakyDetector(default_branch="main")
    d.add(run(1), [rec("x", "flaky", retried=True), rec("y", "passed")])
    [t] = d.result()
    assert t.reasons == ("retries",) and t.evidence[0].retried


def flips(seq: str, *, threshold: float = 0.1, min_runs: int = 5) -> list:
    d = FlakyDetector(default_branch="main", threshold=threshold, min_runs=min_runs)
    for i, ch in enumerate(seq):
        d.add(run(i), [rec("x", {"p": "passed", "f": "failed", "s": "skipped"}[ch])])
    return d.result()


def test_flip_rate_on_the_default_branch() -> None:
    [t] = flips("ppfpppfpppppfppppppp")  # 3 flakes in 20 runs: 6 flips / 19 transitions
    assert t.reasons == ("flip-rate",) and t.flips == 6 and t.flip_rate == pytest.approx(6 / 19, abs=1e-4)
    assert flips("p" * 30 + "ffff" + "p" * 16) == []  # broken once, fixed once: 2 flips in 50 runs
    assert flips("ppfpp", min_runs=6) == []  # too few runs to judge
    assert flips("pfsssssspp") == flips("pfpp")  # skipped runs are not observations
    assert flips("pfpfpfpfpf", threshold=1.0)[0].flip_rate == 1.0


def test_flips_are_counted_per_part_and_only_on_the_default_branch() -> None:
    d = FlakyDetector(default_branch="main")
    for i in range(10):  # one leg always fails, the other always passes: no flip within a leg
        d.add(run(2 * i, part="linux"), [rec("x", "passed")])
        d.add(run(2 * i + 1, part="windows"), [rec("x", "failed")])
    assert d.result() == []
    d = FlakyDetector(default_branch="main")
    for i in range(10):
        d.add(run(i, branch="feature"), [rec("x", "passed" if i % 2 else "failed")])
    assert d.result() == []


def fill(store: Store) -> None:
    """main: `net` flakes 3 times in 12 runs; `io` fails and passes on one commit (a rerun); `solid` never fails,
    `broken` fails on every run. A feature branch reruns its commit: `ui` flips there."""
    for i in range(12):
        tests = [{"name": "net", "status": "failed" if i in (2, 6, 9) else "passed"},
                 {"name": "solid", "status": "passed"}, {"name": "broken", "status": "failed"},
                 {"name": "io", "status": "failed" if i == 4 else "passed"}]
        put(store, f"main-{i:02d}", results_doc(tests), minutes=10 * i, commit=f"{i:040x}", branch="main")
    put(store, "main-04-rerun", results_doc([{"name": "io", "status": "passed"}]), minutes=45,
        commit=f"{4:040x}", branch="main")
    put(store, "pr-1", results_doc([{"name": "ui", "status": "failed"}]), minutes=200, commit="b" * 40,
        branch="feature")
    put(store, "pr-1-rerun", results_doc([{"name": "ui", "status": "passed"}]), minutes=210, commit="b" * 40,
        branch="feature")


def test_find_flaky_over_the_store(store: Store) -> None:
    fill(store)
    report = find_flaky(store, last=50, branch="main")
    by_name = {t.name: t for t in report.tests}
    assert set(by_name) == {"net", "io", "ui"}
    assert by_name["net"].reasons == ("flip-rate",) and by_name["net"].flips == 6
    assert by_name["io"].reasons == ("same-commit", "flip-rate") and by_name["io"].commits == (f"{4:040x}",)
    assert by_name["ui"].reasons == ("same-commit",)
    assert report.runs_read == 15
    js = report.as_json()
    assert js["version"] == 1 and js["tests"][0]["id"] == "c::net"
    assert {"key", "commit", "status", "created_at"} <= set(js["tests"][0]["evidence"][0])


def test_window_takes_the_last_runs(store: Store) -> None:
    fill(store)
    report = find_flaky(store, last=3, branch="main")
    assert report.runs_read <= 6  # last 3 on main + last 3 anywhere


def test_quarantine_file_errors(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        load_quarantine(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"tests": [1]}')
    with pytest.raises(InvalidInputError, match=r"\$\.tests"):
        load_quarantine(bad)


CONFTEST = '''\
import json, pathlib, re
import pytest

_FILE = pathlib.Path(__file__).with_name("quarantine.json")
_IDS = {t["id"] for t in json.loads(_FILE.read_text())["tests"]} if _FILE.exists() else set()


def pytest_collection_modifyitems(items):
    for item in items:
        path, bracket, params = item.nodeid.partition("[")
        names = path.split("::")
        names[0] = re.sub(r"\\.py$", "", names[0].replace("/", "."))
        names[-1] += bracket + params
        if ".".join(names[:-1]) + "::" + names[-1] in _IDS:
            item.add_marker(pytest.mark.xfail(reason="quarantined: flaky in the stored history", strict=False))
'''
FLAKY_TESTS = '''\
import os

def test_net():
    assert os.environ.get("NET_OK") == "1"

def test_solid():
    assert os.sep in "/\\\\"
'''


def test_quarantine_file_is_read_by_a_real_pytest_run(aqe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      cli_config: Path) -> None:
    """pytest's JUnit → stored runs (test_net flips) → `aqe artifacts flaky -o` → a conftest quarantines it."""
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "test_mod.py").write_text(FLAKY_TESTS)
    monkeypatch.setenv("AQE_CONFIG", str(cli_config))
    for ok in "01":  # one real pytest JUnit report of each outcome, stored as the runs' reports
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        f"--junitxml={tmp_path / f'junit-{ok}.xml'}", "test_mod.py"], cwd=proj,
                       env={"NET_OK": ok, "PATH": "/usr/bin:/bin"}, capture_output=True)
    for i, ok in enumerate("1101101111"):
        r = aqe("artifacts", "store", "--file", str(tmp_path / f"junit-{ok}.xml"), "--key", f"run-{i}", "--branch", "main",
                "--commit", f"{i:040x}")
        assert r.code == 0, r.err
    out = tmp_path / "quarantine.json"
    r = aqe("artifacts", "flaky", "--last", "10", "--output", str(out))
    assert r.code == 0, r.err
    assert "test_net" in r.out and "test_solid" not in r.out
    ids = [t["id"] for t in json.loads(out.read_text())["tests"]]
    assert ids == ["test_mod::test_net"]
    (proj / "quarantine.json").write_text(out.read_text())
    (proj / "conftest.py").write_text(CONFTEST)
    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rx", "test_mod.py"],
                         cwd=proj, env={"NET_OK": "0", "PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout
    assert "1 passed, 1 xfailed" in res.stdout and "quarantined" in res.stdout
