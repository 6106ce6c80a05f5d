"""A canary secret in the config never appears in any output of any command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest

CANARY = "CANARY-9f8e7d6c5b4a-SECRET"
CANARY_TOKEN = "ghp_CANARYtokenVALUE123456"


def all_command_paths() -> list[list[str]]:
    """Every leaf command of the real CLI tree (so a new command is covered automatically)."""
    from aqe_ci.cli.app import root

    paths: list[list[str]] = []

    def walk(cmd: click.Command, prefix: list[str]) -> None:
        if isinstance(cmd, click.Group):
            ctx = click.Context(cmd)
            for name in cmd.list_commands(ctx):
                walk(cmd.get_command(ctx, name), [*prefix, name])  # type: ignore[arg-type]
        else:
            paths.append(prefix)

    walk(root, [])
    return paths


@pytest.fixture
def secret_env(tmp_path: Path) -> dict[str, str]:
    cfg = tmp_path / "storage.json"
    cfg.write_text(json.dumps({
        "backend": "local",
        "local": {"base_path": str(tmp_path / "store")},
        "s3": {"bucket": "canary-bucket", "access_key_id": "${CANARY_KEY_ID}",
               "secret_access_key": "${CANARY_SECRET_ACCESS_KEY}", "endpoint_url": "http://127.0.0.1:9"},
        "github": {"token": "${CANARY_GH_TOKEN}"},
    }))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AQE_", "GITHUB_", "CI"))}
    env.update(AQE_CONFIG=str(cfg), CANARY_KEY_ID="AKIACANARYKEYID", CANARY_SECRET_ACCESS_KEY=CANARY,
               CANARY_GH_TOKEN=CANARY_TOKEN)
    return env


def run(args: list[str], env: dict[str, str], cwd: Path) -> str:
    proc = subprocess.run([sys.executable, "-m", "aqe_ci", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)
    return proc.stdout + proc.stderr


def test_canary_never_printed(secret_env: dict[str, str], tmp_path: Path) -> None:
    doc = tmp_path / "doc.json"
    doc.write_text(json.dumps({"type": "security", "timestamp": "2025-11-12T10:00:00Z",
                               "data": {"vulnerabilities": [], "summary": {"critical": 0, "high": 0, "medium": 0}}}))
    outputs: list[str] = []
    for path in all_command_paths():
        for extra in (["--help"], [], ["--format", "json"], ["--verbose"]):
            outputs.append(run([*path, *extra], secret_env, tmp_path))
    # realistic invocations, successful and failing
    outputs.append(run(["artifacts", "store", "--file", str(doc), "--key", "k1"], secret_env, tmp_path))
    outputs.append(run(["artifacts", "list", "--format", "json"], secret_env, tmp_path))
    outputs.append(run(["artifacts", "get", "k1"], secret_env, tmp_path))
    outputs.append(run(["--verbose", "artifacts", "get", "nope"], secret_env, tmp_path))
    outputs.append(run(["config", "show"], secret_env, tmp_path))
    outputs.append(run(["config", "show", "--format", "json"], secret_env, tmp_path))
    outputs.append(run(["config", "validate"], secret_env, tmp_path))
    # the secret as an invalid value: the schema error must not echo it
    bad = dict(secret_env, CANARY_SECRET_ACCESS_KEY=CANARY)
    cfg = tmp_path / "bad.json"
    cfg.write_text(json.dumps({"compression": {"algorithm": "${CANARY_SECRET_ACCESS_KEY}"}}))
    bad["AQE_CONFIG"] = str(cfg)
    outputs.append(run(["--verbose", "artifacts", "list"], bad, tmp_path))
    joined = "\n".join(outputs)
    assert len(outputs) > 20
    assert CANARY not in joined
    assert CANARY_TOKEN not in joined
    assert "AKIACANARYKEYID" not in joined
    assert "***" in joined  # config show redacts rather than omits


@pytest.mark.parametrize(("section", "canaries"), [
    ({"s3": {"bucket": "canary-bucket", "access_key_id": ["AKIALISTCANARY1", "zq"]}}, ["AKIALISTCANARY1", "'zq'"]),
    ({"s3": {"bucket": "canary-bucket", "secret_access_key": 8675309123}}, ["8675309123"]),
    ({"s3": {"bucket": "canary-bucket", "session_token": {"nested": "SESSIONCANARY77"}}}, ["SESSIONCANARY77"]),
    ({"github": {"token": 31415926535897}}, ["31415926535897"]),
    ({"gitlab": {"token": ["glpat-LISTCANARY"], "project": "g/p"}}, ["glpat-LISTCANARY"]),
    ({"github": {"tokens": ["ghp_UNKNOWNKEYCANARY"]}}, ["ghp_UNKNOWNKEYCANARY"]),
    ({"s3": {"bucket": "canary-bucket", "secret_access_key": 42}}, ["42 is"]),
])
def test_secret_of_any_type_is_never_echoed(tmp_path: Path, section: dict[str, Any], canaries: list[str]) -> None:
    """A secret path holding a list, a number or an object: the config error and the --verbose
    traceback show *** (or nothing), never the value."""
    cfg = tmp_path / "storage.json"
    cfg.write_text(json.dumps({"backend": "local", "local": {"base_path": str(tmp_path / "store")}, **section}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AQE_", "GITHUB_", "CI"))}
    env["AQE_CONFIG"] = str(cfg)
    outputs = []
    for args in (["--verbose", "artifacts", "list"], ["config", "validate", str(cfg)], ["--verbose", "config", "show"],
                 ["--verbose", "config", "show", "--format", "json"]):
        proc = subprocess.run([sys.executable, "-m", "aqe_ci", *args], env=env, cwd=tmp_path, capture_output=True,
                              text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert proc.returncode == 2, proc.stdout + proc.stderr  # the config is invalid: exit 2, one clear line
        assert str(cfg) in proc.stderr and "Error: " in proc.stderr
        outputs.append(proc.stdout + proc.stderr)
    joined = "\n".join(outputs)
    for canary in canaries:
        assert canary not in joined, joined
    assert "Traceback" in joined  # --verbose did print the traceback, redacted


def test_secret_from_a_variable_is_hidden_in_config_show_and_registered() -> None:
    """A digits-only secret from ${VAR} under a secret path: hidden in config show, redacted everywhere."""
    from aqe_ci import secrets
    from aqe_ci.config import parse_config

    cfg = parse_config(json.dumps({"s3": {"bucket": "bucket-x", "access_key_id": "${NUM_KEY}",
                                          "secret_access_key": "${SECRET_LIST:-}"}}),
                       source="x.json", environ={"NUM_KEY": "99887766554433"})
    shown = json.dumps(cfg.redacted())
    assert "99887766554433" not in shown and '"access_key_id": "***"' in shown
    assert secrets.redact("key 99887766554433 in a message") == "key *** in a message"
