"""A stateful fake of the GitHub REST API (and the one GraphQL mutation we use) on 127.0.0.1.

It speaks what the real PyGithub client sends for PR comments (platform reference §4):

* ``GET    /user`` — the token's user; an installation token (``ghs_…``, what ``GITHUB_TOKEN`` is)
  gets ``403 Resource not accessible by integration`` like on github.com;
* ``GET    /repos/{o}/{r}/issues/{n}/comments?per_page=&page=`` — paginated (default 30, max 100)
  with a ``Link`` header (``next``, ``last``, ``first``, ``prev``);
* ``POST   /repos/{o}/{r}/issues/{n}/comments`` → 201, ``PATCH``/``DELETE``/``GET``
  ``/repos/{o}/{r}/issues/comments/{id}`` → 200 / 204 / 200; a body over 65,536 characters → 422;
* ``GET    /repos/{o}/{r}/commits/{sha}/pulls`` — the pull requests whose head is that commit;
* ``POST   /graphql`` — ``minimizeComment(input: {subjectId, classifier})``.

Modes: ``read_only=True`` answers every write with ``403 Resource not accessible by integration``
(a fork PR's token); ``rate_limit(n, retry_after="0")`` answers the next ``n`` requests with a
secondary rate limit (403 + ``Retry-After``). Unknown tokens get 401. Every request is recorded
(method, path, query, JSON body, token) so tests assert exactly which requests were made.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

NOT_ACCESSIBLE = "Resource not accessible by integration"
SECONDARY_LIMIT = ("You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
                   "If you reach out to GitHub Support for help, please include the request ID.")
BODY_LIMIT = 65_536
DOCS = "https://docs.github.com/rest"


@dataclass(frozen=True)
class User:
    login: str
    type: str = "User"  # User | Bot
    id: int = 1
    can_read_self: bool = True  # False for installation tokens: GET /user is 403


BOT = User("github-actions[bot]", "Bot", 41898282, can_read_self=False)


@dataclass
class Comment:
    id: int
    repo: str
    issue: int
    body: str
    user: User
    created_at: datetime
    updated_at: datetime
    minimized: str | None = None  # the classifier once minimized

    @property
    def node_id(self) -> str:
        return f"IC_kwFake{self.id}"


@dataclass
class Pull:
    repo: str
    number: int
    head_sha: str
    head_ref: str = "feature"
    base_ref: str = "main"
    base_sha: str = "0" * 40
    state: str = "open"
    head_repo: str | None = None  # the fork's full name; None = same repository


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    token: str | None
    status: int
    at: float = 0.0  # time.perf_counter() when the server had handled it

    def line(self) -> str:
        q = ("?" + urlencode(sorted(self.query.items()))) if self.query else ""
        return f"{self.method} {self.path}{q}"


@dataclass
class State:
    tokens: dict[str, User] = field(default_factory=dict)
    comments: dict[int, Comment] = field(default_factory=dict)
    issues: set[tuple[str, int]] = field(default_factory=set)
    pulls: list[Pull] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    read_only: bool = False
    deny_delete: bool = False
    rate_limited: int = 0
    retry_after: str | None = "0"


class FakeGitHub:
    """``with FakeGitHub() as gh: ...`` — ``gh.url`` is the API base URL (``GITHUB_API_URL``)."""

    def __init__(self) -> None:
        self.state = State()
        self.lock = threading.Lock()
        self._ids = itertools.count(1001)
        self._clock = datetime(2025, 11, 12, 10, 0, 0, tzinfo=UTC)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                return

            def _handle(self) -> None:
                fake._serve(self)

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _handle  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> FakeGitHub:
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- seeding and inspection -------------------------------------------------------------------
    def add_token(self, token: str, user: User) -> None:
        self.state.tokens[token] = user

    def add_pull(self, repo: str, number: int, head_sha: str, **kw: Any) -> Pull:
        pr = Pull(repo, number, head_sha, **kw)
        with self.lock:
            self.state.pulls.append(pr)
            self.state.issues.add((repo, number))
        return pr

    def add_comment(self, repo: str, issue: int, body: str, user: User) -> Comment:
        with self.lock:
            self.state.issues.add((repo, issue))
            return self._create(repo, issue, body, user)

    def comments(self, repo: str, issue: int) -> list[Comment]:
        with self.lock:
            return sorted((c for c in self.state.comments.values() if c.repo == repo and c.issue == issue),
                          key=lambda c: c.id)

    def rate_limit(self, n: int, retry_after: str | None = "0") -> None:
        """Answer the next ``n`` requests with a secondary rate limit (``Retry-After`` when not None)."""
        with self.lock:
            self.state.rate_limited = n
            self.state.retry_after = retry_after

    @property
    def requests(self) -> list[Request]:
        with self.lock:
            return list(self.state.requests)

    def calls(self) -> list[str]:
        """``["GET /repos/o/r/issues/1/comments?page=1&per_page=100", ...]`` in order."""
        return [r.line() for r in self.requests]

    def clear_requests(self) -> None:
        with self.lock:
            self.state.requests.clear()

    # -- internals --------------------------------------------------------------------------------
    def _now(self) -> datetime:
        self._clock += timedelta(seconds=1)
        return self._clock

    def _create(self, repo: str, issue: int, body: str, user: User) -> Comment:
        now = self._now()
        c = Comment(next(self._ids), repo, issue, body, user, now, now)
        self.state.comments[c.id] = c
        return c

    def _user_json(self, u: User) -> dict[str, Any]:
        return {"login": u.login, "id": u.id, "node_id": f"U_{u.id}", "type": u.type,
                "url": f"{self.url}/users/{u.login}", "html_url": f"https://github.com/{u.login}",
                "site_admin": False}

    def _comment_json(self, c: Comment) -> dict[str, Any]:
        iso = "%Y-%m-%dT%H:%M:%SZ"
        return {"id": c.id, "node_id": c.node_id, "url": f"{self.url}/repos/{c.repo}/issues/comments/{c.id}",
                "html_url": f"https://github.com/{c.repo}/pull/{c.issue}#issuecomment-{c.id}",
                "issue_url": f"{self.url}/repos/{c.repo}/issues/{c.issue}", "body": c.body,
                "user": self._user_json(c.user), "created_at": c.created_at.strftime(iso),
                "updated_at": c.updated_at.strftime(iso), "author_association": "NONE"}

    def _pull_json(self, p: Pull) -> dict[str, Any]:
        head_repo = p.head_repo or p.repo
        return {"id": 500000 + p.number, "number": p.number, "state": p.state,
                "url": f"{self.url}/repos/{p.repo}/pulls/{p.number}",
                "html_url": f"https://github.com/{p.repo}/pull/{p.number}",
                "head": {"sha": p.head_sha, "ref": p.head_ref, "label": f"{head_repo.split('/')[0]}:{p.head_ref}",
                         "repo": {"full_name": head_repo, "fork": p.head_repo is not None}},
                "base": {"sha": p.base_sha, "ref": p.base_ref, "label": f"{p.repo.split('/')[0]}:{p.base_ref}",
                         "repo": {"full_name": p.repo, "fork": False}}}

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        auth = h.headers.get("Authorization") or ""
        token = auth.split(" ", 1)[1] if " " in auth else None
        with self.lock:
            status, payload, headers = self._route(h.command, parts.path, query, body, token)
            self.state.requests.append(Request(h.command, parts.path, query, body, token, status, time.perf_counter()))
        self._send(h, status, payload, headers)

    def _send(self, h: BaseHTTPRequestHandler, status: int, payload: Any, headers: dict[str, str]) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(data)))
        h.send_header("X-GitHub-Request-Id", "FAKE:0001")
        h.send_header("X-RateLimit-Limit", "1000")
        h.send_header("X-RateLimit-Remaining", "999")
        h.send_header("X-RateLimit-Reset", "4102444800")
        h.send_header("X-RateLimit-Resource", "core")
        for k, v in headers.items():
            h.send_header(k, v)
        h.end_headers()
        if data:
            h.wfile.write(data)

    def _error(self, status: int, message: str, doc: str = DOCS) -> tuple[int, Any, dict[str, str]]:
        return status, {"message": message, "documentation_url": doc, "status": str(status)}, {}

    def _route(self, method: str, path: str, query: dict[str, str], body: Any,
               token: str | None) -> tuple[int, Any, dict[str, str]]:
        st = self.state
        if st.rate_limited > 0:
            st.rate_limited -= 1
            status, payload, headers = self._error(403, SECONDARY_LIMIT, DOCS + "/overview/rate-limits-for-the-rest-api")
            if st.retry_after is not None:
                headers = {"Retry-After": st.retry_after}
            return status, payload, headers
        user = st.tokens.get(token or "")
        if user is None:
            return self._error(401, "Bad credentials")
        if path == "/graphql" and method == "POST":
            return self._graphql(body, user)
        if path == "/user" and method == "GET":
            if not user.can_read_self:
                return self._error(403, NOT_ACCESSIBLE, DOCS + "/users/users#get-the-authenticated-user")
            return 200, self._user_json(user), {}
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/issues/(\d+)/comments", path)
        if m:
            return self._issue_comments(method, m.group(1), int(m.group(2)), query, body, user)
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/issues/comments/(\d+)", path)
        if m:
            return self._comment(method, m.group(1), int(m.group(2)), body, user)
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/commits/([0-9a-fA-F]{7,64})/pulls", path)
        if m and method == "GET":
            sha = m.group(2).lower()
            found = [self._pull_json(p) for p in st.pulls if p.repo == m.group(1) and p.head_sha.startswith(sha)]
            return 200, found, {}
        return self._error(404, "Not Found")

    def _issue_comments(self, method: str, repo: str, issue: int, query: dict[str, str], body: Any,
                        user: User) -> tuple[int, Any, dict[str, str]]:
        st = self.state
        if (repo, issue) not in st.issues:
            return self._error(404, "Not Found")
        if method == "GET":
            items = sorted((c for c in st.comments.values() if c.repo == repo and c.issue == issue), key=lambda c: c.id)
            per_page = max(1, min(100, int(query.get("per_page") or 30)))
            page = max(1, int(query.get("page") or 1))
            last = max(1, -(-len(items) // per_page))
            chunk = items[(page - 1) * per_page: page * per_page]
            base = f"{self.url}/repos/{repo}/issues/{issue}/comments"

            def link(p: int) -> str:
                return f"{base}?{urlencode({'per_page': per_page, 'page': p})}"
            rels = []
            if page < last:
                rels += [f'<{link(page + 1)}>; rel="next"', f'<{link(last)}>; rel="last"']
            if page > 1:
                rels += [f'<{link(page - 1)}>; rel="prev"', f'<{link(1)}>; rel="first"']
            return 200, [self._comment_json(c) for c in chunk], ({"Link": ", ".join(rels)} if rels else {})
        if method == "POST":
            if st.read_only:
                return self._error(403, NOT_ACCESSIBLE, DOCS + "/issues/comments#create-an-issue-comment")
            text = (body or {}).get("body")
            if not isinstance(text, str) or not text:
                return 422, {"message": "Validation Failed", "errors": [
                    {"resource": "IssueComment", "code": "missing_field", "field": "body"}]}, {}
            if len(text) > BODY_LIMIT:
                return self._too_long()
            return 201, self._comment_json(self._create(repo, issue, text, user)), {}
        return self._error(404, "Not Found")

    def _too_long(self) -> tuple[int, Any, dict[str, str]]:
        return 422, {"message": "Validation Failed", "errors": [
            {"resource": "IssueComment", "code": "custom", "field": "body",
             "message": "body is too long (maximum is 65536 characters)"}],
            "documentation_url": DOCS + "/issues/comments#create-an-issue-comment"}, {}

    def _comment(self, method: str, repo: str, cid: int, body: Any, user: User) -> tuple[int, Any, dict[str, str]]:
        st = self.state
        c = st.comments.get(cid)
        if c is None or c.repo != repo:
            return self._error(404, "Not Found")
        if method == "GET":
            return 200, self._comment_json(c), {}
        if st.read_only or c.user.login != user.login:
            return self._error(403, NOT_ACCESSIBLE, DOCS + "/issues/comments")
        if method == "PATCH":
            text = (body or {}).get("body")
            if not isinstance(text, str) or not text:
                return 422, {"message": "Validation Failed"}, {}
            if len(text) > BODY_LIMIT:
                return self._too_long()
            c.body = text
            c.updated_at = self._now()
            return 200, self._comment_json(c), {}
        if method == "DELETE":
            if st.deny_delete:
                return self._error(403, NOT_ACCESSIBLE, DOCS + "/issues/comments#delete-an-issue-comment")
            del st.comments[cid]
            return 204, None, {}
        return self._error(404, "Not Found")

    def _graphql(self, body: Any, user: User) -> tuple[int, Any, dict[str, str]]:
        query = (body or {}).get("query") or ""
        variables = (body or {}).get("variables") or {}
        if "minimizeComment" not in query:
            return 200, {"errors": [{"message": "only minimizeComment is implemented by the fake"}]}, {}
        data = variables.get("input") or {}
        target = next((c for c in self.state.comments.values() if c.node_id == data.get("subjectId")), None)
        if target is None:
            return 200, {"data": {"minimizeComment": None}, "errors": [
                {"type": "NOT_FOUND", "message": f"Could not resolve to a node with the global id of "
                                                 f"'{data.get('subjectId')}'"}]}, {}
        if self.state.read_only:
            return 200, {"data": {"minimizeComment": None}, "errors": [
                {"type": "FORBIDDEN", "message": NOT_ACCESSIBLE}]}, {}
        target.minimized = str(data.get("classifier") or "OUTDATED")
        return 200, {"data": {"minimizeComment": {"minimizedComment": {"isMinimized": True}}}}, {}
