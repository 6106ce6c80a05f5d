"""``aqe ci gitlab`` as a GitLab job runs it: a real process with a job's variables, storing in the
fake's package registry with CI_JOB_TOKEN and posting the note with a project access token."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.servers.fake_gitlab import FakeGitLab, Project
from tests.servers.moto_s3 import server_env

BASE_SHA, HEAD_SHA, HEAD2_SHA, MERGE_SHA = "a" * 40, "b" * 40, "c" * 40, "d" * 40
CANARY_JOB = "glcbt-CANARY-job-token-5f9a1c"
CANARY_NOTE = "glpat-CANARY-note-token-77e3b2"


@pytest.fixture()
def job(fake_gitlab: FakeGitLab, gl: dict[str, Any], gl_project: Callable[..., Project], tmp_path: Path) -> Any:
    """Run ``aqe ci gitlab`` in a fresh project dir with the variables of one kind of pipeline."""
    project = gl_project()
    fork = gl_project()
    fork.members[gl["outsider"].id] = "owner"
    fake_gitlab.add_mr(project, 7)
    fake_gitlab.add_mr(project, 8, source_project=fork)
    fake_gitlab.add_token(CANARY_JOB, gl["developer"], "job")
    fake_gitlab.add_token(CANARY_NOTE, gl["bot"], "project")
    counter = iter(range(100, 1000))

    def run(kind: str, reports: str, *args: str, extra: dict[str, str] | None = None,
            prepare: Callable[[Path], Any] | None = None) -> subprocess.CompletedProcess[str]:
        work = tmp_path / f"job-{next(counter)}"
        shutil.copytree(ROOT / "examples" / "reports" / reports, work)
        if prepare is not None:
            prepare(work)
        env = {k: v for k, v in server_env().items() if not k.startswith(("CI_", "GITLAB_", "AQE_", "GITHUB_"))}
        job_id = str(next(counter))
        env.update({
            "GITLAB_CI": "true", "CI": "true", "CI_API_V4_URL": fake_gitlab.api_url, "CI_SERVER_URL": fake_gitlab.url,
            "CI_PROJECT_ID": str(project.id), "CI_PROJECT_PATH": project.path, "CI_DEFAULT_BRANCH": "main",
            "CI_PROJECT_URL": f"{fake_gitlab.url}/{project.path}", "CI_JOB_ID": job_id, "CI_JOB_NAME": "aqe-report",
            "CI_PIPELINE_ID": job_id, "CI_JOB_TOKEN": CANARY_JOB, "AQE_GITLAB_TOKEN": CANARY_NOTE,
            "CI_PIPELINE_URL": f"{fake_gitlab.url}/{project.path}/-/pipelines/{job_id}",
        })
        env.update(pipeline_variables(kind, project, fork, fake_gitlab))
        env.update(extra or {})
        proc = subprocess.run([sys.executable, "-m", "aqe_ci", "ci", "gitlab", "--backend", "gitlab",
                               "--file", "junit.xml", "--file", "coverage.xml", "--file", "bandit.json", *args],
                              cwd=work, env={k: v for k, v in env.items() if v is not None}, capture_output=True,
                              text=True, timeout=120, stdin=subprocess.DEVNULL, check=False)
        proc.work = work  # type: ignore[attr-defined]
        proc.project = project  # type: ignore[attr-defined]
        return proc

    return run


def pipeline_variables(kind: str, project: Project, fork: Project, fake: FakeGitLab) -> dict[str, str]:
    if kind == "main":
        return {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "main", "CI_COMMIT_REF_NAME": "main",
                "CI_COMMIT_SHA": BASE_SHA}
    if kind == "main-with-open-mr":  # a push to main while an MR from main (main → release) is open
        return {**pipeline_variables("main", project, fork, fake), "CI_OPEN_MERGE_REQUESTS": f"{project.path}!7"}
    mr = {"CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "7",
          "CI_MERGE_REQUEST_PROJECT_ID": str(project.id), "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": str(project.id),
          "CI_MERGE_REQUEST_PROJECT_URL": f"{fake.url}/{project.path}",
          "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
          "CI_MERGE_REQUEST_DIFF_BASE_SHA": BASE_SHA, "CI_MERGE_REQUEST_EVENT_TYPE": "detached",
          "CI_COMMIT_REF_NAME": "feature", "CI_COMMIT_SHA": HEAD_SHA}
    if kind == "mr":
        return mr
    if kind == "mr2":
        return {**mr, "CI_COMMIT_SHA": HEAD2_SHA}
    if kind == "child":
        return {**mr, "CI_PIPELINE_SOURCE": "parent_pipeline", "CI_COMMIT_SHA": HEAD2_SHA}
    if kind == "merged-result":
        return {**mr, "CI_MERGE_REQUEST_EVENT_TYPE": "merged_result", "CI_COMMIT_SHA": MERGE_SHA,
                "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA": HEAD_SHA, "CI_MERGE_REQUEST_TARGET_BRANCH_SHA": BASE_SHA}
    if kind == "fork":  # GitLab's default: the fork MR's pipeline runs in the fork, with the fork's variables
        return {**mr, "CI_MERGE_REQUEST_IID": "8", "CI_PROJECT_ID": str(fork.id), "CI_PROJECT_PATH": fork.path,
                "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": str(fork.id)}
    raise AssertionError(kind)


def dotenv(work: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in (work / ".aqe" / "aqe.env").read_text().splitlines())


def our_notes(project: Project, iid: int, user_id: int) -> list[Any]:
    return [n for n in project.mrs[iid].notes if n.author.id == user_id]


def test_two_mr_pipelines_store_compare_and_leave_one_updated_note(job: Any, gl: dict[str, Any]) -> None:
    main = job("main", "base")
    assert main.returncode == 0, main.stderr
    assert "MR note skipped: this run belongs to no pull request" in main.stdout
    first = job("mr", "pr")
    assert first.returncode == 0, first.stderr
    project = first.project
    notes = our_notes(project, 7, gl["bot"].id)
    assert len(notes) == 1 and "<!-- aqe-artifacts:comment id=default -->" in notes[0].body
    out = dotenv(first.work)
    assert out["AQE_BASELINE_SHA"] == BASE_SHA and out["AQE_BASELINE_KEY"] == dotenv(main.work)["AQE_KEY"]
    assert out["AQE_FAILED"] == "1" and out["AQE_NEW_FAILURES"] == "1" and out["AQE_GATES"] == "none"
    assert out["AQE_COMMENT_URL"].endswith(f"/-/merge_requests/7#note_{notes[0].id}")
    first_body = notes[0].body
    second = job("mr2", "base")  # a new push to the MR: the failure is fixed
    assert second.returncode == 0, second.stderr
    notes_after = our_notes(project, 7, gl["bot"].id)
    assert [n.id for n in notes_after] == [notes[0].id]  # one note, updated in place
    assert notes_after[0].body != first_body and "test\\_currency\\_gbp" not in notes_after[0].body.split("Fixed")[0]
    assert f"MR note updated: {out['AQE_COMMENT_URL']}" in second.stdout
    comparison = json.loads((second.work / ".aqe" / "comparison.json").read_text())["comparison"]
    assert comparison["baseline"]["method"] == "merge-base"
    # the raw reports for GitLab's own widgets
    assert sorted(p.parent.name for p in (second.work / ".aqe" / "reports").rglob("*.xml")) == ["coverage", "junit"]
    quality = json.loads((first.work / ".aqe" / "gl-code-quality-report.json").read_text())
    assert {q["severity"] for q in quality} >= {"major"}  # the new high bandit findings, for GitLab's MR widget


def test_fork_mr_writes_the_note_to_a_file_and_succeeds(job: Any, gl: dict[str, Any]) -> None:
    proc = job("fork", "pr")
    assert proc.returncode == 0, proc.stderr
    assert our_notes(proc.project, 8, gl["bot"].id) == []
    note = proc.work / ".aqe" / "note.md"
    assert note.read_text().startswith("<!-- aqe-artifacts:comment id=default -->")
    assert dotenv(proc.work)["AQE_COMMENT_FILE"] == ".aqe/note.md"
    assert "MR note not posted: this fork MR's pipeline runs in the fork project" in proc.stderr
    assert "aqe-artifacts report" in proc.stdout and "test\\_currency\\_gbp" in proc.stdout  # the job log has it


def test_without_a_note_token_the_job_succeeds_with_the_note_in_a_file(job: Any) -> None:
    proc = job("mr", "pr", extra={"AQE_GITLAB_TOKEN": None})
    assert proc.returncode == 0, proc.stderr
    assert "set the masked CI/CD variable AQE_GITLAB_TOKEN" in proc.stderr
    assert (proc.work / ".aqe" / "note.md").is_file()


def test_merged_results_child_pipelines_and_gates(job: Any, gl: dict[str, Any]) -> None:
    assert job("main", "base").returncode == 0
    merged = job("merged-result", "pr", "--comment-id", "merged")
    assert merged.returncode == 0, merged.stderr
    head = json.loads((merged.work / ".aqe" / "comparison.json").read_text())["comparison"]["head"]
    assert head["commit"] == HEAD_SHA  # the source head, not GitLab's merge commit
    child = job("child", "pr", "--comment-id", "child", "--fail-on", "new_failures>0")
    assert child.returncode == 6, child.stderr  # the gate fails after the note is posted
    assert "1 quality gate failed: new_failures>0" in child.stderr
    bodies = [n.body for n in our_notes(child.project, 7, gl["bot"].id)]
    assert any("id=child" in b for b in bodies) and any("id=merged" in b for b in bodies)
    assert dotenv(child.work)["AQE_GATES"] == "failed"


def test_tokens_never_appear_in_the_log_notes_or_dotenv(job: Any, fake_gitlab: FakeGitLab) -> None:
    runs = [job("main", "base", "--verbose"), job("mr", "pr", "--verbose"), job("fork", "pr"),
            job("mr", "pr", "--key", "bad..key")]
    assert runs[-1].returncode == 2
    for proc in runs:
        text = proc.stdout + proc.stderr
        for path in (proc.work / ".aqe").rglob("*") if (proc.work / ".aqe").exists() else []:
            if path.is_file():
                text += path.read_text(errors="replace")
        assert CANARY_JOB not in text and CANARY_NOTE not in text
    for project in fake_gitlab.projects.values():
        for mr in project.mrs.values():
            assert all(CANARY_JOB not in n.body and CANARY_NOTE not in n.body for n in mr.notes)
    assert any(r.auth == "job" for r in fake_gitlab.requests)  # storage used the job token …
    assert any(r.auth == "project" and r.method == "POST" for r in fake_gitlab.requests)  # … notes the project token


def test_backend_auto_is_the_registry_unless_a_config_file_names_one(job: Any, fake_gitlab: FakeGitLab,
                                                                    tmp_path: Path) -> None:
    proc = job("main", "base", "--backend", "auto")
    assert proc.returncode == 0, proc.stderr
    assert "in the GitLab package registry of project" in proc.stdout
    assert any(p.name == "aqe-test_results" for p in fake_gitlab.project_packages(proc.project))
    config = tmp_path / "storage.json"
    config.write_text(json.dumps({"backend": "local", "local": {"base_path": str(tmp_path / "store")}}))
    local = job("main", "base", "--backend", "auto", extra={"AQE_CONFIG": str(config)})
    assert local.returncode == 0, local.stderr
    assert f"in {tmp_path / 'store'}" in local.stdout


def test_the_job_sends_the_configs_webhooks(job: Any, tmp_path: Path) -> None:
    from tests.servers.webhook_receiver import start_receiver

    receiver = start_receiver()
    try:
        config = tmp_path / "notify.json"
        config.write_text(json.dumps({"backend": "gitlab", "notify": {"webhooks": [
            {"url": f"{receiver.url}/hook", "secret": "whsec-CANARY-0000", "backoff_seconds": 0.01}]}}))
        proc = job("mr", "pr", "--fail-on", "failed>0", extra={"AQE_CONFIG": str(config)})
    finally:
        receiver.close()
    assert proc.returncode == 6, proc.stderr
    assert [r.headers["x-aqe-event"] for r in receiver.requests] == ["stored", "compared", "gate_failed"]
    assert "whsec-CANARY-0000" not in proc.stdout + proc.stderr


def test_doctor_in_a_gitlab_job_names_the_mr_and_the_note_token(tmp_path: Path) -> None:
    env = {k: v for k, v in server_env().items() if not k.startswith(("CI_", "GITLAB_", "AQE_", "GITHUB_"))}
    env.update({"GITLAB_CI": "true", "CI_PROJECT_ID": "42", "CI_PROJECT_PATH": "acme/app", "CI_JOB_ID": "9",
                "CI_MERGE_REQUEST_IID": "7", "CI_MERGE_REQUEST_PROJECT_ID": "42", "CI_COMMIT_SHA": HEAD_SHA,
                "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "42", "CI_PIPELINE_SOURCE": "merge_request_event",
                "AQE_CI_GITLAB_TOKEN_ENV": "MY_NOTE_TOKEN", "MY_NOTE_TOKEN": CANARY_NOTE})

    def doctor(extra: dict[str, str]) -> dict[str, Any]:
        proc = subprocess.run([sys.executable, "-m", "aqe_ci", "doctor", "--format", "json"], cwd=tmp_path,
                              env={**env, **extra}, capture_output=True, text=True, timeout=60, check=False)
        assert proc.returncode == 0, proc.stderr
        assert CANARY_NOTE not in proc.stdout + proc.stderr
        return json.loads(proc.stdout)

    report = doctor({})
    assert report["comment"]["target"] == "project 42 !7" and report["token"] == "MY_NOTE_TOKEN"
    fork = doctor({"CI_PROJECT_ID": "99", "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "99", "MY_NOTE_TOKEN": ""})
    assert "fork" in fork["comment"]["why"] and fork["token"].startswith("none: notes cannot be posted")


# -- badges --------------------------------------------------------------------------------------------
def badge_package(fake: FakeGitLab, project: Project, version: str = "main") -> dict[str, list[bytes]]:
    """File name → the contents of each copy in the ``aqe-badges`` package of ``version``."""
    out: dict[str, list[bytes]] = {}
    for pkg in fake.project_packages(project):
        if pkg.name == "aqe-badges" and pkg.version == version:
            for f in pkg.files:
                out.setdefault(f.file_name, []).append(f.data)
    return out


def test_a_default_branch_pipeline_writes_badges_and_publishes_them_to_the_registry(
        job: Any, fake_gitlab: FakeGitLab, gl: dict[str, Any], tmp_path: Path) -> None:
    main = job("main", "base", "--badges", "all", "--badge-publish")
    assert main.returncode == 0, main.stderr
    out = dotenv(main.work)
    assert out["AQE_BADGES"] == "coverage,tests,security" and out["AQE_BADGE_DIR"] == ".aqe/badges"
    folder = main.work / ".aqe" / "badges"
    names = ["coverage.json", "coverage.svg", "security.json", "security.svg", "tests.json", "tests.svg"]
    assert sorted(p.name for p in folder.iterdir()) == names
    assert "badges of main: coverage, tests, security -> .aqe/badges and badges/main/ in the GitLab package registry" \
        in main.stdout
    package = badge_package(fake_gitlab, main.project)
    assert sorted(package) == names  # a stable URL each: …/packages/generic/aqe-badges/main/<type>.svg
    assert package["coverage.svg"][-1].decode().rstrip("\n") == (folder / "coverage.svg").read_text().rstrip("\n")
    shields = json.loads((folder / "tests.json").read_text())
    assert (out["AQE_TESTS"], out["AQE_FAILED"]) == ("5", "1")  # examples/reports/base: 4 pass, 1 fails
    assert shields == {"schemaVersion": 1, "label": "tests", "message": "4 passed, 1 failed", "color": "red"}
    # the job token of a Developer may not delete the older copy (the download returns the newest);
    # a Maintainer's token (gitlab.token) leaves one copy of each file
    again = job("main", "pr", "--badges", "coverage", "--badge-publish")
    assert again.returncode == 0, again.stderr
    assert len(badge_package(fake_gitlab, main.project)["coverage.svg"]) == 2
    config = tmp_path / "maintainer.json"
    config.write_text(json.dumps({"backend": "gitlab", "gitlab": {"token": gl["pat"]}}))
    third = job("main", "base", "--badges", "coverage", "--badge-publish", extra={"AQE_CONFIG": str(config)})
    assert third.returncode == 0, third.stderr
    copies = badge_package(fake_gitlab, main.project)["coverage.svg"]
    assert len(copies) == 1 and copies[0].decode().rstrip("\n") == \
        (third.work / ".aqe" / "badges" / "coverage.svg").read_text().rstrip("\n")


def test_mr_pipelines_make_no_badges_and_a_badge_problem_never_fails_the_job(job: Any, fake_gitlab: FakeGitLab) -> None:
    mr = job("mr", "pr", "--badges", "all", "--badge-publish")
    assert mr.returncode == 0, mr.stderr
    assert "badges: none made, this run belongs to pull/merge request #7" in mr.stdout
    assert not (mr.work / ".aqe" / "badges").exists() and dotenv(mr.work)["AQE_BADGES"] == ""
    assert badge_package(fake_gitlab, mr.project) == {}
    def block_the_folder(work: Path) -> None:
        (work / "out").mkdir()
        (work / "out" / "badges").write_text("a file where the badge folder goes")

    blocked = job("main", "base", "--badges", "security", "--out-dir", "out", "--fail-on", "failed>5",
                  prepare=block_the_folder)
    assert blocked.returncode == 0, blocked.stderr
    assert "Warning: no badges: unexpected" in blocked.stderr
    assert dict(line.split("=", 1) for line in (blocked.work / "out" / "aqe.env").read_text().splitlines())[
        "AQE_BADGES"] == ""


def test_a_default_branch_pipeline_with_an_open_mr_from_it_still_makes_the_badges(
        job: Any, fake_gitlab: FakeGitLab) -> None:
    # a branch pipeline is the branch's own code: an MR that branch is the source of (CI_OPEN_MERGE_REQUESTS)
    # does not make it an MR pipeline
    main = job("main-with-open-mr", "base", "--badges", "coverage", "--badge-publish")
    assert main.returncode == 0, main.stderr
    assert "badges of main: coverage -> .aqe/badges and badges/main/ in " in main.stdout
    assert dotenv(main.work)["AQE_BADGES"] == "coverage"
    assert sorted(badge_package(fake_gitlab, main.project)) == ["coverage.json", "coverage.svg"]


def test_a_bad_badges_option_fails_before_anything_is_stored(job: Any, fake_gitlab: FakeGitLab) -> None:
    proc = job("main", "base", "--badges", "coverage,lines")
    assert proc.returncode == 2 and "--badges: 'coverage,lines' is not none, all or a comma list" in proc.stderr
    assert fake_gitlab.project_packages(proc.project) == []
