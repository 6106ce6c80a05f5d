"""``aqe doctor`` in a runner's environment: the inferred context with its sources, the comment target,
and whether the storage backend answers (local, a real S3 API server, an unreachable endpoint)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

from tests.action.conftest import TOKEN, Job
from tests.action.runner_env import payload

AQE = [sys.executable, "-m", "aqe_ci"]


def doctor(job: Job, event: str = "pull_request", *args: str, config: str | None = None, **values: Any) -> Any:
    """``aqe [--config FILE] doctor ARGS`` in a ``run:`` step of a job started by ``event``."""
    ev = payload(event, HEAD_SHA=job.head_sha, BASE_SHA=job.base_sha, **values)
    env = job.runner.environment(event, ev, sha="f" * 40, ref="refs/pull/42/merge", head_ref="feature/json-storage",
                                 base_ref="main", inputs={})
    env = {k: v for k, v in env.items() if not k.startswith("INPUT_")} | {"GITHUB_TOKEN": TOKEN}
    return job.runner.run(env, argv=[*AQE, *(["--config", config] if config else []), "doctor", *args])


def row(out: str, name: str) -> tuple[str, str]:
    """(value, source) of a field in doctor's table."""
    line = next(line for line in out.splitlines() if line.split(" ", 1)[0] == name)
    value, _, source = line[len(name):].strip().partition("  ")
    return value, source.strip()


def test_doctor_explains_each_value_and_where_the_comment_goes(job: Job) -> None:
    step = doctor(job)
    assert step.code == 0, step.log
    out = step.stdout
    assert row(out, "platform") == ("github", "GITHUB_ACTIONS=true")
    assert row(out, "repository") == ("acme/widgets", "GITHUB_REPOSITORY")
    assert row(out, "commit") == (job.head_sha, "event payload pull_request.head.sha")
    assert row(out, "merge_commit") == ("f" * 40, "GITHUB_SHA")
    assert row(out, "branch") == ("feature/json-storage", "event payload pull_request.head.ref")
    assert row(out, "pr") == ("42", "event payload pull_request.number")
    assert row(out, "base_branch") == ("main", "event payload pull_request.base.ref")
    assert row(out, "base_sha") == (job.base_sha, "event payload pull_request.base.sha")
    assert "comment:  acme/widgets#42 — the PR number from event payload pull_request.number" in out
    assert "token:    GITHUB_TOKEN" in out and TOKEN not in out
    assert "backend:  local at " in out and "reachable (" in out


def test_doctor_json_for_a_fork_workflow_run(job: Job) -> None:
    step = doctor(job, "workflow_run", "--format", "json", HEAD_REPO="stranger/widgets")
    assert step.code == 0, step.log
    report = json.loads(step.stdout)
    assert report["context"]["commit"] == job.head_sha
    assert report["sources"]["commit"] == "event payload workflow_run.head_sha"
    assert report["context"]["pr"] is None
    assert "looked up on GitHub by the head sha" in report["comment"]["why"]
    assert report["backend"]["reachable"] is True and report["backend"]["config"] == "built-in defaults"


def test_doctor_reports_a_reachable_and_an_unreachable_s3_backend(job: Job,
                                                                  s3_bucket: Callable[..., dict[str, Any]]) -> None:
    ok = job.runner.workspace / "s3.json"
    ok.write_text(json.dumps({"backend": "s3", "s3": s3_bucket()}))
    step = doctor(job, config=str(ok))
    assert step.code == 0, step.log
    assert "backend:  s3 at s3://aqe-test-" in step.stdout and "reachable (" in step.stdout

    down = job.runner.workspace / "down.json"
    down.write_text(json.dumps({"backend": "s3", "s3": s3_bucket(endpoint="http://127.0.0.1:9", max_attempts=1)}))
    step = doctor(job, config=str(down))
    assert step.code == 8, step.log
    assert "UNREACHABLE" in step.stdout and "is unreachable" in step.stderr
