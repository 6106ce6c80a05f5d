"""``backend: github``: documents stored as GitHub Actions artifacts (docs/backends.md).

Writes go through the Actions artifacts v4 results service (Twirp ``CreateArtifact`` → Put Block /
Put Block List to the signed blob URL → ``FinalizeArtifact`` with size and ``sha256:``), with the
runner's ``ACTIONS_RUNTIME_TOKEN`` / ``ACTIONS_RESULTS_URL``. Reads, queries and deletes go through
the REST API (``GET /repos/{o}/{r}/actions/artifacts``, download via the 302 redirect, ``DELETE``)
with a token that has ``actions: read`` (``actions: write`` to delete).

One document is one zip artifact holding its files under their open-layout paths
(``runs/<key>/<type>/<part>/manifest.json`` and ``data-<upload>.json.gz``), so
actions/download-artifact and the GitHub UI give readable files. Artifact names (all start with the
configured ``prefix``, default ``aqe``; ``~`` separates fields):

=================================  ===============================================================
``aqe~d~<key>~<type>~<part>``      the document (its identity: a second one in a run is a 409)
``aqe~e~<entry>`` / ``aqe~e1~…``   its listing entry: the index entry name of docs/storage-layout.md
                                   (inverted time, key, type, part, commit, card); ``e1`` marks the
                                   first workflow run that stored this commit
``aqe~b~<branch>``                 one per workflow run and branch stored in it (percent-encoded)
``aqe~c~<sha>``                    one per workflow run and commit stored in it
``aqe~k~<key>``                    one per workflow run and run key stored in it
=================================  ===============================================================

The REST list-by-name filter is exact, so the per-run pointers (``b``, ``c``, ``k``) are the exact
names that find every run holding a branch, commit or key; the entry names carry what ``list``
shows. A query reads the repository's newest 100 artifacts first (one request, newest first); when
that page holds the answer — the newest entries, the latest on a branch, every document of a commit
(proved by the ``e1`` mark of the oldest run of that commit) — it is done, otherwise the pointers
name the runs to list. Written in this order: pointers, document (the commit point), entry.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import re
import sys
import tempfile
import time
import weakref
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO
from urllib.parse import urlsplit

from aqe_ci import secrets
from aqe_ci.errors import BackendError, NotFoundError, ObjectExists, ObjectMissing, UsageError
from aqe_ci.model import keys
from aqe_ci.storage import layout
from aqe_ci.storage.base import DocumentBackend, DocumentWrite, ObjectInfo

if TYPE_CHECKING:
    import requests

    from aqe_ci.storage.layout import Entry
    from aqe_ci.storage.query import Query

Records = list[dict[str, Any]]  # REST artifact records (``list`` is a method name in the class)
TWIRP_SERVICE = "github.actions.results.api.v1.ArtifactService"
BLOCK_SIZE = 4 * 1024 * 1024
PAGE = 100
DEFAULT_MAX_RETENTION = 90
PREFIX_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
PERMISSION_HINT = "give the job `permissions: actions: read` (and `actions: write` to delete or overwrite)"
RUNTIME_HINT = ("the runner gives ACTIONS_RUNTIME_TOKEN and ACTIONS_RESULTS_URL only to JavaScript and container "
                "action steps: use the aqe-artifacts action, or export them for `run:` steps first with "
                "actions/github-script (core.exportVariable) and pass them on with `docker run -e` "
                "(docs/backends.md)")
POINTER_README = json.dumps({
    "what": "an index entry of aqe-artifacts (backend: github); it holds no data",
    "layout": "docs/storage-layout.md of aqe-artifacts: the document is the artifact named <prefix>~d~<key>~<type>~<part>",
}, indent=1).encode()


def _pointer_zip() -> bytes:
    """The content of every pointer and entry artifact: a zip with one small JSON file."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(zipfile.ZipInfo("aqe-index.json", (2024, 1, 1, 0, 0, 0)), POINTER_README,
                    compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


POINTER_ZIP = _pointer_zip()


@dataclass(frozen=True)
class RuntimeToken:
    """``ACTIONS_RUNTIME_TOKEN``: a JWT whose ``scp`` claim names the run and job backend ids."""

    token: str
    run_backend_id: str
    job_backend_id: str
    expires: float | None

    @classmethod
    def parse(cls, token: str) -> RuntimeToken:
        try:
            payload = token.split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except (IndexError, ValueError, TypeError):
            raise BackendError("the GitHub Actions runtime token (ACTIONS_RUNTIME_TOKEN) is not a JWT",
                               hint=RUNTIME_HINT) from None
        for scope in str(claims.get("scp", "")).split(" "):
            parts = scope.split(":")
            if parts[0] == "Actions.Results" and len(parts) == 3:
                exp = claims.get("exp")
                return cls(token, parts[1], parts[2], float(exp) if isinstance(exp, int | float) else None)
        raise BackendError("the GitHub Actions runtime token has no Actions.Results scope (invalid or missing claims)",
                           hint=RUNTIME_HINT)


def content_name(prefix: str, key: str, doc_type: str, part: str) -> str:
    return f"{prefix}~d~{key}~{doc_type}~{part}"


def entry_name(prefix: str, entry: Entry, first: bool) -> str:
    return f"{prefix}~e{'1' if first else ''}~{layout.entry_basename(entry)}"


def pointer_name(prefix: str, dim: str, value: str) -> str:
    if dim == "b":
        text = layout.encode_segment(value)
        if len(text) > 200:  # keep artifact names short: long branches end with a digest
            text = text[:183] + "-" + hashlib.sha256(value.encode()).hexdigest()[:16]
        return f"{prefix}~b~{text}"
    if dim == "c":
        return f"{prefix}~c~{value.strip().lower()}"
    return f"{prefix}~k~{value}"


def _parse_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


class _Download:
    """A downloaded artifact zip, spooled to memory or a temp file, kept open while cached."""

    def __init__(self, spool: IO[bytes]) -> None:
        self.spool = spool
        self.zip = zipfile.ZipFile(spool)

    def close(self) -> None:
        self.zip.close()
        self.spool.close()


class GitHubBackend(DocumentBackend):
    kind = "github"

    def __init__(self, *, repository: str, token: str | None = None, api_url: str = "https://api.github.com",
                 runtime_token: str | None = None, results_url: str | None = None,
                 max_retention_days: int = DEFAULT_MAX_RETENTION, prefix: str = "aqe", timeout_seconds: float = 60,
                 max_attempts: int = 4, retry_base_seconds: float = 0.5,
                 warn: Callable[[str], None] | None = None) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repository or ""):
            raise UsageError(f"github.repository {repository!r} is not owner/name",
                             hint="set github.repository, or run in GitHub Actions (GITHUB_REPOSITORY)")
        if not PREFIX_RE.match(prefix):
            raise UsageError(f"github.prefix {prefix!r} is invalid", hint="use 1-32 of A-Z a-z 0-9 . _ -")
        import requests

        self.repository = repository
        self.token = token or None
        self.api_url = api_url.rstrip("/")
        self.results_url = results_url
        self.runtime = RuntimeToken.parse(runtime_token) if runtime_token else None
        self.max_retention_days = int(max_retention_days)
        self.prefix = prefix
        self.timeout = timeout_seconds
        self.max_attempts = max(1, int(max_attempts))
        self.retry_base = retry_base_seconds
        self.warn = warn or (lambda text: print(f"Warning: {text}", file=sys.stderr))
        for secret in (self.token, runtime_token):
            secrets.register(secret)
        self.session = requests.Session()
        self.session.trust_env = False  # never send the tokens through a proxy from the environment
        self.request_count = 0
        #: called with the request number before every HTTP request (fault injection in the tests)
        self.before_request: Callable[[int], None] | None = None
        self._warned: set[str] = set()
        self._records: dict[int, dict[str, Any]] = {}  # artifact id -> REST record, from every listing
        self._downloads: OrderedDict[int, _Download] = OrderedDict()
        self._our_ids: dict[str, int] = {}  # names of artifacts this process finalized in its run
        weakref.finalize(self, _release, self._downloads, self.session)

    # -- Backend ----------------------------------------------------------------------------------
    @property
    def location(self) -> str:
        return f"github://{self.repository} (artifacts {self.prefix}~*)"

    def reset_counts(self) -> None:
        self.request_count = 0

    def _count(self) -> None:
        self.request_count += 1
        if self.before_request is not None:
            self.before_request(self.request_count)

    def close(self) -> None:
        for d in self._downloads.values():
            d.close()
        self._downloads.clear()
        self.session.close()

    def open(self, name: str) -> BinaryIO:
        parsed = layout.parse_doc_object(name)
        if not parsed:
            raise ObjectMissing(f"{name} is not an object of a document")
        download = self._download(self._content(*parsed[:3]))
        try:
            return download.zip.open(name)  # type: ignore[return-value]
        except KeyError:
            raise ObjectMissing(f"{name} is not in its document's artifact") from None

    def exists(self, name: str) -> bool:
        parsed = layout.parse_doc_object(name)
        if not parsed:
            return False
        try:
            download = self._download(self._content(*parsed[:3]))
        except NotFoundError:
            return False
        return name in download.zip.namelist()

    def list(self, prefix: str, *, start_after: str | None = None, limit: int | None = None) -> Iterator[ObjectInfo]:
        """The manifests of the documents under ``runs/<key>/`` (or every document for ``runs/``)."""
        bits = prefix.split("/")
        if bits[0] != "runs":
            return
        records = self._key_records(bits[1]) if len(bits) > 2 and bits[1] else self._all_records()
        want = f"{self.prefix}~d~"
        seen: set[str] = set()
        expired: Records = []
        for rec in records:
            ident = self._identity(rec["name"]) if rec["name"].startswith(want) else None
            if ident is None:
                continue
            if rec.get("expired"):
                if layout.manifest_name(*ident).startswith(prefix):
                    expired.append(rec)
                continue
            name = layout.manifest_name(*ident)
            if name.startswith(prefix) and name not in seen and (start_after is None or name > start_after):
                seen.add(name)
                yield ObjectInfo(name=name, size=int(rec.get("size_in_bytes") or 0),
                                 modified=(_parse_time(rec.get("created_at")) or datetime.now(UTC)).timestamp())
        if not seen and expired and len(bits) > 2 and bits[1]:
            raise self._expired_error(max(expired, key=lambda r: int(r["id"])))  # say why the key is empty

    def delete(self, name: str) -> None:
        parsed = layout.parse_doc_object(name)
        if parsed and parsed[3] == "manifest.json":
            self.delete_document(*parsed[:3])

    # -- DocumentBackend: writing -----------------------------------------------------------------
    def put_document(self, doc: DocumentWrite) -> None:
        runtime = self._need_runtime()
        name = content_name(self.prefix, doc.key, doc.type, doc.part)
        expires = self._expires(doc.type, doc.retention_days)
        if doc.overwrite:
            self.delete_document(doc.key, doc.type, doc.part)
        elif self.token and self._live(self._by_name(name)):
            raise ObjectExists(name)
        first = self._write_pointers(doc.entry)
        with tempfile.TemporaryDirectory(prefix="aqe-gh-") as tmp:
            archive = Path(tmp) / "document.zip"
            with zipfile.ZipFile(archive, "w") as zf:
                zf.writestr(zipfile.ZipInfo(doc.manifest_name, _zip_time(doc.entry.created_ms)), doc.manifest,
                            compress_type=zipfile.ZIP_DEFLATED)
                for obj, path in doc.files:
                    stored = zipfile.ZIP_STORED if obj.endswith((".gz", ".zst")) else zipfile.ZIP_DEFLATED
                    zf.write(path, obj, compress_type=stored)
            artifact_id = self._upload_artifact(name, archive, expires)
        if self.token and not doc.overwrite:
            self._settle(name, artifact_id, runtime)
        entry_file = io.BytesIO(POINTER_ZIP)
        self._upload_artifact(entry_name(self.prefix, doc.entry, first), entry_file, expires)

    def _settle(self, name: str, our_id: int, runtime: RuntimeToken) -> None:
        """Across workflow runs the oldest live artifact of a document wins: withdraw ours if it lost."""
        older = [r for r in self._live(self._by_name(name)) if int(r["id"]) < our_id]
        if older:
            self._twirp("DeleteArtifact", {"name": name}, runtime)
            raise ObjectExists(name)

    def _write_pointers(self, entry: Entry) -> bool:
        """The run's pointers for the key, branch and commit; True if no earlier run stored the commit."""
        self._ensure_pointer(pointer_name(self.prefix, "k", entry.key))
        if entry.branch:
            self._ensure_pointer(pointer_name(self.prefix, "b", entry.branch))
        if not entry.commit or not layout.HEX_COMMIT.match(entry.commit.lower()):
            return False
        name = pointer_name(self.prefix, "c", entry.commit)
        ours = self._ensure_pointer(name)
        if ours is None or not self.token:
            return False
        return not any(int(r["id"]) < ours for r in self._live(self._by_name(name)))

    def _ensure_pointer(self, name: str) -> int | None:
        """Create the pointer in this run unless it is there; its artifact id when known."""
        if name in self._our_ids:
            return self._our_ids[name]
        try:
            return self._upload_artifact(name, io.BytesIO(POINTER_ZIP), self._expires(None, None))
        except ObjectExists:
            listed = self._twirp("ListArtifacts", {"name_filter": name}, self._need_runtime())
            ids = [int(_get(a, "database_id")) for a in listed.get("artifacts") or [] if _get(a, "database_id")]
            if ids:
                self._our_ids[name] = min(ids)
                return min(ids)
            return None

    def _upload_artifact(self, name: str, source: Path | IO[bytes], expires: datetime) -> int:
        runtime = self._need_runtime()
        created = self._twirp("CreateArtifact", {"name": name, "version": 4,
                                                 "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%S.000Z")}, runtime)
        url = _get(created, "signed_upload_url")
        if not _get(created, "ok") or not url:
            raise BackendError(f"GitHub's artifact service did not accept artifact {name} (CreateArtifact not ok)")
        secrets.register(url)
        size, digest = self._put_blob(url, source, name)
        final = self._twirp("FinalizeArtifact", {"name": name, "size": str(size), "hash": f"sha256:{digest}"},
                            runtime)
        if not _get(final, "ok"):
            raise BackendError(f"GitHub's artifact service did not finalize artifact {name}")
        artifact_id = int(_get(final, "artifact_id") or 0)
        self._our_ids[name] = artifact_id
        return artifact_id

    def _put_blob(self, url: str, source: Path | IO[bytes], name: str) -> tuple[int, str]:
        """Put Block (fixed-width ids, in order) + Put Block List to the signed URL; size and sha256."""
        sha = hashlib.sha256()
        size = 0
        ids: list[str] = []
        version = dict(p.split("=", 1) for p in urlsplit(url).query.split("&") if "=" in p).get("sv", "2020-10-02")
        with (open(source, "rb") if isinstance(source, Path) else contextlib.nullcontext(source)) as stream:
            while True:
                chunk = stream.read(BLOCK_SIZE)
                if not chunk and ids:
                    break
                block_id = base64.b64encode(f"{len(ids):08d}".encode()).decode()
                ids.append(block_id)
                sha.update(chunk)
                size += len(chunk)
                self._blob_request("PUT", url, {"comp": "block", "blockid": block_id}, chunk,
                                   {"x-ms-version": version}, name)
                if not chunk:
                    break
        body = ('<?xml version="1.0" encoding="utf-8"?><BlockList>'
                + "".join(f"<Latest>{i}</Latest>" for i in ids) + "</BlockList>").encode()
        self._blob_request("PUT", url, {"comp": "blocklist"}, body,
                           {"x-ms-version": version, "x-ms-blob-content-type": "application/zip",
                            "Content-Type": "application/xml"}, name)
        return size, sha.hexdigest()

    def _blob_request(self, method: str, url: str, params: dict[str, str], data: bytes, headers: dict[str, str],
                      name: str) -> None:
        for attempt in range(self.max_attempts):
            try:
                self._count()
                resp = self.session.request(method, url, params=params, data=data, headers=headers,
                                            timeout=self.timeout)
            except OSError as exc:
                if attempt + 1 == self.max_attempts:
                    raise BackendError(f"GitHub's artifact blob storage is unreachable while uploading {name}: "
                                       f"{type(exc).__name__}", hint="retry the job; check the runner's network") from None
                self._sleep(attempt)
                continue
            if resp.status_code in (200, 201):
                return
            if resp.status_code in (429, 500, 502, 503, 504) and attempt + 1 < self.max_attempts:
                self._sleep(attempt)
                continue
            raise BackendError(f"GitHub's artifact blob storage refused the upload of {name} "
                               f"(HTTP {resp.status_code})", hint="retry the job; the signed URL may have expired")

    # -- DocumentBackend: deleting ----------------------------------------------------------------
    def delete_document(self, key: str, doc_type: str, part: str) -> None:
        name = content_name(self.prefix, key, doc_type, part)
        records = [r for r in self._by_name(name) if not r.get("_deleted")]
        runs = {int((r.get("workflow_run") or {}).get("id") or 0) for r in records}
        for run_id in sorted(runs):
            for rec in self._run_records(run_id):
                e = self._entry_of(rec)
                if e is not None and e.id == (key, doc_type, part):
                    self._rest_delete(rec)
        for rec in records:
            self._rest_delete(rec)

    def _rest_delete(self, rec: dict[str, Any]) -> None:
        self._rest("DELETE", f"/repos/{self.repository}/actions/artifacts/{rec['id']}",
                   what=f"deleting artifact {rec['name']}", ok=(204, 404))
        rec["_deleted"] = True
        self._records.pop(int(rec["id"]), None)
        d = self._downloads.pop(int(rec["id"]), None)
        if d is not None:
            d.close()

    def repair(self, *, grace_seconds: float, dry_run: bool, now: float) -> dict[str, Any]:
        """Index documents whose writer died between the document and its entry (a full listing).

        Unfinished uploads are invisible and GitHub discards them; deletes need no tombstones (an
        artifact's deletion is atomic), so there is nothing else to finish.
        """
        report: dict[str, Any] = {"finished_deletes": [], "reindexed": [], "stale_index": [], "orphans": []}
        records = list(self._all_records())
        indexed = {e.id for e in (self._entry_of(r) for r in records) if e is not None}
        for rec in sorted(records, key=lambda r: int(r["id"])):
            ident = self._identity(rec["name"])
            if ident is None or ident in indexed or rec.get("expired"):
                continue
            if now - (_parse_time(rec.get("created_at")) or datetime.now(UTC)).timestamp() < grace_seconds:
                continue  # its writer may still be about to write the entry
            indexed.add(ident)
            report["reindexed"].append("/".join(ident))
            if dry_run:
                continue
            if self.runtime is None or not self.results_url:
                self.warn(f"{'/'.join(ident)} has no listing entry; run `aqe artifacts cleanup` in a job of a "
                          "workflow (it needs the runner's ACTIONS_RUNTIME_TOKEN) to write it")
                continue
            from aqe_ci.storage.store import Manifest

            manifest = Manifest(json.loads(self._download(rec).zip.read(layout.manifest_name(*ident))))
            expires = _parse_time(rec.get("expires_at")) or self._expires(None, None)
            self._upload_artifact(entry_name(self.prefix, manifest.entry(), False), io.BytesIO(POINTER_ZIP), expires)
        return report

    # -- DocumentBackend: queries -----------------------------------------------------------------
    def query(self, q: Query) -> Iterator[Entry]:
        if q.key:
            yield from self._sorted_entries(self._key_records(q.key))
            return
        channel: tuple[str, str] | None = None
        if q.commit and re.fullmatch(r"[0-9a-fA-F]{40}", q.commit):
            channel = ("c", q.commit)
        elif q.branch is not None:
            channel = ("b", q.branch)
        pages = self._pages(f"/repos/{self.repository}/actions/artifacts", what="listing artifacts")
        first = next(pages, None)
        if first is None:
            return
        records, more = first
        yield from self._sorted_entries(records)
        if not more:
            return  # the first page held the whole repository
        if channel is None:
            for records, _ in pages:
                yield from self._sorted_entries(records)
            return
        floor = min(int(r["id"]) for r in records)
        if channel[0] == "c" and self._commit_complete(records, channel[1], floor):
            return
        for run_id in self._channel_runs(pointer_name(self.prefix, *channel), floor):
            yield from self._sorted_entries(self._run_records(run_id))

    def _commit_complete(self, records: Records, sha: str, floor: int) -> bool:
        """Does the page prove it holds every document of ``sha``? Yes when the oldest run pointer of the
        commit on it belongs to a run whose entries say it was the first run to store the commit."""
        name = pointer_name(self.prefix, "c", sha)
        pointers = [r for r in records if r["name"] == name and not r.get("expired")]
        if not pointers:
            return False
        oldest = min(pointers, key=lambda r: int(r["id"]))
        run = (oldest.get("workflow_run") or {}).get("id")
        mark = f"{self.prefix}~e1~"
        for r in records:
            if r["name"].startswith(mark) and (r.get("workflow_run") or {}).get("id") == run:
                e = self._entry_of(r)
                if e is not None and e.commit == sha.lower():
                    return True
        return False

    def _channel_runs(self, name: str, floor: int) -> Iterator[int]:
        """Workflow runs that hold ``name``'s pointer older than ``floor`` (newer ones were on page 1)."""
        seen: set[int] = set()
        for records, _ in self._pages(f"/repos/{self.repository}/actions/artifacts", name=name,
                                      what=f"listing artifacts named {name}"):
            for rec in records:
                run = int((rec.get("workflow_run") or {}).get("id") or 0)
                if rec.get("expired") or int(rec["id"]) >= floor or run in seen:
                    continue
                seen.add(run)
                yield run

    def _key_records(self, key: str) -> Iterator[dict[str, Any]]:
        name = pointer_name(self.prefix, "k", key)
        # expired pointers too: their runs still list the expired documents, so a read can say so
        runs = {int((r.get("workflow_run") or {}).get("id") or 0) for r in self._by_name(name)
                if not r.get("_deleted")}
        for run in sorted(runs, reverse=True):
            for rec in self._run_records(run):
                ident = self._identity(rec["name"])
                e = self._entry_of(rec)
                if (ident and ident[0] == key) or (e is not None and e.key == key):
                    yield rec

    def _all_records(self) -> Iterator[dict[str, Any]]:
        for records, _ in self._pages(f"/repos/{self.repository}/actions/artifacts", what="listing artifacts"):
            yield from records

    def _sorted_entries(self, records: Iterator[dict[str, Any]] | Records) -> Iterator[Entry]:
        """The entries among ``records``, newest first by creation time (copied history keeps its own)."""
        found = [(e, int(rec["id"])) for rec in records if (e := self._entry_of(rec)) is not None]
        for e, _ in sorted(found, key=lambda pair: (-pair[0].created_ms, -pair[1])):
            yield e

    def _entry_of(self, rec: dict[str, Any]) -> Entry | None:
        name = rec["name"]
        for mark in (f"{self.prefix}~e~", f"{self.prefix}~e1~"):
            if name.startswith(mark) and not rec.get("expired"):
                return layout.parse_entry(name[len(mark):])
        return None

    def _identity(self, name: str) -> tuple[str, str, str] | None:
        bits = name.split("~")
        if len(bits) == 5 and bits[0] == self.prefix and bits[1] == "d" and bits[3] in keys.DOC_TYPES:
            return bits[2], bits[3], bits[4]
        return None

    # -- reading documents ------------------------------------------------------------------------
    def _content(self, key: str, doc_type: str, part: str) -> dict[str, Any]:
        """The REST record of a document's artifact: the oldest live one (see ``_settle``)."""
        name = content_name(self.prefix, key, doc_type, part)
        cached = [r for r in self._records.values() if r["name"] == name and not r.get("_deleted")]
        records = cached if self._live(cached) else self._by_name(name)
        live = self._live(records)
        if live:
            return min(live, key=lambda r: int(r["id"]))
        expired = [r for r in records if r.get("expired")]
        if expired:
            raise self._expired_error(max(expired, key=lambda r: int(r["id"])))
        raise ObjectMissing(f"no {doc_type} document {key}/{part} in {self.location}")

    def _expired_error(self, rec: dict[str, Any]) -> NotFoundError:
        return NotFoundError(
            f"GitHub artifact {rec['name']} (id {rec['id']}) of {self.repository} expired on "
            f"{(rec.get('expires_at') or '?')[:10]}",
            hint="GitHub deletes artifacts after their retention days (capped by the repository's maximum); "
                 "keep history longer by copying it to S3 with `aqe artifacts copy` "
                 "(docs/troubleshooting.md#artifacts-expired)")

    def _download(self, rec: dict[str, Any]) -> _Download:
        aid = int(rec["id"])
        if aid in self._downloads:
            self._downloads.move_to_end(aid)
            return self._downloads[aid]
        resp = self._rest("GET", f"/repos/{self.repository}/actions/artifacts/{aid}/zip",
                          what=f"downloading artifact {rec['name']}", ok=(302,), redirect=True)
        if resp.status_code == 410:
            raise self._expired_error(rec)
        if resp.status_code == 404:
            raise ObjectMissing(f"GitHub artifact {rec['name']} (id {aid}) is gone from {self.repository}")
        location = resp.headers.get("Location")
        if not location:
            raise BackendError(f"GitHub did not redirect the download of artifact {rec['name']}")
        secrets.register(location)
        spool = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115 - closed with the cache
        sha = hashlib.sha256()
        self._count()
        try:
            with self.session.get(location, stream=True, timeout=self.timeout) as blob:  # no Authorization
                if blob.status_code != 200:
                    raise BackendError(f"GitHub's blob storage answered HTTP {blob.status_code} for artifact "
                                       f"{rec['name']}", hint="retry; the download URL is valid for one minute")
                for chunk in blob.iter_content(1024 * 1024):
                    sha.update(chunk)
                    spool.write(chunk)
        except OSError as exc:
            spool.close()
            raise BackendError(f"GitHub's blob storage is unreachable for artifact {rec['name']}: "
                               f"{type(exc).__name__}") from None
        digest = rec.get("digest")
        if digest and digest != f"sha256:{sha.hexdigest()}":
            spool.close()
            from aqe_ci.errors import IntegrityError

            raise IntegrityError(f"GitHub artifact {rec['name']} (id {aid}) does not match its sha256 digest",
                                 hint="the stored artifact was altered; delete the document and store it again")
        spool.seek(0)
        try:
            download = _Download(spool)
        except zipfile.BadZipFile:
            spool.close()
            from aqe_ci.errors import IntegrityError

            raise IntegrityError(f"GitHub artifact {rec['name']} (id {aid}) is not a readable zip") from None
        self._downloads[aid] = download
        while len(self._downloads) > 4:
            self._downloads.popitem(last=False)[1].close()
        return download

    # -- REST -------------------------------------------------------------------------------------
    def _by_name(self, name: str) -> Records:
        out: Records = []
        for records, _ in self._pages(f"/repos/{self.repository}/actions/artifacts", name=name,
                                      what=f"listing artifacts named {name}"):
            out.extend(records)
        return out

    def _run_records(self, run_id: int) -> Records:
        out: Records = []
        for records, _ in self._pages(f"/repos/{self.repository}/actions/runs/{run_id}/artifacts",
                                      what=f"listing the artifacts of workflow run {run_id}"):
            out.extend(records)
        return out

    @staticmethod
    def _live(records: Records) -> Records:
        return [r for r in records if not r.get("expired") and not r.get("_deleted")]

    def _pages(self, path: str, *, what: str, name: str | None = None) -> Iterator[tuple[Records, bool]]:
        """Pages of a REST artifact listing, newest first, fetched one at a time: (records, more follow)."""
        page = 1
        while True:
            params: dict[str, Any] = {"per_page": PAGE, "page": page}
            if name is not None:
                params["name"] = name
            resp = self._rest("GET", path, what=what, params=params)
            body = resp.json()
            records = [r for r in body.get("artifacts") or [] if str(r.get("name", "")).startswith(self.prefix + "~")]
            for r in records:
                self._records[int(r["id"])] = r
            total = int(body.get("total_count") or 0)
            raw = len(body.get("artifacts") or [])
            more = raw == PAGE and page * PAGE < total
            yield records, more
            if not more:
                return
            page += 1

    def _rest(self, method: str, path: str, *, what: str, params: dict[str, Any] | None = None,
              ok: tuple[int, ...] = (200,), redirect: bool = False) -> requests.Response:
        if not self.token:
            raise BackendError(f"reading GitHub artifacts of {self.repository} needs a token (while {what})",
                               hint="set github.token (e.g. \"${GITHUB_TOKEN}\") or pass `github-token: "
                                    "${{ github.token }}`; " + PERMISSION_HINT)
        headers = {"Accept": "application/vnd.github+json", "Authorization": f"Bearer {self.token}",
                   "X-GitHub-Api-Version": "2022-11-28", "User-Agent": "aqe-artifacts"}
        for attempt in range(self.max_attempts):
            try:
                self._count()
                resp = self.session.request(method, self.api_url + path, params=params, headers=headers,
                                            timeout=self.timeout, allow_redirects=False)
            except OSError as exc:
                if attempt + 1 == self.max_attempts:
                    raise BackendError(f"the GitHub API at {self.api_url} is unreachable while {what}: "
                                       f"{type(exc).__name__}", hint="check github.api_url and the network") from None
                self._sleep(attempt)
                continue
            if resp.status_code in ok or (redirect and resp.status_code in (404, 410)):
                return resp
            if resp.status_code in (500, 502, 503, 504) and attempt + 1 < self.max_attempts:
                self._sleep(attempt)
                continue
            raise self._rest_error(resp, what)
        raise AssertionError("unreachable")

    def _rest_error(self, resp: requests.Response, what: str) -> Exception:
        status = resp.status_code
        try:
            message = str(resp.json().get("message") or "")
        except ValueError:
            message = ""
        where = f"GitHub API ({self.repository}) refused {what}"
        if status == 401:
            return BackendError(f"{where}: 401 Bad credentials",
                                hint="the token is invalid or expired; pass a current one, e.g. "
                                     "`github-token: ${{ github.token }}`")
        if status == 403 and resp.headers.get("x-ratelimit-remaining") == "0":
            return BackendError(f"{where}: the REST rate limit is used up",
                                hint="wait for the limit to reset (GITHUB_TOKEN: 1,000 requests/hour/repository)")
        if status == 403:
            perm = "actions: write" if what.startswith("deleting") else "actions: read"
            return BackendError(f"{where}: 403 {message or 'Forbidden'}",
                                hint=f"add `permissions: {perm}` to the job (or use a token that has it)")
        if status == 404:
            return BackendError(f"{where}: 404 Not Found",
                                hint="check github.repository and that the token can read it (actions: read)")
        return BackendError(f"{where}: HTTP {status} {message}".rstrip(), hint="retry later")

    # -- Twirp ------------------------------------------------------------------------------------
    def _need_runtime(self) -> RuntimeToken:
        if self.runtime is None or not self.results_url:
            raise BackendError("storing in GitHub artifacts needs the runner's ACTIONS_RUNTIME_TOKEN and "
                               "ACTIONS_RESULTS_URL, which are not set", hint=RUNTIME_HINT)
        if self.runtime.expires is not None and self.runtime.expires < time.time():
            raise self._expired_runtime()
        return self.runtime

    @staticmethod
    def _expired_runtime() -> BackendError:
        return BackendError("the GitHub Actions runtime token (ACTIONS_RUNTIME_TOKEN) has expired",
                            hint="it is valid only while its job runs: store from a step of the running job, "
                                 "not from a later job or workflow")

    def _twirp(self, method: str, body: dict[str, Any], runtime: RuntimeToken) -> dict[str, Any]:
        assert self.results_url
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(self.results_url))
        payload = {"workflow_run_backend_id": runtime.run_backend_id,
                   "workflow_job_run_backend_id": runtime.job_backend_id, **body}
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {runtime.token}",
                   "User-Agent": "aqe-artifacts"}
        url = f"{origin}/twirp/{TWIRP_SERVICE}/{method}"
        for attempt in range(self.max_attempts):
            try:
                self._count()
                resp = self.session.post(url, data=json.dumps(payload), headers=headers, timeout=self.timeout)
            except OSError as exc:
                raise BackendError(f"GitHub's artifact service at {origin} is unreachable ({method}): "
                                   f"{type(exc).__name__}", hint="retry the job") from None
            try:
                data = resp.json()
            except ValueError:
                data = None
            if 200 <= resp.status_code < 300 and isinstance(data, dict):
                return data
            msg = str((data or {}).get("msg") or "") if isinstance(data, dict) else ""
            if "insufficient usage" in msg:
                raise BackendError("GitHub artifact storage quota is used up (insufficient usage)",
                                   hint="delete old artifacts (`aqe artifacts cleanup`), shorten retention, or raise "
                                        "the account's Actions storage limit; usage is recalculated every 6-12 hours")
            retryable = resp.status_code in (429, 500, 502, 503, 504) or data is None
            if retryable and attempt + 1 < self.max_attempts:
                self._sleep(attempt)
                continue
            if resp.status_code == 409:
                raise ObjectExists(str(body.get("name")))
            if resp.status_code == 401:
                if "expired" in msg:
                    raise self._expired_runtime()
                raise BackendError(f"GitHub's artifact service rejected the runtime token ({method}: {msg})",
                                   hint=RUNTIME_HINT)
            raise BackendError(f"GitHub's artifact service failed {method}: HTTP {resp.status_code} {msg}".rstrip(),
                               hint="retry the job")
        raise AssertionError("unreachable")

    # -- retention --------------------------------------------------------------------------------
    def _expires(self, doc_type: str | None, days: int | None) -> datetime:
        cap = self.max_retention_days
        if days is None:
            days = cap
        elif days > cap:
            if doc_type not in self._warned:
                self._warned.add(doc_type or "")
                self.warn(f"retention of {doc_type} documents is {days} days, more than this repository's maximum "
                          f"of {cap} days: GitHub keeps them {cap} days (raise it in Settings → Actions → "
                          "Artifact and log retention, or copy history to S3 with `aqe artifacts copy`)")
            days = cap
        return datetime.now(UTC) + timedelta(days=days)

    def _sleep(self, attempt: int) -> None:
        time.sleep(self.retry_base * (1.5 ** attempt))


def _release(downloads: OrderedDict[int, _Download], session: Any) -> None:
    """Close what a backend that was never closed still holds (spooled downloads, connections)."""
    for d in downloads.values():
        d.close()
    downloads.clear()
    session.close()


def _get(data: dict[str, Any], snake: str) -> Any:
    """A Twirp response field by its proto name or its lowerCamelCase JSON name."""
    camel = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), snake)
    return data.get(snake, data.get(camel))


def _zip_time(ms: int) -> tuple[int, int, int, int, int, int]:
    ts = datetime.fromtimestamp(max(ms / 1000, 315532800), UTC)
    return (ts.year, ts.month, ts.day, ts.hour, ts.minute, ts.second)


def from_settings(settings: dict[str, Any], environ: dict[str, str] | None = None) -> GitHubBackend:
    """Build the backend from the ``"github"`` config section, the runner's variables filling the gaps."""
    env = dict(os.environ if environ is None else environ)
    known = {"token", "repository", "api_url", "results_url", "runtime_token", "retention_days", "prefix",
             "timeout_seconds", "max_attempts"}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise UsageError(f"unknown github setting {unknown[0]!r}", hint=f"known settings: {', '.join(sorted(known))}")

    def pick(key: str, *names: str) -> Any:
        value = settings.get(key)
        if value not in (None, ""):
            return value
        for n in names:
            if env.get(n):
                return env[n]
        return None

    max_days = pick("retention_days", "GITHUB_RETENTION_DAYS")
    try:
        max_days = int(max_days) if max_days is not None else DEFAULT_MAX_RETENTION
    except ValueError:
        raise UsageError(f"GITHUB_RETENTION_DAYS {max_days!r} is not a number of days") from None
    server = env.get("GITHUB_SERVER_URL")
    if server and not re.search(r"(^|\.)(github\.com|ghe\.com|localhost)$", urlsplit(server).hostname or ""):
        raise BackendError(f"GitHub Enterprise Server ({server}) has no artifacts v4 results service",
                           hint='use "backend": "s3" there')
    return GitHubBackend(
        repository=pick("repository", "GITHUB_REPOSITORY") or "",
        token=pick("token", "GITHUB_TOKEN", "INPUT_GITHUB-TOKEN"),
        api_url=pick("api_url", "GITHUB_API_URL") or "https://api.github.com",
        runtime_token=pick("runtime_token", "ACTIONS_RUNTIME_TOKEN"),
        results_url=pick("results_url", "ACTIONS_RESULTS_URL"),
        max_retention_days=max_days, prefix=settings.get("prefix") or "aqe",
        timeout_seconds=float(settings.get("timeout_seconds") or 60),
        max_attempts=int(settings.get("max_attempts") or 4),
    )
