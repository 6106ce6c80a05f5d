"""The action with ``backend: github``: history in the repository's Actions artifacts (the fake results
service, blobs on Azurite), the PR comment on the fake GitHub — the runner gives the container the
runtime variables, ``github-token`` reaches the backend as GITHUB_TOKEN through action.yml's runs.env."""

from __future__ import annotations

import json
from pathlib import Path

from tests.action.conftest import FILES, REPO, Job
from tests.action.runner_env import payload
from tests.servers.fake_github import BOT
from tests.servers.results_service import ResultsService


def test_backend_github_stores_finds_the_baseline_and_comments(job: Job, results_service: ResultsService) -> None:
    results_service.owner, results_service.repo = REPO.split("/")
    token = results_service.rest_token("write")
    job.github.add_token(token, BOT)  # one GITHUB_TOKEN: artifacts REST and the comment
    job.runner.token = token
    config = job.runner.workspace / "aqe.json"  # the artifacts API of the fake results service
    config.write_text(json.dumps({"github": {"api_url": results_service.url, "repository": REPO}}))

    def step(event: str, sha: str, ref: str, ev: dict[str, object], inputs: dict[str, str] | None = None,
             **kw: str):  # type: ignore[no-untyped-def]
        run = results_service.new_run(branch=kw.get("head_ref") or "main", sha=sha)
        extra = {"ACTIONS_RUNTIME_TOKEN": results_service.runtime_token(run),
                 "ACTIONS_RESULTS_URL": results_service.url + "/"}
        env = job.runner.environment(event, ev, sha=sha, ref=ref, extra=extra, **kw,
                                     inputs={"files": FILES, "backend": "github", "config": config.name,
                                             **(inputs or {})})
        return job.runner.run(env)

    from tests.action.conftest import git

    git(job.runner.workspace, "checkout", "-q", "main")
    job._reports("base")
    base = step("push", job.base_sha, "refs/heads/main", payload("push", HEAD_SHA=job.base_sha),
                inputs={"badges": "all", "badge-publish": "true"})
    assert base.code == 0, base.log
    assert any(a.name.startswith("aqe~d~gh-9876543210-1-test~coverage") for a in results_service.live())
    # badges: read back from the artifacts just stored, written as files; the artifacts cannot hold them
    assert base.outputs["badges"] == "coverage,tests,security" and base.outputs["badge-dir"] == ".aqe/badges"
    assert len(list((job.runner.workspace / ".aqe" / "badges").glob("*.svg"))) == 3
    assert "::warning title=aqe-artifacts%3A badges::badges: not published: the github backend stores whole " \
           "documents only and cannot hold badges" in base.stdout

    git(job.runner.workspace, "checkout", "-q", "feature/json-storage")
    job._reports("pr")
    ev = payload("pull_request", HEAD_SHA=job.head_sha, BASE_SHA=job.base_sha)
    pr = step("pull_request", "f" * 40, "refs/pull/42/merge", ev, head_ref="feature/json-storage", base_ref="main")
    assert pr.code == 0, pr.log
    assert pr.outputs["baseline-key"] == "gh-9876543210-1-test"  # read back from the artifacts
    [comment] = job.github.comments(REPO, 42)
    assert pr.outputs["comment-id"] == str(comment.id)
    assert token not in pr.log.replace(f"::add-mask::{token}", "") and token not in comment.body
    assert Path(pr.env["GITHUB_STEP_SUMMARY"]).read_text().count("quality report") == 1
