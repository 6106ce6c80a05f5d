"""``aqe context``: the doctor output in each format, through the real command tree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from aqe_ci.cli.app import root
from aqe_ci.cli.commands.context import context

from .conftest import git_env

CI_MARKERS = ("GITHUB_ACTIONS", "GITLAB_CI", "CIRCLECI", "BUILDKITE", "TF_BUILD", "BITBUCKET_BUILD_NUMBER",
              "JENKINS_URL", "GITHUB_EVENT_PATH")
SHA = "1f0c4f2b5a7e9d3c8b6a4f2e0d9c8b7a6f5e4d3c"


def env(tmp_path: Path, **values: str) -> dict[str, str | None]:
    """No CI markers from the machine running the tests, git confined to tmp_path."""
    return {**dict.fromkeys(CI_MARKERS), **git_env(tmp_path), **values}


@pytest.fixture
def gh_env(tmp_path: Path) -> dict[str, str | None]:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"number": 42, "pull_request": {
        "number": 42, "head": {"ref": "feature/login", "sha": SHA}, "base": {"ref": "main", "sha": "c3d4e5f6" * 5}},
        "repository": {"full_name": "acme/widgets", "default_branch": "main"}}))
    return env(tmp_path, GITHUB_ACTIONS="true", GITHUB_EVENT_NAME="pull_request", GITHUB_EVENT_PATH=str(event),
               GITHUB_SHA="9b8a7c6d" * 5, GITHUB_REF="refs/pull/42/merge", GITHUB_REPOSITORY="acme/widgets",
               GITHUB_RUN_ID="123", GITHUB_RUN_ATTEMPT="1", GITHUB_JOB="test")


def test_json(gh_env: dict[str, str | None], tmp_path: Path) -> None:
    result = CliRunner().invoke(context, ["--format", "json"], env=gh_env)
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["context"]["commit"] == SHA and out["context"]["pr"] == 42
    assert out["sources"]["commit"] == "event payload pull_request.head.sha"
    assert out["default_key"] == "gh-123-1-test"
    assert out["warnings"] == []


def test_table_shows_sources_warnings_and_key(gh_env: dict[str, str | None], tmp_path: Path) -> None:
    (tmp_path / "event.json").write_text("{broken")
    result = CliRunner().invoke(root, ["context"], env=gh_env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.split()[:3] == ["pr", "42", "GITHUB_REF"] for line in lines)
    assert "default key: gh-123-1-test" in lines
    assert any(line.startswith("warning: event file") and "not valid JSON" in line for line in lines)


def test_markdown_escapes_values(gh_env: dict[str, str | None]) -> None:
    gh_env["GITHUB_JOB"] = "x|<b>`y`"
    result = CliRunner().invoke(context, ["--format", "markdown"], env=gh_env)
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if line.startswith("| job |"))
    assert row == "| job | x\\|&lt;b&gt;\\`y\\` | GITHUB\\_JOB |"


def test_flags_and_env_vars_override(gh_env: dict[str, str | None]) -> None:
    gh_env["AQE_CONTEXT_BASE_BRANCH"] = "release/2.x"
    result = CliRunner().invoke(root, ["context", "--format", "json", "--pr", "7"], env=gh_env,
                                auto_envvar_prefix="AQE")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert (out["context"]["pr"], out["sources"]["pr"]) == (7, "override")
    assert (out["context"]["base_branch"], out["sources"]["base_branch"]) == ("release/2.x", "override")


def test_outside_ci_and_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    result = CliRunner().invoke(context, ["--format", "json"], env=env(tmp_path))
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert set(out["context"].values()) == {None} and out["sources"] == {}
    assert out["default_key"].startswith("run-")


def test_store_records_detected_context_and_default_key(gh_env: dict[str, str | None], tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Runtime.ci_context/default_key feed `artifacts store`: the manifest carries the detected context."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    doc = work / "results.json"
    doc.write_text(json.dumps({"type": "test_results", "timestamp": "2026-01-01T00:00:00Z", "data": {
        "tests_run": 1, "passed": 1, "failed": 0, "skipped": 0, "duration": 0.5, "failures": []}}))
    result = CliRunner().invoke(root, ["artifacts", "store", "--file", str(doc), "--output-format", "json",
                                       "--base-sha", "0aa1bb2cc3dd4ee5ff60718293a4b5c6d7e8f901"], env=gh_env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["key"] == "gh-123-1-test"
    manifests = list(work.rglob("manifest.json"))
    assert len(manifests) == 1
    m = json.loads(manifests[0].read_text())
    assert (m["commit"], m["branch"], m["pr"], m["base_branch"], m["platform"]) == (
        SHA, "feature/login", 42, "main", "github")
    assert m["base_sha"] == "0aa1bb2cc3dd4ee5ff60718293a4b5c6d7e8f901"  # the flag beats the payload
    assert m["run_url"] == "https://github.com/acme/widgets/actions/runs/123/attempts/1"
