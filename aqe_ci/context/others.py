"""CircleCI, Jenkins, Buildkite, Azure Pipelines and Bitbucket Pipelines (platform reference §6)."""

from __future__ import annotations

import re
from urllib.parse import quote

from aqe_ci.context.reader import Reader, ref_kind, strip_prefix
from aqe_ci.git import slug_from_url

PR_URL_RE = re.compile(r"/(?:pull|pulls|pull-requests|merge_requests|-/merge_requests)/([0-9]+)/?$")


def _pr_from_url(url: str) -> str | None:
    m = PR_URL_RE.search(url.strip())
    return m.group(1) if m else url  # an unparsable value is passed on so the reader warns about it


# -- CircleCI ----------------------------------------------------------------------------------
def detect_circleci(r: Reader) -> None:
    r.put("platform", "circleci", "CIRCLECI=true")
    user, name = r.get("CIRCLE_PROJECT_USERNAME"), r.get("CIRCLE_PROJECT_REPONAME")
    if user and name:
        r.put("repository", f"{user}/{name}", "CIRCLE_PROJECT_USERNAME/CIRCLE_PROJECT_REPONAME")
    r.put("repository", slug_from_url(r.get("CIRCLE_REPOSITORY_URL")), "CIRCLE_REPOSITORY_URL")
    r.env("commit", "CIRCLE_SHA1")
    r.env("tag", "CIRCLE_TAG")
    r.env("branch", "CIRCLE_BRANCH")
    r.env("pr", "CIRCLE_PR_NUMBER")
    r.env("pr", "CIRCLE_PULL_REQUEST", "CI_PULL_REQUEST", transform=_pr_from_url)
    pulls = r.get("CIRCLE_PULL_REQUESTS")  # comma-separated PR URLs when several PRs share the branch
    if pulls:
        r.put("pr", _pr_from_url(pulls.split(",")[0]), "CIRCLE_PULL_REQUESTS")
    r.env("run_id", "CIRCLE_BUILD_NUM")  # per job, a rerun gets a new number
    r.env("job", "CIRCLE_JOB")
    r.env("run_url", "CIRCLE_BUILD_URL")


# -- Jenkins -----------------------------------------------------------------------------------
def detect_jenkins(r: Reader) -> None:
    r.put("platform", "jenkins", "JENKINS_URL")
    # Branch Source / multibranch pipelines
    if r.get("CHANGE_ID"):
        r.env("pr", "CHANGE_ID")
        r.env("branch", "CHANGE_BRANCH")
        r.env("base_branch", "CHANGE_TARGET")
        r.put("repository", slug_from_url(_strip_pr_path(r.get("CHANGE_URL"))), "CHANGE_URL")
    # GitHub Pull Request Builder plugin
    if r.get("ghprbPullId"):
        r.env("pr", "ghprbPullId")
        r.env("commit", "ghprbActualCommit")
        r.env("branch", "ghprbSourceBranch")
        r.env("base_branch", "ghprbTargetBranch")
        r.env("repository", "ghprbGhRepository")
    # GitLab plugin (merge request and push hooks)
    if r.get("gitlabMergeRequestIid") or r.get("gitlabMergeRequestId"):
        r.env("pr", "gitlabMergeRequestIid", "gitlabMergeRequestId")
        r.env("commit", "gitlabMergeRequestLastCommit")
        r.env("branch", "gitlabSourceBranch")
        r.env("base_branch", "gitlabTargetBranch")
        ns, name = r.get("gitlabTargetNamespace"), r.get("gitlabTargetRepoName")
        if ns and name:
            r.put("repository", f"{ns}/{name}", "gitlabTargetNamespace/gitlabTargetRepoName")
    elif r.get("gitlabBranch"):
        r.env("branch", "gitlabBranch", transform=lambda v: strip_prefix(v, "refs/heads/"))
        r.env("commit", "gitlabAfter")
    r.env("commit", "GIT_COMMIT")
    if not r.has("pr"):
        r.env("branch", "BRANCH_NAME", "GIT_LOCAL_BRANCH")
        r.env("branch", "GIT_BRANCH", transform=_jenkins_git_branch)
    r.put("repository", slug_from_url(r.get("GIT_URL")), "GIT_URL")
    r.env("run_id", "BUILD_NUMBER")
    r.env("job", "JOB_NAME")
    r.env("run_url", "BUILD_URL")


def _jenkins_git_branch(value: str) -> str:
    """``origin/main``, ``refs/remotes/origin/main`` → ``main``."""
    return strip_prefix(strip_prefix(value, "refs/remotes/"), "origin/", "refs/heads/")


def _strip_pr_path(url: str | None) -> str | None:
    """``https://github.com/o/r/pull/5`` → ``https://github.com/o/r``; None for other URL shapes."""
    if not url:
        return None
    stripped, n = re.subn(r"/(?:pull|-/merge_requests|merge_requests)/[0-9]+/?$", "", url)
    return stripped if n else None


# -- Buildkite ---------------------------------------------------------------------------------
def detect_buildkite(r: Reader) -> None:
    r.put("platform", "buildkite", "BUILDKITE=true")
    r.env("event", "BUILDKITE_SOURCE")
    commit = r.get("BUILDKITE_COMMIT")
    if commit == "HEAD":
        head = r.git.head_sha() if r.git is not None else None
        if not r.put("commit", head, "git rev-parse HEAD (BUILDKITE_COMMIT=HEAD)"):
            r.warn("BUILDKITE_COMMIT is HEAD and git could not resolve it; pass --commit")
    else:
        r.env("commit", "BUILDKITE_COMMIT")
    r.env("tag", "BUILDKITE_TAG")
    branch = r.get("BUILDKITE_BRANCH")
    if branch and branch != r.values.get("tag"):  # on tag builds BUILDKITE_BRANCH is the tag name
        r.put("branch", branch, "BUILDKITE_BRANCH")
    pr = r.get("BUILDKITE_PULL_REQUEST")
    if pr and pr.lower() != "false":
        r.put("pr", pr, "BUILDKITE_PULL_REQUEST")
        r.env("base_branch", "BUILDKITE_PULL_REQUEST_BASE_BRANCH")
    r.put("repository", slug_from_url(r.get("BUILDKITE_REPO")), "BUILDKITE_REPO")
    r.env("default_branch", "BUILDKITE_PIPELINE_DEFAULT_BRANCH")
    r.env("run_id", "BUILDKITE_BUILD_NUMBER")
    r.env("job_id", "BUILDKITE_JOB_ID")  # a fresh uuid for every job and every retry
    r.env("job", "BUILDKITE_STEP_KEY", "BUILDKITE_LABEL")
    retry = r.get("BUILDKITE_RETRY_COUNT")
    if retry is not None and retry.isdigit():
        r.put("run_attempt", str(int(retry) + 1), "BUILDKITE_RETRY_COUNT + 1")
    r.env("run_url", "BUILDKITE_BUILD_URL")


# -- Azure Pipelines ---------------------------------------------------------------------------
def detect_azure(r: Reader) -> None:
    r.put("platform", "azure", "TF_BUILD=True")
    reason = r.get("BUILD_REASON")
    r.env("event", "BUILD_REASON")
    is_pr = reason == "PullRequest" or bool(r.get("SYSTEM_PULLREQUEST_PULLREQUESTID"))
    if is_pr:
        r.env("pr", "SYSTEM_PULLREQUEST_PULLREQUESTNUMBER", "SYSTEM_PULLREQUEST_PULLREQUESTID")
        if r.env("commit", "SYSTEM_PULLREQUEST_SOURCECOMMITID"):
            r.env("merge_commit", "BUILD_SOURCEVERSION")
        else:
            r.warn("PR build without SYSTEM_PULLREQUEST_SOURCECOMMITID; commit is BUILD_SOURCEVERSION "
                   "(the merge commit) — pass --commit to correct it")
        strip = lambda v: strip_prefix(v, "refs/heads/")  # noqa: E731
        r.env("branch", "SYSTEM_PULLREQUEST_SOURCEBRANCH", transform=strip)
        r.env("base_branch", "SYSTEM_PULLREQUEST_TARGETBRANCH", transform=strip)
    else:
        source_branch = r.get("BUILD_SOURCEBRANCH")
        kind, name = ref_kind(source_branch)
        if kind == "branch":
            r.put("branch", name, "BUILD_SOURCEBRANCH")
        elif kind == "tag":
            r.put("tag", name, "BUILD_SOURCEBRANCH")
        elif source_branch and not source_branch.startswith("refs/"):
            r.put("branch", source_branch, "BUILD_SOURCEBRANCH")
    r.env("commit", "BUILD_SOURCEVERSION")
    r.env("repository", "BUILD_REPOSITORY_NAME")
    r.env("run_id", "BUILD_BUILDID")
    r.env("run_attempt", "SYSTEM_JOBATTEMPT")
    r.env("job", "SYSTEM_JOBDISPLAYNAME", "SYSTEM_JOBNAME", "AGENT_JOBNAME")
    r.env("job_id", "SYSTEM_JOBID")
    collection, project, build = r.get("SYSTEM_COLLECTIONURI"), r.get("SYSTEM_TEAMPROJECT"), r.values.get("run_id")
    if collection and project and build:
        url = f"{collection.rstrip('/')}/{quote(project, safe='')}/_build/results?buildId={quote(build, safe='')}"
        r.put("run_url", url, "SYSTEM_COLLECTIONURI + SYSTEM_TEAMPROJECT + BUILD_BUILDID")


# -- Bitbucket Pipelines -----------------------------------------------------------------------
def detect_bitbucket(r: Reader) -> None:
    r.put("platform", "bitbucket", "BITBUCKET_BUILD_NUMBER")
    r.env("commit", "BITBUCKET_COMMIT")
    r.env("tag", "BITBUCKET_TAG")
    r.env("branch", "BITBUCKET_BRANCH")
    if r.env("pr", "BITBUCKET_PR_ID"):
        r.env("base_branch", "BITBUCKET_PR_DESTINATION_BRANCH")
        r.env("base_sha", "BITBUCKET_PR_DESTINATION_COMMIT")
    r.env("repository", "BITBUCKET_REPO_FULL_NAME")
    ws, slug = r.get("BITBUCKET_WORKSPACE"), r.get("BITBUCKET_REPO_SLUG")
    if ws and slug:
        r.put("repository", f"{ws}/{slug}", "BITBUCKET_WORKSPACE/BITBUCKET_REPO_SLUG")
    r.env("run_id", "BITBUCKET_BUILD_NUMBER")
    r.env("job_id", "BITBUCKET_STEP_UUID", transform=lambda v: v.strip("{}"))
    repo, build = r.values.get("repository"), r.values.get("run_id")
    if repo and build:
        r.put("run_url", f"https://bitbucket.org/{repo}/addon/pipelines/home#!/results/{build}",
              "https://bitbucket.org/BITBUCKET_REPO_FULL_NAME/addon/pipelines/home#!/results/BITBUCKET_BUILD_NUMBER")
