"""``aqe execute`` installed on its own runs the project's tests in the project's environment.

aqe is installed, from a wheel of this checkout, in a virtualenv of its own that has no pytest (as
pipx, ``pip install --user`` or the container image install it); the project's environments are
other virtualenvs: pytest + pytest-cov, pytest + coverage.py, pytest alone. They are made once per
session without pip inside them (``pip --python``), from pip's cache where it has the wheels.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow

CALC = '''
def grade(score):
    if score >= 50:
        return "pass"
    return "fail"
'''
TESTS = '''
from calc import grade

def test_pass():
    assert grade(70) == "pass"

def test_broken():
    assert grade(10) == "pass", "the grading is off"
'''
# proves whether the project's tests ran at all
CONFTEST = '''
import pathlib, sys
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
pathlib.Path(__file__).resolve().parents[1].joinpath("tests-ran").write_text("yes")
'''


@dataclass(frozen=True)
class Envs:
    aqe: Path  # aqe's own virtualenv: no pytest
    project: Path  # pytest + pytest-cov
    coveragepy: Path  # pytest + coverage.py, no pytest-cov
    bare: Path  # pytest only

    def aqe_cmd(self) -> str:
        return str(self.aqe / "bin" / "aqe")


def _run(cmd: list[str], **kwargs: object) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL,
                          **kwargs)  # type: ignore[call-overload]
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"


def _venv(path: Path, *requirements: str) -> Path:
    """A virtualenv without pip, with ``requirements`` installed by this interpreter's pip."""
    _run([sys.executable, "-m", "venv", "--without-pip", str(path)])
    _run([sys.executable, "-m", "pip", "--python", str(path / "bin" / "python"), "install", "--no-compile",
          "--quiet", "--disable-pip-version-check", *requirements])
    return path


@pytest.fixture(scope="session")
def envs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Envs]:
    base = tmp_path_factory.mktemp("execute-envs")
    wheels = base / "wheels"
    # the optional C accelerators are skipped (CC=false): the pure-Python twins run, the build takes seconds
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--disable-pip-version-check",
          "-w", str(wheels), str(ROOT)], env={**os.environ, "CC": "false"})
    [wheel] = wheels.glob("aqe_artifacts-*.whl")
    with ThreadPoolExecutor(4) as pool:
        jobs = {
            "aqe": pool.submit(_venv, base / "aqe-venv", str(wheel)),
            "project": pool.submit(_venv, base / "project-venv", "pytest", "pytest-cov"),
            "coveragepy": pool.submit(_venv, base / "coveragepy-venv", "pytest", "coverage"),
            "bare": pool.submit(_venv, base / "bare-venv", "pytest"),
        }
        made = {name: job.result() for name, job in jobs.items()}
    yield Envs(**made)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "calc.py").write_text(CALC)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_calc.py").write_text(TESTS)
    (tmp_path / "tests" / "conftest.py").write_text(CONFTEST)
    (tmp_path / "empty-bin").mkdir()
    return tmp_path


def activated(venv: Path | None, *, path: list[Path], home: Path, **extra: str) -> dict[str, str]:
    """An environment as ``source VENV/bin/activate`` leaves it, with nothing else on PATH."""
    dirs = ([venv / "bin"] if venv else []) + path
    env = {"PATH": os.pathsep.join(map(str, dirs)), "HOME": str(home), "LANG": "C.UTF-8", **extra}
    if venv is not None:
        env["VIRTUAL_ENV"] = str(venv)
    return env


def aqe(envs: Envs, project: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([envs.aqe_cmd(), *args], cwd=project, env=env, capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL)


def stored_types(envs: Envs, project: Path, env: dict[str, str], key: str) -> dict[str, dict[str, object]]:
    got = aqe(envs, project, env, "artifacts", "get", key)
    assert got.returncode == 0, got.stderr
    return json.loads(got.stdout)["documents"]  # type: ignore[no-any-return]


def test_aqe_in_its_own_venv_runs_the_active_venvs_pytest_with_coverage(envs: Envs, project: Path) -> None:
    own = subprocess.run([str(envs.aqe / "bin" / "python"), "-c", "import pytest"], capture_output=True)
    assert own.returncode != 0  # aqe's interpreter really has no pytest
    env = activated(envs.project, path=[project / "empty-bin"], home=project)
    r = aqe(envs, project, env, "execute", "tests/", "--coverage", "--store-artifacts", "--artifact-key", "build-1")
    assert r.returncode == 1, r.stderr  # the tests' own exit code: one test fails
    python = envs.project / "bin" / "python"
    [line] = [x for x in r.stderr.splitlines() if x.startswith("aqe: running the tests with")]
    assert line.startswith(f"aqe: running the tests with {python} (Python 3.")
    assert ", pytest 9." in line or ", pytest 8." in line
    assert ", pytest-cov " in line and line.endswith(f"; the active virtualenv {envs.project})")
    assert "stored build-1/test_results/default: 1/2 passed, 1 failed" in r.stdout
    assert "stored build-1/coverage/default: lines" in r.stdout
    docs = stored_types(envs, project, env, "build-1")
    assert set(docs) == {"test_results", "coverage"}
    assert docs["test_results"]["data"]["failures"][0]["name"] == "test_broken"  # type: ignore[index]
    files = set(docs["coverage"]["data"]["files"])  # type: ignore[call-overload]
    assert "calc.py" in files
    assert (project / "coverage.xml").is_file()  # where the guide's GitLab coverage_report looks for it


def test_no_pytest_anywhere_is_one_clear_line(envs: Envs, project: Path) -> None:
    env = activated(None, path=[project / "empty-bin"], home=project)
    r = aqe(envs, project, env, "execute", "tests/", "--store-artifacts", "--artifact-key", "build-2")
    assert r.returncode == 2
    [line] = r.stderr.strip().splitlines()
    assert line.startswith("Error: pytest is not installed: no interpreter to run the tests with")
    assert f"aqe's own interpreter ({envs.aqe / 'bin' / 'python'}) has none" in line
    assert "python -m pip install pytest" in line and "--python PATH" in line
    assert "No module named pytest" not in r.stderr
    assert not (project / "tests-ran").exists() and not (project / ".qe-artifacts").exists()


def test_coverage_without_a_plugin_names_what_to_install(envs: Envs, project: Path) -> None:
    env = activated(envs.bare, path=[project / "empty-bin"], home=project)
    r = aqe(envs, project, env, "execute", "tests/", "--coverage", "--store-artifacts", "--artifact-key", "b3")
    assert r.returncode == 2
    [line] = [x for x in r.stderr.strip().splitlines() if x.startswith("Error:")]
    python = envs.bare / "bin" / "python"
    assert line == (f"Error: --coverage needs pytest-cov (or coverage.py) in the active virtualenv {envs.bare} "
                    f"({python}), which has neither — install it there: {python} -m pip install pytest-cov")
    assert not (project / "tests-ran").exists() and not (project / ".qe-artifacts").exists()


def test_coverage_py_is_used_when_pytest_cov_is_absent(envs: Envs, project: Path) -> None:
    env = activated(envs.coveragepy, path=[project / "empty-bin"], home=project)
    r = aqe(envs, project, env, "execute", "tests/", "--coverage", "--store-artifacts", "--artifact-key", "b4")
    assert r.returncode == 1, r.stderr
    assert f"{envs.coveragepy / 'bin' / 'python'} -m coverage run --branch -m pytest tests/" in r.stderr
    assert ", coverage.py " in r.stderr
    assert set(stored_types(envs, project, env, "b4")) == {"test_results", "coverage"}


def test_pytest_then_python_on_path_without_a_virtualenv(envs: Envs, project: Path) -> None:
    # pytest on PATH: its #! line names the interpreter
    env = activated(None, path=[envs.project / "bin"], home=project)
    r = aqe(envs, project, env, "execute", "tests/")
    assert r.returncode == 1, r.stderr
    assert f"; the interpreter of {envs.project / 'bin' / 'pytest'} on PATH)" in r.stderr
    # only a python3 on PATH (a wrapper, as version managers install): it is asked, and it has pytest
    wrappers = project / "wrappers"
    wrappers.mkdir()
    (wrappers / "python3").write_text(f'#!/bin/sh\nexec "{envs.bare / "bin" / "python"}" "$@"\n')
    (wrappers / "python3").chmod(0o755)
    r = aqe(envs, project, activated(None, path=[wrappers], home=project), "execute", "tests/")
    assert r.returncode == 1, r.stderr
    assert f"aqe: running the tests with {wrappers / 'python3'} (Python 3." in r.stderr
    assert "; python3 on PATH)" in r.stderr


def test_explicit_choice_wins_and_a_venv_without_pytest_is_passed_over(envs: Envs, project: Path) -> None:
    # AQE_EXECUTE_PYTHON beats the active virtualenv; a virtualenv folder is accepted
    env = activated(envs.bare, path=[project / "empty-bin"], home=project, AQE_EXECUTE_PYTHON=str(envs.project))
    r = aqe(envs, project, env, "execute", "tests/", "--coverage")
    assert r.returncode == 1, r.stderr
    assert f"aqe: running the tests with {envs.project / 'bin' / 'python'} " in r.stderr
    assert "; AQE_EXECUTE_PYTHON)" in r.stderr
    # the guide's GitLab example stores nothing itself: GitLab picks up ./coverage.xml (Cobertura)
    assert "<coverage" in (project / "coverage.xml").read_text() and not (project / ".qe-artifacts").exists()
    r = aqe(envs, project, env, "execute", "tests/", "--python", str(envs.aqe / "bin" / "python"))
    assert r.returncode == 2
    assert f"Error: --python {envs.aqe / 'bin' / 'python'} has no pytest" in r.stderr
    # the active virtualenv has no pytest (it is aqe's own): said, and the pytest on PATH runs
    env = activated(envs.aqe, path=[envs.project / "bin"], home=project)
    r = aqe(envs, project, env, "execute", "tests/")
    assert r.returncode == 1, r.stderr
    assert f"aqe: note: the active virtualenv {envs.aqe} ({envs.aqe / 'bin' / 'python'}) has no pytest" in r.stderr
    assert f"aqe: running the tests with {envs.project / 'bin' / 'python'} " in r.stderr
