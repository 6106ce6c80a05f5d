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
    assert r.returncode == 7 and "no reports" in r.stderr


def test_execute_bad_report_keeps_test_failure_code(tmp_path: Path) -> None:
    r = aqe("execute", "--store-artifacts", "--key", "k", "--", "sh", "-c",
            'echo "<testsuite><testcase" > "$AQE_REPORTS_DIR/bad.xml"; exit 1', cwd=tmp_path)
    assert r.returncode == 1 and "bad.xml" in r.stderr and "malformed" in r.stderr
    assert not (tmp_path / ".qe-artifacts" / "runs").exists()
