"""The fork-PR recipe end to end: the untrusted run saves its comment, a trusted workflow_run job posts it
with ``aqe artifacts comment --from-file``, finding the PR from GitHub's data, never from the file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from aqe_ci.publish.base import marker
from tests.action.conftest import REPO, TOKEN, Job, assert_no_secret
from tests.action.runner_env import Step, payload
from tests.servers.fake_github import User

AQE = [sys.executable, "-m", "aqe_ci"]
WRITER = "ghs_" + "TrustedCanary" * 3


def saved_comment(job: Job) -> Path:
    """A fork PR's run: the read-only token cannot comment, so the comment is saved to a file."""
    job.push()
    job.github.state.read_only = True
    step = job.pull_request()
    assert step.code == 0, step.log
    job.github.state.read_only = False
    return job.runner.workspace / ".aqe" / "comment.json"


def trusted_job(job: Job, *args: str, head_sha: str | None = None) -> Step:
    """``aqe artifacts comment`` in a workflow_run job of the base repository (fork: no pull_requests)."""
    job.github.add_token(WRITER, User("github-actions[bot]", "Bot", 41898282, can_read_self=False))
    ev = payload("workflow_run", HEAD_SHA=head_sha or job.head_sha, HEAD_REPO="stranger/widgets")
    env = job.runner.environment("workflow_run", ev, sha=job.base_sha, ref="refs/heads/main", inputs={})
    env = {k: v for k, v in env.items() if not k.startswith("INPUT_")}
    env["GITHUB_TOKEN"] = WRITER  # `env: GITHUB_TOKEN: ${{ github.token }}` in the trusted workflow
    return job.runner.run(env, argv=[*AQE, "artifacts", "comment", *args])


def test_the_saved_comment_is_posted_to_the_pr_github_names(job: Job) -> None:
    path = saved_comment(job)
    saved = json.loads(path.read_text())
    job.github.clear_requests()
    step = trusted_job(job, "--from-file", str(path))
    assert step.code == 0, step.log
    assert job.github.calls() == [f"GET /repos/{REPO}/commits/{job.head_sha}/pulls?per_page=100",
                                  f"GET /repos/{REPO}/issues/42/comments?per_page=100",
                                  f"POST /repos/{REPO}/issues/42/comments"]
    [comment] = job.github.comments(REPO, 42)
    assert comment.body == saved["body"]  # rendered again from the comparison: the same comment
    assert "comment created: https://github.com/acme/widgets/pull/42#issuecomment-" in step.stdout
    assert step.outputs["comment-id"] == str(comment.id)
    assert "quality report" in step.summary

    again = trusted_job(job, "--from-file", str(path))  # a re-run of the trusted job: still one comment
    assert again.code == 0 and [c.id for c in job.github.comments(REPO, 42)] == [comment.id]
    for s in (step, again):
        assert_no_secret(s, comment.body, secrets=(WRITER,))


def test_a_tampered_file_cannot_choose_the_pr_or_the_text(job: Job) -> None:
    path = saved_comment(job)
    data = json.loads(path.read_text())
    data["target"] = {"project": "acme/other", "number": 7}
    data["body"] = marker() + "\n@everyone click <a href='https://evil.example'>here</a>"
    data["title"] = "<img src=x onerror=alert(1)> @admins"
    failures = data["result"]["comparison"]["tests"]["new_failures"]
    failures[0]["name"] = "x | <script>alert(1)</script> [link](https://evil.example) @maintainers"
    path.write_text(json.dumps(data))
    job.github.add_pull(REPO, 7, "e" * 40)
    step = trusted_job(job, "--from-file", str(path))
    assert step.code == 0, step.log
    assert "the file names acme/other#7; ignored, GitHub says acme/widgets#42" in step.stderr
    assert job.github.comments(REPO, 7) == []
    [comment] = job.github.comments(REPO, 42)
    assert "evil.example'>here" not in comment.body and "<script>" not in comment.body
    assert "<img" not in comment.body and "@everyone" not in comment.body
    assert "&lt;script&gt;" in comment.body and "@\u200dmaintainers" in comment.body


def test_no_open_pr_for_the_commit_exits_4(job: Job) -> None:
    path = saved_comment(job)
    step = trusted_job(job, "--from-file", str(path), head_sha="9" * 40)
    assert step.code == 4, step.log
    assert "no open pull request of acme/widgets has head commit 999999999999" in step.stderr
    assert job.github.comments(REPO, 42) == []


@pytest.mark.parametrize(("content", "message"), [
    ("not json", "not a readable JSON comment file"),
    ('{"format": "something-else"}', "$.format"),
    ('{"format": "aqe-artifacts/comment@1", "result": {"comparison": {}}, "comment_id": "../x"}', "$.comment_id"),
    ('{"format": "aqe-artifacts/comment@1", "result": {"comparison": {"tests": {"after": 1}}}}', "$.result"),
])
def test_a_malformed_file_exits_7_and_posts_nothing(job: Job, tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "comment.json"
    path.write_text(content)
    job.github.clear_requests()
    step = trusted_job(job, "--from-file", str(path))
    assert step.code == 7, step.log
    assert message in step.stderr and job.github.comments(REPO, 42) == []
    assert not any(c.startswith("POST") for c in job.github.calls())


def test_the_key_form_compares_and_comments(job: Job) -> None:
    job.push(key="base-run")
    stored = job.pull_request(mode="store", key="pr-run")
    assert stored.code == 0, stored.log
    ev = payload("pull_request", HEAD_SHA=job.head_sha, BASE_SHA=job.base_sha)
    env = job.runner.environment("pull_request", ev, sha="f" * 40, ref="refs/pull/42/merge",
                                 head_ref="feature/json-storage", base_ref="main", inputs={})
    env = {k: v for k, v in env.items() if not k.startswith("INPUT_")} | {"GITHUB_TOKEN": TOKEN}
    step = job.runner.run(env, argv=[*AQE, "artifacts", "comment", "pr-run", "--comment-id", "cli"])
    assert step.code == 0, step.log
    [comment] = job.github.comments(REPO, 42)
    assert comment.body.startswith(marker("cli")) and "`base-run`" in comment.body
    assert_no_secret(step, comment.body)


def test_it_needs_a_key_or_a_file() -> None:
    proc = subprocess.run([*AQE, "artifacts", "comment"], capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and "give a run KEY or --from-file FILE" in proc.stderr
