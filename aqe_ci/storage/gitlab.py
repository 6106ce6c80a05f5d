"""The GitLab backend: history in a project's generic package registry, through python-gitlab.

The store's object names (``layout.py``) map onto generic packages so that package names and
versions carry the document type, the run key and every index dimension (docs/storage-layout.md,
"GitLab backend")::

    runs/<key>/<type>/<part>/<file>       package <base>-<type>, version <key>, file <part>+<file>
    index/time/<day>/<entry>              package <base>-idx+time+,            version <entry>, file entry
    index/type/<type>/<day>/<entry>       package <base>-idx+type+<type>+,     version <entry>, file entry
    index/branch/<branch>/<day>/<entry>   package <base>-idx+branch+<enc>+,    version <entry>, file entry
    index/commit/<sh>/<sha>/<day>/<entry> package <base>-idx+commit+<sha>+,    version <entry>, file entry
    index/pr/<n>/<day>/<entry>            package <base>-idx+pr+<n>+,          version <entry>, file entry
    badges/<branch>/<type>.<svg|json>     package <base>-badges,                version <enc>,   file <type>.<ext>

``<base>`` is ``gitlab.package_name`` (default ``aqe``), ``<entry>`` the index entry name with ``~``
written as ``+`` (it starts with the inverted creation time, so ``order_by=version&sort=asc`` lists
newest first), ``<enc>`` the branch segment with ``_`` → ``_u`` and ``%`` → ``_p``. No encoded value
contains ``+``, so the package names are *substring-free*: GitLab's fuzzy ``package_name`` filter
(a case-insensitive substring match) given one whole name matches that package only (and its
upper/lower-case twins, filtered here), and given a prefix (``<base>-idx+commit+ab12``) it matches
exactly the names that start with it. Published badges (``aqe artifacts badge --publish``) have a stable
download URL, ``…/packages/generic/<base>-badges/<enc>/<type>.svg``: each publish uploads the file
again (a download returns the newest) and removes the older copies where the token may delete. One ``GET /projects/:id/packages`` therefore answers a
``list`` / ``latest`` / ``by commit`` query, whatever the registry holds. Index packages are uploaded
``status=hidden`` (``gitlab.hide_index``, default true), so they stay out of the Package Registry
page; queries list them with ``status=hidden``.

Create-only writes: GitLab adds a second file of the same name to a package instead of refusing it
(unless the group disallows duplicates), and a download returns the newest one. The manifest (the
store's commit point) is therefore written under a claim protocol (like S3 without conditional
writes): upload ``<part>+.claim-<random>``, list the package's files; if the manifest is there →
conflict; if ours is the only live claim → upload the manifest; else release the claim (delete it,
or where the token may not delete — a Developer's ``CI_JOB_TOKEN`` — upload
``<part>+.released-<random>``), back off at random and retry. Two overlapping writers cannot both
see themselves alone (each lists after its claim is stored), so exactly one wins, whatever the
project's duplicate setting. Leftover claims are orphans that ``aqe artifacts cleanup`` removes.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import random
import re
import secrets
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, NoReturn
from urllib.parse import quote, urlsplit

import gitlab
import requests

from aqe_ci.errors import BackendError, ObjectExists, ObjectMissing, UsageError
from aqe_ci.model.keys import DOC_TYPES, KEY_RE, PART_RE
from aqe_ci.storage import layout
from aqe_ci.storage.base import Backend, ObjectInfo

SEP = "+"
INDEX_FILE = "entry"
CLAIM = ".claim-"
RELEASED = ".released-"
NAME_MAX = 255
FIRST_PAGE = 20
PAGE = 100
#: a claim created this long before ours (server time) belongs to a killed writer
CLAIM_STALE_SECONDS = 600.0
#: a claim owner must upload the manifest within this time after claiming, or start over
CLAIM_WINDOW_SECONDS = CLAIM_STALE_SECONDS / 2
CLAIM_ATTEMPTS = 40
DIMS = ("time", "type", "branch", "commit", "pr")
BASE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
SEGMENT_RE = re.compile(r"^[A-Za-z0-9._%-]+$")
Records = list[dict[str, Any]]  # JSON items of a listing (an alias: the class's own ``list`` shadows the builtin)
SETTINGS = ("api_url", "project", "token", "package_name", "hide_index", "timeout", "max_attempts", "verify_ssl")


# ------------------------------------------------------------------------------------------------
# names


@dataclass(frozen=True)
class Remote:
    """Where one object name lives: a package (name, version) and a file in it."""

    package: str
    version: str
    file: str
    index: bool


def encode_value(segment: str) -> str:
    """An index value segment (``layout.encode_segment`` output) as package-name characters."""
    if not SEGMENT_RE.match(segment):
        raise UsageError(f"invalid index segment {segment[:80]!r}")
    return segment.replace("_", "_u").replace("%", "_p")


def decode_value(text: str) -> str | None:
    """The inverse of :func:`encode_value`; None for a hashed (too long) value."""
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch != "_":
            out.append(ch)
            i += 1
            continue
        code = text[i + 1: i + 2]
        if code == "u":
            out.append("_")
        elif code == "p":
            out.append("%")
        else:
            return None
        i += 2
    return "".join(out)


class Names:
    """The mapping between store object names and generic packages, for one ``package_name``."""

    def __init__(self, base: str = "aqe") -> None:
        if not BASE_RE.match(base) or ".." in base:
            raise UsageError(f"invalid gitlab.package_name {base!r}",
                             hint="use 1-64 of A-Z a-z 0-9 . _ -, starting with a letter or digit")
        self.base = base
        self.index_base = f"{base}-idx{SEP}"
        self.run_packages = {f"{base}-{t}": t for t in DOC_TYPES}
        self.badge_package = f"{base}-badges"

    def run_package(self, doc_type: str) -> str:
        return f"{self.base}-{doc_type}"

    def index_package(self, dim: str, segment: str | None = None) -> str:
        name = f"{self.index_base}{dim}{SEP}"
        if segment is None:
            return name
        enc = encode_value(segment)
        if len(name) + len(enc) + 1 > NAME_MAX:
            enc = enc[:NAME_MAX - len(name) - 20] + "_h" + hashlib.sha256(segment.encode()).hexdigest()[:16]
        return f"{name}{enc}{SEP}"

    def remote(self, name: str) -> Remote:
        """The package, version and file of an object name; UsageError for names outside the layout."""
        parts = name.split("/")
        if parts[0] == "runs" and len(parts) == 5:
            key, doc_type, part, file = parts[1:]
            if doc_type in DOC_TYPES and KEY_RE.match(key) and ".." not in key \
                    and PART_RE.match(part) and re.fullmatch(r"[A-Za-z0-9._-]{1,200}", file):
                return Remote(self.run_package(doc_type), key, f"{part}{SEP}{file}", False)
        elif parts[0] == "index" and len(parts) >= 3:
            entry = parts[-1]
            parsed = layout.parse_entry(entry)
            if parsed is not None and parts[-2] == layout.inv_day(parsed.created_ms):
                package = self._index_package_of(parts[1], parts[2:-2])
                if package is not None:
                    return Remote(package, entry.replace("~", SEP), INDEX_FILE, True)
        elif parts[0] == "badges" and len(parts) == 3 and re.fullmatch(r"[a-z]{1,20}\.(svg|json)", parts[2]):
            return Remote(self.badge_package, self.badge_version(parts[1]), parts[2], False)
        raise UsageError(f"object name {name[:120]!r} is outside the storage layout")

    def badge_version(self, segment: str) -> str:
        """The package version of a branch's badges: its encoded segment (hashed when too long)."""
        enc = encode_value(segment)
        if len(enc) > 200:
            enc = enc[:160] + "_h" + hashlib.sha256(segment.encode()).hexdigest()[:16]
        return enc

    def _index_package_of(self, dim: str, values: list[str]) -> str | None:
        if dim == "time" and not values:
            return self.index_package("time")
        if dim in ("type", "branch", "pr") and len(values) == 1:
            return self.index_package(dim, values[0])
        if dim == "commit" and len(values) == 2 and values[1][:2] == values[0]:
            return self.index_package(dim, values[1])
        return None

    def index_name(self, package: str, version: str) -> str | None:
        """The object name of an index package (None if it is not one, or its value was hashed)."""
        if not package.startswith(self.index_base) or not package.endswith(SEP):
            return None
        dim, _, rest = package[len(self.index_base):-1].partition(SEP)
        entry_name = version.replace(SEP, "~")
        entry = layout.parse_entry(entry_name)
        if dim not in DIMS or entry is None:
            return None
        day = layout.inv_day(entry.created_ms)
        if dim == "time":
            return None if rest else f"index/time/{day}/{entry_name}"
        value = decode_value(rest)
        if not value:
            return None
        if dim == "commit":
            return f"index/commit/{value[:2]}/{value}/{day}/{entry_name}"
        return f"index/{dim}/{value}/{day}/{entry_name}"

    def run_name(self, package: str, key: str, file_name: str) -> str | None:
        doc_type = self.run_packages.get(package)
        part, sep, rest = file_name.partition(SEP)
        if doc_type is None or not sep or not rest or not PART_RE.match(part):
            return None
        return f"runs/{key}/{doc_type}/{part}/{rest}"


# ------------------------------------------------------------------------------------------------
# the backend


def _epoch(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class _Body(io.RawIOBase):
    """A download's body; transport errors become BackendError (not decode errors)."""

    def __init__(self, response: Any, what: str) -> None:
        self._response = response
        self._raw = response.raw
        self._raw.decode_content = True
        self._what = what

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        try:
            return self._raw.read(None if n is None or n < 0 else n) or b""
        except Exception as exc:  # urllib3 protocol / timeout errors
            raise BackendError(f"GitLab: reading {self._what} failed: {type(exc).__name__}",
                               hint="retry; check the network to the GitLab server") from None

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._response.close()
        super().close()


class GitLabStorageError(BackendError):
    """A GitLab API failure, with the HTTP status (None: the server was not reached)."""

    status: int | None = None


class GitLabBackend(Backend):
    kind = "gitlab"

    def __init__(self, client: Any, project: str | int, *, package_name: str = "aqe",
                 hide_index: bool = True) -> None:
        self.client = client
        self.project_ref = str(project)
        self.project_path = quote(self.project_ref, safe="")
        self.project = client.projects.get(self.project_ref, lazy=True)
        self.names = Names(package_name)
        self.hide_index = hide_index
        self.can_delete = True  # becomes False after the first 403 on a delete (a Developer's job token)
        self._ids: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    @property
    def location(self) -> str:
        host = urlsplit(self.client.url).netloc or self.client.url
        return f"the GitLab package registry of project {self.project_ref} on {host} ({self.names.base}-*)"

    @property
    def request_count(self) -> int:
        return int(self.client.request_count)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.session.close()

    # -- errors -------------------------------------------------------------------------------
    def fail(self, exc: BaseException, action: str, what: str) -> NoReturn:
        """Raise the one-line :class:`GitLabStorageError` for a python-gitlab / transport error."""
        from aqe_ci.gitlab_api import message_of, status_of

        status = status_of(exc)
        message, hint = self._explain(status, message_of(exc), action, what, exc)
        err = GitLabStorageError(message, hint=hint)
        err.status = status
        raise err from None

    def _explain(self, status: int | None, text: str, action: str, what: str, exc: BaseException) -> tuple[str, str]:
        """What went wrong and how to fix it, in GitLab's terms (one line each, never a token)."""
        project, auth = self.project_ref, self.client.auth_kind
        low = text.lower()
        if status is None:
            return (f"GitLab: cannot reach {self.client.url} to {action} {what}: {type(exc).__name__}",
                    "check gitlab.api_url (CI_API_V4_URL) and the network")
        if "storage" in low and any(w in low for w in ("limit", "quota", "exceeded", "full")):
            return (f"GitLab: the storage quota of project {project} is used up ({status}: {text})",
                    "free space (`aqe artifacts cleanup`), or raise the namespace's storage limit")
        if status == 413:
            return (f"GitLab: {what} is larger than the package registry's file size limit (413)",
                    'compress more ("compression": {"algorithm": "zstd"}) or ask an administrator to raise the '
                    "generic package file size limit")
        if status == 401:
            return (f"GitLab rejected the {auth} (401) for project {project}",
                    "set gitlab.token (an access token with the api scope) or run inside a GitLab job (CI_JOB_TOKEN)")
        if status == 403 and action == "delete":
            return (f"GitLab: deleting from the package registry of project {project} was refused (403)",
                    "deleting packages needs the Maintainer role: use a project or personal access token "
                    "(api scope) of a Maintainer in gitlab.token")
        if status == 403:
            detail = f": {text}" if text and "403" not in text else ""
            return (f"GitLab: the package registry of project {project} refused the {auth} (403{detail})",
                    "enable the package registry (Settings > General > Visibility, project features, permissions) "
                    "and use CI_JOB_TOKEN or an api-scope token with the Developer role")
        if status == 404:
            return (f"GitLab: project {project} not found, or its package registry is disabled or not visible to "
                    "the token (404)", "check gitlab.project (CI_PROJECT_ID) and that the token's user can see it")
        if status == 429:
            return (f"GitLab: throttled (429) while trying to {action} {what}, after {self.client.max_attempts} "
                    "attempts", "retry later, or ask an administrator about the API rate limits")
        return (f"GitLab answered {status} to {action} {what} in project {project}: {text}",
                "retry; if it persists, check the GitLab server's health")

    def _call(self, action: str, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (gitlab.exceptions.GitlabError, requests.RequestException) as exc:
            self.fail(exc, action, what)

    # -- REST helpers ---------------------------------------------------------------------------
    def _get_page(self, path: str, params: dict[str, Any], page: int, per_page: int,
                  what: str) -> tuple[Records, bool]:
        response = self._call("list", what, self.client.http_request, "get", path,
                              query_data={**params, "page": page, "per_page": per_page})
        items = response.json()
        if not isinstance(items, list):
            raise GitLabStorageError(f"GitLab answered a listing of {what} with something else than a list")
        nxt = response.headers.get("x-next-page")
        more = bool(nxt) if nxt is not None else len(items) >= per_page
        return items, more

    def _paged(self, path: str, params: dict[str, Any], what: str, first: int = FIRST_PAGE) -> Iterator[dict[str, Any]]:
        """Every item of an offset-paginated listing, fetched lazily: a small first page, then 100s."""
        done, page, per_page = 0, 1, first
        while True:
            items, more = self._get_page(path, params, page, per_page, what)
            for item in items[done - (page - 1) * per_page:]:
                done += 1
                yield item
            if not more or not items:
                return
            if per_page != PAGE:
                per_page = PAGE
                page = done // PAGE + 1
            else:
                page += 1

    def _packages(self, *, name: str | None = None, version: str | None = None, hidden: bool = False,
                  first: int = FIRST_PAGE) -> Iterator[dict[str, Any]]:
        params: dict[str, Any] = {"package_type": "generic", "order_by": "version", "sort": "asc"}
        if name:
            params["package_name"] = name
        if version:
            params["package_version"] = version
        if hidden:
            params["status"] = "hidden"
        for pkg in self._paged(f"/projects/{self.project_path}/packages", params, "packages", first):
            if version is not None and pkg.get("version") != version:
                continue  # a server without the package_version filter (GitLab < 16.6) returns everything
            with self._lock:
                self._ids[(pkg["name"], pkg["version"])] = int(pkg["id"])
            yield pkg

    def _package_id(self, package: str, version: str, *, hidden: bool = False) -> int | None:
        with self._lock:
            cached = self._ids.get((package, version))
        if cached is not None:
            return cached
        for pkg in self._packages(name=package, version=version, hidden=hidden):
            if pkg["name"] == package:
                return int(pkg["id"])
        return None

    def _files(self, package_id: int) -> Records:
        return list(self._paged(f"/projects/{self.project_path}/packages/{package_id}/package_files", {},
                                "package files", first=PAGE))

    # -- writes ---------------------------------------------------------------------------------
    def _upload(self, remote: Remote, body: BinaryIO, what: str) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"select": "package_file"}
        if remote.index and self.hide_index:
            kwargs["status"] = "hidden"
        try:
            result = self.project.generic_packages.upload(remote.package, remote.version, remote.file,
                                                          data=body, **kwargs)
        except gitlab.exceptions.GitlabUploadError as exc:
            if "duplicate" in str(getattr(exc, "error_message", "")).lower():
                raise ObjectExists(f"object {what} already exists") from None
            self.fail(exc, "upload", what)
        except (gitlab.exceptions.GitlabError, requests.RequestException) as exc:
            self.fail(exc, "upload", what)
        record = result.attributes
        if record.get("package_id") is not None:
            with self._lock:
                self._ids[(remote.package, remote.version)] = int(record["package_id"])
        return dict(record)

    def put_file(self, name: str, path: Path, *, if_absent: bool = False) -> None:
        with open(path, "rb") as body:
            self._put(name, body, if_absent)

    def put_bytes(self, name: str, data: bytes, *, if_absent: bool = False) -> None:
        self._put(name, io.BytesIO(data), if_absent)

    def _put(self, name: str, body: BinaryIO, if_absent: bool) -> None:
        remote = self.names.remote(name)
        if remote.index:
            if body.read(1):
                raise UsageError(f"index object {name} must be empty")
            self._upload(remote, io.BytesIO(name.encode()), name)
            return
        if if_absent:
            self._create_only(remote, body, name)
            return
        try:
            record = self._upload(remote, body, name)
        except ObjectExists:  # the project rejects duplicates: replace = delete, then upload
            self.delete(name)
            body.seek(0)
            record = self._upload(remote, body, name)
        if remote.package == self.names.badge_package:
            self._drop_older(remote, record, name)

    def _drop_older(self, remote: Remote, record: Mapping[str, Any], name: str) -> None:
        """Remove the older copies of a rewritten file (best effort: a Developer's job token may not)."""
        found = self._live_files(remote) if self.can_delete else None
        if found is None:
            return
        package = self.project.packages.get(found[0], lazy=True)
        for f in found[1]:
            if f["file_name"] == remote.file and int(f["id"]) < int(record.get("id") or 0):
                try:
                    self._delete_call(package.package_files.delete, int(f["id"]), name)
                except GitLabStorageError:
                    return  # kept: downloads return the newest copy anyway

    def _create_only(self, remote: Remote, body: BinaryIO, name: str) -> None:
        """Exactly one of concurrent writers of ``name`` succeeds (the claim protocol, module docstring)."""
        part = remote.file.partition(SEP)[0]
        for attempt in range(CLAIM_ATTEMPTS):
            token = secrets.token_hex(8)
            started = time.monotonic()
            claim = self._upload(Remote(remote.package, remote.version, f"{part}{SEP}{CLAIM}{token}", False),
                                 io.BytesIO(b""), f"the write claim for {name}")
            files = self._files(int(claim["package_id"]))
            if any(f["file_name"] == remote.file for f in files):
                self._drop(remote, claim, release=False)
                raise ObjectExists(f"object {name} already exists")
            if self._alone(files, part, claim) and time.monotonic() - started < CLAIM_WINDOW_SECONDS:
                self._upload(remote, body, name)
                self._drop(remote, claim, release=False)
                return
            self._drop(remote, claim, release=True)
            time.sleep(random.uniform(0.02, min(2.0, 0.05 * (1.6 ** attempt))))
        raise GitLabStorageError(f"GitLab: could not obtain the write claim for {name} after {CLAIM_ATTEMPTS} rounds",
                           hint="another writer of the same document keeps it busy; retry later")

    @staticmethod
    def _alone(files: Records, part: str, claim: dict[str, Any]) -> bool:
        """Is ``claim`` the only live claim of ``part`` (released and stale claims do not count)?"""
        prefix, released_prefix = f"{part}{SEP}{CLAIM}", f"{part}{SEP}{RELEASED}"
        released = {f["file_name"][len(released_prefix):] for f in files if f["file_name"].startswith(released_prefix)}
        mine = _epoch(claim.get("created_at")) or time.time()
        for f in files:
            name = f["file_name"]
            if not name.startswith(prefix) or int(f["id"]) == int(claim["id"]):
                continue
            if name[len(prefix):] in released:
                continue
            created = _epoch(f.get("created_at"))
            if created is not None and created < mine - CLAIM_STALE_SECONDS:
                continue  # a killed writer's claim
            return False
        return True

    def _drop(self, remote: Remote, claim: dict[str, Any], *, release: bool) -> None:
        """Remove our claim. Where deleting is refused, a loser (``release``) uploads a release marker
        instead; the claim of a finished write may stay (cleanup collects it)."""
        if self.can_delete:
            try:
                files = self.project.packages.get(int(claim["package_id"]), lazy=True).package_files
                files.delete(int(claim["id"]))
                return
            except gitlab.exceptions.GitlabDeleteError as exc:
                if exc.response_code == 404:
                    return
                if exc.response_code == 403:
                    self.can_delete = False
                elif release:
                    self.fail(exc, "delete", "a write claim")
            except (gitlab.exceptions.GitlabError, requests.RequestException) as exc:
                if release:
                    self.fail(exc, "delete", "a write claim")
        if release:
            part, _, rest = claim["file_name"].partition(SEP)
            marker = f"{part}{SEP}{RELEASED}{rest[len(CLAIM):]}"
            self._upload(Remote(remote.package, remote.version, marker, False), io.BytesIO(b""),
                         "a claim release marker")

    # -- reads ----------------------------------------------------------------------------------
    def open(self, name: str) -> BinaryIO:
        remote = self.names.remote(name)
        if remote.index:
            if not self.exists(name):
                raise ObjectMissing(f"object {name} not found in {self.location}")
            return io.BytesIO(b"")
        path = (f"/projects/{self.project_path}/packages/generic/{quote(remote.package, safe='+')}/"
                f"{quote(remote.version, safe='+')}/{quote(remote.file, safe='+')}")
        try:
            response = self.client.http_request("get", path, streamed=True, raw=True)
        except gitlab.exceptions.GitlabHttpError as exc:
            if exc.response_code == 404:
                raise ObjectMissing(f"object {name} not found in {self.location}") from None
            self.fail(exc, "download", name)
        except (gitlab.exceptions.GitlabError, requests.RequestException) as exc:
            self.fail(exc, "download", name)
        return io.BufferedReader(_Body(response, name))

    def exists(self, name: str) -> bool:
        remote = self.names.remote(name)
        if remote.index:
            return self._package_id(remote.package, remote.version, hidden=self.hide_index) is not None
        try:
            with self.open(name):
                return True
        except ObjectMissing:
            return False

    # -- listing --------------------------------------------------------------------------------
    def list(self, prefix: str, *, start_after: str | None = None, limit: int | None = None) -> Iterator[ObjectInfo]:
        if limit is not None and limit <= 0:
            return
        if prefix.startswith("index/"):
            source: Iterator[ObjectInfo] = self._list_index(prefix)
        elif prefix.startswith("runs/"):
            source = self._list_runs(prefix)
        else:  # "", "in", "run", …: everything under the matching top-level name(s)
            tops = [t for t in ("index/", "runs/") if t.startswith(prefix)]
            source = (i for t in sorted(tops) for i in (self._list_index(t) if t == "index/" else self._list_runs(t)))
        count = 0
        for info in source:
            if not info.name.startswith(prefix) or (start_after is not None and info.name <= start_after):
                continue
            yield info
            count += 1
            if limit is not None and count >= limit:
                return

    def _index_query(self, prefix: str) -> tuple[str, bool]:
        """The package-name filter for an index prefix and whether it names exactly one package."""
        parts = prefix[len("index/"):].split("/") if prefix.startswith("index/") else [""]
        dim = parts[0]
        if len(parts) == 1:  # "index/", "index/br"
            return (self.names.index_base + dim if dim in DIMS or not dim else self.names.index_base), False
        if dim == "time":
            return self.names.index_package("time"), True
        if dim in ("type", "branch", "pr"):
            value = parts[1]
            if len(parts) > 2:
                return self.names.index_package(dim, value), True
            return f"{self.names.index_base}{dim}{SEP}{encode_value(value) if value else ''}", False
        if dim == "commit":  # index/commit/<sh>/<sha>/…: the shard is the sha's first two characters
            if len(parts) > 3:
                return self.names.index_package(dim, parts[2]), True
            value = (parts[2] if len(parts) == 3 else "") or parts[1]
            return f"{self.names.index_base}{dim}{SEP}{encode_value(value) if value else ''}", False
        return self.names.index_base, False

    def _list_index(self, prefix: str) -> Iterator[ObjectInfo]:
        query, exact = self._index_query(prefix)
        found = self._packages(name=query, hidden=self.hide_index)
        if exact:
            for pkg in found:
                if pkg["name"] == query:
                    info = self._index_info(pkg)
                    if info is not None:
                        yield info
            return
        infos = [info for pkg in found if pkg["name"].startswith(query) for info in [self._index_info(pkg)] if info]
        yield from sorted(infos, key=lambda i: i.name)

    def _index_info(self, pkg: dict[str, Any]) -> ObjectInfo | None:
        name = self.names.index_name(pkg["name"], pkg["version"])
        if name is None and pkg["name"].startswith(self.names.index_base) and "_h" in pkg["name"]:
            name = self._hashed_name(pkg)  # a too-long value: the entry file holds the full name
        if name is None:
            return None
        return ObjectInfo(name=name, size=0, modified=_epoch(pkg.get("created_at")))

    def _hashed_name(self, pkg: dict[str, Any]) -> str | None:
        path = (f"/projects/{self.project_path}/packages/generic/{quote(pkg['name'], safe='+')}/"
                f"{quote(pkg['version'], safe='+')}/{INDEX_FILE}")
        try:
            text = self.client.http_request("get", path, raw=True).content.decode("ascii")
        except Exception:
            return None
        return text if text.startswith("index/") else None

    def _list_runs(self, prefix: str) -> Iterator[ObjectInfo]:
        parts = prefix[len("runs/"):].split("/") if prefix.startswith("runs/") else [""]
        key = parts[0] if len(parts) > 1 else None  # a whole key: "runs/<key>/…"
        doc_type = parts[1] if len(parts) > 2 else None
        if doc_type is not None and doc_type not in DOC_TYPES:
            return
        if key is not None:
            names = [self.names.run_package(doc_type)] if doc_type else None
            packages = list(self._packages(name=names[0] if names else None, version=key, first=PAGE))
        else:
            packages = [p for t in DOC_TYPES for p in self._packages(name=self.names.run_package(t), first=PAGE)]
        infos: dict[str, ObjectInfo] = {}
        newest: dict[str, int] = {}
        for pkg in packages:
            if pkg["name"] not in self.names.run_packages or (doc_type and pkg["name"] != self.names.run_package(doc_type)):
                continue
            for f in self._files(int(pkg["id"])):
                name = self.names.run_name(pkg["name"], pkg["version"], f["file_name"])
                if name is None or newest.get(name, -1) > int(f["id"]):
                    continue  # duplicates of one name: the newest is the object (as a download returns it)
                newest[name] = int(f["id"])
                infos[name] = ObjectInfo(name=name, size=int(f.get("size") or 0), modified=_epoch(f.get("created_at")))
        yield from (infos[n] for n in sorted(infos))

    # -- deletes --------------------------------------------------------------------------------
    def delete(self, name: str) -> None:
        remote = self.names.remote(name)
        if remote.index:
            pid = self._package_id(remote.package, remote.version, hidden=self.hide_index)
            if pid is not None:
                self._delete_package(pid, remote, name)
            return
        found = self._live_files(remote)
        if found is None:
            return
        pid, files = found
        doomed = [f for f in files if f["file_name"] == remote.file]
        if doomed and len(doomed) == len(files):
            self._delete_package(pid, remote, name)
            return
        package = self.project.packages.get(pid, lazy=True)
        for f in doomed:
            self._delete_call(package.package_files.delete, int(f["id"]), name)

    def _live_files(self, remote: Remote) -> tuple[int, Records] | None:
        """The package id and files of a run package; a cached id whose package is gone is looked up again."""
        for _ in range(2):
            pid = self._package_id(remote.package, remote.version)
            if pid is None:
                return None
            try:
                return pid, self._files(pid)
            except GitLabStorageError as err:
                if err.status != 404:
                    raise
                with self._lock:
                    self._ids.pop((remote.package, remote.version), None)
        return None

    def _delete_package(self, pid: int, remote: Remote, name: str) -> None:
        self._delete_call(self.project.packages.delete, pid, name)
        with self._lock:
            self._ids.pop((remote.package, remote.version), None)

    def _delete_call(self, fn: Any, ident: int, name: str) -> None:
        try:
            fn(ident)
        except gitlab.exceptions.GitlabDeleteError as exc:
            if exc.response_code == 404:
                return
            if exc.response_code == 403:
                self.can_delete = False
            self.fail(exc, "delete", name)
        except (gitlab.exceptions.GitlabError, requests.RequestException) as exc:
            self.fail(exc, "delete", name)


# ------------------------------------------------------------------------------------------------
# construction


def from_settings(settings: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> GitLabBackend:
    """A backend from the ``gitlab`` config section, with GitLab CI's variables as defaults.

    ``api_url`` ← ``CI_API_V4_URL``; ``project`` ← ``CI_PROJECT_ID``; authentication: ``token`` (an
    access token) if set, else ``CI_JOB_TOKEN`` inside a job, else ``AQE_GITLAB_TOKEN`` / ``GITLAB_TOKEN``.
    """
    from aqe_ci.gitlab_api import GitLabClient

    env = os.environ if environ is None else environ
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        raise UsageError(f"unknown gitlab setting {unknown[0]!r}", hint=f"known settings: {', '.join(SETTINGS)}")
    api_url = settings.get("api_url") or env.get("CI_API_V4_URL")
    project = settings.get("project") or env.get("CI_PROJECT_ID")
    if not api_url:
        raise UsageError('backend "gitlab": no API URL', hint='set "gitlab": {"api_url": "https://gitlab.example.com/api/v4"} '
                                                         "or run inside a GitLab job (CI_API_V4_URL)")
    if not project:
        raise UsageError('backend "gitlab": no project', hint='set "gitlab": {"project": "group/project"} '
                                                         "or run inside a GitLab job (CI_PROJECT_ID)")
    token = settings.get("token") or None
    job_token = None if token else (env.get("CI_JOB_TOKEN") or None)
    if not token and not job_token:
        token = env.get("AQE_GITLAB_TOKEN") or env.get("GITLAB_TOKEN") or None
    if not token and not job_token:
        raise UsageError('backend "gitlab": no token',
                         hint='set "gitlab": {"token": "${AQE_GITLAB_TOKEN}"} (an access token with the api scope), '
                              "or run inside a GitLab job (CI_JOB_TOKEN)")
    client = GitLabClient(str(api_url), private_token=token, job_token=job_token,
                          timeout=float(settings.get("timeout") or 60), max_attempts=int(settings.get("max_attempts") or 5),
                          ssl_verify=bool(settings.get("verify_ssl", True)))
    return GitLabBackend(client, project, package_name=str(settings.get("package_name") or "aqe"),
                         hide_index=bool(settings.get("hide_index", True)))
