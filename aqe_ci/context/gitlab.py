"""GitLab CI: predefined variables (platform reference §5.1).

Pipelines: branch (``CI_COMMIT_BRANCH``, an open MR found through ``CI_OPEN_MERGE_REQUESTS``), tag
(``CI_COMMIT_TAG``), merge request (``CI_MERGE_REQUEST_IID``; ``detached`` runs on the source head,
``merged_result`` / ``merge_train`` on an internal merge commit) and external pull request pipelines.
"""

from __future__ import annotations

import re

from aqe_ci.context.reader import Reader, shown

OPEN_MR_RE = re.compile(r"^(?P<path>[^\s!,]+)!(?P<iid>[0-9]+)$")


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
    raw = r.get("CI_OPEN_MERGE_REQUESTS")
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
        r.put("pr", m.group("iid"), "CI_OPEN_MERGE_REQUESTS")
        return
