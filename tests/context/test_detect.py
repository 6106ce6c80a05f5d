"""Context detection, one case per platform and event kind.

Every case states the whole expected context (fields not listed must be None) and the exact set of
warnings (by substring), so a value read from the wrong variable, or a silent fallback, fails.
GitHub event payloads are trimmed real webhook shapes written to a temp file; git answers come
from real repositories created by the fixtures in conftest.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from aqe_ci.context import CiContext, Git, detect
from aqe_ci.git import slug_from_url
from aqe_ci.model.context import VALUE_FIELDS

HEAD = "1f0c4f2b5a7e9d3c8b6a4f2e0d9c8b7a6f5e4d3c"  # PR / MR head: what users see
MERGE = "9b8a7c6d5e4f30211a2b3c4d5e6f708192a3b4c5"  # the CI's test-merge commit
BASE = "c3d4e5f60718293a4b5c6d7e8f9012345678abcd"  # base / diff-base sha
TARGET = "0aa1bb2cc3dd4ee5ff60718293a4b5c6d7e8f901"  # target branch tip (merged results)
DEFAULT = "d00dfeed1234567890abcdef1234567890abcdef"  # default branch tip

REPOSITORY = {
    "id": 1296269, "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5", "name": "widgets", "full_name": "acme/widgets",
    "private": False, "owner": {"login": "acme", "id": 9919, "type": "Organization"},
    "html_url": "https://github.com/acme/widgets", "fork": False, "default_branch": "main",
}
USER = {"login": "octocat", "id": 583231, "type": "User"}


def pr_payload(action: str, number: int) -> dict[str, Any]:
    return {
        "action": action,
        "number": number,
        "pull_request": {
            "url": f"https://api.github.com/repos/acme/widgets/pulls/{number}",
            "id": 1845721337, "number": number, "state": "open", "title": "Add login form", "user": USER,
            "draft": False, "merged": False, "merge_commit_sha": MERGE,
            "head": {"label": "octocat:feature/login", "ref": "feature/login", "sha": HEAD, "user": USER,
                     "repo": {**REPOSITORY, "full_name": "octocat/widgets", "fork": True}},
            "base": {"label": "acme:main", "ref": "main", "sha": BASE, "user": REPOSITORY["owner"],
                     "repo": REPOSITORY},
        },
        "repository": REPOSITORY,
        "sender": USER,
    }


GH = {
    "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/widgets",
    "GITHUB_REPOSITORY_OWNER": "acme", "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_API_URL": "https://api.github.com", "GITHUB_RUN_ID": "9876543210", "GITHUB_RUN_NUMBER": "311",
    "GITHUB_RUN_ATTEMPT": "2", "GITHUB_JOB": "test", "GITHUB_WORKFLOW": "CI", "GITHUB_ACTOR": "octocat",
    "GITHUB_WORKSPACE": "/github/workspace", "RUNNER_OS": "Linux",
}
GH_RUN = {"repository": "acme/widgets", "platform": "github", "run_id": "9876543210", "run_attempt": "2",
          "job": "test", "run_url": "https://github.com/acme/widgets/actions/runs/9876543210/attempts/2"}
GH_PR_ENV = {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_SHA": MERGE, "GITHUB_REF": "refs/pull/42/merge",
             "GITHUB_REF_NAME": "42/merge", "GITHUB_REF_TYPE": "branch", "GITHUB_HEAD_REF": "feature/login",
             "GITHUB_BASE_REF": "main"}

GL = {
    "CI": "true", "GITLAB_CI": "true", "CI_SERVER_URL": "https://gitlab.example.com",
    "CI_PROJECT_ID": "4711", "CI_PROJECT_PATH": "acme/platform/api", "CI_PROJECT_NAME": "api",
    "CI_PROJECT_URL": "https://gitlab.example.com/acme/platform/api", "CI_DEFAULT_BRANCH": "main",
    "CI_PIPELINE_ID": "1234567", "CI_PIPELINE_IID": "88",
    "CI_PIPELINE_URL": "https://gitlab.example.com/acme/platform/api/-/pipelines/1234567",
    "CI_JOB_ID": "998877", "CI_JOB_NAME": "unit tests: [3.12]", "CI_JOB_STAGE": "test",
    "CI_JOB_URL": "https://gitlab.example.com/acme/platform/api/-/jobs/998877",
}
GL_RUN = {"platform": "gitlab", "repository": "acme/platform/api", "default_branch": "main",
          "run_id": "1234567", "job": "unit tests: [3.12]", "job_id": "998877",
          "run_url": "https://gitlab.example.com/acme/platform/api/-/pipelines/1234567",
          "job_url": "https://gitlab.example.com/acme/platform/api/-/jobs/998877"}
GL_MR = {"CI_PIPELINE_SOURCE": "merge_request_event", "CI_COMMIT_REF_NAME": "feature/x",
         "CI_MERGE_REQUEST_IID": "31", "CI_MERGE_REQUEST_ID": "90210",
         "CI_MERGE_REQUEST_PROJECT_PATH": "acme/platform/api",
         "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature/x", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
         "CI_MERGE_REQUEST_DIFF_BASE_SHA": BASE, "CI_MERGE_REQUEST_REF_PATH": "refs/merge-requests/31/head",
         "CI_OPEN_MERGE_REQUESTS": "acme/platform/api!31"}

CIRCLE = {"CI": "true", "CIRCLECI": "true", "CIRCLE_PROJECT_USERNAME": "acme", "CIRCLE_PROJECT_REPONAME": "widgets",
          "CIRCLE_REPOSITORY_URL": "git@github.com:acme/widgets.git", "CIRCLE_SHA1": HEAD,
          "CIRCLE_BRANCH": "feature/x", "CIRCLE_BUILD_NUM": "4711", "CIRCLE_JOB": "test",
          "CIRCLE_WORKFLOW_ID": "6b9b3e7c-2f04-4d59-8c8e-0b8f1a4b1c2d",
          "CIRCLE_BUILD_URL": "https://circleci.com/gh/acme/widgets/4711"}
CIRCLE_RUN = {"platform": "circleci", "repository": "acme/widgets", "commit": HEAD, "branch": "feature/x",
              "run_id": "4711", "job": "test", "run_url": "https://circleci.com/gh/acme/widgets/4711"}

JENKINS = {"JENKINS_URL": "https://ci.example.com/", "JENKINS_HOME": "/var/jenkins_home",
           "BUILD_NUMBER": "57", "BUILD_TAG": "jenkins-widgets-57", "WORKSPACE": "/var/jenkins_home/ws"}

BK = {"CI": "true", "BUILDKITE": "true", "BUILDKITE_ORGANIZATION_SLUG": "acme", "BUILDKITE_PIPELINE_SLUG": "widgets",
      "BUILDKITE_REPO": "git@github.com:acme/widgets.git", "BUILDKITE_BUILD_NUMBER": "301",
      "BUILDKITE_BUILD_ID": "0189d2a4-7c1e-4f2b-9a3d-5e6f7a8b9c0d",
      "BUILDKITE_JOB_ID": "0189d2a4-8d2f-4a3c-8b4e-6f7a8b9c0d1e", "BUILDKITE_LABEL": ":pytest: tests",
      "BUILDKITE_BUILD_URL": "https://buildkite.com/acme/widgets/builds/301",
      "BUILDKITE_PIPELINE_DEFAULT_BRANCH": "main", "BUILDKITE_SOURCE": "webhook", "BUILDKITE_RETRY_COUNT": "0"}
BK_RUN = {"platform": "buildkite", "repository": "acme/widgets", "default_branch": "main", "run_id": "301",
          "job_id": "0189d2a4-8d2f-4a3c-8b4e-6f7a8b9c0d1e", "job": ":pytest: tests", "run_attempt": "1",
          "run_url": "https://buildkite.com/acme/widgets/builds/301", "event": "webhook"}

AZ = {"TF_BUILD": "True", "AGENT_NAME": "Azure Pipelines 3", "BUILD_BUILDID": "1500", "BUILD_BUILDNUMBER": "20251112.3",
      "SYSTEM_JOBATTEMPT": "1", "SYSTEM_JOBDISPLAYNAME": "Test py311", "SYSTEM_JOBNAME": "Test_py311",
      "SYSTEM_JOBID": "12f1170f-54f2-53f3-20dd-22fc7dff55f9", "SYSTEM_COLLECTIONURI": "https://dev.azure.com/acme/",
      "SYSTEM_TEAMPROJECT": "Widgets Project"}
AZ_RUN = {"platform": "azure", "run_id": "1500", "run_attempt": "1", "job": "Test py311",
          "job_id": "12f1170f-54f2-53f3-20dd-22fc7dff55f9",
          "run_url": "https://dev.azure.com/acme/Widgets%20Project/_build/results?buildId=1500"}

BB = {"CI": "true", "BITBUCKET_BUILD_NUMBER": "88", "BITBUCKET_COMMIT": HEAD, "BITBUCKET_WORKSPACE": "acme",
      "BITBUCKET_REPO_SLUG": "widgets", "BITBUCKET_REPO_FULL_NAME": "acme/widgets",
      "BITBUCKET_STEP_UUID": "{c0ffee00-1234-4abc-8def-0123456789ab}",
      "BITBUCKET_CLONE_DIR": "/opt/atlassian/pipelines/agent/build"}
BB_RUN = {"platform": "bitbucket", "repository": "acme/widgets", "commit": HEAD, "run_id": "88",
          "job_id": "c0ffee00-1234-4abc-8def-0123456789ab",
          "run_url": "https://bitbucket.org/acme/widgets/addon/pipelines/home#!/results/88"}


@dataclass
class Case:
    id: str
    env: dict[str, str]
    expect: dict[str, Any]  # every field not listed must be None; "@HEAD" = the repository's HEAD
    payload: dict[str, Any] | str | None = None  # GitHub event payload (str: raw file text)
    git: str = "none"  # none: no repository; repo: a checkout on main; detached: detached HEAD
    warnings: tuple[str, ...] = ()  # substrings, one per expected warning, in order
    sources: dict[str, str] = field(default_factory=dict)


CASES = [
    # -- GitHub Actions ------------------------------------------------------------------------
    Case("github-push", {**GH, "GITHUB_EVENT_NAME": "push", "GITHUB_SHA": DEFAULT, "GITHUB_REF": "refs/heads/main",
                         "GITHUB_REF_NAME": "main", "GITHUB_REF_TYPE": "branch"},
         {**GH_RUN, "commit": DEFAULT, "branch": "main", "default_branch": "main", "event": "push"},
         payload={"ref": "refs/heads/main", "before": BASE, "after": DEFAULT, "created": False, "deleted": False,
                  "forced": False, "head_commit": {"id": DEFAULT, "message": "Merge pull request #41"},
                  "repository": REPOSITORY, "pusher": {"name": "octocat"}, "sender": USER},
         sources={"commit": "GITHUB_SHA", "branch": "GITHUB_REF_NAME",
                  "default_branch": "event payload repository.default_branch"}),
    Case("github-tag-push", {**GH, "GITHUB_EVENT_NAME": "push", "GITHUB_SHA": DEFAULT,
                             "GITHUB_REF": "refs/tags/v1.2.0", "GITHUB_REF_NAME": "v1.2.0", "GITHUB_REF_TYPE": "tag"},
         {**GH_RUN, "commit": DEFAULT, "tag": "v1.2.0", "default_branch": "main", "event": "push"},
         payload={"ref": "refs/tags/v1.2.0", "before": "0" * 40, "after": DEFAULT, "created": True,
                  "base_ref": "refs/heads/main", "repository": REPOSITORY, "sender": USER}),
    Case("github-pull_request", {**GH, **GH_PR_ENV},
         {**GH_RUN, "commit": HEAD, "merge_commit": MERGE, "branch": "feature/login", "pr": 42,
          "base_branch": "main", "base_sha": BASE, "default_branch": "main", "event": "pull_request"},
         payload=pr_payload("synchronize", 42),
         sources={"commit": "event payload pull_request.head.sha", "merge_commit": "GITHUB_SHA",
                  "pr": "event payload pull_request.number", "base_sha": "event payload pull_request.base.sha"}),
    Case("github-pull_request_target", {**GH, "GITHUB_EVENT_NAME": "pull_request_target", "GITHUB_SHA": DEFAULT,
                                        "GITHUB_REF": "refs/heads/main", "GITHUB_REF_NAME": "main",
                                        "GITHUB_REF_TYPE": "branch", "GITHUB_HEAD_REF": "feature/login",
                                        "GITHUB_BASE_REF": "main"},
         {**GH_RUN, "commit": HEAD, "merge_commit": DEFAULT, "branch": "feature/login", "pr": 7,
          "base_branch": "main", "base_sha": BASE, "default_branch": "main", "event": "pull_request_target"},
         payload=pr_payload("opened", 7)),
    Case("github-pull_request_review", {**GH, **GH_PR_ENV, "GITHUB_EVENT_NAME": "pull_request_review",
                                        "GITHUB_HEAD_REF": "", "GITHUB_BASE_REF": ""},
         {**GH_RUN, "commit": HEAD, "merge_commit": MERGE, "branch": "feature/login", "pr": 42,
          "base_branch": "main", "base_sha": BASE, "default_branch": "main", "event": "pull_request_review"},
         payload={k: v for k, v in pr_payload("submitted", 42).items() if k != "number"}
         | {"review": {"id": 80, "state": "approved", "user": USER}}),
    Case("github-workflow_run", {**GH, "GITHUB_EVENT_NAME": "workflow_run", "GITHUB_SHA": DEFAULT,
                                 "GITHUB_REF": "refs/heads/main", "GITHUB_REF_NAME": "main",
                                 "GITHUB_REF_TYPE": "branch"},
         {**GH_RUN, "commit": HEAD, "branch": "feature/x", "pr": 17, "base_branch": "main", "base_sha": BASE,
          "default_branch": "main", "event": "workflow_run"},
         payload={"action": "completed", "workflow": {"id": 161335, "name": "CI"},
                  "workflow_run": {"id": 30433642, "name": "CI", "event": "pull_request", "status": "completed",
                                   "conclusion": "success", "head_branch": "feature/x", "head_sha": HEAD,
                                   "run_attempt": 1,
                                   "pull_requests": [{"id": 1845721337, "number": 17,
                                                      "url": "https://api.github.com/repos/acme/widgets/pulls/17",
                                                      "head": {"ref": "feature/x", "sha": HEAD,
                                                               "repo": {"id": 1296269, "name": "widgets"}},
                                                      "base": {"ref": "main", "sha": BASE,
                                                               "repo": {"id": 1296269, "name": "widgets"}}}],
                                   "repository": REPOSITORY, "head_repository": REPOSITORY},
                  "repository": REPOSITORY, "sender": USER},
         sources={"pr": "event payload workflow_run.pull_requests[0].number"}),
    Case("github-workflow_run-fork", {**GH, "GITHUB_EVENT_NAME": "workflow_run", "GITHUB_SHA": DEFAULT,
                                      "GITHUB_REF": "refs/heads/main", "GITHUB_REF_TYPE": "branch",
                                      "GITHUB_REF_NAME": "main"},
         {**GH_RUN, "commit": HEAD, "branch": "feature/login", "default_branch": "main", "event": "workflow_run"},
         payload={"action": "completed",
                  "workflow_run": {"id": 30433643, "event": "pull_request", "head_branch": "feature/login",
                                   "head_sha": HEAD, "pull_requests": [],
                                   "head_repository": {**REPOSITORY, "full_name": "octocat/widgets"}},
                  "repository": REPOSITORY},
         warnings=("fork PR",)),
    Case("github-workflow_run-no-payload", {**GH, "GITHUB_EVENT_NAME": "workflow_run", "GITHUB_SHA": DEFAULT,
                                            "GITHUB_REF": "refs/heads/main", "GITHUB_REF_TYPE": "branch",
                                            "GITHUB_REF_NAME": "main"},
         {**GH_RUN, "commit": DEFAULT, "event": "workflow_run"}, payload="",
         warnings=("not valid JSON", "without workflow_run.head_sha")),
    Case("github-issue_comment", {**GH, "GITHUB_EVENT_NAME": "issue_comment", "GITHUB_SHA": DEFAULT,
                                  "GITHUB_REF": "refs/heads/main", "GITHUB_REF_NAME": "main",
                                  "GITHUB_REF_TYPE": "branch"},
         {**GH_RUN, "commit": DEFAULT, "pr": 55, "default_branch": "main", "event": "issue_comment"},
         payload={"action": "created",
                  "issue": {"number": 55, "title": "Add login form", "state": "open", "user": USER,
                            "pull_request": {"url": "https://api.github.com/repos/acme/widgets/pulls/55",
                                             "html_url": "https://github.com/acme/widgets/pull/55"}},
                  "comment": {"id": 1, "body": "/aqe compare", "user": USER},
                  "repository": REPOSITORY, "sender": USER},
         warnings=("issue_comment event",), sources={"pr": "event payload issue.number"}),
    Case("github-issue_comment-on-issue", {**GH, "GITHUB_EVENT_NAME": "issue_comment", "GITHUB_SHA": DEFAULT,
                                           "GITHUB_REF": "refs/heads/main", "GITHUB_REF_NAME": "main",
                                           "GITHUB_REF_TYPE": "branch"},
         {**GH_RUN, "commit": DEFAULT, "branch": "main", "default_branch": "main", "event": "issue_comment"},
         payload={"action": "created", "issue": {"number": 56, "title": "Bug"}, "comment": {"body": "hi"},
                  "repository": REPOSITORY}),
    Case("github-malformed-event-file", {**GH, **GH_PR_ENV},
         {**GH_RUN, "commit": MERGE, "branch": "feature/login", "pr": 42, "base_branch": "main",
          "event": "pull_request"},
         payload='{"action": "synchronize", "pull_request": {"head": {"sha": "',
         warnings=("is not valid JSON at line 1", "could not read the PR head sha"),
         sources={"pr": "GITHUB_REF", "branch": "GITHUB_HEAD_REF"}),
    Case("github-missing-event-file", {**GH, "GITHUB_EVENT_NAME": "push", "GITHUB_SHA": DEFAULT,
                                       "GITHUB_REF": "refs/heads/main", "GITHUB_EVENT_PATH": "@missing"},
         {**GH_RUN, "commit": DEFAULT, "branch": "main", "event": "push"},
         warnings=("does not exist",), sources={"branch": "GITHUB_REF"}),
    Case("github-event-not-an-object", {**GH, **GH_PR_ENV},
         {**GH_RUN, "commit": MERGE, "branch": "feature/login", "pr": 42, "base_branch": "main",
          "event": "pull_request"},
         payload="[1, 2, 3]", warnings=("is not a JSON object", "could not read the PR head sha")),
    Case("github-garbage-values", {**GH, "GITHUB_EVENT_NAME": "pull_request", "GITHUB_SHA": "not-a-sha",
                                   "GITHUB_REF": "refs/pull/0/merge", "GITHUB_RUN_ATTEMPT": "zero",
                                   "GITHUB_HEAD_REF": "ok-branch"},
         # the valid values around the garbage are still used
         {**GH_RUN, "run_attempt": None, "run_url": "https://github.com/acme/widgets/actions/runs/9876543210",
          "event": "pull_request", "branch": "ok-branch", "default_branch": "main"},
         payload=pr_payload("opened", 42) | {"number": -3, "pull_request": {
             "number": "forty-two", "head": {"sha": "zzz", "ref": "bad\nbranch"}, "base": {"sha": 5}}},
         warnings=("GITHUB_RUN_ATTEMPT", "pull_request.number", "event payload number",
                   "GITHUB_REF: PR/MR number '0'", "pull_request.head.sha", "GITHUB_SHA",
                   "pull_request.head.ref: branch value contains control characters",
                   "pull_request.base.sha: expected text", "without a PR number")),
    # -- GitLab CI -----------------------------------------------------------------------------
    Case("gitlab-branch", {**GL, "CI_PIPELINE_SOURCE": "push", "CI_COMMIT_SHA": DEFAULT, "CI_COMMIT_BRANCH": "main",
                           "CI_COMMIT_REF_NAME": "main", "CI_COMMIT_BEFORE_SHA": BASE},
         {**GL_RUN, "commit": DEFAULT, "branch": "main", "event": "push"},
         sources={"branch": "CI_COMMIT_BRANCH", "run_url": "CI_PIPELINE_URL"}),
    Case("gitlab-tag", {**GL, "CI_PIPELINE_SOURCE": "push", "CI_COMMIT_SHA": DEFAULT, "CI_COMMIT_TAG": "v2.0.0",
                        "CI_COMMIT_REF_NAME": "v2.0.0"},
         {**GL_RUN, "commit": DEFAULT, "tag": "v2.0.0", "event": "push"}),
    Case("gitlab-mr-detached", {**GL, **GL_MR, "CI_COMMIT_SHA": HEAD, "CI_MERGE_REQUEST_EVENT_TYPE": "detached",
                                "CI_COMMIT_BEFORE_SHA": "0" * 40},
         {**GL_RUN, "commit": HEAD, "branch": "feature/x", "pr": 31, "base_branch": "main", "base_sha": BASE,
          "event": "merge_request_event"},
         sources={"pr": "CI_MERGE_REQUEST_IID", "base_sha": "CI_MERGE_REQUEST_DIFF_BASE_SHA"}),
    Case("gitlab-mr-merged-result", {**GL, **GL_MR, "CI_COMMIT_SHA": MERGE,
                                     "CI_MERGE_REQUEST_EVENT_TYPE": "merged_result",
                                     "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA": HEAD,
                                     "CI_MERGE_REQUEST_TARGET_BRANCH_SHA": TARGET},
         {**GL_RUN, "commit": HEAD, "merge_commit": MERGE, "branch": "feature/x", "pr": 31, "base_branch": "main",
          "base_sha": TARGET, "event": "merge_request_event"},
         sources={"commit": "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA", "merge_commit": "CI_COMMIT_SHA"}),
    Case("gitlab-merge-train-no-target-sha", {**GL, **GL_MR, "CI_COMMIT_SHA": MERGE,
                                              "CI_MERGE_REQUEST_EVENT_TYPE": "merge_train",
                                              "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA": HEAD},
         {**GL_RUN, "commit": HEAD, "merge_commit": MERGE, "branch": "feature/x", "pr": 31, "base_branch": "main",
          "base_sha": BASE, "event": "merge_request_event"}),
    Case("gitlab-branch-with-open-mr", {**GL, "CI_PIPELINE_SOURCE": "push", "CI_COMMIT_SHA": HEAD,
                                        "CI_COMMIT_BRANCH": "feature/x", "CI_COMMIT_REF_NAME": "feature/x",
                                        "CI_OPEN_MERGE_REQUESTS": "octocat/api-fork!3,Acme/Platform/API!31"},
         {**GL_RUN, "commit": HEAD, "branch": "feature/x", "pr": 31, "event": "push"},
         sources={"pr": "CI_OPEN_MERGE_REQUESTS"}),
    Case("gitlab-open-mr-garbage", {**GL, "CI_PIPELINE_SOURCE": "push", "CI_COMMIT_SHA": HEAD,
                                    "CI_COMMIT_BRANCH": "feature/x", "CI_OPEN_MERGE_REQUESTS": "acme/platform/api!x1"},
         {**GL_RUN, "commit": HEAD, "branch": "feature/x", "event": "push"},
         warnings=("CI_OPEN_MERGE_REQUESTS entry",)),
    # -- CircleCI ------------------------------------------------------------------------------
    Case("circleci-pr-url", {**CIRCLE, "CIRCLE_PULL_REQUEST": "https://github.com/acme/widgets/pull/12"},
         {**CIRCLE_RUN, "pr": 12}, sources={"pr": "CIRCLE_PULL_REQUEST"}),
    Case("circleci-fork-pr-number", {**CIRCLE, "CIRCLE_PR_NUMBER": "13", "CIRCLE_PR_USERNAME": "octocat",
                                     "CIRCLE_PR_REPONAME": "widgets", "CIRCLE_BRANCH": "pull/13",
                                     "CIRCLE_PULL_REQUEST": "https://github.com/acme/widgets/pull/13"},
         {**CIRCLE_RUN, "branch": "pull/13", "pr": 13}, sources={"pr": "CIRCLE_PR_NUMBER"}),
    Case("circleci-tag", {**CIRCLE, "CIRCLE_BRANCH": "", "CIRCLE_TAG": "v3.1.0"},
         {**CIRCLE_RUN, "branch": None, "tag": "v3.1.0"}),
    # -- Jenkins -------------------------------------------------------------------------------
    Case("jenkins-multibranch-pr", {**JENKINS, "JOB_NAME": "widgets/PR-8", "BRANCH_NAME": "PR-8",
                                    "BUILD_URL": "https://ci.example.com/job/widgets/job/PR-8/57/",
                                    "CHANGE_ID": "8", "CHANGE_BRANCH": "feature/x", "CHANGE_TARGET": "main",
                                    "CHANGE_URL": "https://github.com/acme/widgets/pull/8", "GIT_COMMIT": HEAD},
         {"platform": "jenkins", "repository": "acme/widgets", "commit": HEAD, "branch": "feature/x", "pr": 8,
          "base_branch": "main", "run_id": "57", "job": "widgets/PR-8",
          "run_url": "https://ci.example.com/job/widgets/job/PR-8/57/"},
         sources={"pr": "CHANGE_ID", "branch": "CHANGE_BRANCH", "repository": "CHANGE_URL"}),
    Case("jenkins-ghprb", {**JENKINS, "JOB_NAME": "widgets-pr", "BUILD_URL": "https://ci.example.com/job/widgets-pr/57/",
                           "ghprbPullId": "21", "ghprbActualCommit": HEAD, "ghprbSourceBranch": "feature/y",
                           "ghprbTargetBranch": "release/2.x", "ghprbGhRepository": "acme/widgets",
                           "ghprbPullLink": "https://github.com/acme/widgets/pull/21",
                           "GIT_COMMIT": MERGE, "GIT_BRANCH": "origin/pr/21/merge"},
         {"platform": "jenkins", "repository": "acme/widgets", "commit": HEAD, "branch": "feature/y", "pr": 21,
          "base_branch": "release/2.x", "run_id": "57", "job": "widgets-pr",
          "run_url": "https://ci.example.com/job/widgets-pr/57/"},
         sources={"commit": "ghprbActualCommit"}),
    Case("jenkins-gitlab-plugin-mr", {**JENKINS, "JOB_NAME": "api-mr", "BUILD_URL": "https://ci.example.com/job/api-mr/57/",
                                      "gitlabActionType": "MERGE", "gitlabMergeRequestId": "100234",
                                      "gitlabMergeRequestIid": "9", "gitlabSourceBranch": "feature/z",
                                      "gitlabTargetBranch": "main", "gitlabMergeRequestLastCommit": HEAD,
                                      "gitlabTargetNamespace": "acme", "gitlabTargetRepoName": "api",
                                      "gitlabSourceRepoURL": "git@gitlab.example.com:acme/api.git",
                                      "GIT_COMMIT": MERGE},
         {"platform": "jenkins", "repository": "acme/api", "commit": HEAD, "branch": "feature/z", "pr": 9,
          "base_branch": "main", "run_id": "57", "job": "api-mr", "run_url": "https://ci.example.com/job/api-mr/57/"},
         sources={"pr": "gitlabMergeRequestIid"}),
    Case("jenkins-freestyle-branch", {**JENKINS, "JOB_NAME": "widgets-release", "GIT_COMMIT": DEFAULT,
                                      "GIT_BRANCH": "origin/release/1.x", "GIT_URL": "git@github.com:acme/widgets.git"},
         {"platform": "jenkins", "repository": "acme/widgets", "commit": DEFAULT, "branch": "release/1.x",
          "run_id": "57", "job": "widgets-release"},
         sources={"branch": "GIT_BRANCH", "repository": "GIT_URL"}),
    Case("jenkins-pipeline-without-git-vars", {**JENKINS, "JOB_NAME": "widgets", "BRANCH_NAME": "main"},
         {"platform": "jenkins", "repository": "acme/widgets", "commit": "@HEAD", "branch": "main",
          "run_id": "57", "job": "widgets"},
         git="repo", sources={"commit": "git rev-parse HEAD", "repository": "git remote get-url origin"}),
    # -- Buildkite -----------------------------------------------------------------------------
    Case("buildkite-pr", {**BK, "BUILDKITE_COMMIT": HEAD, "BUILDKITE_BRANCH": "feature/x",
                          "BUILDKITE_PULL_REQUEST": "5", "BUILDKITE_PULL_REQUEST_BASE_BRANCH": "main",
                          "BUILDKITE_PULL_REQUEST_REPO": "git://github.com/octocat/widgets.git"},
         {**BK_RUN, "commit": HEAD, "branch": "feature/x", "pr": 5, "base_branch": "main"}),
    Case("buildkite-branch-commit-HEAD", {**BK, "BUILDKITE_COMMIT": "HEAD", "BUILDKITE_BRANCH": "main",
                                          "BUILDKITE_PULL_REQUEST": "false",
                                          "BUILDKITE_PULL_REQUEST_BASE_BRANCH": "", "BUILDKITE_SOURCE": "ui",
                                          "BUILDKITE_RETRY_COUNT": "2"},
         {**BK_RUN, "commit": "@HEAD", "branch": "main", "event": "ui", "run_attempt": "3"},
         git="repo", sources={"commit": "git rev-parse HEAD (BUILDKITE_COMMIT=HEAD)"}),
    Case("buildkite-commit-HEAD-without-git", {**BK, "BUILDKITE_COMMIT": "HEAD", "BUILDKITE_BRANCH": "main",
                                               "BUILDKITE_PULL_REQUEST": "false"},
         {**BK_RUN, "branch": "main"}, warnings=("BUILDKITE_COMMIT is HEAD",)),
    # -- Azure Pipelines -----------------------------------------------------------------------
    Case("azure-pr-github", {**AZ, "BUILD_REASON": "PullRequest", "BUILD_SOURCEVERSION": MERGE,
                             "BUILD_SOURCEBRANCH": "refs/pull/14/merge", "BUILD_SOURCEBRANCHNAME": "merge",
                             "BUILD_REPOSITORY_NAME": "acme/widgets", "BUILD_REPOSITORY_PROVIDER": "GitHub",
                             "SYSTEM_PULLREQUEST_PULLREQUESTNUMBER": "14",
                             "SYSTEM_PULLREQUEST_PULLREQUESTID": "1845721337",
                             "SYSTEM_PULLREQUEST_SOURCEBRANCH": "feature/x", "SYSTEM_PULLREQUEST_TARGETBRANCH": "main",
                             "SYSTEM_PULLREQUEST_SOURCECOMMITID": HEAD, "SYSTEM_PULLREQUEST_ISFORK": "False"},
         {**AZ_RUN, "repository": "acme/widgets", "commit": HEAD, "merge_commit": MERGE, "branch": "feature/x",
          "pr": 14, "base_branch": "main", "event": "PullRequest"},
         sources={"pr": "SYSTEM_PULLREQUEST_PULLREQUESTNUMBER", "commit": "SYSTEM_PULLREQUEST_SOURCECOMMITID"}),
    Case("azure-pr-azure-repos", {**AZ, "BUILD_REASON": "PullRequest", "BUILD_SOURCEVERSION": MERGE,
                                  "BUILD_SOURCEBRANCH": "refs/pull/77/merge", "BUILD_REPOSITORY_NAME": "widgets",
                                  "BUILD_REPOSITORY_PROVIDER": "TfsGit", "SYSTEM_PULLREQUEST_PULLREQUESTID": "77",
                                  "SYSTEM_PULLREQUEST_SOURCEBRANCH": "refs/heads/feature/y",
                                  "SYSTEM_PULLREQUEST_TARGETBRANCH": "refs/heads/main",
                                  "SYSTEM_PULLREQUEST_SOURCECOMMITID": HEAD},
         {**AZ_RUN, "repository": "widgets", "commit": HEAD, "merge_commit": MERGE, "branch": "feature/y",
          "pr": 77, "base_branch": "main", "event": "PullRequest"},
         sources={"pr": "SYSTEM_PULLREQUEST_PULLREQUESTID"}),
    Case("azure-ci", {**AZ, "BUILD_REASON": "IndividualCI", "BUILD_SOURCEVERSION": DEFAULT,
                      "BUILD_SOURCEBRANCH": "refs/heads/release/3.x", "BUILD_SOURCEBRANCHNAME": "3.x",
                      "BUILD_REPOSITORY_NAME": "acme/widgets"},
         {**AZ_RUN, "repository": "acme/widgets", "commit": DEFAULT, "branch": "release/3.x", "event": "IndividualCI"}),
    Case("azure-tag", {**AZ, "BUILD_REASON": "IndividualCI", "BUILD_SOURCEVERSION": DEFAULT,
                       "BUILD_SOURCEBRANCH": "refs/tags/v4.0.0", "BUILD_REPOSITORY_NAME": "acme/widgets"},
         {**AZ_RUN, "repository": "acme/widgets", "commit": DEFAULT, "tag": "v4.0.0", "event": "IndividualCI"}),
    # -- Bitbucket Pipelines -------------------------------------------------------------------
    Case("bitbucket-pr", {**BB, "BITBUCKET_BRANCH": "feature/x", "BITBUCKET_PR_ID": "6",
                          "BITBUCKET_PR_DESTINATION_BRANCH": "main", "BITBUCKET_PR_DESTINATION_COMMIT": BASE[:12]},
         {**BB_RUN, "branch": "feature/x", "pr": 6, "base_branch": "main", "base_sha": BASE[:12]}),
    Case("bitbucket-branch", {**BB, "BITBUCKET_BRANCH": "main"}, {**BB_RUN, "branch": "main"}),
    # -- no CI ---------------------------------------------------------------------------------
    Case("git-checkout-branch", {"HOME": "/home/dev", "PATH": "/usr/bin"},
         {"platform": "git", "commit": "@HEAD", "branch": "main", "repository": "acme/widgets"}, git="repo",
         sources={"commit": "git rev-parse HEAD", "repository": "git remote get-url origin"}),
    Case("git-checkout-detached", {}, {"platform": "git", "commit": "@HEAD", "repository": "acme/widgets"},
         git="detached"),
    Case("nothing", {"HOME": "/home/dev"}, {}),
]


def run_case(case: Case, tmp_path: Path, repo: Any, nogit: Git) -> CiContext:
    """Detect with the case's environment; ``repo`` may be None for cases without git."""
    env = dict(case.env)
    if case.payload is not None:
        event = tmp_path / "event.json"
        text = case.payload if isinstance(case.payload, str) else json.dumps(case.payload)
        event.write_text(text, encoding="utf-8")
        env["GITHUB_EVENT_PATH"] = str(event)
    if env.get("GITHUB_EVENT_PATH") == "@missing":
        env["GITHUB_EVENT_PATH"] = str(tmp_path / "missing" / "event.json")
    if case.git == "detached":
        repo.git("checkout", "-q", "--detach", "HEAD~1")
        repo.head = repo.git("rev-parse", "HEAD")
    git = nogit if case.git == "none" else repo.runner()
    return detect(env, git=git)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_detect(case: Case, tmp_path: Path, nogit: Git, request: pytest.FixtureRequest) -> None:
    repo = request.getfixturevalue("repo") if case.git != "none" else None
    ctx = run_case(case, tmp_path, repo, nogit)
    expected = dict.fromkeys(VALUE_FIELDS)
    expected.update({k: (repo.head if v == "@HEAD" else v) for k, v in case.expect.items()})
    assert ctx.as_json() == expected
    assert len(ctx.warnings) == len(case.warnings), ctx.warnings
    for got, want in zip(ctx.warnings, case.warnings, strict=True):
        assert want in got
    for name, source in case.sources.items():
        assert ctx.sources[name] == source
    # every value has a source, and nothing without a value claims one
    assert set(ctx.sources) == {k for k, v in ctx.as_json().items() if v is not None}


def test_payload_wins_over_env_for_pr_head_and_base(tmp_path: Path, nogit: Git) -> None:
    """The head sha and base come from the payload even when the env disagrees (a re-run after a push)."""
    case = Case("x", {**GH, **GH_PR_ENV, "GITHUB_HEAD_REF": "stale", "GITHUB_BASE_REF": "stale-base"}, {},
                payload=pr_payload("synchronize", 42))
    ctx = run_case(case, tmp_path, None, nogit)
    assert (ctx.commit, ctx.branch, ctx.base_branch, ctx.pr) == (HEAD, "feature/login", "main", 42)


def test_warnings_do_not_echo_event_file_content(tmp_path: Path, nogit: Git) -> None:
    case = Case("x", {**GH, **GH_PR_ENV}, {}, payload='{"token": "ghp_SECRETSECRETSECRET", oops}')
    ctx = run_case(case, tmp_path, None, nogit)
    assert ctx.warnings and not any("SECRET" in w for w in ctx.warnings)


def test_git_fill_never_exposes_remote_credentials(tmp_path: Path, repo: Any) -> None:
    ctx = detect({}, git=repo.runner())
    assert ctx.repository == "acme/widgets"
    assert "s3cr3t" not in json.dumps({**ctx.as_json(), **ctx.sources, "w": ctx.warnings})


def test_default_git_runner_uses_cwd(repo: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in repo.env.items():
        monkeypatch.setenv(name, value)
    ctx = detect({}, cwd=repo.path)
    assert (ctx.platform, ctx.commit, ctx.branch) == ("git", repo.head, "main")


def test_replace_marks_overrides_and_keeps_warnings(tmp_path: Path, nogit: Git) -> None:
    case = Case("x", {**GH, **GH_PR_ENV}, {}, payload="nope")
    ctx = run_case(case, tmp_path, None, nogit).replace(commit=HEAD, pr=None)
    assert ctx.commit == HEAD and ctx.sources["commit"] == "override"
    assert ctx.pr == 42 and ctx.sources["pr"] == "GITHUB_REF"
    assert len(ctx.warnings) == 2


@pytest.mark.parametrize(("url", "slug"), [
    ("https://github.com/acme/widgets.git", "acme/widgets"),
    ("https://x-access-token:tok@github.com/acme/widgets", "acme/widgets"),
    ("git@github.com:acme/widgets.git", "acme/widgets"),
    ("ssh://git@gitlab.example.com:2222/acme/platform/api.git", "acme/platform/api"),
    ("git://github.com/octocat/widgets.git", "octocat/widgets"),
    ("https://github.com/", None),
    ("https://host/only", None),
    ("", None),
    (None, None),
])
def test_slug_from_url(url: str | None, slug: str | None) -> None:
    assert slug_from_url(url) == slug


@pytest.mark.parametrize(("change_url", "repository"), [
    ("https://github.com/acme/widgets/pull/8", "acme/widgets"),
    ("https://gitlab.example.com/acme/platform/api/-/merge_requests/8", "acme/platform/api"),
    ("https://bitbucket.example.com/projects/AC/repos/widgets/pull-requests/8/overview", None),  # unknown shape
])
def test_jenkins_change_url_repository(change_url: str, repository: str | None, nogit: Git) -> None:
    ctx = detect({"JENKINS_URL": "https://ci.example.com/", "CHANGE_ID": "8", "CHANGE_URL": change_url}, git=nogit)
    assert (ctx.platform, ctx.pr, ctx.repository) == ("jenkins", 8, repository)
