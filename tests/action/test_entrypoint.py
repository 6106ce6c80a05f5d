"""entrypoint.py as the runner starts it: a plain process with exactly a Docker action's environment,
real webhook payloads, the fake GitHub behind the real PyGithub, and the local backend."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aqe_ci.publish.base import marker
from tests.action.conftest import FILES, LIST, REPO, Job, assert_no_secret
from tests.action.runner_env import Step, git, payload


def drop_skipped_test(reports: Path) -> None:
    junit = reports / "junit.xml"
    text = junit.read_text(encoding="utf-8")
    start = text.index('<testcase classname="tests.test_calc" name="test_tax"')
    junit.write_text(text[:start] + text[text.index("</testcase>", start) + len("</testcase>"):], encoding="utf-8")


def test_base_push_then_pr_posts_one_sticky_comment_updated_on_the_next_run(job: Job) -> None:
    base = job.push()
    assert base.code == 0, base.log
    assert base.outputs["key"] == "gh-9876543210-1-test" and base.outputs["baseline-key"] == ""
    assert job.github.calls() == []  # a push to main belongs to no PR: no API request at all
    assert base.summary.startswith(marker()) and "quality report" in base.summary

    first = job.pull_request()
    assert first.code == 0, first.log
    assert job.github.calls() == [LIST, f"POST /repos/{REPO}/issues/42/comments"]
    [comment] = job.github.comments(REPO, 42)
    assert comment.body.startswith(marker()) and comment.body == comment.body[:65_536]
    assert "merge\\-base of" in comment.body  # the baseline is the push run of the merge-base commit
    out = first.outputs
    assert out["baseline-key"] == "gh-9876543210-1-test" and out["baseline-sha"] == job.base_sha
    assert out["comment-id"] == str(comment.id) and out["comment-url"].endswith(f"#issuecomment-{comment.id}")
    assert out["gates"] == "none" and out["tests"] and out["coverage"] and out["coverage-change"]
    assert 0 <= float(out["patch-coverage"]) <= 100  # the PR's changed lines, from the checkout's git diff
    assert int(out["new-failures"]) >= 0 and int(out["failed"]) >= int(out["new-failures"])
    assert "PR comment created" in first.summary

    job.github.clear_requests()
    second = job.pull_request(edit=drop_skipped_test)  # the next push of the PR: one test fewer
    assert second.code == 0, second.log
    assert job.github.calls() == [LIST, f"PATCH /repos/{REPO}/issues/comments/{comment.id}"]
    assert [c.id for c in job.github.comments(REPO, 42)] == [comment.id]
    assert second.outputs["comment-id"] == str(comment.id) and second.outputs["tests"] == str(int(out["tests"]) - 1)
    for step in (base, first, second):
        assert_no_secret(step, *(c.body for c in job.github.comments(REPO, 42)))


def test_recreate_deletes_and_reposts_and_off_posts_nothing(job: Job) -> None:
    job.push()
    first = job.pull_request()
    old = first.outputs["comment-id"]
    job.github.clear_requests()
    again = job.pull_request(**{"comment-mode": "recreate"})
    assert again.code == 0, again.log
    new = again.outputs["comment-id"]
    assert job.github.calls() == [LIST, f"POST /repos/{REPO}/issues/42/comments",
                                  f"DELETE /repos/{REPO}/issues/comments/{old}"]
    assert [str(c.id) for c in job.github.comments(REPO, 42)] == [new]

    job.github.clear_requests()
    off = job.pull_request(**{"comment-mode": "off"})
    assert off.code == 0 and job.github.calls() == []
    assert off.outputs["comment-id"] == "" and "quality report" in off.summary


def test_a_second_comment_id_gives_a_second_comment(job: Job) -> None:
    job.push()
    job.pull_request()
    unit = job.pull_request(**{"comment-id": "unit-tests", "comment-title": "Unit tests"})
    assert unit.code == 0, unit.log
    bodies = [c.body for c in job.github.comments(REPO, 42)]
    assert len(bodies) == 2
    assert bodies[0].startswith(marker("default")) and bodies[1].startswith(marker("unit-tests"))
    assert "### Unit tests" in bodies[1]


def test_a_fork_prs_read_only_token_saves_the_comment_and_succeeds(job: Job) -> None:
    job.push()
    job.github.state.read_only = True
    step = job.pull_request()
    assert step.code == 0, step.log
    assert "::notice title=aqe-artifacts::the PR comment was not posted" in step.stdout
    assert "Resource not accessible by integration" in step.stdout
    assert step.outputs["comment-file"] == ".aqe/comment.json" and step.outputs["comment-id"] == ""
    saved = json.loads((job.runner.workspace / ".aqe" / "comment.json").read_text())
    assert saved["format"] == "aqe-artifacts/comment@1" and saved["target"] == {"project": REPO, "number": 42}
    assert saved["head_sha"] == job.head_sha and saved["body"].startswith(marker())
    assert "The PR comment could not be posted" in step.summary and "comment --from-file" in step.summary
    assert job.github.comments(REPO, 42) == []
    assert_no_secret(step, json.dumps(saved))


def test_a_failed_gate_fails_the_step_after_commenting(job: Job) -> None:
    job.push()
    step = job.pull_request(**{"fail-on": "coverage<99.9,new_failures>1000"})
    assert step.code == 6, step.log
    assert step.outputs["gates"] == "failed"
    assert "::error title=aqe-artifacts::1 quality gate failed: coverage<99.9" in step.stdout
    [comment] = job.github.comments(REPO, 42)
    assert "**Gates:** ❌ coverage&lt;99\\.9" in comment.body


def test_require_baseline_without_one_exits_6(job: Job) -> None:
    step = job.pull_request(**{"require-baseline": "true"})
    assert step.code == 6 and "no baseline" in step.stdout
    assert step.outputs["baseline-key"] == ""


@pytest.mark.parametrize(("inputs", "message"), [
    ({"mode": "everything"}, "input mode: 'everything' is not one of all, store, compare, comment"),
    ({"require-baseline": "yes"}, "input require-baseline: 'yes' is not a boolean"),
    ({"fail-on": "coverage>>1"}, "--fail-on: cannot parse gate"),
    ({"comment-id": "a b"}, "input comment-id"),
    ({"backend": "s3"}, "s3.bucket is not set"),
    ({"badges": "coverage,lines"}, "input badges: 'coverage,lines' is not none, all or a comma list"),
    ({"badges": "all", "badge-on": "main"}, "input badge-on: 'main' is not one of default-branch, branches"),
    ({"badges": "all", "badge-publish": "yes"}, "input badge-publish: 'yes' is not a boolean"),
])
def test_bad_inputs_exit_2_with_one_error_line(job: Job, inputs: dict[str, str], message: str) -> None:
    step = job.pull_request(**inputs)
    assert step.code == 2, step.log
    errors = [line for line in step.stdout.splitlines() if line.startswith("::error")]
    assert len(errors) == 1 and message.replace(",", "%2C") in errors[0].replace(",", "%2C")
    assert job.github.comments(REPO, 42) == []


def test_mode_store_then_mode_comment_of_the_same_key(job: Job) -> None:
    job.push()
    stored = job.pull_request(mode="store", key="pr-42-run")
    assert stored.code == 0 and stored.outputs == {"key": "pr-42-run"}
    assert job.github.calls() == []
    compared = job.pull_request(mode="compare", key="pr-42-run", files="")
    assert compared.code == 0 and job.github.calls() == [] and compared.outputs["baseline-key"]
    commented = job.pull_request(mode="comment", key="pr-42-run", files="", **{"json-file": "out/report.json"})
    assert commented.code == 0, commented.log
    assert len(job.github.comments(REPO, 42)) == 1
    assert commented.outputs["report-file"] == "out/report.json"
    report = json.loads((job.runner.workspace / "out" / "report.json").read_text())
    assert report["comparison"]["head"]["key"] == "pr-42-run"


def test_working_directory_and_invalid_report(job: Job) -> None:
    sub = job.runner.workspace / "svc"
    sub.mkdir()
    (sub / "junit.xml").write_text("<testsuite><testcase name='x'>")  # truncated XML
    step = job.pull_request(files="junit.xml", **{"working-directory": "svc"})
    assert step.code == 7, step.log
    assert "junit.xml" in step.stdout and "nothing was stored" in step.stdout
    assert not (sub / ".qe-artifacts").exists() or not any((sub / ".qe-artifacts").rglob("*.json"))


def context_of(step: Step) -> dict[str, Any]:
    line = next(line for line in step.stdout.splitlines() if line.startswith("aqe-artifacts: mode"))
    return {"line": line}


def test_pull_request_target_uses_the_pr_head_not_github_sha(job: Job) -> None:
    job.push()
    step = job.pull_request("pull_request_target")
    assert step.code == 0, step.log
    assert f"commit {job.head_sha[:12]} PR #42" in context_of(step)["line"]
    assert len(job.github.comments(REPO, 42)) == 1


def test_workflow_run_comments_on_the_pr_listed_in_the_payload(job: Job) -> None:
    job.push()
    git(job.runner.workspace, "checkout", "-q", "feature/json-storage")
    job._reports("pr")
    prs = [{"url": f"https://api.github.com/repos/{REPO}/pulls/42", "id": 2100000001, "number": 42,
            "head": {"ref": "feature/json-storage", "sha": job.head_sha},
            "base": {"ref": "main", "sha": job.base_sha}}]
    ev = payload("workflow_run", HEAD_SHA=job.head_sha, PULL_REQUESTS=prs)
    env = job.runner.environment("workflow_run", ev, sha=job.base_sha, ref="refs/heads/main",
                                 inputs={"files": FILES})
    step = job.runner.run(env)
    assert step.code == 0, step.log
    assert "PR #42" in context_of(step)["line"]
    assert f"GET /repos/{REPO}/commits/{job.head_sha}/pulls?per_page=100" not in job.github.calls()
    assert len(job.github.comments(REPO, 42)) == 1


def test_workflow_run_of_a_fork_pr_finds_the_pr_from_the_head_sha(job: Job) -> None:
    job.push()
    job._reports("pr")
    ev = payload("workflow_run", HEAD_SHA=job.head_sha, HEAD_REPO="stranger/widgets")
    env = job.runner.environment("workflow_run", ev, sha=job.base_sha, ref="refs/heads/main",
                                 inputs={"files": FILES})
    step = job.runner.run(env)
    assert step.code == 0, step.log
    assert job.github.calls()[0] == f"GET /repos/{REPO}/commits/{job.head_sha}/pulls?per_page=100"
    assert len(job.github.comments(REPO, 42)) == 1


def test_merge_group_runs_against_the_queue_base_and_comments_nowhere(job: Job) -> None:
    job.push()
    job._reports("pr")
    ev = payload("merge_group", HEAD_SHA=job.head_sha, BASE_SHA=job.base_sha)
    ref = f"refs/heads/gh-readonly-queue/main/pr-42-{job.base_sha}"
    env = job.runner.environment("merge_group", ev, sha=job.head_sha, ref=ref, inputs={"files": FILES})
    step = job.runner.run(env)
    assert step.code == 0, step.log
    assert step.outputs["baseline-key"] == "gh-9876543210-1-test"
    assert job.github.calls() == []


# -- badges ---------------------------------------------------------------------------------------------
def badge_files(step: Step) -> dict[str, str]:
    folder = Path(step.env["GITHUB_WORKSPACE"]) / ".aqe" / "badges"
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir())} if folder.is_dir() else {}


def published(job: Job, branch_segment: str) -> dict[str, str]:
    folder = job.runner.workspace / ".qe-artifacts" / "badges" / branch_segment
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir())} if folder.is_dir() else {}


def test_a_push_to_the_default_branch_writes_the_badges_and_publishes_them_to_the_store(job: Job) -> None:
    import subprocess
    import sys

    step = job.push(badges="all", **{"badge-publish": "true"})
    assert step.code == 0, step.log
    assert step.outputs["badges"] == "coverage,tests,security" and step.outputs["badge-dir"] == ".aqe/badges"
    files = badge_files(step)
    names = ["coverage.json", "coverage.svg", "security.json", "security.svg", "tests.json", "tests.svg"]
    assert sorted(files) == names
    assert "badges of main: coverage, tests, security -> .aqe/badges and badges/main/ in " in step.stdout
    store = published(job, "main")  # the store under the stable names, byte for byte the files' content
    assert sorted(store) == names and all(store[n].rstrip("\n") == files[n].rstrip("\n") for n in names)
    shields = json.loads(files["coverage.json"])
    assert shields["schemaVersion"] == 1 and shields["label"] == "coverage"
    assert shields["message"] == f"{float(step.outputs['coverage']):.1f}".rstrip("0").rstrip(".") + "%"
    assert files["tests.svg"].startswith("<svg") and f">tests: {json.loads(files['tests.json'])['message']}<" in files["tests.svg"]
    # the same badge `aqe artifacts badge` renders from that store
    cli = subprocess.run([sys.executable, "-m", "aqe_ci", "artifacts", "badge", "--type", "coverage", "--branch", "main",
                          "--format", "shields"], cwd=job.runner.workspace, capture_output=True, text=True, check=True,
                         env={"PATH": "/usr/bin:/bin", "HOME": str(job.runner.workspace)})
    assert json.loads(cli.stdout) == shields
    assert_no_secret(step, *files.values())


def test_pull_request_runs_make_no_badges_by_default(job: Job) -> None:
    job.push()
    step = job.pull_request(badges="all", **{"badge-publish": "true"})
    assert step.code == 0, step.log
    assert step.outputs["badges"] == "" and step.outputs["badge-dir"] == ""
    assert "badges: none made, this run belongs to pull/merge request #42" in step.stdout
    assert badge_files(step) == {} and published(job, "main") == {}
    assert len(job.github.comments(REPO, 42)) == 1  # the rest of the step as usual


def test_a_workflow_run_of_a_fork_pr_whose_head_is_called_main_makes_no_badges(job: Job) -> None:
    job.push(badges="coverage", **{"badge-publish": "true"})
    before = published(job, "main")
    job._reports("pr")
    # the fork's own main branch: GitHub lists no pull_requests for a fork's PR, so the run has no PR number
    ev = payload("workflow_run", HEAD_SHA=job.head_sha, HEAD_REPO="stranger/widgets", HEAD_REF="main")
    env = job.runner.environment("workflow_run", ev, sha=job.base_sha, ref="refs/heads/main",
                                 inputs={"files": FILES, "badges": "coverage", "badge-publish": "true"})
    step = job.runner.run(env)
    assert step.code == 0, step.log
    assert "badges: none made, a workflow_run run" in step.stdout
    assert step.outputs["badges"] == "" and published(job, "main") == before  # main's badges untouched


def test_a_step_without_badges_does_not_import_the_badge_code(job: Job) -> None:
    # every step pays for what it imports (bench/bench_action.py): the badge use case and its rendering
    # (dataclasses, xml.sax) only when badges are asked for; the other badge inputs are checked all the same
    import entrypoint
    from aqe_ci.app.badge import BADGE_ON, NO_BADGES

    assert entrypoint.BADGE_ON == BADGE_ON and entrypoint.NO_BADGES == NO_BADGES  # the entrypoint's copies
    job.push()
    step = job.pull_request(extra={"PYTHONPROFILEIMPORTTIME": "1"}, **{"badge-on": "branches"})
    assert step.code == 0, step.log
    imported = {line.rsplit("|", 1)[1].strip() for line in step.stderr.splitlines() if line.startswith("import time:")}
    assert "aqe_ci.app.publish" in imported and "github" in imported
    assert not {"aqe_ci.app.badge", "aqe_ci.render.badge"} & imported
    bad = job.pull_request(**{"badge-on": "main"})
    assert bad.code == 2 and "input badge-on: 'main' is not one of default-branch, branches" in bad.stdout


def feature_push(job: Job, **inputs: str) -> Step:
    git(job.runner.workspace, "checkout", "-q", "feature/json-storage")
    job._reports("pr")
    ev = payload("push", HEAD_SHA=job.head_sha, BASE_REF="feature/json-storage")
    env = job.runner.environment("push", ev, sha=job.head_sha, ref="refs/heads/feature/json-storage",
                                 inputs={"files": FILES, **inputs})
    return job.runner.run(env)


def test_other_branches_make_badges_only_with_badge_on_branches(job: Job) -> None:
    skipped = feature_push(job, badges="coverage", **{"badge-publish": "true"})
    assert skipped.code == 0, skipped.log
    assert "badges: none made, branch feature/json-storage is not the default branch main" in skipped.stdout
    assert skipped.outputs["badges"] == "" and badge_files(skipped) == {}
    made = feature_push(job, badges="coverage", **{"badge-on": "branches", "badge-publish": "true",
                                                  "badge-dir": "site/badges"})
    assert made.code == 0, made.log
    assert made.outputs["badges"] == "coverage" and made.outputs["badge-dir"] == "site/badges"
    assert sorted(p.name for p in (job.runner.workspace / "site" / "badges").iterdir()) == ["coverage.json", "coverage.svg"]
    assert sorted(published(job, "feature%2Fjson-storage")) == ["coverage.json", "coverage.svg"]


def test_mode_store_makes_badges_and_a_missing_type_is_only_a_warning(job: Job) -> None:
    git(job.runner.workspace, "checkout", "-q", "main")
    job._reports("base")
    env = job.runner.environment("push", payload("push", HEAD_SHA=job.base_sha), sha=job.base_sha,
                                 ref="refs/heads/main", inputs={"files": "reports/junit.xml", "mode": "store",
                                                               "badges": "tests,security", "badge-dir": ""})
    step = job.runner.run(env)
    assert step.code == 0, step.log
    assert step.outputs == {"key": "gh-9876543210-1-test", "badges": "tests", "badge-dir": ""}  # no files asked for
    assert "::warning title=aqe-artifacts%3A badges::no security run stored on main: no badge of it" in step.stdout
    assert badge_files(step) == {} and published(job, "main") == {}


def test_a_badge_that_cannot_be_written_warns_and_the_step_still_succeeds(job: Job) -> None:
    (job.runner.workspace / "blocked").write_text("a file, not a folder")
    step = job.push(badges="all", **{"badge-dir": "blocked/badges", "fail-on": "coverage<0"})
    assert step.code == 0, step.log
    warning = next(line for line in step.stdout.splitlines() if line.startswith("::warning title=aqe-artifacts%3A badges::"))
    assert "no badges:" in warning
    assert step.outputs["badges"] == "" and step.outputs["gates"] == "passed" and step.outputs["key"]


def test_a_store_that_refuses_the_badges_still_leaves_the_files_and_the_outputs(job: Job) -> None:
    # e.g. an S3 policy that allows runs/ and index/ only: the files for Pages were written all the same
    (job.runner.workspace / ".qe-artifacts").mkdir(exist_ok=True)
    (job.runner.workspace / ".qe-artifacts" / "badges").write_text("a file where the badges go")
    step = job.push(badges="coverage", **{"badge-publish": "true"})
    assert step.code == 0, step.log
    warning = next(line for line in step.stdout.splitlines() if line.startswith("::warning title=aqe-artifacts%3A badges::"))
    assert "badges: not published: cannot create directory" in warning
    assert step.outputs["badges"] == "coverage" and step.outputs["badge-dir"] == ".aqe/badges"
    assert sorted(badge_files(step)) == ["coverage.json", "coverage.svg"]
    assert "badges of main: coverage -> .aqe/badges" in step.stdout


def test_a_failed_gate_still_leaves_the_badges(job: Job) -> None:
    step = job.push(badges="coverage", **{"fail-on": "coverage<99.9"})
    assert step.code == 6, step.log
    assert step.outputs["badges"] == "coverage" and sorted(badge_files(step)) == ["coverage.json", "coverage.svg"]
