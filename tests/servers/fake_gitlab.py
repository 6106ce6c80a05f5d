"""A stateful fake of the GitLab REST API v4 on 127.0.0.1, for the real python-gitlab client.

What it serves (the parts aqe-artifacts uses, following the platform reference §5):

* ``GET /user``; ``GET /projects/:id`` (numeric id or URL-encoded path);
  ``GET /projects/:id/merge_requests/:iid``;
* MR notes: list (``sort``, ``order_by``, offset pagination with ``x-next-page`` … headers and a
  ``Link`` header), get, create (``body`` ≤ 1,000,000 characters), update (author only), delete;
* the generic package registry: ``PUT /projects/:id/packages/generic/:name/:version/:file``
  (``status=default|hidden``, ``select=package_file``, the name/version/file-name rules, the
  project's duplicate setting answered with ``400 Duplicate package is not allowed``, a per-file size
  limit answered with 413, and GitLab's documented race: two uploads creating the same new package at
  once, the second gets 500), download (the newest file of a name), ``GET /projects/:id/packages``
  (``package_type``, fuzzy case-insensitive ``package_name``, exact ``package_version``,
  ``status``; ``order_by`` created_at | name | version | type, ``sort``, pagination), a package and
  its ``package_files`` (paginated), and deleting packages and package files;
* authentication as GitLab takes it: ``PRIVATE-TOKEN``, ``JOB-TOKEN``, ``Authorization: Bearer``,
  HTTP Basic ``gitlab-ci-token:<job token>``, ``job_token=`` / ``private_token=`` parameters.

Permission rules (reference §5.3): a job token may use the package registry and *read* merge
requests and notes, nothing else (writing notes → 403, ``/user`` → 403); deleting packages or
package files needs the Maintainer role (a Developer's job token gets 403); a user who is not a
member of a project gets 404 for it. Faults on demand: ``throttle()`` answers the next requests with
429 and ``Retry-After``; ``fail()`` with any status. Every request is recorded (method, path, query,
auth kind, status) for request counting.

Run standalone: ``python tests/servers/fake_gitlab.py --port 8929`` prints the API URL and a token.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

HOST = "127.0.0.1"
NOTE_LIMIT = 1_000_000
MAX_PER_PAGE = 100
NAME_RE = re.compile(r"^[A-Za-z0-9._+-]+$")  # generic package name and file name (maven_file_name_regex)
VERSION_RE = re.compile(r"^(?!.*\.\.)[A-Za-z0-9_+.-]+$")  # maven_version_regex
NAME_MAX = 255
ROLES = {"guest": 10, "reporter": 20, "developer": 30, "maintainer": 40, "owner": 50}
LISTED_STATUSES = ("default", "error", "deprecated")


def _now() -> str:
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class User:
    id: int
    username: str
    name: str
    bot: bool = False

    def json(self, base_url: str = f"http://{HOST}") -> dict[str, Any]:
        return {"id": self.id, "username": self.username, "name": self.name, "state": "active",
                "bot": self.bot, "avatar_url": None, "web_url": f"{base_url}/{self.username}"}


@dataclass
class Token:
    value: str
    kind: str  # personal | project | job
    user: User
    scopes: tuple[str, ...] = ("api",)


@dataclass
class PackageFile:
    id: int
    package_id: int
    file_name: str
    data: bytes
    created_at: str
    status: str = "default"

    def json(self) -> dict[str, Any]:
        return {"id": self.id, "package_id": self.package_id, "created_at": self.created_at,
                "file_name": self.file_name, "size": len(self.data), "file_md5": None, "file_sha1": None,
                "file_sha256": hashlib.sha256(self.data).hexdigest(), "pipelines": []}


@dataclass
class Package:
    id: int
    project_id: int
    name: str
    version: str
    status: str
    created_at: str
    files: list[PackageFile] = field(default_factory=list)

    def json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "version": self.version, "package_type": "generic",
                "status": self.status, "created_at": self.created_at, "tags": [], "pipeline": None,
                "_links": {"web_path": f"/packages/{self.id}", "delete_api_path": f"/packages/{self.id}"}}


@dataclass
class Note:
    id: int
    body: str
    author: User
    created_at: str
    updated_at: str
    system: bool = False


@dataclass
class MergeRequest:
    iid: int
    id: int
    source_project_id: int
    source_branch: str = "feature"
    target_branch: str = "main"
    sha: str = "0" * 40  # the head commit
    state: str = "opened"
    notes: list[Note] = field(default_factory=list)


@dataclass
class Project:
    id: int
    path: str
    members: dict[int, str] = field(default_factory=dict)  # user id -> role
    packages_enabled: bool = True
    duplicates_allowed: bool = True
    max_file_size: int = 5 * 1024 ** 3
    mrs: dict[int, MergeRequest] = field(default_factory=dict)


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    auth: str  # personal | project | job | none | bad
    status: int
    user: str | None = None


@dataclass
class Fault:
    remaining: int
    status: int
    retry_after: int | None
    match: Callable[[str, str], bool]


class HttpError(Exception):
    def __init__(self, status: int, message: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(str(message))
        self.status = status
        self.message = message
        self.headers = headers or {}


class FakeGitLab:
    """The server and its state. ``with FakeGitLab() as gl:`` starts and stops it."""

    def __init__(self, *, create_race_window: float = 0.002) -> None:
        self.lock = threading.RLock()
        self.users: dict[int, User] = {}
        self.tokens: dict[str, Token] = {}
        self.projects: dict[int, Project] = {}
        self.packages: dict[int, Package] = {}
        # (project id, name) -> packages: the name lookups a database index answers
        self._by_name: dict[tuple[int, str], dict[int, Package]] = {}
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self._ids = iter(range(1, 1 << 40))
        self._creating: set[tuple[int, str, str]] = set()
        self.create_race_window = create_race_window
        self.version_filter = True  # False: behave like GitLab < 16.6, which ignores package_version
        self._local = threading.local()  # the path of the request this thread serves (for Link headers)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- set-up --------------------------------------------------------------------------------
    def next_id(self) -> int:
        with self.lock:
            return next(self._ids)

    def add_user(self, username: str, *, bot: bool = False) -> User:
        user = User(self.next_id(), username, username.replace("_", " ").title(), bot)
        self.users[user.id] = user
        return user

    def add_token(self, value: str, user: User, kind: str = "personal") -> Token:
        token = Token(value, kind, user)
        self.tokens[value] = token
        return token

    def add_project(self, path: str, *, members: dict[User, str] | None = None, **settings: Any) -> Project:
        project = Project(self.next_id(), path, {u.id: r for u, r in (members or {}).items()}, **settings)
        self.projects[project.id] = project
        return project

    def add_mr(self, project: Project, iid: int, *, source_project: Project | None = None) -> MergeRequest:
        mr = MergeRequest(iid, self.next_id(), (source_project or project).id)
        project.mrs[iid] = mr
        return mr

    def add_note(self, project: Project, iid: int, body: str, author: User, *, system: bool = False) -> Note:
        now = _now()
        note = Note(self.next_id(), body, author, now, now, system)
        project.mrs[iid].notes.append(note)
        return note

    def throttle(self, count: int = 1, *, retry_after: int = 1,
                 match: Callable[[str, str], bool] | None = None) -> None:
        """Answer the next ``count`` matching requests with 429 and ``Retry-After``."""
        with self.lock:
            self.faults.append(Fault(count, 429, retry_after, match or (lambda m, p: True)))

    def fail(self, count: int = 1, *, status: int = 500, match: Callable[[str, str], bool] | None = None) -> None:
        with self.lock:
            self.faults.append(Fault(count, status, None, match or (lambda m, p: True)))

    # -- running -------------------------------------------------------------------------------
    def start(self, port: int = 0) -> FakeGitLab:
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self._server = ThreadingHTTPServer((HOST, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-gitlab", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeGitLab:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://{HOST}:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return self.url + "/api/v4"

    # -- inspection ----------------------------------------------------------------------------
    def reset_requests(self) -> None:
        with self.lock:
            self.requests.clear()

    def count(self, method: str | None = None, path_re: str | None = None) -> int:
        with self.lock:
            return sum(1 for r in self.requests if (method is None or r.method == method)
                       and (path_re is None or re.search(path_re, r.path)))

    def project_packages(self, project: Project) -> list[Package]:
        with self.lock:
            return [p for p in self.packages.values() if p.project_id == project.id]

    # -- request handling ----------------------------------------------------------------------
    def handle(self, method: str, raw_path: str, headers: Any, body: bytes) -> tuple[int, dict[str, str], bytes]:
        split = urlsplit(raw_path)
        self._local.path = split.path
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        token = self._token(headers, query)
        auth = "none" if token is None else ("bad" if token is False else token.kind)
        record = Recorded(method, split.path, query, auth, 0,
                          token.user.username if isinstance(token, Token) else None)
        try:
            fault = self._fault(method, split.path)
            if fault is not None:
                hdrs = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                raise HttpError(fault.status, f"{fault.status} fault injected", hdrs)
            if token is False:
                raise HttpError(401, "401 Unauthorized")
            if not split.path.startswith("/api/v4/"):
                raise HttpError(404, "404 Not Found")
            segments = [unquote(s) for s in split.path[len("/api/v4/"):].split("/")]
            status, out_headers, out = self._route(method, segments, query, token, headers, body)
        except HttpError as err:
            status, out_headers = err.status, dict(err.headers)
            out = json.dumps({"message": err.message}).encode()
            out_headers.setdefault("Content-Type", "application/json")
        record.status = status
        with self.lock:
            self.requests.append(record)
        return status, out_headers, out

    def _fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.remaining > 0 and fault.match(method, path):
                    fault.remaining -= 1
                    return fault
        return None

    def _token(self, headers: Any, query: dict[str, str]) -> Token | None | bool:
        value = headers.get("PRIVATE-TOKEN") or headers.get("JOB-TOKEN") or query.get("private_token") \
            or query.get("job_token")
        auth = headers.get("Authorization") or ""
        if not value and auth.startswith("Bearer "):
            value = auth[len("Bearer "):]
        elif not value and auth.startswith("Basic "):
            try:
                value = base64.b64decode(auth[len("Basic "):]).decode().partition(":")[2]
            except ValueError:
                return False
        if not value:
            return None
        return self.tokens.get(value, False)

    def _route(self, method: str, seg: list[str], query: dict[str, str], token: Token | None, headers: Any,
               body: bytes) -> tuple[int, dict[str, str], bytes]:
        if token is None:
            raise HttpError(401, "401 Unauthorized")
        if seg == ["user"]:
            if token.kind == "job":
                raise HttpError(403, "403 Forbidden")
            return _json(200, token.user.json(self.url))
        if len(seg) < 2 or seg[0] != "projects":
            raise HttpError(404, "404 Not Found")
        project = self._project(seg[1], token)
        rest = seg[2:]
        if not rest:
            return _json(200, {"id": project.id, "path_with_namespace": project.path,
                               "name": project.path.rsplit("/", 1)[-1]})
        if rest[0] == "merge_requests":
            return self._merge_requests(method, project, rest[1:], query, token, headers, body)
        if rest[:2] == ["repository", "commits"] and len(rest) == 4 and rest[3] == "merge_requests":
            with self.lock:  # job tokens may read this (reference §5.3)
                found = [self._mr_json(project, mr) for mr in project.mrs.values() if mr.sha == rest[2]]
            return _json(200, found)
        if rest[0] == "packages":
            if not project.packages_enabled:
                raise HttpError(403, "403 Forbidden")
            return self._packages(method, project, rest[1:], query, token, body)
        raise HttpError(404, "404 Not Found")

    def _project(self, ident: str, token: Token) -> Project:
        with self.lock:
            found = next((p for p in self.projects.values() if str(p.id) == ident or p.path == ident), None)
        if found is None or token.user.id not in found.members:
            raise HttpError(404, "404 Project Not Found")
        return found

    @staticmethod
    def _role(project: Project, token: Token) -> int:
        return ROLES.get(project.members.get(token.user.id, ""), 0)

    # -- merge requests and notes ------------------------------------------------------------------
    def _merge_requests(self, method: str, project: Project, rest: list[str], query: dict[str, str],
                        token: Token, headers: Any, body: bytes) -> tuple[int, dict[str, str], bytes]:
        if not rest or not rest[0].isdigit() or int(rest[0]) not in project.mrs:
            raise HttpError(404, "404 Not found")
        mr = project.mrs[int(rest[0])]
        if len(rest) == 1:
            if method != "GET":
                raise HttpError(405, "405 Method Not Allowed")
            return _json(200, self._mr_json(project, mr))
        if rest[1] != "notes":
            raise HttpError(404, "404 Not Found")
        writing = method != "GET"
        if writing and (token.kind == "job" or self._role(project, token) < ROLES["reporter"]):
            raise HttpError(403, "403 Forbidden")
        if len(rest) == 2:
            if method == "GET":
                return self._list_notes(project, mr, query)
            if method == "POST":
                return self._create_note(project, mr, token, _form(headers, body))
            raise HttpError(405, "405 Method Not Allowed")
        with self.lock:
            note = next((n for n in mr.notes if str(n.id) == rest[2]), None)
        if note is None or len(rest) != 3:
            raise HttpError(404, "404 Note Not Found")
        if method == "GET":
            return _json(200, _note_json(project, mr, note))
        if note.author.id != token.user.id:
            raise HttpError(403, "403 Forbidden")
        if method == "PUT":
            text = _form(headers, body).get("body")
            if not isinstance(text, str) or not text:
                raise HttpError(400, "400 Bad request - body is missing")
            _check_note_length(text)
            with self.lock:
                note.body, note.updated_at = text, _now()
            return _json(200, _note_json(project, mr, note))
        if method == "DELETE":
            with self.lock:
                mr.notes.remove(note)
            return 204, {}, b""
        raise HttpError(405, "405 Method Not Allowed")

    @staticmethod
    def _mr_json(project: Project, mr: MergeRequest) -> dict[str, Any]:
        return {"id": mr.id, "iid": mr.iid, "project_id": project.id, "source_project_id": mr.source_project_id,
                "target_project_id": project.id, "source_branch": mr.source_branch,
                "target_branch": mr.target_branch, "sha": mr.sha, "state": mr.state}

    def _list_notes(self, project: Project, mr: MergeRequest, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        order_by = query.get("order_by", "created_at")
        if order_by not in ("created_at", "updated_at"):
            raise HttpError(400, "400 Bad request - order_by does not have a valid value")
        sort = query.get("sort", "desc")
        with self.lock:
            notes = sorted(mr.notes, key=lambda n: (getattr(n, order_by), n.id), reverse=sort != "asc")
            items = [_note_json(project, mr, n) for n in notes]
        return self._page(items, query)

    def _create_note(self, project: Project, mr: MergeRequest, token: Token,
                     form: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        text = form.get("body")
        if not isinstance(text, str) or not text:
            raise HttpError(400, "400 Bad request - body is missing")
        _check_note_length(text)
        now = _now()
        note = Note(self.next_id(), text, token.user, now, now)
        with self.lock:
            mr.notes.append(note)
        return _json(201, _note_json(project, mr, note))

    # -- packages -----------------------------------------------------------------------------------
    def _packages(self, method: str, project: Project, rest: list[str], query: dict[str, str], token: Token,
                  body: bytes) -> tuple[int, dict[str, str], bytes]:
        if rest and rest[0] == "generic":
            if len(rest) != 4:
                raise HttpError(404, "404 Not Found")
            name, version, file_name = rest[1:]
            if method == "PUT":
                return self._upload(project, name, version, file_name, query, token, body)
            if method in ("GET", "HEAD"):
                return self._download(project, name, version, file_name)
            raise HttpError(405, "405 Method Not Allowed")
        if not rest:
            if method != "GET":
                raise HttpError(405, "405 Method Not Allowed")
            return self._list_packages(project, query)
        with self.lock:
            package = self.packages.get(int(rest[0])) if rest[0].isdigit() else None
        if package is None or package.project_id != project.id:
            raise HttpError(404, "404 Package Not Found")
        if len(rest) == 1:
            if method == "GET":
                return _json(200, package.json())
            if method == "DELETE":
                self._may_delete(project, token)
                with self.lock:
                    self._forget(package)
                return 204, {}, b""
            raise HttpError(405, "405 Method Not Allowed")
        if rest[1] != "package_files":
            raise HttpError(404, "404 Not Found")
        if len(rest) == 2 and method == "GET":
            with self.lock:
                files = sorted((f for f in package.files if f.status == "default"), key=lambda f: f.id,
                               reverse=query.get("sort") == "desc")
                items = [f.json() for f in files]
            return self._page(items, query)
        if len(rest) == 3 and method == "DELETE":
            self._may_delete(project, token)
            with self.lock:
                target = next((f for f in package.files if str(f.id) == rest[2]), None)
                if target is None:
                    raise HttpError(404, "404 Not Found")
                package.files.remove(target)
            return 204, {}, b""
        raise HttpError(405, "405 Method Not Allowed")

    def _may_delete(self, project: Project, token: Token) -> None:
        if self._role(project, token) < ROLES["maintainer"]:
            raise HttpError(403, "403 Forbidden")

    def _upload(self, project: Project, name: str, version: str, file_name: str, query: dict[str, str],
                token: Token, body: bytes) -> tuple[int, dict[str, str], bytes]:
        if self._role(project, token) < ROLES["developer"]:
            raise HttpError(403, "403 Forbidden")
        for what, value, rule in (("package_name", name, NAME_RE), ("package_version", version, VERSION_RE),
                                  ("file_name", file_name, NAME_RE)):
            if not rule.match(value) or len(value) > NAME_MAX:
                raise HttpError(400, f"400 Bad request - {what} is invalid")
        status = query.get("status", "default")
        if status not in ("default", "hidden"):
            raise HttpError(400, "400 Bad request - status does not have a valid value")
        if len(body) > project.max_file_size:
            raise HttpError(413, "413 Request Entity Too Large")
        ident = (project.id, name, version)
        with self.lock:
            package = self._find_package(project, name, version)
            creating = package is None
            if creating:
                if ident in self._creating:  # reference §5.4: concurrent creation of one package fails
                    raise HttpError(500, "500 Internal Server Error")
                self._creating.add(ident)
        try:
            if creating and self.create_race_window:
                time.sleep(self.create_race_window)
            with self.lock:
                if package is None:
                    package = Package(self.next_id(), project.id, name, version, status, _now())
                    self.packages[package.id] = package
                    self._by_name.setdefault((project.id, name), {})[package.id] = package
                elif not project.duplicates_allowed and any(f.file_name == file_name and f.status == "default"
                                                            for f in package.files):
                    raise HttpError(400, "400 Bad request - Duplicate package is not allowed")
                if query.get("status"):
                    package.status = status
                pfile = PackageFile(self.next_id(), package.id, file_name, body, _now())
                package.files.append(pfile)
        finally:
            if creating:
                with self.lock:
                    self._creating.discard(ident)
        if query.get("select") == "package_file":
            return _json(201, pfile.json())
        return _json(201, {"message": "201 Created"})

    def _find_package(self, project: Project, name: str, version: str) -> Package | None:
        return next((p for p in self._by_name.get((project.id, name), {}).values() if p.version == version), None)

    def _forget(self, package: Package) -> None:
        self.packages.pop(package.id, None)
        same = self._by_name.get((package.project_id, package.name), {})
        same.pop(package.id, None)
        if not same:
            self._by_name.pop((package.project_id, package.name), None)

    def _download(self, project: Project, name: str, version: str, file_name: str) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            package = self._find_package(project, name, version)
            files = [f for f in (package.files if package else []) if f.file_name == file_name and f.status == "default"]
            if not files:
                raise HttpError(404, "404 Not Found")
            data = max(files, key=lambda f: f.id).data
        return 200, {"Content-Type": "application/octet-stream",
                     "X-Checksum-SHA256": hashlib.sha256(data).hexdigest()}, data

    def _list_packages(self, project: Project, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        order_by = query.get("order_by", "created_at")
        if order_by not in ("created_at", "name", "version", "type"):
            raise HttpError(400, "400 Bad request - order_by does not have a valid value")
        sort = query.get("sort", "asc")
        if sort not in ("asc", "desc"):
            raise HttpError(400, "400 Bad request - sort does not have a valid value")
        if query.get("package_type", "generic") != "generic":
            return self._page([], query)
        name = query.get("package_name", "").lower()
        version = query.get("package_version")
        status = query.get("status")
        with self.lock:
            if name:  # the fuzzy filter: names containing the text, case-insensitively (as GitLab's ILIKE)
                pool = [p for (pid, n), same in self._by_name.items() if pid == project.id and name in n.lower()
                        for p in same.values()]
            else:
                pool = [p for p in self.packages.values() if p.project_id == project.id]
            found = [p for p in pool if (p.status == status if status else p.status in LISTED_STATUSES)
                     and (version is None or not self.version_filter or p.version == version)]
            attr = "name" if order_by == "type" else order_by
            found.sort(key=lambda p: (getattr(p, attr), p.id), reverse=sort == "desc")
            items = [p.json() for p in found]
        return self._page(items, query)

    def _page(self, items: list[dict[str, Any]], query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        """Offset pagination as GitLab answers it: x-* headers and a Link header."""
        try:
            page = max(1, int(query.get("page", "1")))
            per_page = min(MAX_PER_PAGE, max(1, int(query.get("per_page", "20"))))
        except ValueError:
            raise HttpError(400, "400 Bad request - page is invalid") from None
        total = len(items)
        pages = max(1, -(-total // per_page))
        chunk = items[(page - 1) * per_page: page * per_page]
        headers = {"x-page": str(page), "x-per-page": str(per_page), "x-total": str(total),
                   "x-total-pages": str(pages), "x-next-page": str(page + 1) if page < pages else "",
                   "x-prev-page": str(page - 1) if page > 1 else ""}
        headers["Link"] = ", ".join(f'<{self._page_url(query, p)}>; rel="{rel}"' for rel, p in (
            ("prev", page - 1 if page > 1 else None), ("next", page + 1 if page < pages else None),
            ("first", 1), ("last", pages)) if p is not None)
        status, base, out = _json(200, chunk)
        base.update(headers)
        return status, base, out

    def _page_url(self, query: dict[str, str], page: int) -> str:
        q = dict(query, page=str(page))
        return f"{self.url}{self._local.path}?{urlencode(q)}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_fake: FakeGitLab

    def setup(self) -> None:
        super().setup()
        # headers and body go out in separate writes: without this, Nagle + delayed ACK add 40 ms a request
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        body = self._body()
        status, headers, out = self.server_fake.handle(self.command, self.path, self.headers, body)
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        if self.command != "HEAD" and out:
            self.wfile.write(out)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _serve


def _json(status: int, payload: Any) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(payload).encode()


def _form(headers: Any, body: bytes) -> dict[str, Any]:
    kind = (headers.get("Content-Type") or "").split(";")[0].strip()
    if kind == "application/json":
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            raise HttpError(400, "400 Bad request - invalid JSON") from None
        return data if isinstance(data, dict) else {}
    return {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}


def _check_note_length(text: str) -> None:
    if len(text) > NOTE_LIMIT:
        raise HttpError(400, 'Note {:note=>["is too long (maximum is 1000000 characters)"]}')


def _note_json(project: Project, mr: MergeRequest, note: Note) -> dict[str, Any]:
    return {"id": note.id, "type": None, "body": note.body, "author": note.author.json(),
            "created_at": note.created_at, "updated_at": note.updated_at, "system": note.system,
            "noteable_id": mr.id, "noteable_type": "MergeRequest", "noteable_iid": mr.iid,
            "project_id": project.id, "resolvable": False, "confidential": False, "internal": False}


def standard(fake: FakeGitLab) -> dict[str, Any]:
    """The usual cast: project ``acme/app`` with a maintainer PAT, a developer's job token, a bot's
    project access token (Developer), and MR !7."""
    maintainer = fake.add_user("maintainer")
    developer = fake.add_user("developer")
    bot = fake.add_user("project_42_bot_1", bot=True)
    outsider = fake.add_user("outsider")
    project = fake.add_project("acme/app", members={maintainer: "maintainer", developer: "developer",
                                                    bot: "developer"})
    fork = fake.add_project("outsider/app", members={outsider: "owner", developer: "developer"})
    mr = fake.add_mr(project, 7)
    fork_mr = fake.add_mr(project, 8, source_project=fork)
    return {
        "project": project, "fork": fork, "mr": mr, "fork_mr": fork_mr,
        "maintainer": maintainer, "developer": developer, "bot": bot, "outsider": outsider,
        "pat": fake.add_token("glpat-maintainer-0000000000", maintainer).value,
        "job_token": fake.add_token("glcbt-job-developer-0000000", developer, "job").value,
        "bot_token": fake.add_token("glpat-project-bot-00000000", bot, "project").value,
        "outsider_token": fake.add_token("glpat-outsider-000000000000", outsider).value,
    }


def quoted(path: str) -> str:
    return quote(path, safe="")


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--projects", type=int, default=0, help="extra empty projects acme/p1 … acme/pN")
    args = parser.parse_args(argv)
    fake = FakeGitLab().start(args.port)
    cast = standard(fake)
    extra = [fake.add_project(f"acme/p{n}", members={cast["maintainer"]: "maintainer"}).path
             for n in range(1, args.projects + 1)]
    print(json.dumps({"api_url": fake.api_url, "project": cast["project"].path, "token": cast["pat"],
                      "job_token": cast["job_token"], "projects": extra}), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.stop()
    return 0


def iter_notes(fake: FakeGitLab, project: Project, iid: int) -> Iterator[Note]:
    with fake.lock:
        yield from list(project.mrs[iid].notes)


if __name__ == "__main__":
    raise SystemExit(main())
