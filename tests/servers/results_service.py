"""A stateful fake of GitHub's artifact storage: the Actions results service (Twirp) and the REST API.

One HTTP server on 127.0.0.1 (a thread of the test process) speaks both:

* ``POST /twirp/github.actions.results.api.v1.ArtifactService/{Method}`` — CreateArtifact,
  FinalizeArtifact, ListArtifacts, GetSignedArtifactURL, DeleteArtifact, as @actions/artifact 2.x
  calls them (reference/platform.md §2). Requests are proto3 JSON (snake_case or lowerCamelCase);
  responses are snake_case, as github.com answers. Every call needs ``Authorization: Bearer <runtime
  token>``: an HS256 JWT whose ``scp`` claim carries ``Actions.Results:<run backend id>:<job backend
  id>`` (the ids in the request must be those), checked for signature and ``exp``.
* Signed URLs point at Azurite (the Azure Blob emulator): uploads are real Put Block / Put Block List
  requests authorised by a SAS that Azurite checks; FinalizeArtifact reads the committed blob back
  and checks its size and ``sha256:`` hash.
* The REST API of §3: ``GET /repos/{o}/{r}/actions/artifacts`` (``name``, ``per_page`` ≤ 100,
  ``page``, ``Link`` header), ``GET …/actions/runs/{run_id}/artifacts``, ``GET …/artifacts/{id}``,
  ``GET …/artifacts/{id}/zip`` (302 to a 1-minute read SAS on Azurite; 410 once expired),
  ``DELETE …/artifacts/{id}`` (needs ``actions: write``). Lists are newest first. Each artifact
  carries ``workflow_run.head_branch`` / ``head_sha`` of the run that uploaded it.

Platform rules it enforces: names unique per workflow run (a second finalized artifact of a name
→ 409 ``an artifact with this name already exists on the workflow run``; the first FinalizeArtifact
of concurrent uploads wins); artifacts are invisible until finalized; ``expires_at`` is capped at
the repository's maximum retention; expired artifacts stay listed with ``expired: true`` and can no
longer be downloaded. Failure modes a test can switch on: an exhausted storage quota (``insufficient
usage``), REST tokens without ``actions: read`` (403 ``Resource not accessible by integration``),
bad tokens (401 ``Bad credentials``), expired runtime tokens (401).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.servers.azurite import ACCOUNT, ACCOUNT_KEY, Azurite
from tests.servers.moto_s3 import HOST

TWIRP = "/twirp/github.actions.results.api.v1.ArtifactService/"
CONTAINER = "actions-results"
FORBIDDEN_NAME = set('"\\/:<>|*?\r\n')


def _now() -> datetime:
    return datetime.now(UTC)


def iso(ts: datetime | None) -> str | None:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if ts else None


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Run:
    run_id: int
    backend_id: str
    head_branch: str | None
    head_sha: str | None
    attempt: int = 1


@dataclass
class Artifact:
    id: int
    name: str
    run: Run
    job_backend_id: str
    blob: str
    size: int
    digest: str | None
    created_at: datetime
    expires_at: datetime
    deleted: bool = False

    def expired(self, now: datetime) -> bool:
        return self.expires_at <= now


@dataclass
class Pending:
    name: str
    run: Run
    job_backend_id: str
    blob: str
    expires_at: datetime


@dataclass
class Faults:
    quota_exhausted: bool = False
    twirp_status: int | None = None  # answer every Twirp call with this status (e.g. 503)
    rest_status: int | None = None


class _Error(Exception):
    def __init__(self, status: int, code: str, msg: str) -> None:
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg


@dataclass
class ResultsService:
    """The fake. ``start()`` creates the blob container and serves on a free 127.0.0.1 port."""

    azurite: Azurite
    owner: str = "octo-org"
    repo: str = "octo-repo"
    repository_id: int = 4242
    max_retention_days: int = 90
    secret: bytes = field(default_factory=lambda: uuid.uuid4().bytes)
    faults: Faults = field(default_factory=Faults)
    #: REST token -> the ``actions`` permission it has: "read", "write" or None (no actions access)
    rest_tokens: dict[str, str | None] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.runs: dict[str, Run] = {}
        self.runs_by_id: dict[int, Run] = {}
        self.artifacts: list[Artifact] = []  # in id order
        self.pending: dict[tuple[str, str, str], Pending] = {}
        self.next_id = 1000
        self.next_run_id = 9_000_000
        self._preloaded: set[str] = set()
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None
        from azure.storage.blob import BlobServiceClient

        self.blobs = BlobServiceClient.from_connection_string(self.azurite.connection_string)

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> ResultsService:
        from azure.core.exceptions import ResourceExistsError

        try:
            self.blobs.create_container(CONTAINER)
        except ResourceExistsError:
            pass
        service = self

        class Handler(_Handler):
            fake = service

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="results-service", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://{HOST}:{self.server.server_address[1]}"

    @property
    def repository(self) -> str:
        return f"{self.owner}/{self.repo}"

    # -- what a test sets up ----------------------------------------------------------------------
    def new_run(self, *, branch: str | None = "main", sha: str | None = "0" * 40) -> Run:
        with self.lock:
            self.next_run_id += 1
            run = Run(run_id=self.next_run_id, backend_id=str(uuid.uuid4()), head_branch=branch, head_sha=sha)
            self.runs[run.backend_id] = run
            self.runs_by_id[run.run_id] = run
        return run

    def runtime_token(self, run: Run, job: str | None = None, *, expires_in: float = 3600) -> str:
        """A runtime token for one job of ``run`` (a new job backend id unless ``job`` is given)."""
        job = job or str(uuid.uuid4())
        header = _b64url(json.dumps({"typ": "JWT", "alg": "HS256"}).encode())
        claims = {"scp": f"Actions.GenericRead:{run.backend_id} Actions.Results:{run.backend_id}:{job}",
                  "exp": int(time.time() + expires_in), "iat": int(time.time()), "ac": "[]"}
        payload = _b64url(json.dumps(claims).encode())
        sig = _b64url(hmac.new(self.secret, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        return f"{header}.{payload}.{sig}"

    def rest_token(self, actions: str | None = "write") -> str:
        token = "ghs_" + uuid.uuid4().hex
        self.rest_tokens[token] = actions
        return token

    def live(self) -> list[Artifact]:
        return [a for a in self.artifacts if not a.deleted]

    def expire(self, artifact_id: int) -> None:
        for a in self.artifacts:
            if a.id == artifact_id:
                a.expires_at = _now() - timedelta(seconds=1)

    def blob_client(self, blob: str) -> Any:
        return self.blobs.get_blob_client(CONTAINER, blob)

    def preload(self, run: Run, name: str, data: bytes, *, created_at: datetime | None = None) -> Artifact:
        """Store a finalized artifact directly (benchmarks: thousands of runs without the protocol)."""
        digest = hashlib.sha256(data).hexdigest()
        blob = f"preload/{digest}.zip"  # content-addressed: identical pointer zips are uploaded once
        if blob not in self._preloaded:
            self.blob_client(blob).upload_blob(data, overwrite=True)
            self._preloaded.add(blob)
        with self.lock:
            return self._add(name, run, "preload", blob, len(data), "sha256:" + hashlib.sha256(data).hexdigest(),
                             created_at or _now(), _now() + timedelta(days=self.max_retention_days))

    def _add(self, name: str, run: Run, job: str, blob: str, size: int, digest: str | None, created: datetime,
             expires: datetime) -> Artifact:
        self.next_id += 1
        art = Artifact(id=self.next_id, name=name, run=run, job_backend_id=job, blob=blob, size=size,
                       digest=digest, created_at=created, expires_at=expires)
        self.artifacts.append(art)
        return art

    # -- SAS ------------------------------------------------------------------------------------
    def sas_url(self, blob: str, *, write: bool, minutes: float) -> str:
        from azure.storage.blob import BlobSasPermissions, generate_blob_sas

        perms = BlobSasPermissions(create=True, write=True) if write else BlobSasPermissions(read=True)
        sas = generate_blob_sas(ACCOUNT, CONTAINER, blob, account_key=ACCOUNT_KEY, permission=perms,
                                expiry=_now() + timedelta(minutes=minutes), start=_now() - timedelta(minutes=5))
        return f"{self.azurite.endpoint}/{CONTAINER}/{blob}?{sas}"

    # -- Twirp ------------------------------------------------------------------------------------
    def authenticate_runtime(self, header: str | None) -> tuple[str, str]:
        if not header or not header.startswith("Bearer "):
            raise _Error(401, "unauthenticated", "Bad authorization header")
        token = header[7:]
        try:
            head, payload, sig = token.split(".")
            good = _b64url(hmac.new(self.secret, f"{head}.{payload}".encode(), hashlib.sha256).digest())
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except (ValueError, TypeError):
            raise _Error(401, "unauthenticated", "invalid token") from None
        if not hmac.compare_digest(good, sig):
            raise _Error(401, "unauthenticated", "invalid token signature")
        if claims.get("exp", 0) < time.time():
            raise _Error(401, "unauthenticated", "token is expired")
        for scope in str(claims.get("scp", "")).split(" "):
            parts = scope.split(":")
            if parts[0] == "Actions.Results" and len(parts) == 3:
                return parts[1], parts[2]
        raise _Error(403, "permission_denied", "token has no Actions.Results scope")

    def twirp(self, method: str, body: dict[str, Any], ids: tuple[str, str]) -> dict[str, Any]:
        run_id = _field(body, "workflow_run_backend_id")
        job_id = _field(body, "workflow_job_run_backend_id")
        if (run_id, job_id) != ids:
            raise _Error(403, "permission_denied", "backend ids do not match the token")
        run = self.runs.get(run_id)
        if run is None:
            raise _Error(404, "not_found", "workflow run not found")
        handler = getattr(self, f"_t_{method}", None)
        if handler is None:
            raise _Error(404, "bad_route", f"no handler for path {TWIRP}{method}")
        with self.lock:
            return handler(body, run, job_id)  # type: ignore[no-any-return]

    def _find(self, run: Run, name: str) -> Artifact | None:
        for a in reversed(self.artifacts):
            if a.run is run and a.name == name and not a.deleted:
                return a
        return None

    def _t_CreateArtifact(self, body: dict[str, Any], run: Run, job: str) -> dict[str, Any]:  # noqa: N802
        name = str(_field(body, "name") or "")
        if not name or FORBIDDEN_NAME & set(name):
            raise _Error(400, "invalid_argument", f"invalid artifact name {name!r}")
        if str(_field(body, "version") or "") not in ("4", "5", "6", "7"):
            raise _Error(400, "invalid_argument", "unsupported artifact version")
        if self.faults.quota_exhausted:
            raise _Error(403, "resource_exhausted",
                         "insufficient usage to create artifact: the storage quota of the account is used up")
        if self._find(run, name) is not None:
            raise _Error(409, "already_exists", "an artifact with this name already exists on the workflow run")
        cap = _now() + timedelta(days=self.max_retention_days)
        expires = _field(body, "expires_at")
        expires_at = min(datetime.fromisoformat(expires.replace("Z", "+00:00")), cap) if expires else cap
        blob = f"{run.backend_id}/workflow-job-run-{job}/artifacts/{uuid.uuid4().hex}.zip"
        # one upload per (run, job, name): a new CreateArtifact restarts it, as a retried step would
        self.pending[(run.backend_id, job, name)] = Pending(name, run, job, blob, expires_at)
        return {"ok": True, "signed_upload_url": self.sas_url(blob, write=True, minutes=60)}

    def _t_FinalizeArtifact(self, body: dict[str, Any], run: Run, job: str) -> dict[str, Any]:  # noqa: N802
        name = str(_field(body, "name") or "")
        pend = self.pending.get((run.backend_id, job, name))
        if pend is None:
            raise _Error(404, "not_found", f"no upload in progress for artifact {name!r}")
        if self._find(run, name) is not None:
            del self.pending[(run.backend_id, job, name)]
            raise _Error(409, "already_exists", "an artifact with this name already exists on the workflow run")
        size = int(_field(body, "size") or 0)
        want = _field(body, "hash")
        try:
            data = self.blob_client(pend.blob).download_blob().readall()
        except Exception:
            raise _Error(400, "invalid_argument", "the artifact upload was not completed") from None
        if len(data) != size:
            raise _Error(400, "invalid_argument", f"size {size} does not match the uploaded {len(data)} bytes")
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if want and want != digest:
            raise _Error(400, "invalid_argument", "hash does not match the uploaded content")
        del self.pending[(run.backend_id, job, name)]
        art = self._add(name, run, job, pend.blob, size, digest, _now(), pend.expires_at)
        return {"ok": True, "artifact_id": str(art.id)}

    def _t_ListArtifacts(self, body: dict[str, Any], run: Run, job: str) -> dict[str, Any]:  # noqa: N802
        name = _field(body, "name_filter")
        id_filter = _field(body, "id_filter")
        now = _now()
        out = []
        for a in self.artifacts:
            if a.run is not run or a.deleted or a.expired(now):
                continue
            if name is not None and a.name != name:
                continue
            if id_filter is not None and a.id != int(id_filter):
                continue
            item = {"workflow_run_backend_id": run.backend_id, "workflow_job_run_backend_id": a.job_backend_id,
                    "database_id": str(a.id), "name": a.name, "size": str(a.size), "created_at": iso(a.created_at)}
            if a.digest:
                item["digest"] = a.digest
            out.append(item)
        return {"artifacts": out}

    def _t_GetSignedArtifactURL(self, body: dict[str, Any], run: Run, job: str) -> dict[str, Any]:  # noqa: N802
        art = self._find(run, str(_field(body, "name") or ""))
        if art is None or art.expired(_now()):
            raise _Error(404, "not_found", "artifact not found")
        return {"signed_url": self.sas_url(art.blob, write=False, minutes=60)}

    def _t_DeleteArtifact(self, body: dict[str, Any], run: Run, job: str) -> dict[str, Any]:  # noqa: N802
        art = self._find(run, str(_field(body, "name") or ""))
        if art is None:
            raise _Error(404, "not_found", "artifact not found")
        art.deleted = True
        return {"ok": True, "artifact_id": str(art.id)}

    # -- REST -------------------------------------------------------------------------------------
    def authenticate_rest(self, header: str | None, *, need: str) -> None:
        if not header:
            raise _Error(404, "", "Not Found")  # a private repository without credentials
        token = header.split(" ", 1)[-1]
        if token not in self.rest_tokens:
            raise _Error(401, "", "Bad credentials")
        have = self.rest_tokens[token]
        if have is None or (need == "write" and have != "write"):
            raise _Error(403, "", "Resource not accessible by integration")

    def rest_artifact(self, a: Artifact, base: str) -> dict[str, Any]:
        now = _now()
        api = f"{base}/repos/{self.repository}/actions/artifacts/{a.id}"
        return {
            "id": a.id, "node_id": _b64url(f"Artifact{a.id}".encode()), "name": a.name, "size_in_bytes": a.size,
            "url": api, "archive_download_url": f"{api}/zip", "expired": a.expired(now),
            "created_at": iso(a.created_at), "updated_at": iso(a.created_at), "expires_at": iso(a.expires_at),
            "digest": a.digest,
            "workflow_run": {"id": a.run.run_id, "repository_id": self.repository_id,
                             "head_repository_id": self.repository_id, "head_branch": a.run.head_branch,
                             "head_sha": a.run.head_sha},
        }

    def rest_list(self, query: dict[str, list[str]], run_id: int | None) -> tuple[list[Artifact], int, int]:
        per_page = max(1, min(100, int(query.get("per_page", ["30"])[0])))
        page = max(1, int(query.get("page", ["1"])[0]))
        name = query.get("name", [None])[0]
        with self.lock:
            found = [a for a in reversed(self.artifacts) if not a.deleted
                     and (name is None or a.name == name) and (run_id is None or a.run.run_id == run_id)]
        return found[(page - 1) * per_page: page * per_page], len(found), per_page


def _field(body: dict[str, Any], snake: str) -> Any:
    """A proto3 JSON field by its proto name or its lowerCamelCase JSON name (wrappers are bare values)."""
    camel = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), snake)
    value = body.get(snake, body.get(camel))
    if isinstance(value, dict) and "value" in value:  # tolerate {"value": ...} wrappers
        value = value["value"]
    return value


class _Handler(BaseHTTPRequestHandler):
    fake: ResultsService
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None,
              content_type: str = "application/json") -> None:
        raw = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if raw:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        if raw:
            self.wfile.write(raw)

    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_POST(self) -> None:  # noqa: N802
        path = urlsplit(self.path).path
        raw = self._body()
        if not path.startswith(TWIRP):
            self._send(404, {"message": "Not Found"})
            return
        method = path[len(TWIRP):]
        self.fake.requests[f"twirp {method}"] += 1
        try:
            if self.fake.faults.twirp_status:
                raise _Error(self.fake.faults.twirp_status, "unavailable", "service unavailable")
            ids = self.fake.authenticate_runtime(self.headers.get("Authorization"))
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                raise _Error(400, "malformed", "the request body is not JSON") from None
            out = self.fake.twirp(method, body, ids)
        except _Error as err:
            self._send(err.status, {"code": err.code, "msg": err.msg})
            return
        self._send(200, out)

    def _rest_route(self) -> tuple[str, re.Match[str] | None]:
        path = urlsplit(self.path).path
        prefix = f"/repos/{self.fake.owner}/{self.fake.repo}/actions/"
        if not path.startswith(prefix):
            return "", None
        rest = path[len(prefix):]
        for kind, pattern in (("list", r"artifacts"), ("run", r"runs/(\d+)/artifacts"), ("one", r"artifacts/(\d+)"),
                              ("zip", r"artifacts/(\d+)/([a-z]+)")):
            m = re.fullmatch(pattern, rest)
            if m:
                return kind, m
        return "", None

    def do_GET(self) -> None:  # noqa: N802
        kind, m = self._rest_route()
        self.fake.requests[f"rest GET {kind or 'other'}"] += 1
        base = f"http://{self.headers.get('Host')}"
        try:
            if self.fake.faults.rest_status:
                raise _Error(self.fake.faults.rest_status, "", "Service Unavailable")
            if m is None:
                raise _Error(404, "", "Not Found")
            self.fake.authenticate_rest(self.headers.get("Authorization"), need="read")
            query = parse_qs(urlsplit(self.path).query)
            if kind in ("list", "run"):
                self._list(kind, m, query, base)
                return
            art = self._artifact(int(m.group(1)))
            if kind == "one":
                self._send(200, self.fake.rest_artifact(art, base))
                return
            if m.group(2) != "zip":
                raise _Error(404, "", "Not Found")
            if art.expired(_now()):
                raise _Error(410, "", "Artifact has expired")
            self._send(302, None, {"Location": self.fake.sas_url(art.blob, write=False, minutes=1)})
        except _Error as err:
            self._send(err.status, {"message": err.msg,
                                    "documentation_url": "https://docs.github.com/rest/actions/artifacts"})

    def _artifact(self, artifact_id: int) -> Artifact:
        for a in self.fake.artifacts:
            if a.id == artifact_id and not a.deleted:
                return a
        raise _Error(404, "", "Not Found")

    def _list(self, kind: str, m: re.Match[str], query: dict[str, list[str]], base: str) -> None:
        run_id = int(m.group(1)) if kind == "run" else None
        if run_id is not None and run_id not in self.fake.runs_by_id:
            raise _Error(404, "", "Not Found")
        items, total, per_page = self.fake.rest_list(query, run_id)
        page = max(1, int(query.get("page", ["1"])[0]))
        last = max(1, -(-total // per_page))
        links = []
        path = urlsplit(self.path).path
        for rel, p in (("next", page + 1), ("last", last)):
            if page < last:
                q = {k: v[0] for k, v in query.items()}
                q.update(page=str(p), per_page=str(per_page))
                links.append(f'<{base}{path}?{urlencode(q)}>; rel="{rel}"')
        headers = {"Link": ", ".join(links)} if links else {}
        self._send(200, {"total_count": total, "artifacts": [self.fake.rest_artifact(a, base) for a in items]},
                   headers)

    def do_DELETE(self) -> None:  # noqa: N802
        kind, m = self._rest_route()
        self.fake.requests[f"rest DELETE {kind or 'other'}"] += 1
        try:
            if m is None or kind != "one":
                raise _Error(404, "", "Not Found")
            self.fake.authenticate_rest(self.headers.get("Authorization"), need="write")
            art = self._artifact(int(m.group(1)))
            with self.fake.lock:
                art.deleted = True
            self._send(204)
        except _Error as err:
            self._send(err.status, {"message": err.msg,
                                    "documentation_url": "https://docs.github.com/rest/actions/artifacts"})
