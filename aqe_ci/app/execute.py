"""The ``execute`` use case: run the project's tests with the project's own test runner and collect the
reports they wrote (storing them is :func:`aqe_ci.app.store.store_run`).

aqe is usually installed on its own (pipx, ``pip install --user``, a separate virtualenv, the
container image), so its interpreter is rarely the one that has the project's pytest and plugins.
Without a command after ``--``, the interpreter that runs ``python -m pytest`` is, in order:

1. ``--python PATH`` / ``AQE_EXECUTE_PYTHON`` (an interpreter, or a virtualenv folder);
2. the active virtualenv (``$VIRTUAL_ENV``);
3. the interpreter of the ``pytest`` on ``PATH`` (read from its ``#!`` line);
4. ``python3``, then ``python``, on ``PATH``;
5. aqe's own interpreter.

The first that has pytest runs the tests (an explicit choice must have it). ``--coverage`` uses that
interpreter's pytest-cov, else its coverage.py; neither is a usage error naming what to install.
Each candidate is asked once, by a short ``python -c`` probe, which versions it has.

Outcomes (:class:`Execution`): the tests' own exit code when they ran; :class:`CouldNotStart` (exit 2)
when no runner or plugin was found or the command could not be started; :func:`nothing_produced`
(exit 2 when the run died before it could write a report, else 7) when storing was asked for and no
report was written.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aqe_ci.errors import EXIT_USAGE, AqeError, InvalidInputError, UsageError

ENV_PYTHON = "AQE_EXECUTE_PYTHON"
REPORTS_ENV = "AQE_REPORTS_DIR"
JUNIT_NAME = "junit.xml"
COVERAGE_NAME = "coverage.xml"
PROBE_TIMEOUT = 60

#: run by each candidate interpreter: which Python, pytest, pytest-cov and coverage.py it has
PROBE = """\
import sys
sys.path[:] = [p for p in sys.path if p not in ("", ".")]  # the project's own modules must not shadow these
import json
from importlib import util
try:
    from importlib import metadata
except ImportError:
    metadata = None
def v(dist, mod):
    if util.find_spec(mod) is None:
        return None
    try:
        return metadata.version(dist)
    except Exception:
        return "unknown version"
print(json.dumps({"executable": sys.executable, "python": "%d.%d.%d" % tuple(sys.version_info[:3]),
                  "pytest": v("pytest", "pytest"), "pytest_cov": v("pytest-cov", "pytest_cov"),
                  "coverage": v("coverage", "coverage")}))
"""

#: pytest's exit codes (https://docs.pytest.org/en/stable/reference/exit-codes.html)
PYTEST_CODES = {0: "all tests passed", 1: "some tests failed", 2: "interrupted", 3: "internal error",
                4: "command line usage error", 5: "no tests collected"}


class CouldNotStart(AqeError):
    """The tests could not be started: no runner, no coverage plugin, the command is missing."""

    exit_code = EXIT_USAGE


class NoReports(InvalidInputError):
    """The tests ran and wrote no report, so there is nothing to store (exit 7)."""


@dataclass(frozen=True)
class Interpreter:
    """A Python interpreter that may run the tests, and what it has (None: it has not)."""

    path: str
    origin: str  # how it was found: "--python", "the active virtualenv", "python3 on PATH", ...
    python: str | None = None
    pytest: str | None = None
    pytest_cov: str | None = None
    coverage: str | None = None
    error: str | None = None  # why it could not be asked

    def where(self) -> str:
        return f"{self.origin} ({self.path})"


@dataclass(frozen=True)
class Runner:
    """The interpreter chosen to run pytest, the coverage tool it uses, and the ones passed over."""

    interpreter: Interpreter
    coverage_tool: str | None = None  # "pytest-cov" | "coverage.py"
    passed_over: tuple[Interpreter, ...] = ()

    def describe(self) -> str:
        """One line: which interpreter, which pytest (and coverage tool), and why this one."""
        i = self.interpreter
        tools = f"pytest {i.pytest}"
        if self.coverage_tool == "pytest-cov":
            tools += f", pytest-cov {i.pytest_cov}"
        elif self.coverage_tool == "coverage.py":
            tools += f", coverage.py {i.coverage}"
        return f"aqe: running the tests with {i.path} (Python {i.python}, {tools}; {i.origin})"


# -- finding the runner ---------------------------------------------------------------------------
def _which(name: str, environ: Mapping[str, str]) -> str | None:
    return shutil.which(name, path=environ.get("PATH", os.defpath))


def _venv_python(folder: str) -> str:
    root = Path(folder)
    for rel in (("bin", "python"), ("bin", "python3"), ("Scripts", "python.exe")):
        candidate = root.joinpath(*rel)
        if candidate.exists():
            return str(candidate)
    return str(root / "bin" / "python")


_DISTLIB_EXEC = re.compile(rb"^'''exec' (?:\"([^\"]+)\"|(\S+)) ")


def script_interpreter(script: str, environ: Mapping[str, str]) -> str | None:
    """The Python interpreter a console script (such as ``pytest``) runs with, read from its ``#!``
    line (``#!/venv/bin/python``, ``#!/usr/bin/env python3``, or pip's ``#!/bin/sh`` + ``'''exec'``
    form for long paths); None for anything else (a shell wrapper such as a pyenv shim)."""
    try:
        with open(script, "rb") as f:
            head = f.read(2048)
    except OSError:
        return None
    if not head.startswith(b"#!"):
        return None
    lines = head.split(b"\n")
    words = lines[0][2:].decode("utf-8", "replace").split()
    if not words:
        return None
    prog = os.path.basename(words[0])
    if prog == "env":
        args = [w for w in words[1:] if not w.startswith("-")]
        return _which(args[0], environ) if args and args[0].startswith("python") else None
    if prog.startswith("python"):
        return words[0]
    if prog in ("sh", "bash") and len(lines) > 1:
        m = _DISTLIB_EXEC.match(lines[1])
        if m:
            return (m.group(1) or m.group(2)).decode("utf-8", "replace")
    return None


def candidates(environ: Mapping[str, str], own: str) -> list[tuple[str, str]]:
    """(interpreter path, how it was found) in the order they are tried; duplicates dropped."""
    found: list[tuple[str, str]] = []
    venv = environ.get("VIRTUAL_ENV")
    if venv:
        found.append((_venv_python(venv), f"the active virtualenv {venv}"))
    pytest_script = _which("pytest", environ)
    if pytest_script:
        interp = script_interpreter(pytest_script, environ)
        if interp:
            found.append((interp, f"the interpreter of {pytest_script} on PATH"))
    for name in ("python3", "python"):
        path = _which(name, environ)
        if path:
            found.append((path, f"{name} on PATH"))
    found.append((own, "aqe's own interpreter"))
    seen: set[str] = set()
    unique = []
    for path, origin in found:
        key = os.path.abspath(path)
        if key not in seen:
            seen.add(key)
            unique.append((path, origin))
    return unique


def probe(path: str, origin: str, environ: Mapping[str, str]) -> Interpreter:
    """Ask ``path`` which Python, pytest, pytest-cov and coverage.py it has."""
    try:
        proc = subprocess.run([path, "-c", PROBE], env=dict(environ), capture_output=True, text=True,
                              timeout=PROBE_TIMEOUT, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        return Interpreter(path, origin, error="no such file")
    except PermissionError:
        return Interpreter(path, origin, error="not executable")
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Interpreter(path, origin, error=f"cannot be run ({type(exc).__name__})")
    lines = proc.stdout.strip().splitlines()
    try:
        info = json.loads(lines[-1]) if proc.returncode == 0 and lines else None
    except json.JSONDecodeError:
        info = None
    if not isinstance(info, dict):
        last = (proc.stderr.strip().splitlines() or ["no answer"])[-1][:160]
        return Interpreter(path, origin, error=f"is not a working Python interpreter ({last})")
    return Interpreter(path, origin, python=info.get("python"), pytest=info.get("pytest"),
                       pytest_cov=info.get("pytest_cov"), coverage=info.get("coverage"))


def _explicit(path: str, origin: str, environ: Mapping[str, str]) -> Interpreter:
    if Path(path).is_dir():
        path = _venv_python(path)
    interp = probe(path, origin, environ)
    if interp.error:
        raise CouldNotStart(f"{origin} {path}: {interp.error}",
                            hint="name the project's Python interpreter or virtualenv folder")
    if not interp.pytest:
        raise CouldNotStart(f"{origin} {path} has no pytest", hint=f"install it there: {path} -m pip install pytest")
    return interp


def resolve_runner(environ: Mapping[str, str], *, explicit: tuple[str, str] | None = None,
                   coverage: bool = False, own: str = sys.executable) -> Runner:
    """The interpreter that runs pytest (see the module docstring). ``explicit`` is (path, where it was
    given: ``--python`` or ``AQE_EXECUTE_PYTHON``). Raises :class:`CouldNotStart` naming what to install."""
    if explicit is not None:
        interp = _explicit(explicit[0], explicit[1], environ)
        return Runner(interp, _coverage_tool(interp, coverage))
    tried: list[Interpreter] = []
    for path, origin in candidates(environ, own):
        interp = probe(path, origin, environ)
        if interp.pytest:
            return Runner(interp, _coverage_tool(interp, coverage), tuple(tried))
        tried.append(interp)
    raise no_pytest_error(tried, container=in_container())


def in_container(root: str = "/") -> bool:
    """Running inside a container (Docker's ``/.dockerenv``, Podman's ``/run/.containerenv``)?"""
    return any(os.path.exists(os.path.join(root, marker)) for marker in (".dockerenv", "run/.containerenv"))


def no_pytest_error(tried: Sequence[Interpreter], *, container: bool = False) -> CouldNotStart:
    """No candidate has pytest: one line naming where it looked and what to install."""
    looked = "; ".join(f"{i.where()} {i.error or 'has none'}" for i in tried)
    usable = [i for i in tried if not i.error]
    target = usable[0].path if usable and usable[0].origin.startswith("the active virtualenv") else "python"
    hint = (f"install pytest into the project's environment ({target} -m pip install pytest) and activate it, "
            f"or name its interpreter with --python PATH ({ENV_PYTHON})")
    if container:
        hint += ("; in a container image without the project's environment (such as aqe's own), run a command "
                 "the image has after --, or run the tests in an earlier step and store their reports "
                 "(`aqe artifacts store --file`, the action's files:)")
    return CouldNotStart(f"pytest is not installed: no interpreter to run the tests with ({looked})", hint=hint)


def _coverage_tool(interp: Interpreter, wanted: bool) -> str | None:
    if not wanted:
        return None
    if interp.pytest_cov:
        return "pytest-cov"
    if interp.coverage:
        return "coverage.py"
    raise CouldNotStart(f"--coverage needs pytest-cov (or coverage.py) in {interp.where()}, which has neither",
                        hint=f"install it there: {interp.path} -m pip install pytest-cov")


# -- what runs --------------------------------------------------------------------------------------
def pytest_commands(runner: Runner, target: str, reports: Path) -> list[list[str]]:
    """The commands of a default run: pytest writing JUnit XML (and Cobertura XML with --coverage);
    with coverage.py (no pytest-cov), ``coverage run -m pytest`` then ``coverage xml``."""
    py = runner.interpreter.path
    junit = [f"--junitxml={reports / JUNIT_NAME}", "-o", "junit_family=xunit2"]
    if runner.coverage_tool == "pytest-cov":
        return [[py, "-m", "pytest", target, *junit, "--cov", "--cov-branch", "--cov-report=term",
                 f"--cov-report=xml:{reports / COVERAGE_NAME}"]]
    if runner.coverage_tool == "coverage.py":
        return [[py, "-m", "coverage", "run", "--branch", "-m", "pytest", target, *junit],
                [py, "-m", "coverage", "xml", "-q", "-o", str(reports / COVERAGE_NAME)]]
    return [[py, "-m", "pytest", target, *junit]]


@dataclass
class Execution:
    """What a run did: the tests' exit code and the report files it left."""

    exit_code: int
    reports: list[str] = field(default_factory=list)
    default_run: bool = True
    coverage_report: Path | None = None  # the Cobertura XML of a --coverage run, when it was written

    def meaning(self) -> str:
        if self.exit_code < 0:
            return f"{self.exit_code} (killed by signal {-self.exit_code})"
        if self.default_run and self.exit_code in PYTEST_CODES:
            return f"{self.exit_code} ({PYTEST_CODES[self.exit_code]})"
        return str(self.exit_code)


def run_command(cmd: Sequence[str], environ: Mapping[str, str], *, stdout: int | None = None) -> int:
    """Run one command with the terminal's stdout/stderr (``stdout``: a file descriptor instead, such
    as 2 when our own stdout carries JSON); CouldNotStart when it cannot be started."""
    try:
        return subprocess.run(list(cmd), env=dict(environ), stdout=stdout).returncode
    except FileNotFoundError:
        raise CouldNotStart(f"command not found: {cmd[0]}", hint="check the command after --, or install it") from None
    except PermissionError:
        raise CouldNotStart(f"cannot run {cmd[0]}: permission denied") from None
    except OSError as exc:
        raise CouldNotStart(f"cannot run {cmd[0]}: {exc.strerror or exc}") from None


def run_tests(commands: Sequence[Sequence[str]], reports: Path, environ: Mapping[str, str], *,
              default_run: bool, patterns: Sequence[str] = (),
              say: Callable[[str], None] = lambda _text: None, stdout: int | None = None) -> Execution:
    """Run ``commands`` in order (the first is the tests; its exit code is the run's), with
    ``$AQE_REPORTS_DIR`` set to ``reports``; collect what landed there plus ``patterns``. ``stdout``:
    where the commands' standard output goes (a file descriptor; default ours)."""
    env = {**environ, REPORTS_ENV: str(reports)}
    say(f"aqe: running {shlex.join(commands[0])}")
    rc = run_command(commands[0], env, stdout=stdout)
    for extra in commands[1:]:
        if run_command(extra, env, stdout=stdout) != 0:
            say(f"aqe: {shlex.join(extra[1:4])} failed")
    cov = reports / COVERAGE_NAME
    return Execution(exit_code=rc, reports=collect_reports(reports, patterns), default_run=default_run,
                     coverage_report=cov if cov.is_file() else None)


def collect_reports(reports_dir: Path, patterns: Sequence[str]) -> list[str]:
    """Every file written into the reports folder, then the ``--report`` globs (expanded when stored)."""
    found = [str(p) for p in sorted(reports_dir.rglob("*")) if p.is_file() and not p.name.startswith(".")]
    return found + list(patterns)


def nothing_produced(execution: Execution) -> AqeError:
    """The error for a run that was to be stored and left no report: it could not start, or ran and
    wrote nothing. Never a silent success."""
    rc = execution.exit_code
    if execution.default_run and rc in (3, 4):
        return CouldNotStart(f"the tests could not start: pytest exited with {execution.meaning()} before "
                             "writing a report", hint="see pytest's message above; nothing was stored")
    if not execution.default_run and rc in (126, 127):
        return CouldNotStart(f"the tests could not start: the command exited with {rc} (not found or not "
                             "executable) and wrote no report", hint="nothing was stored")
    hint = "nothing was stored"
    if not execution.default_run:
        hint = "write the reports into $AQE_REPORTS_DIR or name them with --report; " + hint
    return NoReports(f"the tests exited with {execution.meaning()} and produced no report to store", hint=hint)


def publish_coverage_xml(execution: Execution, dest: Path) -> Path | None:
    """Copy a --coverage run's Cobertura XML to ``dest`` (``./coverage.xml``, where CI coverage
    reports look for it); atomic, so a reader never sees half a file."""
    if execution.coverage_report is None:
        return None
    tmp = dest.with_name(f".{dest.name}.aqe-tmp")
    shutil.copyfile(execution.coverage_report, tmp)
    os.replace(tmp, dest)
    return dest


def check_usage(*, command: Sequence[str], python: str | None, coverage: bool) -> None:
    """Options that only apply to the default pytest run."""
    if command and python:
        raise UsageError("--python chooses the interpreter of the default pytest run; "
                         "a command after -- runs as given", hint="drop --python, or the command after --")
    if command and coverage:
        raise UsageError("--coverage applies to the default pytest run",
                         hint="have the command after -- write its coverage report into $AQE_REPORTS_DIR "
                              "(or name it with --report)")
