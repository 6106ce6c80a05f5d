"""``aqe execute``: runs real tests in a subprocess, stores their reports, keeps their exit code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SAMPLE = '''
def add(a, b):
    return a + b

def test_adds():
    assert add(2, 3) == 5

def test_fails():
    assert add(2, 2) == 5, "math is broken"
'''


def aqe(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aqe_ci", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(cwd)})


def test_execute_pytest_stores_results_and_keeps_exit_code(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_sample.py").write_text(SAMPLE)
    r = aqe("execute", "--store-artifacts", "--artifact-key", "run-1", "--branch", "main", cwd=tmp_path)
    assert r.returncode == 1, r.stderr  # pytest's own exit code: a test failed
    assert "stored run-1/test_results/default: 1/2 passed, 1 failed" in r.stdout
    doc = json.loads(aqe("artifacts", "get", "run-1", "--type", "test_results", cwd=tmp_path).stdout)
    assert doc["data"]["failures"][0]["name"] == "test_fails"
    assert "math is broken" in doc["data"]["failures"][0]["message"]


def test_execute_command_after_dashes(tmp_path: Path, corpus: Path) -> None:
    src = corpus / "_generated-real-tools" / "pytest" / "pytest-xunit2.xml"
    script = f"mkdir -p out && cp {src} \"$AQE_REPORTS_DIR/r.xml\" && exit 3"
    r = aqe("execute", "--store-artifacts", "--key", "run-2", "--", "sh", "-c", script, cwd=tmp_path)
    assert r.returncode == 3, r.stderr
    assert "stored run-2/test_results/default" in r.stdout
    listed = json.loads(aqe("artifacts", "list", "--format", "json", cwd=tmp_path).stdout)
    assert [a["key"] for a in listed["artifacts"]] == ["run-2"]


def test_execute_without_store_only_runs(tmp_path: Path) -> None:
    r = aqe("execute", "--", "sh", "-c", "exit 0", cwd=tmp_path)
    assert r.returncode == 0 and not (tmp_path / ".qe-artifacts").exists()


def test_execute_no_reports_is_reported(tmp_path: Path) -> None:
    r = aqe("execute", "--store-artifacts", "--key", "k", "--", "sh", "-c", "exit 0", cwd=tmp_path)
    assert r.returncode == 7, r.stderr
    assert "Error: the tests exited with 0 and produced no report to store" in r.stderr
    assert "$AQE_REPORTS_DIR" in r.stderr and not (tmp_path / ".qe-artifacts").exists()


def test_execute_bad_report_is_our_exit_code(tmp_path: Path) -> None:
    """Storing failed: the exit code is ours (7, invalid input), and the tests' code is printed."""
    r = aqe("execute", "--store-artifacts", "--key", "k", "--", "sh", "-c",
            'echo "<testsuite><testcase" > "$AQE_REPORTS_DIR/bad.xml"; exit 1', cwd=tmp_path)
    assert r.returncode == 7 and "bad.xml" in r.stderr and "malformed" in r.stderr
    assert "aqe: tests exited with 1" in r.stderr
    assert not (tmp_path / ".qe-artifacts" / "runs").exists()


def test_execute_command_not_found_could_not_start(tmp_path: Path) -> None:
    r = aqe("execute", "--store-artifacts", "--key", "k", "--", "no-such-test-runner", "--ci", cwd=tmp_path)
    assert r.returncode == 2 and "Error: command not found: no-such-test-runner" in r.stderr
    assert not (tmp_path / ".qe-artifacts").exists()


def test_pytest_that_dies_before_any_report_is_not_a_success(tmp_path: Path) -> None:
    """pytest exits 0 without writing its JUnit XML (a conftest ends the process): exit 7, nothing stored."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_ok.py").write_text("def test_ok():\n    pass\n")
    (tmp_path / "tests" / "conftest.py").write_text("import os\n\ndef pytest_collection_finish(session):\n"
                                                   "    os._exit(0)\n")
    r = aqe("execute", "tests", "--store-artifacts", "--key", "k", cwd=tmp_path)
    assert r.returncode == 7, r.stderr
    assert "Error: the tests exited with 0 (all tests passed) and produced no report to store" in r.stderr
    assert not (tmp_path / ".qe-artifacts").exists()


def test_pytest_that_cannot_start_is_exit_2(tmp_path: Path) -> None:
    """A usage error in the project's pytest config stops pytest before it writes a report."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_ok.py").write_text("def test_ok():\n    pass\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = --no-such-option\n")
    r = aqe("execute", "tests", "--store-artifacts", "--key", "k", cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert "Error: the tests could not start: pytest exited with 4 (command line usage error)" in r.stderr
    assert not (tmp_path / ".qe-artifacts").exists()


def test_options_of_the_default_run_with_a_command_are_usage_errors(tmp_path: Path) -> None:
    for opt in (["--coverage"], ["--python", sys.executable]):
        r = aqe("execute", *opt, "--", "sh", "-c", "touch ran", cwd=tmp_path)
        assert r.returncode == 2 and f"Error: {opt[0]} " in r.stderr, r.stderr
        assert not (tmp_path / "ran").exists()


def test_execute_with_metadata_branch_and_pr(tmp_path: Path, corpus: Path) -> None:
    """The guide's GitHub example, run outside CI: the metadata's branch and PR are the run's."""
    src = corpus / "_generated-real-tools" / "pytest" / "pytest-xunit2.xml"
    r = aqe("execute", "--store-artifacts", "--artifact-key", "build-1", "--metadata",
            '{"branch": "feature-x", "pr": "17"}', "--", "sh", "-c", f'cp {src} "$AQE_REPORTS_DIR/r.xml"',
            cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    [a] = json.loads(aqe("artifacts", "list", "--format", "json", cwd=tmp_path).stdout)["artifacts"]
    assert (a["key"], a["branch"], a["pr"]) == ("build-1", "feature-x", 17)


def test_no_pytest_in_a_container_says_what_to_do_instead(tmp_path: Path) -> None:
    from aqe_ci.app.execute import Interpreter, in_container, no_pytest_error

    (tmp_path / "run").mkdir()
    assert not in_container(str(tmp_path))
    (tmp_path / "run" / ".containerenv").write_text("")
    assert in_container(str(tmp_path))
    err = no_pytest_error([Interpreter("/opt/aqe/bin/python3", "python3 on PATH")], container=True)
    line = err.one_line()
    assert line.startswith("pytest is not installed: no interpreter to run the tests with "
                           "(python3 on PATH (/opt/aqe/bin/python3) has none)")
    assert "python -m pip install pytest" in line and "--python PATH" in line
    assert "run a command the image has after --" in line and "files:" in line and err.exit_code == 2
    assert "image" not in no_pytest_error([Interpreter("/usr/bin/python3", "python3 on PATH")]).one_line()
