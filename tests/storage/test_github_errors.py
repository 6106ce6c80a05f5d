"""``backend: github`` through the CLI: conflicts, retention, and each platform failure as one line
naming GitHub and the fix, with its exit code (README "Exit codes")."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.servers.results_service import ResultsService, Run

DOC = {"type": "coverage", "timestamp": "2024-05-01T12:00:00Z",
       "data": {"line_rate": 80.0, "branch_rate": 70.0, "files": {}}}


def write_config(path: Path, fake: ResultsService, run: Run, *, retention: dict[str, int] | None = None,
                 **github: Any) -> dict[str, Any]:
    section = {"repository": fake.repository, "api_url": fake.url, "results_url": fake.url + "/",
               "token": fake.rest_token("write"), "runtime_token": fake.runtime_token(run), **github}
    cfg = {"backend": "github", "github": {k: v for k, v in section.items() if v is not None}}
    if retention:
        cfg["retention"] = retention
    (path / "config").mkdir(exist_ok=True)
    (path / "config" / "storage.json").write_text(json.dumps(cfg))
    (path / "cov.json").write_text(json.dumps(DOC))
    return section


@pytest.fixture()
def gh(workdir: Path, results_service: ResultsService) -> tuple[ResultsService, Run]:
    run = results_service.new_run(branch="main", sha="f" * 40)
    return results_service, run


def store_args(key: str = "build-1") -> list[str]:
    return ["artifacts", "store", "--type", "coverage", "--file", "cov.json", "--key", key, "--branch", "main",
            "--commit", "f" * 40]


def assert_one_line(err: str, *needles: str, secrets: tuple[str, ...] = ()) -> None:
    lines = [ln for ln in err.splitlines() if ln.startswith("Error:")]
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    for secret in secrets:
        assert secret not in err


def test_store_twice_is_a_conflict_and_get_reads_it_back(aqe: Any, workdir: Path, gh: Any) -> None:
    fake, run = gh
    write_config(workdir, fake, run)
    first = aqe(*store_args())
    assert first.code == 0, first.err
    again = aqe(*store_args())
    assert again.code == 3
    assert_one_line(again.err, "build-1/coverage/default already exists")
    got = aqe("artifacts", "get", "build-1", "--type", "coverage")
    assert got.code == 0 and json.loads(got.out) == DOC
    latest = aqe("artifacts", "get", "--branch", "main", "--latest", "--type", "coverage")
    assert latest.code == 0 and json.loads(latest.out) == DOC
    listed = aqe("artifacts", "list", "--format", "json")
    assert [a["key"] for a in json.loads(listed.out)["artifacts"]] == ["build-1"]


def test_retention_per_type_becomes_expires_at_capped_with_a_warning(aqe: Any, workdir: Path, gh: Any) -> None:
    fake, run = gh
    write_config(workdir, fake, run, retention={"coverage_reports": 365, "test_results": 30}, retention_days=90)
    result = aqe(*store_args())
    assert result.code == 0, result.err
    assert "retention of coverage documents is 365 days, more than this repository's maximum of 90 days" in result.err
    doc = next(a for a in fake.live() if a.name == "aqe~d~build-1~coverage~default")
    days = (doc.expires_at - datetime.now(UTC)).total_seconds() / 86400
    assert 89.9 < days <= 90
    (workdir / "t.json").write_text(json.dumps({"type": "test_results", "timestamp": "2024-05-01T12:00:00Z",
                                                "data": {"tests_run": 1, "passed": 1, "failed": 0, "duration": 1.0,
                                                         "failures": []}}))
    result = aqe("artifacts", "store", "--type", "test_results", "--file", "t.json", "--key", "build-2")
    assert result.code == 0 and "Warning" not in result.err
    doc = next(a for a in fake.live() if a.name == "aqe~d~build-2~test_results~default")
    assert 29.9 < (doc.expires_at - datetime.now(UTC)).total_seconds() / 86400 <= 30


def test_expired_runtime_token(aqe: Any, workdir: Path, gh: Any) -> None:
    fake, run = gh
    token = fake.runtime_token(run, expires_in=-60)
    write_config(workdir, fake, run, runtime_token=token)
    result = aqe(*store_args())
    assert result.code == 8
    assert_one_line(result.err, "GitHub Actions runtime token", "has expired", "valid only while its job runs",
                    secrets=(token,))


def test_runtime_token_rejected_by_the_service(aqe: Any, workdir: Path, gh: Any) -> None:
    fake, run = gh
    other = ResultsService(fake.azurite)  # another service's signing key: the fake rejects the signature
    other.runs = fake.runs
    token = other.runtime_token(run)
    write_config(workdir, fake, run, runtime_token=token)
    result = aqe(*store_args())
    assert result.code == 8
    assert_one_line(result.err, "GitHub's artifact service rejected the runtime token", "ACTIONS_RUNTIME_TOKEN",
                    secrets=(token,))


def test_no_runtime_variables_names_the_workflow_env(aqe: Any, workdir: Path, gh: Any) -> None:
    fake, run = gh
    write_config(workdir, fake, run, runtime_token=None, results_url=None)
    result = aqe(*store_args())
    assert result.code == 8
    assert_one_line(result.err, "ACTIONS_RUNTIME_TOKEN and ACTIONS_RESULTS_URL", "core.exportVariable", "docs/backends.md")


def test_missing_actions_read(aqe: Any, workdir: Path, gh: Any) -> None:
    fake, run = gh
    write_config(workdir, fake, run)
    assert aqe(*store_args()).code == 0
    token = fake.rest_token(None)
    write_config(workdir, fake, run, token=token)
    result = aqe("artifacts", "list")
    assert result.code == 8
    assert_one_line(result.err, "GitHub API (octo-org/octo-repo) refused", "403 Resource not accessible by "
                    "integration", "permissions: actions: read", secrets=(token,))


def test_delete_needs_actions_write(aqe: Any, workdir: Path, gh: Any) -> None:
    fake, run = gh
    write_config(workdir, fake, run)
    assert aqe(*store_args()).code == 0
    write_config(workdir, fake, run, token=fake.rest_token("read"))
    result = aqe("artifacts", "delete", "build-1", "--yes")
    assert result.code == 8
    assert_one_line(result.err, "refused deleting artifact", "permissions: actions: write")
    assert any(a.name == "aqe~d~build-1~coverage~default" for a in fake.live())


def test_bad_credentials(aqe: Any, workdir: Path, gh: Any) -> None:
    fake, run = gh
    write_config(workdir, fake, run, token="ghs_notatoken")
    result = aqe("artifacts", "list")
    assert result.code == 8
    assert_one_line(result.err, "401 Bad credentials", "github-token", secrets=("ghs_notatoken",))


def test_not_found_after_expiry(aqe: Any, workdir: Path, gh: Any) -> None:
    fake, run = gh
    write_config(workdir, fake, run)
    assert aqe(*store_args()).code == 0
    for a in fake.live():
        fake.expire(a.id)
    result = aqe("artifacts", "get", "build-1")
    assert result.code == 4
    assert_one_line(result.err, "GitHub artifact aqe~d~build-1~coverage~default", "expired on",
                    "aqe artifacts copy")
    listed = aqe("artifacts", "list", "--format", "json")
    assert listed.code == 0 and json.loads(listed.out)["artifacts"] == []


def test_download_gone_after_listing_is_expired(gh: Any) -> None:
    """The REST download answers 410 once the artifact expired (between a listing and the download)."""
    from aqe_ci.errors import NotFoundError
    from aqe_ci.storage.github import GitHubBackend
    from aqe_ci.storage.store import Store

    fake, run = gh
    backend = GitHubBackend(repository=fake.repository, token=fake.rest_token("write"), api_url=fake.url,
                            runtime_token=fake.runtime_token(run), results_url=fake.url)
    Store(backend).put_document(DOC, key="late")
    reader = GitHubBackend(repository=fake.repository, token=fake.rest_token("read"), api_url=fake.url)
    rec = reader._content("late", "coverage", "default")
    fake.expire(int(rec["id"]))
    with pytest.raises(NotFoundError, match="expired"):
        reader._download(rec)


def test_quota_exceeded(aqe: Any, workdir: Path, gh: Any) -> None:
    fake, run = gh
    write_config(workdir, fake, run)
    fake.faults.quota_exhausted = True
    result = aqe(*store_args())
    assert result.code == 8
    assert_one_line(result.err, "GitHub artifact storage quota is used up", "aqe artifacts cleanup")
    assert not [a for a in fake.live() if a.name.startswith("aqe~d~")]


def test_ghes_is_refused_with_the_alternative(aqe: Any, workdir: Path, gh: Any, monkeypatch: Any) -> None:
    fake, run = gh
    write_config(workdir, fake, run)
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.example.com")
    result = aqe("artifacts", "list")
    assert result.code == 8
    assert_one_line(result.err, "GitHub Enterprise Server", '"backend": "s3"')


def test_delete_by_branch_and_cleanup_run_on_github(aqe: Any, workdir: Path, gh: Any) -> None:
    fake, run = gh
    write_config(workdir, fake, run)
    for key, branch in (("b-1", "main"), ("b-2", "feature-x"), ("b-3", "feature-x")):
        stored = aqe("artifacts", "store", "--type", "coverage", "--file", "cov.json", "--key", key,
                     "--branch", branch)
        assert stored.code == 0, stored.err
    deleted = aqe("artifacts", "delete", "--branch", "feature-x", "--all", "--yes")
    assert deleted.code == 0, deleted.err
    listed = json.loads(aqe("artifacts", "list", "--format", "json").out)["artifacts"]
    assert [a["key"] for a in listed] == ["b-1"]
    assert not [a.name for a in fake.live() if "b-2" in a.name and not a.name.startswith("aqe~k~")]
    dry = aqe("artifacts", "cleanup", "--dry-run")
    assert dry.code == 0, dry.err
