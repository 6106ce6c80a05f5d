"""GitLab CI context: child pipelines and the job facts publishing needs (aqe_ci/context/gitlab.py)."""

from __future__ import annotations

from aqe_ci.context import detect
from aqe_ci.context.gitlab import gitlab_job
from aqe_ci.git import Git as GitRunner

HEAD, BASE = "1" * 40, "2" * 40
JOB = {"GITLAB_CI": "true", "CI_PROJECT_ID": "42", "CI_PROJECT_PATH": "acme/app", "CI_JOB_ID": "7001",
       "CI_API_V4_URL": "https://gitlab.example.com/api/v4", "CI_PROJECT_URL": "https://gitlab.example.com/acme/app"}
MR = {"CI_MERGE_REQUEST_IID": "12", "CI_MERGE_REQUEST_PROJECT_ID": "42", "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "42",
      "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
      "CI_MERGE_REQUEST_DIFF_BASE_SHA": BASE, "CI_MERGE_REQUEST_EVENT_TYPE": "detached", "CI_COMMIT_SHA": HEAD,
      "CI_MERGE_REQUEST_PROJECT_URL": "https://gitlab.example.com/acme/app"}


class NoGit(GitRunner):
    def run(self, *args: str) -> str | None:
        return None


def test_child_pipeline_of_an_mr_pipeline_is_an_mr_run() -> None:
    env = {**JOB, **MR, "CI_PIPELINE_SOURCE": "parent_pipeline"}
    ctx = detect(env, git=NoGit())
    assert (ctx.pr, ctx.branch, ctx.base_branch, ctx.base_sha, ctx.commit, ctx.event) == \
        (12, "feature", "main", BASE, HEAD, "parent_pipeline")
    job = gitlab_job(env)
    assert job.is_child_pipeline and job.mr_iid == 12 and job.note_project == "42" and not job.is_fork_mr


def test_child_pipeline_of_a_branch_pipeline_is_a_branch_run() -> None:
    env = {**JOB, "CI_PIPELINE_SOURCE": "parent_pipeline", "CI_COMMIT_BRANCH": "main", "CI_COMMIT_SHA": HEAD}
    ctx = detect(env, git=NoGit())
    assert (ctx.branch, ctx.pr, ctx.commit) == ("main", None, HEAD)
    assert gitlab_job(env).mr_iid is None


def test_fork_mrs_in_the_fork_and_in_the_parent_project() -> None:
    in_fork = gitlab_job({**JOB, **MR, "CI_PROJECT_ID": "99", "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "99"})
    assert in_fork.is_fork_mr and in_fork.runs_in_fork and in_fork.note_project == "42"
    in_parent = gitlab_job({**JOB, **MR, "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "99"})
    assert in_parent.is_fork_mr and not in_parent.runs_in_fork


def test_outside_gitlab_there_is_no_job_and_bad_iids_are_ignored() -> None:
    assert gitlab_job({"CI_MERGE_REQUEST_IID": "12"}).mr_iid is None
    assert gitlab_job({**JOB, "CI_MERGE_REQUEST_IID": "x1"}).mr_iid is None
    assert gitlab_job({**JOB}).api_url == "https://gitlab.example.com/api/v4"
