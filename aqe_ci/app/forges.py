"""Building forge clients (part of the composition root): the only place a PyGithub client is made.

Requests are not spaced out (PyGithub's default pause between requests is for bulk clients).
Retries are PyGithub's own :class:`github.GithubRetry` (urllib3 ``Retry``): 5xx and rate-limited
403/429 answers are retried, waiting what ``Retry-After`` says (a secondary rate limit) or until
``X-RateLimit-Reset`` (the primary one), never longer than ``max_wait`` seconds in all. Comment
edits (``PATCH``) and deletes are retried too: both are idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from aqe_ci import __version__, secrets

if TYPE_CHECKING:
    from github import Github

    from aqe_ci.publish.github import GitHubForge

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
                       workspace=workspace)
