"""``--format json`` everywhere the CLI prints data: every leaf command either takes a format with a
``json`` choice or prints JSON by nature (said here, with the reason), and what each prints parses.
``aqe execute --format json`` keeps stdout for the JSON alone: the tests' own output goes to stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest

ROOT = Path(__file__).resolve().parents[2]
REPORTS = ROOT / "examples" / "reports"

#: commands whose output is not a table with a JSON twin, and why they need no --format json
NO_FORMAT: dict[str, str] = {
    "artifacts schema": "prints a JSON Schema: JSON already",
    "artifacts ingest": "prints the normalised document: JSON already (its --format is the input format)",
    "artifacts lifecycle": "prints the S3 lifecycle configuration: JSON already (--apply reports on stderr)",
    "artifacts report": "writes an HTML site; stdout only says where",
    "ci gitlab": "a CI job: its data are files (comparison.json, the aqe.env dotenv report); the log is for people",
}
#: the option that chooses the output format when --format means something else
OUTPUT_FORMAT = {"artifacts store": "--output-format"}


def leaf_commands() -> dict[str, click.Command]:
    from aqe_ci.cli.app import root

    out: dict[str, click.Command] = {}

    def walk(cmd: click.Command, prefix: list[str]) -> None:
        if isinstance(cmd, click.Group):
            ctx = click.Context(cmd)
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                assert sub is not None
                walk(sub, [*prefix, name])
        else:
            out[" ".join(prefix)] = cmd

    walk(root, [])
    return out


def format_choices(cmd: click.Command, flag: str = "--format") -> list[str]:
    for p in cmd.params:
        if isinstance(p, click.Option) and flag in p.opts and isinstance(p.type, click.Choice):
            return [str(c) for c in p.type.choices]
    return []


def test_every_command_that_prints_data_has_format_json() -> None:
    commands = leaf_commands()
    assert set(NO_FORMAT) <= set(commands), sorted(set(NO_FORMAT) - set(commands))
    for path, cmd in commands.items():
        choices = format_choices(cmd, OUTPUT_FORMAT.get(path, "--format"))
        if path in NO_FORMAT:
            assert "json" not in choices, f"aqe {path} has --format json now: drop it from NO_FORMAT"
        else:
            assert "json" in choices, f"aqe {path} prints data but has no --format json"


@pytest.fixture
def history(aqe: Any, workdir: Path) -> Any:
    """Two runs on main (base, then pr) in the local store of ``workdir``."""
    for key, side in (("b-1", "base"), ("b-2", "pr")):
        r = aqe("artifacts", "store", "--key", key, "--branch", "main", "--commit", key[-1] * 40,
                "--file", str(REPORTS / side / "junit.xml"), "--file", str(REPORTS / side / "coverage.xml"),
                "--file", str(REPORTS / side / "bandit.json"))
        assert r.code == 0, r.err
    return aqe


@pytest.mark.parametrize("args", [
    ["artifacts", "list", "--format", "json"],
    ["artifacts", "get", "b-2", "--type", "coverage", "--format", "json"],
    ["artifacts", "compare", "b-1", "b-2", "--format", "json"],
    ["artifacts", "trend", "--type", "coverage", "--branch", "main", "--format", "json"],
    ["artifacts", "flaky", "--branch", "main", "--format", "json"],
    ["artifacts", "badge", "--type", "tests", "--branch", "main", "--format", "json"],
    ["artifacts", "cleanup", "--dry-run", "--format", "json"],
    ["artifacts", "delete", "b-1", "--yes", "--format", "json"],
    ["artifacts", "store", "--key", "b-3", "--file", str(REPORTS / "pr" / "junit.xml"), "--output-format", "json"],
    ["artifacts", "schema", "coverage"],
    ["artifacts", "ingest", str(REPORTS / "pr" / "junit.xml")],
    ["context", "--format", "json"],
    ["doctor", "--format", "json"],
    ["config", "show", "--format", "json"],
    ["config", "validate", "--format", "json"],
], ids=lambda a: " ".join(a[:2]))
def test_json_output_parses(history: Any, args: list[str]) -> None:
    r = history(*args)
    assert r.code == 0, r.err
    assert isinstance(json.loads(r.out), dict | list)


def test_lifecycle_prints_json(aqe: Any, workdir: Path) -> None:
    cfg = workdir / "s3.json"
    cfg.write_text(json.dumps({"backend": "s3", "s3": {"bucket": "my-qe-artifacts", "prefix": "qe/"}}))
    r = aqe("--config", str(cfg), "artifacts", "lifecycle")
    assert r.code == 0, r.err
    rules = json.loads(r.out)["Rules"]
    assert rules and all("qe/" in json.dumps(rule["Filter"]) for rule in rules)  # every rule under the prefix


# -- aqe execute --format json -----------------------------------------------------------------------------
SAMPLE = '''
def test_adds():
    assert 2 + 3 == 5

def test_fails():
    print("noise on the tests' stdout")
    assert 2 + 2 == 5, "math is broken"
'''


def aqe_process(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aqe_ci", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL, env={"PATH": "/usr/bin:/bin", "HOME": str(cwd)})


def test_execute_json_has_the_key_the_exit_code_and_the_stored_documents(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_sample.py").write_text(SAMPLE)
    r = aqe_process("execute", "--store-artifacts", "--key", "run-1", "--branch", "main", "--format", "json",
                    "--python", sys.executable, cwd=tmp_path)
    assert r.returncode == 1, r.stderr  # the tests' own exit code, as in table mode
    data = json.loads(r.stdout)  # stdout is the JSON alone: pytest's output went to stderr
    assert "math is broken" in r.stderr and "math is broken" not in r.stdout
    assert data["key"] == "run-1" and data["exit_code"] == 1 and data["meaning"] == "1 (some tests failed)"
    assert data["command"][:3] == [sys.executable, "-m", "pytest"] and data["coverage_report"] is None
    assert data["store"] == str(tmp_path / ".qe-artifacts")
    [doc] = data["documents"]
    assert (doc["key"], doc["type"], doc["part"]) == ("run-1", "test_results", "default")
    assert doc["summary"]["failed"] == 1 and doc["summary"]["passed"] == 1
    # the same record `aqe artifacts store --output-format json` prints, and what the store holds
    stored = json.loads(aqe_process("artifacts", "get", "run-1", "--type", "test_results", cwd=tmp_path).stdout)
    assert stored["data"]["failed"] == 1
    assert set(doc) == {"key", "type", "part", "created_at", "size", "stored_size", "sha256", "summary"}


def test_execute_json_without_storing(tmp_path: Path) -> None:
    r = aqe_process("execute", "--format", "json", "--", "sh", "-c", "echo hello from the tests; exit 3", cwd=tmp_path)
    assert r.returncode == 3, r.stderr
    assert json.loads(r.stdout) == {"command": ["sh", "-c", "echo hello from the tests; exit 3"], "exit_code": 3,
                                    "meaning": "3", "coverage_report": None, "key": None, "store": None,
                                    "documents": []}
    assert "hello from the tests" in r.stderr
    assert not (tmp_path / ".qe-artifacts").exists()


def test_execute_table_output_is_unchanged(tmp_path: Path) -> None:
    r = aqe_process("execute", "--", "sh", "-c", "echo hello from the tests", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout == "hello from the tests\n"  # the tests' output on stdout, as before
