"""``aqe artifacts copy``: migrate stored history from one backend to another.

Any two stores (local → S3, github → S3 when a team outgrows 90 days, …). For every document of
the source (oldest first, optionally ``since``/``until``/one type):

* already in the target with the same sha256 → skipped (a rerun resumes where a killed one stopped
  and is idempotent);
* in the target with other content → a conflict, reported; the rest is still copied (exit 3 at the end);
* else its payload and blobs are streamed through temp files — each verified against the source
  manifest's sha256 as it is read — and stored in the target with the source's key, part, creation
  time, commit, branch, PR, tags and metadata; the target's manifest must then name the same sha256.

Each document is stored by the target's own write protocol, so a copy killed at any instant leaves
every document in the target whole or absent.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aqe_ci.app.root import store_for
from aqe_ci.config import Config
from aqe_ci.errors import IntegrityError, NotFoundError, UsageError
from aqe_ci.model import keys
from aqe_ci.storage.query import Query
from aqe_ci.storage.store import Manifest, Store


@dataclass
class CopyReport:
    source: str
    target: str
    copied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already there, same content
    conflicts: list[str] = field(default_factory=list)  # there with other content: left alone
    bytes_copied: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"from": self.source, "to": self.target, "copied": self.copied, "skipped": self.skipped,
                "conflicts": self.conflicts, "bytes": self.bytes_copied}


def copy_between(source_cfg: Config, target_cfg: Config, **kwargs: Any) -> CopyReport:
    if (source_cfg.backend, source_cfg.section(source_cfg.backend)) == (target_cfg.backend,
                                                                      target_cfg.section(target_cfg.backend)):
        raise UsageError(f"--from-config {source_cfg.source} and --to-config {target_cfg.source} name the same store",
                         hint="copy between two different stores")
    source, target = store_for(source_cfg), store_for(target_cfg)
    try:
        return copy_history(source, target, **kwargs)
    finally:
        source.backend.close()
        target.backend.close()


def copy_history(source: Store, target: Store, *, since_ms: int | None = None, until_ms: int | None = None,
                 doc_type: str | None = None, dry_run: bool = False,
                 progress: Callable[[str, str], None] | None = None) -> CopyReport:
    """Copy every matching document of ``source`` into ``target`` (see the module docstring)."""
    report = CopyReport(source=source.location, target=target.location)
    # oldest first: stores that order by arrival (GitHub lists artifacts by upload) keep the history's order
    entries = list(source.list(Query(type=doc_type, since_ms=since_ms, until_ms=until_ms)))
    for entry in reversed(entries):
        name = "/".join(entry.id)
        m = source.manifest(*entry.id)
        try:
            there: Manifest | None = target.manifest(*entry.id)
        except NotFoundError:
            there = None
        if there is not None:
            same = there.data["payload"]["sha256"] == m.data["payload"]["sha256"]
            (report.skipped if same else report.conflicts).append(name)
            if progress:
                progress("skipped" if same else "conflict", name)
            continue
        if not dry_run:
            _copy_one(source, target, m)
        report.copied.append(name)
        report.bytes_copied += int(m.data["payload"]["size"])
        if progress:
            progress("would copy" if dry_run else "copied", name)
    return report


def _copy_one(source: Store, target: Store, m: Manifest) -> None:
    d = m.data
    with tempfile.TemporaryDirectory(prefix="aqe-copy-") as tmp:
        payload = Path(tmp) / "payload.json"
        with open(payload, "wb") as out:
            source.copy_payload(m, out)  # verified against the source's sha256 while it streams
        blobs: dict[str, Path] = {}
        for blob in d.get("blobs") or []:
            path = Path(tmp) / f"blob-{blob['name']}"
            path.write_bytes(source.read_blob(m, blob["name"]))
            blobs[blob["name"]] = path
        stored = target.put(doc_type=d["type"], key=d["key"], part=d["part"], payload=payload,
                            summary=d.get("summary") or {}, run=m.run, tags=d.get("tags") or {},
                            metadata=d.get("metadata") or {}, blobs=blobs,
                            created_at=keys.parse_time(d["created_at"]))
    if stored.data["payload"]["sha256"] != d["payload"]["sha256"]:
        with contextlib.suppress(Exception):
            target.delete_manifest(stored)
        raise IntegrityError(f"the copy of {'/'.join(m.id)} in {target.location} does not match the source's sha256")
