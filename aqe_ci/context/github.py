"""GitHub Actions: environment variables plus the webhook payload at ``GITHUB_EVENT_PATH``.

See platform reference §1.7. Events read from the payload: push, pull_request, pull_request_target
and the review events, workflow_run, merge_group, issue_comment on a PR; others use GITHUB_REF. For
pull-request events the commit is the PR head (``pull_request.head.sha``), not ``GITHUB_SHA`` (the
test-merge commit, kept as ``merge_commit``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from aqe_ci.context.reader import Reader, ref_kind

PR_EVENTS = frozenset({"pull_request", "pull_request_target", "pull_request_review",
                       "pull_request_review_comment"})
PR_REF_RE = re.compile(r"^refs/pull/([0-9]+)/(?:merge|head)$")
EVENT_MAX_BYTES = 64 * 1024 * 1024
EV = "event payload "


def dig(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def load_event(r: Reader) -> dict[str, Any] | None:
    path = r.get("GITHUB_EVENT_PATH")
    if path is None:
        return None
    try:
        with open(path, "rb") as fh:
            raw = fh.read(EVENT_MAX_BYTES + 1)
    except FileNotFoundError:
        r.warn(f"event file {path} (GITHUB_EVENT_PATH) does not exist; using environment variables only")
        return None
    except OSError as exc:
        r.warn(f"event file {path} (GITHUB_EVENT_PATH) is unreadable ({exc.strerror}); "
               "using environment variables only")
        return None
    if len(raw) > EVENT_MAX_BYTES:
        r.warn(f"event file {path} (GITHUB_EVENT_PATH) is larger than 64 MiB; using environment variables only")
        return None
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        where = f" at line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        r.warn(f"event file {path} (GITHUB_EVENT_PATH) is not valid JSON{where}; "
               "using environment variables only")
        return None
    if not isinstance(payload, dict):
        r.warn(f"event file {path} (GITHUB_EVENT_PATH) is not a JSON object; using environment variables only")
        return None
    return payload


def detect_github(r: Reader) -> None:
    r.put("platform", "github", "GITHUB_ACTIONS=true")
    event = r.get("GITHUB_EVENT_NAME")
    r.put("event", event, "GITHUB_EVENT_NAME")
    payload = load_event(r) or {}

    r.env("repository", "GITHUB_REPOSITORY")
    r.put("repository", dig(payload, "repository", "full_name"), EV + "repository.full_name")
    r.put("default_branch", dig(payload, "repository", "default_branch"), EV + "repository.default_branch")
    r.env("run_id", "GITHUB_RUN_ID")
    r.env("run_attempt", "GITHUB_RUN_ATTEMPT")
    r.env("job", "GITHUB_JOB")
    _run_url(r)

    # for these events GITHUB_REF is refs/pull/N/merge or the default branch: not this run's branch
    ref_is_foreign = True
    if event in PR_EVENTS:
        _pull_request(r, payload)
    elif event == "workflow_run":
        _workflow_run(r, payload)
    elif event == "merge_group":
        _merge_group(r, payload)
        ref_is_foreign = False  # GITHUB_REF is the group's queue branch
    elif event == "issue_comment" and dig(payload, "issue", "pull_request") is not None:
        _issue_comment_on_pr(r, payload)
    else:
        ref_is_foreign = False
    r.env("commit", "GITHUB_SHA")
    if not ref_is_foreign:
        _ref(r)  # push, tag push, schedule, workflow_dispatch, ...


def _run_url(r: Reader) -> None:
    server = (r.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/")
    repo, run_id, attempt = r.values.get("repository"), r.values.get("run_id"), r.values.get("run_attempt")
    if not (repo and run_id):
        return
    url = f"{server}/{repo}/actions/runs/{run_id}"
    source = "GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/runs/GITHUB_RUN_ID"
    if attempt:
        url += f"/attempts/{attempt}"
        source += "/attempts/GITHUB_RUN_ATTEMPT"
    r.put("run_url", url, source)


def _pull_request(r: Reader, payload: dict[str, Any]) -> None:
    pr = payload.get("pull_request")
    r.put("pr", dig(pr, "number"), EV + "pull_request.number")
    r.put("pr", payload.get("number"), EV + "number")
    ref = r.get("GITHUB_REF") or ""
    m = PR_REF_RE.match(ref)
    if m:
        r.put("pr", m.group(1), "GITHUB_REF")
    if not r.put("commit", dig(pr, "head", "sha"), EV + "pull_request.head.sha"):
        if r.env("commit", "GITHUB_SHA"):
            r.warn("could not read the PR head sha from the event payload; commit is GITHUB_SHA "
                   "(the merge/base commit) — pass --commit to correct it")
    sha = r.get("GITHUB_SHA")
    if sha and r.values.get("commit") != sha.lower():
        r.put("merge_commit", sha, "GITHUB_SHA")
    r.put("branch", dig(pr, "head", "ref"), EV + "pull_request.head.ref")
    r.env("branch", "GITHUB_HEAD_REF")
    r.put("base_branch", dig(pr, "base", "ref"), EV + "pull_request.base.ref")
    r.env("base_branch", "GITHUB_BASE_REF")
    r.put("base_sha", dig(pr, "base", "sha"), EV + "pull_request.base.sha")
    if not r.has("pr"):
        r.warn("pull request event without a PR number in the payload or GITHUB_REF")


def _workflow_run(r: Reader, payload: dict[str, Any]) -> None:
    run = payload.get("workflow_run")
    if not r.put("commit", dig(run, "head_sha"), EV + "workflow_run.head_sha") and r.env("commit", "GITHUB_SHA"):
        r.warn("workflow_run event without workflow_run.head_sha in the payload; commit is GITHUB_SHA "
               "(the default branch) — pass --commit to correct it")
    r.put("branch", dig(run, "head_branch"), EV + "workflow_run.head_branch")
    prs = dig(run, "pull_requests")
    if isinstance(prs, list) and prs:
        first = prs[0]
        r.put("pr", dig(first, "number"), EV + "workflow_run.pull_requests[0].number")
        r.put("base_branch", dig(first, "base", "ref"), EV + "workflow_run.pull_requests[0].base.ref")
        r.put("base_sha", dig(first, "base", "sha"), EV + "workflow_run.pull_requests[0].base.sha")
    elif dig(run, "event") in PR_EVENTS:
        r.warn("workflow_run was triggered by a pull request but lists no pull_requests (a fork PR?); "
               "pass --pr to set the PR number")


def _merge_group(r: Reader, payload: dict[str, Any]) -> None:
    """A merge queue group: built on ``merge_group.base_sha`` of the target branch (its merge-base).

    The group's branch is the temporary ``gh-readonly-queue/<base>/pr-<n>-<sha>``; no PR number is
    set (a group can hold several PRs, and the queue is not where a PR comment belongs).
    """
    group = payload.get("merge_group")
    r.put("commit", dig(group, "head_sha"), EV + "merge_group.head_sha")
    r.put("branch", _branch_of(dig(group, "head_ref")), EV + "merge_group.head_ref")
    r.put("base_branch", _branch_of(dig(group, "base_ref")), EV + "merge_group.base_ref")
    r.put("base_sha", dig(group, "base_sha"), EV + "merge_group.base_sha")
    if group is None:
        r.warn("merge_group event without merge_group in the payload; using GITHUB_SHA and GITHUB_REF")


def _branch_of(ref: Any) -> str | None:
    if not isinstance(ref, str):
        return None
    kind, name = ref_kind(ref)
    return name if kind == "branch" else None


def _issue_comment_on_pr(r: Reader, payload: dict[str, Any]) -> None:
    r.put("pr", dig(payload, "issue", "number"), EV + "issue.number")
    if r.env("commit", "GITHUB_SHA"):
        r.warn("issue_comment event: the PR head sha is not in the payload; commit is GITHUB_SHA "
               "(the default branch) — pass --commit to correct it")


def _ref(r: Reader) -> None:
    ref_type, ref_name = r.get("GITHUB_REF_TYPE"), r.get("GITHUB_REF_NAME")
    if ref_type == "branch":
        r.put("branch", ref_name, "GITHUB_REF_NAME")
    elif ref_type == "tag":
        r.put("tag", ref_name, "GITHUB_REF_NAME")
    kind, name = ref_kind(r.get("GITHUB_REF"))
    if kind == "branch" and not r.has("tag"):
        r.put("branch", name, "GITHUB_REF")
    elif kind == "tag" and not r.has("branch"):
        r.put("tag", name, "GITHUB_REF")
