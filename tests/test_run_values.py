"""What users say about a run on the command line: --branch, --base-branch and --metadata values are
checked (no newlines or control characters) before anything runs or is stored, and --metadata's
branch / pr fill the run's context as the guide's GitHub example expects."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from aqe_ci.errors import EXIT_USAGE
from aqe_ci.storage.local import LocalBackend
from aqe_ci.storage.store import Store

SEC_DOC = {"type": "security", "timestamp": "2025-11-12T10:00:00Z",
           "data": {"vulnerabilities": [], "summary": {"critical": 0, "high": 0, "medium": 0}}}


@pytest.fixture
def doc(workdir: Path) -> str:
    path = workdir / "sec.json"
    path.write_text(json.dumps(SEC_DOC))
    return str(path)


def stored(aqe: Any) -> list[dict[str, Any]]:
    r = aqe("artifacts", "list", "--format", "json")
    assert r.code == 0, r.err
    return json.loads(r.out)["artifacts"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(("args", "said"), [
    (["--branch", "feature\nmain"], "--branch contains a newline at position 8"),
    (["--branch", "feat\x1b[31m"], "--branch contains the control character U+001B"),
    (["--branch", "   "], "--branch is empty"),
    (["--base-branch", "ma\u202ein"], "--base-branch contains the bidirectional-override character U+202E"),
    (["--base-branch", "main\u2066"], "--base-branch contains the bidirectional-override character U+2066"),
    (["--commit", "abc\r\n"], "--commit contains a carriage return"),
    (["--metadata", '{"suite": "unit\\nforged: yes"}'], "--metadata $.suite contains a newline"),
    (["--metadata", '{"a": {"b": ["ok", "x\\u0007"]}}'], "--metadata $.a.b[1] contains the control character U+0007"),
    (["--metadata", '{"k\\u202e": "v"}'], "--metadata key $.'k\\u202e' contains the bidirectional-override"),
    (["--metadata", '{"branch": "x\\ny"}'], "--metadata $.branch contains a newline"),
    (["--metadata", '{"pr": "abc"}'], '--metadata $.pr must be a pull/merge request number, got "abc"'),
    (["--metadata", '{"pr": 0}'], "--metadata $.pr must be a pull/merge request number, got 0"),
    (["--metadata", '{"branch": 5}'], "--metadata $.branch must be a string, got int"),
    (["--metadata", '["not", "an object"]'], "--metadata must be a JSON object"),
])
def test_bad_values_are_refused_with_a_clear_error_and_nothing_stored(aqe: Any, doc: str, args: list[str],
                                                                     said: str) -> None:
    r = aqe("artifacts", "store", "--file", doc, "--key", "k1", *args)
    assert r.code == EXIT_USAGE, r.err
    line = r.err.strip().splitlines()[-1]
    assert line.startswith("Error: ") and said.replace("\u202e", "") in line, line
    assert "\x1b" not in r.err and "\u202e" not in r.err and "\u2066" not in r.err  # the error itself is inert
    assert not Path(".qe-artifacts").exists() or stored(aqe) == []


def test_execute_checks_values_before_running_anything(aqe: Any, workdir: Path) -> None:
    for args in (["--branch", "a\nb"], ["--base-branch", "\u202emain"], ["--metadata", '{"x": "\\t"}']):
        r = aqe("execute", "--store-artifacts", "--key", "k1", *args, "--", "sh", "-c", "touch ran")
        assert r.code == EXIT_USAGE, r.err
        assert not (workdir / "ran").exists()  # the tests were not run for nothing


def test_metadata_branch_and_pr_set_the_run_context(aqe: Any, doc: str) -> None:
    """The guide's GitHub example: --metadata '{"branch": ..., "pr": ...}' with no flags and no CI."""
    r = aqe("artifacts", "store", "--file", doc, "--key", "k1", "--metadata", '{"branch": "feature-x", "pr": "42"}')
    assert r.code == 0, r.err
    [a] = stored(aqe)
    assert (a["branch"], a["pr"]) == ("feature-x", 42)
    manifest = Store(LocalBackend(".qe-artifacts")).manifest("k1", "security")
    assert manifest.data["metadata"] == {"branch": "feature-x", "pr": "42"}  # kept as given, too
    assert [x["key"] for x in json.loads(aqe("artifacts", "list", "--branch", "feature-x", "--format", "json").out)
            ["artifacts"]] == ["k1"]
    assert [x["key"] for x in json.loads(aqe("artifacts", "list", "--pr", "42", "--format", "json").out)
            ["artifacts"]] == ["k1"]


def github_push_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/main",
                        "GITHUB_REF_NAME": "main", "GITHUB_SHA": "a" * 40, "GITHUB_REPOSITORY": "o/r",
                        "GITHUB_RUN_ID": "7", "GITHUB_RUN_ATTEMPT": "1", "GITHUB_JOB": "test"}.items():
        monkeypatch.setenv(name, value)


def test_empty_pr_of_a_push_event_means_none(aqe: Any, doc: str, monkeypatch: pytest.MonkeyPatch) -> None:
    github_push_env(monkeypatch)
    # ${{ github.event.number }} is empty on a push: "pr": ""
    r = aqe("artifacts", "store", "--file", doc, "--key", "k1", "--metadata", '{"branch": "main", "pr": ""}')
    assert r.code == 0, r.err
    [a] = stored(aqe)
    assert (a["branch"], a["pr"]) == ("main", None)


def test_flags_and_ci_context_win_over_metadata(aqe: Any, doc: str, monkeypatch: pytest.MonkeyPatch) -> None:
    github_push_env(monkeypatch)
    meta = '{"branch": "from-metadata", "pr": "9"}'
    assert aqe("artifacts", "store", "--file", doc, "--key", "k1", "--metadata", meta).code == 0
    assert aqe("artifacts", "store", "--file", doc, "--key", "k2", "--metadata", meta,
               "--branch", "from-flag", "--pr", "5").code == 0
    got = {a["key"]: (a["branch"], a["pr"]) for a in stored(aqe)}
    # the CI says branch main (its value stays); it says no PR on a push, so the metadata's is used
    assert got == {"k1": ("main", 9), "k2": ("from-flag", 5)}


def test_metadata_beats_a_guess_from_the_local_checkout(aqe: Any, doc: str, workdir: Path) -> None:
    subprocess.run(["git", "init", "-q", "-b", "trunk", str(workdir)], check=True)
    subprocess.run(["git", "-C", str(workdir), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q",
                    "--allow-empty", "-m", "init"], check=True)
    assert aqe("artifacts", "store", "--file", doc, "--key", "k1").code == 0
    assert aqe("artifacts", "store", "--file", doc, "--key", "k2", "--metadata", '{"branch": "feature-y"}').code == 0
    got = {a["key"]: a["branch"] for a in stored(aqe)}
    assert got == {"k1": "trunk", "k2": "feature-y"}
