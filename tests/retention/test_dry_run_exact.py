"""``cleanup --dry-run`` names exactly what ``cleanup --yes`` removes, on a store a crash left untidy;
and ``cleanup`` leaves no empty folders behind."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aqe_ci.model.run import RunFacts
from aqe_ci.storage import layout
from aqe_ci.storage.local import LocalBackend
from aqe_ci.storage.store import Query, Store

DOC = '{"type":"test_results","timestamp":"2025-01-01T00:00:00Z","data":{}}'
TWO_HOURS_AGO = time.time() - 7200  # older than the one-hour grace period for orphans


def files(root: Path) -> set[str]:
    return {str((Path(d) / f).relative_to(root)) for d, _dirs, fs in os.walk(root) for f in fs}


def empty_dirs(root: Path) -> list[str]:
    return [str(Path(d).relative_to(root)) for d, dirs, fs in os.walk(root)
            if Path(d) != root and not dirs and not fs]


def age(path: Path) -> None:
    os.utime(path, (TWO_HOURS_AGO, TWO_HOURS_AGO))


def untidy_store(root: Path, payload: Path) -> Store:
    """Five runs, then what killed writers and a killed cleanup leave behind."""
    store = Store(LocalBackend(root))
    now = datetime.now(UTC)
    runs = {"run-new": (0, "main"), "run-old1": (100, "feature-a"), "run-old2": (100, "feature-b"),
            "run-old3": (80, "feature-c"), "run-stale": (90, "feature-d")}
    entries = {}
    for key, (days, branch) in runs.items():
        m = store.put(doc_type="test_results", key=key, payload=payload, summary={},
                      run=RunFacts(branch=branch), created_at=now - timedelta(days=days, hours=1))
        entries[key] = m.entry()
    # a killed cleanup: run-old3's delete was started (tombstone written) and never finished
    store.backend.put_bytes(layout.tombstone_name("run-old3", "test_results", "default"), b'{"upload_id": null}')
    # a lost index entry: run-old2 is missing from the time index (repair re-creates it)
    (root / layout.entry_names(entries["run-old2"])[0]).unlink()
    # a manifest lost: run-stale's index entries are stale and its payload an orphan
    (root / layout.manifest_name("run-stale", "test_results", "default")).unlink()
    for p in (root / layout.doc_dir("run-stale", "test_results", "default")).iterdir():
        age(p)
    # killed writers: a payload never committed, a temp file beside a live document, a temp file
    # alone in its folder, and a folder made and never written
    ghost = root / "runs" / "run-ghost" / "test_results" / "default" / "data-abc.json.gz"
    ghost.parent.mkdir(parents=True)
    ghost.write_bytes(b"half")
    age(ghost)
    for tmp in (root / layout.doc_dir("run-new", "test_results", "default") / ".tmp-0123456789abcdef",
                root / "runs" / "run-temp" / "coverage" / "default" / ".tmp-fedcba9876543210"):
        tmp.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(b"partial")
        age(tmp)
    (root / "runs" / "run-empty" / "security" / "default").mkdir(parents=True)
    return store


def test_dry_run_names_exactly_what_yes_removes(aqe, workdir: Path) -> None:
    root = workdir / "store"
    payload = workdir / "doc.json"
    payload.write_text(DOC)
    (workdir / "config").mkdir()
    (workdir / "config" / "storage.json").write_text(json.dumps({
        "backend": "local", "local": {"base_path": str(root)},
        "retention": {"test_results": 30, "keep_latest_n": 1, "protected_branches": ["main"]}}))
    store = untidy_store(root, payload)
    before = files(root)

    dry = aqe("artifacts", "cleanup", "--dry-run", "--format", "json")
    assert dry.code == 0, dry.err
    assert files(root) == before and empty_dirs(root)  # the dry run changed nothing
    planned = json.loads(dry.out)
    text = aqe("artifacts", "cleanup", "--dry-run")
    assert text.code == 0 and files(root) == before

    real = aqe("artifacts", "cleanup", "--yes", "--format", "json")
    assert real.code == 0, real.err
    done = json.loads(real.out)
    after = files(root)

    removed_ids = {(d["key"], d["type"], d["part"]) for d in done["removed"]}
    # the documents, and every repair finding (temp files and orphans included), are the same
    assert {(d["key"], d["type"], d["part"]) for d in planned["removed"]} == removed_ids
    assert planned["repaired"] == done["repaired"]
    assert planned["summary"] == {**done["summary"], "documents_after": planned["summary"]["documents_after"]}
    assert removed_ids == {("run-old1", "test_results", "default"), ("run-old2", "test_results", "default")}
    assert done["repaired"]["finished_deletes"] == ["run-old3/test_results/default"]
    assert done["repaired"]["reindexed"] == ["run-old2/test_results/default"]
    assert sorted(done["repaired"]["orphans"]) == sorted([
        "runs/run-ghost/test_results/default/data-abc.json.gz",
        *[n for n in before if n.startswith("runs/run-stale/")],
        "runs/run-new/test_results/default/.tmp-0123456789abcdef",
        "runs/run-temp/coverage/default/.tmp-fedcba9876543210"])
    assert {layout.parse_entry(n).key for n in done["repaired"]["stale_index"]} == {"run-stale"}  # type: ignore[union-attr]

    # every file that went is one of those: a removed or finished document's, a stale entry or an orphan
    gone_docs = removed_ids | {("run-old3", "test_results", "default")}
    for name in before - after:
        parsed = layout.parse_doc_object(name) or (layout.parse_entry(name).id if layout.parse_entry(name) else None)
        assert (parsed is not None and tuple(parsed[:3]) in gone_docs) or name in done["repaired"]["orphans"] \
            or name in done["repaired"]["stale_index"], name
    assert {e.key for e in store.list(Query())} == {"run-new"}
    # the dry run's table output lists the same findings, one line each
    for name in done["repaired"]["orphans"]:
        assert f"would remove orphan {name}" in text.out
    assert "would finish deleting run-old3/test_results/default" in text.out
    assert "would delete run-old2/test_results/default" in text.out

    # no folder is left empty: not the ones its deletes emptied, not the temp file's, not the never-written one
    assert empty_dirs(root) == []
    assert not (root / "runs" / "run-old1").exists() and not (root / "runs" / "run-empty").exists()
    again = aqe("artifacts", "cleanup", "--dry-run", "--format", "json")
    assert json.loads(again.out)["removed"] == [] and not any(json.loads(again.out)["repaired"].values())
