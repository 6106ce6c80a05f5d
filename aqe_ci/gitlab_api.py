"""python-gitlab, set up once for everything that talks to GitLab (storage and MR notes).

:class:`GitLabClient` is a :class:`gitlab.Gitlab` with one retry policy instead of python-gitlab's
per-call flags: ``429 Too Many Requests`` waits for ``Retry-After`` (else ``RateLimit-Reset``, else
an exponential back-off), ``500/502/503/504`` and connection errors back off exponentially, at most
``max_attempts`` attempts in all, and a file-like request body is rewound before each attempt (an
upload retried by python-gitlab itself would send the rest of an already-read file). Every HTTP
response is counted (:attr:`GitLabClient.request_count`, by method in :attr:`requests`), so the
benchmarks and tests can show what a query costs.

Authentication: a personal / project / group access token (``PRIVATE-TOKEN``) or ``CI_JOB_TOKEN``
(``JOB-TOKEN``). Tokens are registered with :mod:`aqe_ci.secrets`; they travel in headers only, never
in a URL, so no message built from a URL or an error body can show them.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import gitlab
import requests

from aqe_ci import __version__, secrets

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_WAIT_SECONDS = 120.0


class GitLabClient(gitlab.Gitlab):
    """A python-gitlab client with our retry policy and request counting."""

    def __init__(self, url: str, *, private_token: str | None = None, job_token: str | None = None,
                 timeout: float = 60.0, max_attempts: int = 5, ssl_verify: bool = True) -> None:
        for token in (private_token, job_token):
            secrets.register(token)
        super().__init__(url.rstrip("/").removesuffix("/api/v4"), private_token=private_token,
                         job_token=job_token, timeout=timeout, ssl_verify=ssl_verify,
                         retry_transient_errors=False, user_agent=f"aqe-artifacts/{__version__}")
        self.max_attempts = max(1, max_attempts)
        self.auth_kind = "job token" if job_token and not private_token else "access token"
        self.request_count = 0
        self.retries = 0
        self.requests: Counter[str] = Counter()
        self._count_lock = threading.Lock()
        self._last = threading.local()  # headers of the last response this thread received
        self.session.hooks["response"].append(self._on_response)

    def _on_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        with self._count_lock:
            self.request_count += 1
            self.requests[response.request.method or "?"] += 1
        self._last.headers = response.headers

    def reset_counts(self) -> None:
        with self._count_lock:
            self.request_count = 0
            self.requests.clear()

    def http_request(self, verb: str, path: str, query_data: dict[str, Any] | None = None,
                     post_data: Any = None, raw: bool = False, streamed: bool = False,
                     files: dict[str, Any] | None = None, timeout: float | None = None,
                     obey_rate_limit: bool = True, retry_transient_errors: bool | None = None,
                     max_retries: int = 10, extra_headers: dict[str, Any] | None = None,
                     **kwargs: Any) -> requests.Response:
        attempt = 0
        while True:
            if hasattr(post_data, "seek"):
                post_data.seek(0)
            self._last.headers = None
            try:
                return super().http_request(verb, path, query_data=query_data, post_data=post_data, raw=raw,
                                            streamed=streamed, files=files, timeout=timeout,
                                            obey_rate_limit=False, retry_transient_errors=False, max_retries=0,
                                            extra_headers=extra_headers, **kwargs)
            except gitlab.exceptions.GitlabHttpError as exc:
                if exc.response_code not in RETRY_STATUSES or attempt + 1 >= self.max_attempts:
                    raise
                wait = self._retry_after(attempt)
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError):
                if attempt + 1 >= self.max_attempts:
                    raise
                wait = backoff(attempt)
            attempt += 1
            with self._count_lock:
                self.retries += 1
            time.sleep(wait)

    def _retry_after(self, attempt: int) -> float:
        headers = getattr(self._last, "headers", None) or {}
        for name in ("Retry-After", "RateLimit-Reset"):
            value = headers.get(name)
            if value is None:
                continue
            try:
                seconds = float(value)
            except ValueError:
                continue
            if name == "RateLimit-Reset":  # an epoch time
                seconds -= time.time()
            return min(max(seconds, 0.0), MAX_WAIT_SECONDS)
        return backoff(attempt)


def backoff(attempt: int) -> float:
    """0.2 s, 0.4 s, 0.8 s, … capped at 10 s."""
    return float(min(0.2 * (2 ** attempt), 10.0))


def status_of(exc: BaseException) -> int | None:
    """The HTTP status of a python-gitlab error, None for transport errors."""
    code = getattr(exc, "response_code", None)
    return int(code) if isinstance(code, int) else None


def message_of(exc: BaseException) -> str:
    """GitLab's one-line error message of a python-gitlab error (never the request, so never a token)."""
    text = getattr(exc, "error_message", None)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if isinstance(text, dict):
        text = "; ".join(f"{k}: {v}" for k, v in text.items())
    text = str(text if text is not None else exc)
    return secrets.redact(" ".join(text.split()))[:300]
