"""The store: DESIGN's storage invariants over any :class:`~aqe_ci.storage.base.Backend`.

Write protocol for one document ``(key, type, part)``:

1. compress the payload (and blobs) to temp files, hashing the uncompressed bytes;
2. upload them under names unique to this writer (``data-<upload_id>…``), so concurrent writers never
   touch each other's bytes;
3. create ``manifest.json`` with a create-only write — the commit point. The loser of a race gets
   :class:`~aqe_ci.errors.ConflictError` and removes its own payload;
4. write the index entries (empty objects whose names carry what ``list`` shows).

A reader only trusts what a manifest names, verifies sha256 and size on every read, and a document
without a manifest is invisible. Deletes write a tombstone first, then remove index entries,
manifest, payload and tombstone; ``repair`` finishes interrupted deletes and writes, and collects
orphans older than a grace period.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import IO, Any, cast

from aqe_ci import __version__
from aqe_ci.errors import (
    ConflictError,
    IntegrityError,
    NotFoundError,
    ObjectExists,
    ObjectMissing,
    UsageError,
)
from aqe_ci.model import keys
from aqe_ci.model.run import RunFacts
from aqe_ci.model.summary import (  # noqa: F401 (re-exported)
    CARD_FIELDS,
    SUMMARY_FIELDS,
    card_summary,
    summarize,
)
from aqe_ci.storage import layout
from aqe_ci.storage.base import Backend, DocumentBackend, DocumentWrite, ObjectMeta
from aqe_ci.storage.codec import Codec, encode_file, verified_bytes, verified_copy
from aqe_ci.storage.layout import Entry
from aqe_ci.storage.query import Query as Query  # re-exported: the listing filter

SCHEMA_VERSION = 1
ORPHAN_GRACE_SECONDS = 3600.0


@dataclass(frozen=True)
class Manifest:
    """A stored manifest: ``data`` is its JSON (``manifest.schema.json``), the properties its fields."""

    data: dict[str, Any]

    @property
    def key(self) -> str:
        return str(self.data["key"])

    @property
    def type(self) -> str:
        return str(self.data["type"])

    @property
    def part(self) -> str:
        return str(self.data["part"])

    @property
    def created_at(self) -> str:
        return str(self.data["created_at"])

    @property
    def upload_id(self) -> str | None:
        value = self.data.get("upload_id")
        return value if isinstance(value, str) else None

    @cached_property
    def run(self) -> RunFacts:
        """Commit, branch, PR, base branch and sha, platform, repository, run id and URL (read once)."""
        return RunFacts.from_manifest(self.data)

    @property
    def commit(self) -> str | None:
        return self.run.commit

    @property
    def branch(self) -> str | None:
        return self.run.branch

    @property
    def pr(self) -> int | None:
        return self.run.pr

    @property
    def base_branch(self) -> str | None:
        return self.run.base_branch

    @property
    def base_sha(self) -> str | None:
        return self.run.base_sha

    @property
    def platform(self) -> str | None:
        return self.run.platform

    @property
    def tags(self) -> dict[str, str]:
        return dict(self.data.get("tags") or {})

    @property
    def metadata(self) -> dict[str, Any]:
        return dict(self.data.get("metadata") or {})

    @property
    def summary(self) -> dict[str, Any]:
        return dict(self.data.get("summary") or {})

    @property
    def payload(self) -> dict[str, Any]:
        """``object``, ``sha256``, ``size``, ``stored_size``, ``codec`` of the stored document."""
        return dict(self.data["payload"])

    @property
    def blobs(self) -> list[dict[str, Any]]:
        return list(self.data.get("blobs") or [])

    @property
    def id(self) -> tuple[str, str, str]:
        return (self.key, self.type, self.part)

    @property
    def created_ms(self) -> int:
        return keys.to_ms(keys.parse_time(self.created_at))

    def entry(self) -> Entry:
        run = self.run
        return Entry(
            key=self.key, type=self.type, part=self.part, created_ms=self.created_ms,
            commit=run.commit, branch=run.branch, pr=run.pr, tags=self.tags,
            summary=card_summary(self.type, self.summary), stored_size=self.payload["stored_size"],
        )


# ------------------------------------------------------------------------------------------------
# summaries

# SUMMARY_FIELDS, CARD_FIELDS, summarize, card_summary: aqe_ci/model/summary.py (imported above)


# ------------------------------------------------------------------------------------------------


class Store:
    def __init__(self, backend: Backend, *, codec: Codec | None = None,
                 clock: Callable[[], datetime] = keys.utc_now,
                 retention_days: Callable[[str], int] | None = None) -> None:
        self.backend = backend
        self.codec = codec or Codec()
        self.clock = clock
        #: days to keep a document of a type, for backends that expire what they store (github)
        self.retention_days = retention_days

    @property
    def location(self) -> str:
        return self.backend.location

    # -- writing ------------------------------------------------------------------------------
    def put(
        self,
        *,
        doc_type: str,
        key: str,
        payload: Path,
        summary: Mapping[str, Any],
        part: str = "default",
        run: RunFacts | None = None,
        tags: Mapping[str, str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        blobs: Mapping[str, Path] | None = None,
        overwrite: bool = False,
        created_at: datetime | None = None,
    ) -> Manifest:
        """Store the serialized, already validated document at ``payload``.

        ``run``: what the manifest records about the run that produced it (commit, branch, PR, …).
        """
        keys.check_type(doc_type)
        keys.check_key(key)
        keys.check_part(part)
        for name in blobs or {}:
            if not re.fullmatch(r"[A-Za-z0-9._-]{1,128}", name):
                raise UsageError(f"invalid blob name {name!r}")
        old: Manifest | None = None
        if overwrite and not isinstance(self.backend, DocumentBackend):
            with contextlib.suppress(NotFoundError):
                old = self.manifest(key, doc_type, part)
        # without overwrite, the create-only manifest write is the conflict check (a HEAD here would
        # only fail earlier; `aqe artifacts store` checks every document before writing any)
        import secrets

        upload_id = secrets.token_hex(8)

        def fields(payload_obj: dict[str, Any], blob_objs: builtins.list[dict[str, Any]]) -> dict[str, Any]:
            return self._manifest_data(key=key, doc_type=doc_type, part=part, upload_id=upload_id,
                                       run=run or RunFacts(), now=created_at or self.clock(), tags=tags,
                                       metadata=metadata, summary=summary, payload_obj=payload_obj,
                                       blob_objs=blob_objs)

        if isinstance(self.backend, DocumentBackend):
            return self._put_document(key=key, doc_type=doc_type, part=part, upload_id=upload_id,
                                      payload=payload, blobs=blobs or {}, overwrite=overwrite, fields=fields)
        manifest = self._put_objects(key=key, doc_type=doc_type, part=part, upload_id=upload_id, payload=payload,
                                     blobs=blobs or {}, overwrite=overwrite, fields=fields)
        self._write_index(manifest)
        if old is not None:
            self._drop_replaced(old, manifest)
        return manifest

    def _put_objects(self, *, key: str, doc_type: str, part: str, upload_id: str, payload: Path,
                     blobs: Mapping[str, Path], overwrite: bool,
                     fields: Callable[[dict[str, Any], builtins.list[dict[str, Any]]], dict[str, Any]]) -> Manifest:
        """The write protocol of an object store: payload and blobs under unique names, then the manifest."""
        meta = ObjectMeta(doc_type=doc_type, kind="doc")
        uploaded: builtins.list[str] = []
        try:
            payload_obj = self._upload(payload, layout.payload_name(key, doc_type, part, upload_id,
                                                                     self.codec.extension), meta, uploaded)
            blob_objs = []
            for name, path in sorted(blobs.items()):
                obj = self._upload(path, layout.blob_name(key, doc_type, part, upload_id, name,
                                                          self.codec.extension), meta, uploaded)
                blob_objs.append({"name": name, **obj})
            manifest = Manifest(fields(payload_obj, blob_objs))
            self._commit(manifest, overwrite=overwrite, uploaded=uploaded)
        except BaseException:
            for name in uploaded:
                with contextlib.suppress(Exception):
                    self.backend.delete(name)
            raise
        return manifest

    def _manifest_data(self, *, key: str, doc_type: str, part: str, upload_id: str, run: RunFacts, now: datetime,
                       tags: Mapping[str, str] | None, metadata: Mapping[str, Any] | None,
                       summary: Mapping[str, Any], payload_obj: dict[str, Any],
                       blob_objs: builtins.list[dict[str, Any]]) -> dict[str, Any]:
        """The manifest of a document, validated against manifest.schema.json."""
        manifest_data: dict[str, Any] = {
            "manifest_version": 1,
            "key": key,
            "type": doc_type,
            "part": part,
            "created_at": keys.format_time(now),
            "upload_id": upload_id,
            **run.as_json(),
            "tags": dict(tags or {}),
            "metadata": dict(metadata or {}),
            "summary": dict(summary),
            "schema_version": SCHEMA_VERSION,
            "producer": f"aqe-artifacts {__version__}",
            "payload": payload_obj,
            "blobs": blob_objs,
        }
        from aqe_ci.model.schema import validate_manifest

        validate_manifest(manifest_data)
        return manifest_data

    def _commit(self, manifest: Manifest, *, overwrite: bool, uploaded: builtins.list[str]) -> None:
        """Write the manifest: the commit point. A lost race is a ConflictError; on an unknown outcome
        the payload is kept (``uploaded`` cleared) when a committed manifest may name it."""
        key, doc_type, part = manifest.id
        body = json.dumps(manifest.data, indent=1, sort_keys=True).encode()
        try:
            self.backend.put_object(layout.manifest_name(key, doc_type, part), body,
                                    meta=ObjectMeta(doc_type=doc_type, kind="doc"), if_absent=not overwrite)
        except ObjectExists:
            raise self._conflict(key, doc_type, part) from None
        except Exception:
            # the outcome is unknown (a lost response after retries): never delete a payload
            # that a committed manifest may name
            state = self._committed(key, doc_type, part, manifest.upload_id)
            if state is not False:
                uploaded.clear()  # committed, or unknown: repair collects it if it is an orphan
            if state is not True:
                raise

    def put_document(self, document: Mapping[str, Any], **kwargs: Any) -> Manifest:
        """Serialize and store an in-memory, already validated document (``put``'s other arguments)."""
        doc_type = document["type"]
        import tempfile

        fd, tmp = tempfile.mkstemp(prefix="aqe-doc-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(document, out, separators=(",", ":"), ensure_ascii=False)
            return self.put(doc_type=doc_type, payload=Path(tmp),
                            summary=kwargs.pop("summary", None) or summarize(doc_type, document["data"]), **kwargs)
        finally:
            Path(tmp).unlink(missing_ok=True)

    def _put_document(self, *, key: str, doc_type: str, part: str, upload_id: str, payload: Path,
                      blobs: Mapping[str, Path], overwrite: bool,
                      fields: Callable[[dict[str, Any], builtins.list[dict[str, Any]]], dict[str, Any]]) -> Manifest:
        """The write protocol of a :class:`DocumentBackend`: encode, then hand over the whole document."""
        encoded: builtins.list[tuple[str, Path]] = []
        try:
            payload_obj = self._encode(payload, layout.payload_name(key, doc_type, part, upload_id,
                                                                     self.codec.extension), encoded)
            blob_objs = []
            for name, path in sorted(blobs.items()):
                obj = self._encode(path, layout.blob_name(key, doc_type, part, upload_id, name,
                                                          self.codec.extension), encoded)
                blob_objs.append({"name": name, **obj})
            manifest = Manifest(fields(payload_obj, blob_objs))
            assert isinstance(self.backend, DocumentBackend)
            try:
                self.backend.put_document(DocumentWrite(
                    key=key, type=doc_type, part=part, manifest_name=layout.manifest_name(key, doc_type, part),
                    manifest=json.dumps(manifest.data, indent=1, sort_keys=True).encode(), files=tuple(encoded),
                    entry=manifest.entry(), overwrite=overwrite,
                    retention_days=self.retention_days(doc_type) if self.retention_days else None))
            except ObjectExists:
                raise self._conflict(key, doc_type, part) from None
            return manifest
        finally:
            for _, path in encoded:
                path.unlink(missing_ok=True)

    def _encode(self, path: Path, name: str, encoded: builtins.list[tuple[str, Path]]) -> dict[str, Any]:
        enc = encode_file(path, self.codec)
        encoded.append((name, enc.path))
        return {"object": name, "sha256": enc.sha256, "size": enc.size, "stored_size": enc.stored_size,
                "codec": enc.codec}

    def _upload(self, path: Path, name: str, meta: ObjectMeta, uploaded: builtins.list[str]) -> dict[str, Any]:
        enc = encode_file(path, self.codec)
        try:
            uploaded.append(name)
            self.backend.put_object(name, enc.path, meta=meta)
        finally:
            enc.path.unlink(missing_ok=True)
        return {"object": name, "sha256": enc.sha256, "size": enc.size, "stored_size": enc.stored_size,
                "codec": enc.codec}

    def _committed(self, key: str, doc_type: str, part: str, upload_id: str | None) -> bool | None:
        """Did our manifest land? True/False, or None when the backend cannot tell us now."""
        try:
            return self.manifest(key, doc_type, part).data.get("upload_id") == upload_id
        except NotFoundError:
            return False
        except Exception:
            return None

    def _conflict(self, key: str, doc_type: str, part: str) -> ConflictError:
        return ConflictError(
            f"document {key}/{doc_type}/{part} already exists in {self.location}",
            hint="documents are immutable; use another --key or --part, or --overwrite to replace it "
                 "(docs/troubleshooting.md#document-already-exists)",
        )

    def _write_index(self, manifest: Manifest) -> None:
        meta = ObjectMeta(doc_type=manifest.type, kind="index")
        for name in layout.entry_names(manifest.entry()):
            self.backend.put_object(name, b"", meta=meta)

    def _drop_replaced(self, old: Manifest, new: Manifest) -> None:
        new_names = set(layout.entry_names(new.entry()))
        for name in layout.entry_names(old.entry()):
            if name not in new_names:
                self.backend.delete(name)
        if old.data["payload"]["object"] != new.data["payload"]["object"]:
            self.backend.delete(old.data["payload"]["object"])
        for blob in old.data.get("blobs", []):
            self.backend.delete(blob["object"])

    # -- reading ------------------------------------------------------------------------------
    def manifest(self, key: str, doc_type: str, part: str = "default") -> Manifest:
        keys.check_key(key)
        keys.check_type(doc_type)
        keys.check_part(part)
        name = layout.manifest_name(key, doc_type, part)
        try:
            raw = self.backend.get_bytes(name)
        except ObjectMissing:
            raise NotFoundError(f"no {doc_type} document {key}/{part} in {self.location}",
                                hint="check the key with `aqe artifacts list`") from None
        try:
            data = json.loads(raw)
        except ValueError:
            raise IntegrityError(f"manifest {name} is not valid JSON",
                                 hint="the object was altered; delete the document and store it again") from None
        if not isinstance(data, dict) or data.get("key") != key or data.get("type") != doc_type:
            raise IntegrityError(f"manifest {name} does not describe {key}/{doc_type}/{part}")
        return Manifest(data)

    def manifests(self, key: str, doc_type: str | None = None) -> builtins.list[Manifest]:
        """Every document stored under ``key`` (optionally of one type): one listing plus one read each."""
        keys.check_key(key)
        prefix = f"runs/{key}/" + (f"{keys.check_type(doc_type)}/" if doc_type else "")
        found = []
        for info in self.backend.list(prefix):
            parsed = layout.parse_doc_object(info.name)
            if parsed and parsed[3] == "manifest.json" and parsed[0] == key:
                with contextlib.suppress(NotFoundError):
                    found.append(self.manifest(parsed[0], parsed[1], parsed[2]))
        found.sort(key=lambda m: (keys.DOC_TYPES.index(m.data["type"]), m.data["part"]))
        return found

    def read_payload(self, manifest: Manifest) -> bytes:
        p = manifest.data["payload"]
        for attempt in range(2):
            try:
                with self.backend.open(p["object"]) as stream:
                    return verified_bytes(stream, p["codec"], p["sha256"], p["size"], p["object"])
            except ObjectMissing:
                if attempt:
                    raise IntegrityError(f"payload {p['object']} named by its manifest is missing") from None
                # replaced by a concurrent --overwrite: re-read the manifest once
                manifest = self.manifest(*manifest.id)
                p = manifest.data["payload"]
        raise AssertionError("unreachable")

    def copy_payload(self, manifest: Manifest, out: IO[bytes]) -> None:
        p = manifest.data["payload"]
        try:
            with self.backend.open(p["object"]) as stream:
                verified_copy(stream, p["codec"], p["sha256"], p["size"], out, p["object"])
        except ObjectMissing:
            raise IntegrityError(f"payload {p['object']} named by its manifest is missing") from None

    def load(self, manifest: Manifest) -> dict[str, Any]:
        raw = self.read_payload(manifest)
        try:
            return cast(dict[str, Any], json.loads(raw))
        except ValueError:
            raise IntegrityError(f"payload {manifest.data['payload']['object']} is not valid JSON") from None

    def read_blob(self, manifest: Manifest, name: str) -> bytes:
        for blob in manifest.data.get("blobs", []):
            if blob["name"] == name:
                with self.backend.open(blob["object"]) as stream:
                    return verified_bytes(stream, blob["codec"], blob["sha256"], blob["size"], blob["object"])
        raise NotFoundError(f"document {'/'.join(manifest.id)} has no blob {name!r}")

    # -- queries ------------------------------------------------------------------------------
    def list(self, query: Query | None = None) -> Iterator[Entry]:
        """Entries newest first; the cost grows with what is returned, not with the store."""
        q = query or Query()
        if isinstance(self.backend, DocumentBackend):
            if q.commit and re.fullmatch(r"[0-9a-fA-F]{1,3}", q.commit):
                raise UsageError(f"commit prefix {q.commit!r} is too short", hint="give at least 4 hex digits")
            yield from self._limited(self._completed(self.backend.query(q), q), q.limit)
            return
        if q.key:
            found = [m.entry() for m in self.manifests(q.key, q.type)]
            found.sort(key=lambda e: -e.created_ms)
            yield from self._limited((e for e in found if q.matches(e)), q.limit)
            return
        if q.commit:
            if re.fullmatch(r"[0-9a-fA-F]{1,3}", q.commit):
                raise UsageError(f"commit prefix {q.commit!r} is too short", hint="give at least 4 hex digits")
            prefix = layout.dimension_prefix("commit", q.commit)
        elif q.branch is not None:
            prefix = layout.dimension_prefix("branch", q.branch)
        elif q.pr is not None:
            prefix = layout.dimension_prefix("pr", q.pr)
        elif q.type:
            prefix = layout.dimension_prefix("type", q.type)
        else:
            prefix = layout.dimension_prefix("time")
        start_after = layout.start_after_for(prefix, q.until_ms)

        def entries() -> Iterator[Entry]:
            for info in self.backend.list(prefix, start_after=start_after):
                e = layout.parse_entry(info.name)
                if e is None:
                    continue
                if q.since_ms is not None and e.created_ms < q.since_ms and prefix.endswith("/"):
                    return  # day-sharded listings are newest first: nothing older can match
                if not e.complete:
                    try:
                        e = self.manifest(e.key, e.type, e.part).entry()
                    except NotFoundError:
                        continue
                if q.matches(e):
                    yield e

        if q.commit:
            # commit listings span several commits sharing a prefix: order them by time
            yield from self._limited(iter(sorted(entries(), key=lambda e: -e.created_ms)), q.limit)
        else:
            yield from self._limited(entries(), q.limit)

    def _completed(self, entries: Iterable[Entry], q: Query) -> Iterator[Entry]:
        """Entries that match ``q``, reading the manifest of those whose card was cut short."""
        for e in entries:
            if not e.complete:
                try:
                    e = self.manifest(e.key, e.type, e.part).entry()
                except NotFoundError:
                    continue
            if q.matches(e):
                yield e

    @staticmethod
    def _limited(it: Iterator[Entry], limit: int | None) -> Iterator[Entry]:
        seen: set[tuple[str, str, str]] = set()
        n = 0
        for e in it:
            if e.id in seen:
                continue
            seen.add(e.id)
            yield e
            n += 1
            if limit is not None and n >= limit:
                return

    def latest(self, *, branch: str, doc_type: str | None = None, before_ms: int | None = None) -> Entry | None:
        """The newest document on ``branch`` (of ``doc_type``), created at or before ``before_ms``."""
        return next(self.list(Query(branch=branch, type=doc_type, until_ms=before_ms, limit=1)), None)

    def by_commit(self, commit: str, doc_type: str | None = None) -> builtins.list[Entry]:
        return list(self.list(Query(commit=commit, type=doc_type)))

    def run_entries(self, key: str, doc_type: str | None = None) -> builtins.list[Entry]:
        return list(self.list(Query(key=key, type=doc_type)))

    # -- deleting -----------------------------------------------------------------------------
    def delete(self, key: str, doc_type: str | None = None, part: str | None = None) -> builtins.list[Manifest]:
        """Delete the documents of ``key`` (optionally one type/part). Crash-safe via tombstones."""
        targets = [m for m in self.manifests(key, doc_type) if part is None or m.data["part"] == part]
        if not targets:
            what = "/".join(x for x in (key, doc_type, part) if x)
            raise NotFoundError(f"nothing stored under {what} in {self.location}",
                                hint="check the key with `aqe artifacts list`")
        for m in targets:
            self.delete_manifest(m)
        return targets

    def delete_manifest(self, m: Manifest) -> None:
        key, doc_type, part = m.id
        if isinstance(self.backend, DocumentBackend):
            self.backend.delete_document(key, doc_type, part)
            return
        tomb = layout.tombstone_name(key, doc_type, part)
        self.backend.put_object(tomb, json.dumps({"upload_id": m.data.get("upload_id")}).encode(),
                                meta=ObjectMeta(doc_type=doc_type, kind="doc"))
        for name in layout.entry_names(m.entry()):
            self.backend.delete(name)
        self.backend.delete(layout.manifest_name(key, doc_type, part))
        self.backend.delete(m.data["payload"]["object"])
        for blob in m.data.get("blobs", []):
            self.backend.delete(blob["object"])
        self.backend.delete(tomb)

    # -- maintenance --------------------------------------------------------------------------
    def repair(self, *, grace_seconds: float = ORPHAN_GRACE_SECONDS, dry_run: bool = False,
               now: float | None = None) -> dict[str, builtins.list[str]]:
        """Finish interrupted deletes and writes, drop stale index entries and old orphans.

        A full scan by nature; run by ``aqe artifacts cleanup``.
        """
        import time

        now = time.time() if now is None else now
        if isinstance(self.backend, DocumentBackend):
            return self.backend.repair(grace_seconds=grace_seconds, dry_run=dry_run, now=now)
        report: dict[str, builtins.list[str]] = {"finished_deletes": [], "reindexed": [], "stale_index": [],
                                                 "orphans": []}
        # the documents first, then the index, in the order a writer commits them (manifest, then index
        # entries): a run committed after its folder was listed is not seen, and keeps its entries below
        docs = self._scan_runs()
        # one listing of the index instead of a HEAD per entry (S3: 1 request per 1,000 entries, not 5 per document)
        indexed = {info.name for info in self.backend.list("index/")}
        live_entries: set[str] = set()
        for ident, d in sorted(docs.items()):
            live_entries |= self._repair_document(ident, d, indexed, report, grace_seconds=grace_seconds,
                                                  dry_run=dry_run, now=now)
        self._drop_stale_index(live_entries, report, grace_seconds=grace_seconds, dry_run=dry_run, now=now)
        if hasattr(self.backend, "remove_stale_temp_files"):
            # a dry run lists the same temp files / abandoned uploads a real one removes
            report["orphans"].extend(self.backend.remove_stale_temp_files(grace_seconds, dry_run=dry_run))
        return report

    def _scan_runs(self) -> dict[tuple[str, str, str], dict[str, Any]]:
        """Every document folder under ``runs/``: its objects, and whether it has a manifest / tombstone."""
        docs: dict[tuple[str, str, str], dict[str, Any]] = {}
        for info in self.backend.list("runs/"):
            parsed = layout.parse_doc_object(info.name)
            if not parsed:
                continue
            d = docs.setdefault(parsed[:3], {"objects": [], "manifest": False, "tombstone": False})
            if parsed[3] == "manifest.json":
                d["manifest"] = True
            elif parsed[3] == "tombstone":
                d["tombstone"] = True
            else:
                d["objects"].append(info)
        return docs

    def _repair_document(self, ident: tuple[str, str, str], d: dict[str, Any], indexed: set[str],
                         report: dict[str, builtins.list[str]], *, grace_seconds: float, dry_run: bool,
                         now: float) -> set[str]:
        """Finish a delete, re-index a committed document, collect its old orphans; its live index entries."""
        name = "/".join(ident)
        if d["tombstone"]:
            report["finished_deletes"].append(name)
            if not dry_run:
                if d["manifest"]:
                    with contextlib.suppress(NotFoundError, IntegrityError):
                        self.delete_manifest(self.manifest(*ident))
                for info in d["objects"]:
                    self.backend.delete(info.name)
                self.backend.delete(layout.tombstone_name(*ident))
            return set()
        referenced: set[str] = set()
        live: set[str] = set()
        if d["manifest"]:
            try:
                m = self.manifest(*ident)
            except (NotFoundError, IntegrityError):
                return set()
            referenced.add(m.data["payload"]["object"])
            referenced.update(b["object"] for b in m.data.get("blobs", []))
            names = layout.entry_names(m.entry())
            live = set(names)
            missing = [n for n in names if n not in indexed]
            if missing:
                report["reindexed"].append(name)
                if not dry_run:
                    for n in missing:
                        self.backend.put_object(n, b"", meta=ObjectMeta(doc_type=m.type, kind="index"))
        for info in d["objects"]:
            if info.name in referenced:
                continue
            if info.modified is not None and now - info.modified < grace_seconds:
                continue  # a writer may still be about to commit it
            report["orphans"].append(info.name)
            if not dry_run:
                self.backend.delete(info.name)
        return live

    def _drop_stale_index(self, live_entries: set[str], report: dict[str, builtins.list[str]], *,
                          grace_seconds: float, dry_run: bool, now: float) -> None:
        """Index entries whose document no longer has a manifest."""
        for info in self.backend.list("index/"):
            if info.name in live_entries:
                continue
            e = layout.parse_entry(info.name)
            if e is not None and (info.modified is not None and now - info.modified < grace_seconds):
                # may belong to a write whose manifest we listed before it existed
                if self.backend.exists(layout.manifest_name(e.key, e.type, e.part)):
                    continue
            if e is not None and self.backend.exists(layout.manifest_name(e.key, e.type, e.part)):
                continue
            report["stale_index"].append(info.name)
            if not dry_run:
                self.backend.delete(info.name)

    def iter_all_manifests(self) -> Iterable[Manifest]:
        for info in self.backend.list("runs/"):
            parsed = layout.parse_doc_object(info.name)
            if parsed and parsed[3] == "manifest.json":
                with contextlib.suppress(NotFoundError, IntegrityError):
                    yield self.manifest(*parsed[:3])
