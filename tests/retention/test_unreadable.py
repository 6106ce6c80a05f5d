"""An expired document whose manifest was altered (unreadable) is still removed, whole."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from aqe_ci.model import keys
from aqe_ci.model.run import RunFacts
from aqe_ci.retention.cleanup import run_cleanup
from aqe_ci.retention.policy import RetentionPolicy
from aqe_ci.storage import layout
from aqe_ci.storage.local import LocalBackend
from aqe_ci.storage.store import Query, Store


def test_unreadable_expired_manifest_is_removed(tmp_path: Path) -> None:
    store = Store(LocalBackend(tmp_path / "store"))
    payload = tmp_path / "doc.json"
    payload.write_text('{"type":"test_results","timestamp":"2025-01-01T00:00:00Z","data":{}}')
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for key, age in (("old-1", 100), ("old-2", 100), ("new", 1)):
        store.put(doc_type="test_results", key=key, payload=payload, summary={}, created_at=now - timedelta(days=age),
                  run=RunFacts(branch="feature", pr=3, commit="abcdef1234567890"))
    manifest = tmp_path / "store" / layout.manifest_name("old-1", "test_results", "default")
    manifest.write_text("{not json")

    policy = RetentionPolicy.from_config({"test_results": 30, "keep_latest_n": 0})
    result = run_cleanup(store, policy, now_ms=keys.to_ms(now), progress=None)
    assert {e.key for e in result.deleted} == {"old-1", "old-2"}
    assert {e.key for e in store.list(Query())} == {"new"}
    assert not (tmp_path / "store" / "runs" / "old-1").exists()
    report = store.repair(dry_run=True)
    assert not any(report.values()), report
