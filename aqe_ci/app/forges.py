"""Building forge clients (part of the composition root): the only place a PyGithub client, or a
python-gitlab client for MR notes, is made.

Requests are not spaced out (PyGithub's default pause between requests is for bulk clients).
Retries are PyGithub's own :class:`github.GithubRetry` (urllib3 ``Retry``): 5xx and rate-limited
403/429 answers are retried, waiting what ``Retry-After`` says (a secondary rate limit) or until
``X-RateLimit-Reset`` (the primary one), never longer than ``max_wait`` seconds in all. Comment
edits (``PATCH``) and deletes are retried too: both are idempotent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from aqe_ci import __version__, secrets

if TYPE_CHECKING:
    from github import Github

    from aqe_ci.context.gitlab import GitLabJob
    from aqe_ci.publish.github import GitHubForge
    from aqe_ci.publish.gitlab import GitLabForge

DEFAULT_API_URL = "https://api.github.com"


@dataclass(frozen=True, kw_only=True)
class GitHubSettings:
    token: str | None
    api_url: str = DEFAULT_API_URL
    timeout: int = 20  # seconds per request
    retries: int = 4
    backoff_factor: float = 0.5  # urllib3: the n-th consecutive retry of a 5xx waits factor * 2**(n-1) s
    secondary_rate_wait: float = 60.0  # a secondary rate limit without Retry-After
    max_wait: float = 300.0  # never wait longer than this for a rate limit to reset
    # PyGithub spaces requests 0.25 s and writes 1 s apart by default, for bulk clients; a run makes a
    # handful of requests, and a secondary rate limit is retried after its Retry-After anyway
    seconds_between_requests: float | None = None
    seconds_between_writes: float | None = None


def github_client(settings: GitHubSettings) -> Github | None:
    """A PyGithub client for ``settings`` (lazy objects, 100 items a page), None without a token."""
    if not settings.token:
        return None
    from github import Auth, Github, GithubRetry

    secrets.register(settings.token)
    retry = GithubRetry(total=settings.retries, backoff_factor=settings.backoff_factor, secondary_rate_wait=settings.secondary_rate_wait,
                        max_rate_limit_wait=settings.max_wait, status_forcelist=[429, *range(500, 600)],
                        allowed_methods=frozenset({"GET", "POST", "PATCH", "PUT", "DELETE", "HEAD"}))
    return Github(auth=Auth.Token(settings.token), base_url=settings.api_url.rstrip("/"), timeout=settings.timeout,
                  per_page=100, retry=retry, lazy=True, user_agent=f"aqe-artifacts/{__version__}",
                  seconds_between_requests=settings.seconds_between_requests,
                  seconds_between_writes=settings.seconds_between_writes)


def github_forge(settings: GitHubSettings, *, output_file: Path | None = None, summary_file: Path | None = None,
                 stream: IO[str] | None = None, workspace: Path | None = None) -> GitHubForge:
    from aqe_ci.publish.github import GitHubForge

    return GitHubForge(github_client(settings), output_file=output_file, summary_file=summary_file, stream=stream,
                       workspace=workspace, author=installation_author(settings.token))


#: GitHub's prefix of an installation access token (``GITHUB_TOKEN`` is one)
INSTALLATION_TOKEN_PREFIX = "ghs_"


def installation_author(token: str | None) -> str | None:
    """The comment author of an installation token, known without a request: ``GET /user`` always
    answers such a token 403, so asking would cost a request and log a failure for nothing. None for
    every other token (a personal or OAuth token asks ``GET /user`` for its login)."""
    from aqe_ci.publish.github import BOT_LOGIN

    return BOT_LOGIN if token and token.startswith(INSTALLATION_TOKEN_PREFIX) else None


# -- GitLab ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class GitLabSettings:
    """How to reach GitLab for MR notes. ``token`` must be able to write notes: a project / group /
    personal access token (``CI_JOB_TOKEN`` cannot); without one, ``reason`` says why."""

    token: str | None
    api_url: str | None
    timeout: float = 60.0
    max_attempts: int = 5
    verify_ssl: bool = True
    reason: str = ""


def gitlab_settings(section: Mapping[str, Any], environ: Mapping[str, str], *, api_url: str | None = None,
                    token_env: str = "AQE_GITLAB_TOKEN") -> GitLabSettings:
    """The note settings: ``gitlab.token`` of the config, else the masked variable ``token_env``."""
    token = section.get("token") or None
    reason = ""
    if not token and token_env == "CI_JOB_TOKEN":
        reason = "CI_JOB_TOKEN cannot write merge request notes"
    elif not token:
        token = (environ.get(token_env) or "").strip() or None
        if not token:
            reason = (f"no token that may write merge request notes: set the masked CI/CD variable {token_env} to "
                      "a project access token (api scope, Developer role); CI_JOB_TOKEN cannot write notes "
                      "(docs/troubleshooting.md#gitlab-note-403)")
    return GitLabSettings(token=token, api_url=section.get("api_url") or api_url,
                          timeout=float(section.get("timeout") or 60), max_attempts=int(section.get("max_attempts") or 5),
                          verify_ssl=bool(section.get("verify_ssl", True)), reason=reason)


def gitlab_forge(settings: GitLabSettings, job: GitLabJob, *, out_dir: Path,
                 stream: IO[str] | None = None) -> GitLabForge:
    """The GitLab forge of a job: a python-gitlab client with the note token, the job's report files
    in ``out_dir``. No client (the note falls back to a file) without a token, or for a fork MR whose
    pipeline runs in the fork project (its variables must not write to the parent's MR)."""
    from aqe_ci.gitlab_api import GitLabClient
    from aqe_ci.publish.gitlab import GitLabForge

    client, reason = None, settings.reason
    if job.runs_in_fork:
        reason = (f"this fork MR's pipeline runs in the fork project; its variables cannot (and must not) write "
                  f"to !{job.mr_iid} — a maintainer can run the pipeline in the parent project to post the note")
    elif settings.token and settings.api_url:
        client = GitLabClient(settings.api_url, private_token=settings.token, timeout=settings.timeout,
                              max_attempts=settings.max_attempts, ssl_verify=settings.verify_ssl)
    elif settings.token:
        reason = "no GitLab API URL (CI_API_V4_URL or gitlab.api_url)"
    return GitLabForge(client, web_url=job.mr_project_url or job.project_url, dotenv_file=out_dir / "aqe.env",
                       summary_file=out_dir / "summary.md", codequality_file=out_dir / "gl-code-quality-report.json",
                       stream=stream, no_client_reason=reason)
