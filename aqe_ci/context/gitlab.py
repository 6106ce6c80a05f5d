"""GitLab CI: predefined variables (platform reference §5.1).

Pipelines: branch (``CI_COMMIT_BRANCH``, an open MR found through ``CI_OPEN_MERGE_REQUESTS``), tag
(``CI_COMMIT_TAG``), merge request (``CI_MERGE_REQUEST_IID``; ``detached`` runs on the source head,
``merged_result`` / ``merge_train`` on an internal merge commit), child pipelines (``CI_PIPELINE_SOURCE``
``parent_pipeline``: a child of an MR pipeline carries the MR variables, a child of a branch pipeline
the branch) and external pull request pipelines.

:func:`gitlab_job` reads what publishing needs beyond the run's context: the API URL, the project
the MR's notes belong to, fork and child-pipeline facts (never a token).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from aqe_ci.context.reader import Reader, shown

OPEN_MR_RE = re.compile(r"^(?P<path>[^\s!,]+)!(?P<iid>[0-9]+)$")
#: the variable (and ``CiContext.sources`` entry) of a branch pipeline's open MR: the pipeline is still the branch's
OPEN_MR_SOURCE = "CI_OPEN_MERGE_REQUESTS"


def detect_gitlab(r: Reader) -> None:
    r.put("platform", "gitlab", "GITLAB_CI=true")
    r.env("event", "CI_PIPELINE_SOURCE")
    r.env("repository", "CI_PROJECT_PATH")
    r.env("default_branch", "CI_DEFAULT_BRANCH")
    r.env("run_id", "CI_PIPELINE_ID")
    r.env("job", "CI_JOB_NAME")
    r.env("job_id", "CI_JOB_ID")
    r.env("run_url", "CI_PIPELINE_URL")
    r.env("job_url", "CI_JOB_URL")

    if r.get("CI_MERGE_REQUEST_IID"):
        _merge_request(r)
    elif r.get("CI_EXTERNAL_PULL_REQUEST_IID"):
        _external_pull_request(r)
    elif r.get("CI_COMMIT_TAG"):
        r.env("tag", "CI_COMMIT_TAG")
    else:
        r.env("branch", "CI_COMMIT_BRANCH", "CI_COMMIT_REF_NAME")
        _open_merge_requests(r)
    r.env("commit", "CI_COMMIT_SHA")


def _merge_request(r: Reader) -> None:
    r.env("pr", "CI_MERGE_REQUEST_IID")
    r.env("branch", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME")
    r.env("base_branch", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME")
    kind = r.get("CI_MERGE_REQUEST_EVENT_TYPE")
    if kind in ("merged_result", "merge_train"):
        # CI_COMMIT_SHA is GitLab's internal merge commit; the source head is what users see
        if r.env("commit", "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA"):
            r.env("merge_commit", "CI_COMMIT_SHA")
        else:
            r.warn(f"{kind} pipeline without CI_MERGE_REQUEST_SOURCE_BRANCH_SHA; commit is CI_COMMIT_SHA "
                   "(the merge commit) — pass --commit to correct it")
        r.env("base_sha", "CI_MERGE_REQUEST_TARGET_BRANCH_SHA", "CI_MERGE_REQUEST_DIFF_BASE_SHA")
    else:  # detached: the pipeline runs on the source branch head
        r.env("base_sha", "CI_MERGE_REQUEST_DIFF_BASE_SHA")


def _external_pull_request(r: Reader) -> None:
    r.env("pr", "CI_EXTERNAL_PULL_REQUEST_IID")
    r.env("branch", "CI_EXTERNAL_PULL_REQUEST_SOURCE_BRANCH_NAME")
    r.env("base_branch", "CI_EXTERNAL_PULL_REQUEST_TARGET_BRANCH_NAME")
    r.env("commit", "CI_EXTERNAL_PULL_REQUEST_SOURCE_BRANCH_SHA")
    r.env("base_sha", "CI_EXTERNAL_PULL_REQUEST_TARGET_BRANCH_SHA")


def _open_merge_requests(r: Reader) -> None:
    """Branch pipeline of a branch with open MRs: ``group/project!12,other/fork!3`` → this project's first."""
    raw = r.get(OPEN_MR_SOURCE)
    if raw is None:
        return
    project = (r.values.get("repository") or "").lower()
    for item in raw.split(","):
        item = item.strip()
        m = OPEN_MR_RE.match(item)
        if not m:
            r.warn(f"ignored CI_OPEN_MERGE_REQUESTS entry {shown(item)}: expected path!iid")
            continue
        if project and m.group("path").lower() != project:
            continue
        r.put("pr", m.group("iid"), OPEN_MR_SOURCE)
        return


@dataclass(frozen=True, kw_only=True)
class GitLabJob:
    """What a GitLab job's variables say about where to talk to GitLab (no token: the composition
    root reads those). ``None`` everywhere outside GitLab CI."""

    api_url: str | None = None  # CI_API_V4_URL
    project_id: str | None = None  # CI_PROJECT_ID: the project the pipeline runs in
    project_path: str | None = None
    project_url: str | None = None
    mr_iid: int | None = None  # CI_MERGE_REQUEST_IID (also set in child pipelines of MR pipelines)
    mr_project_id: str | None = None  # CI_MERGE_REQUEST_PROJECT_ID: the project the MR (and its notes) belong to
    mr_project_url: str | None = None
    mr_source_project_id: str | None = None
    event_type: str | None = None  # detached | merged_result | merge_train
    pipeline_source: str | None = None  # push, merge_request_event, parent_pipeline, schedule, ...
    job_id: str | None = None
    job_url: str | None = None

    @property
    def is_fork_mr(self) -> bool:
        """An MR from another project (a fork)."""
        return bool(self.mr_iid and self.mr_source_project_id and self.mr_project_id
                    and self.mr_source_project_id != self.mr_project_id)

    @property
    def runs_in_fork(self) -> bool:
        """A fork MR's pipeline running in the fork project, with the fork's variables (GitLab's default)."""
        return self.is_fork_mr and self.project_id != self.mr_project_id

    @property
    def is_child_pipeline(self) -> bool:
        return self.pipeline_source == "parent_pipeline"

    @property
    def note_project(self) -> str | None:
        """Where MR notes go: the MR's own (target) project, not necessarily the pipeline's."""
        return self.mr_project_id or self.project_id


def gitlab_job(environ: Mapping[str, str]) -> GitLabJob:
    """The :class:`GitLabJob` of this process (empty outside GitLab CI)."""
    def get(name: str) -> str | None:
        value = (environ.get(name) or "").strip()
        return value or None

    if (get("GITLAB_CI") or "").lower() != "true":
        return GitLabJob()
    iid = get("CI_MERGE_REQUEST_IID")
    return GitLabJob(
        api_url=get("CI_API_V4_URL"), project_id=get("CI_PROJECT_ID"), project_path=get("CI_PROJECT_PATH"),
        project_url=get("CI_PROJECT_URL"), mr_iid=int(iid) if iid and iid.isdigit() and int(iid) > 0 else None,
        mr_project_id=get("CI_MERGE_REQUEST_PROJECT_ID"), mr_project_url=get("CI_MERGE_REQUEST_PROJECT_URL"),
        mr_source_project_id=get("CI_MERGE_REQUEST_SOURCE_PROJECT_ID"), event_type=get("CI_MERGE_REQUEST_EVENT_TYPE"),
        pipeline_source=get("CI_PIPELINE_SOURCE"), job_id=get("CI_JOB_ID"), job_url=get("CI_JOB_URL"))
