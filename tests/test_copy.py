"""``aqe artifacts copy`` between real stores: local, S3 (moto server) and GitHub (fake on Azurite)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from aqe_ci.app.copy import copy_history
from aqe_ci.errors import IntegrityError
from aqe_ci.model.run import RunFacts
from aqe_ci.storage.factory import build_backend
from aqe_ci.storage.store import Query, Store
from tests.servers.results_service import ResultsService

BASE = datetime(2025, 3, 1, 12, tzinfo=UTC)


def results_doc(n: int) -> dict[str, Any]:
    return {"type": "test_results", "timestamp": "2025-03-01T12:00:00Z",
            "data": {"tests_run": n, "passed": n, "failed": 0, "duration": 1.5, "failures": []}}


def cov_doc(rate: float) -> dict[str, Any]:
    return {"type": "coverage", "timestamp": "2025-03-01T12:00:00Z",
            "data": {"line_rate": rate, "branch_rate": 50.0, "files": {}}}


def fill(store: Store, n: int) -> None:
    for i in range(n):
        ctx = RunFacts(branch="main" if i % 2 else "feature/x", commit=f"{i:04x}" + "a" * 36, pr=i if i % 3 else None)
        store.put_document(results_doc(i), key=f"build-{i:03d}", created_at=BASE + timedelta(days=i), run=ctx,
                           tags={"suite": "unit"}, metadata={"i": i})
        store.put_document(cov_doc(50.0 + i), key=f"build-{i:03d}", created_at=BASE + timedelta(days=i), run=ctx)


def config(path: Path, backend: str, section: dict[str, Any]) -> str:
    path.write_text(json.dumps({"backend": backend, backend: section}))
    return str(path)


def same_history(a: Store, b: Store) -> None:
    left = [e.as_json() for e in a.list(Query())]
    right = [e.as_json() for e in b.list(Query())]
    assert left == right and left
    for e in a.list(Query()):
        ma, mb = a.manifest(*e.id), b.manifest(*e.id)
        assert a.load(ma) == b.load(mb)
        for field in ("created_at", "commit", "branch", "pr", "tags", "metadata", "summary"):
            assert ma.data[field] == mb.data[field], field
        assert ma.data["payload"]["sha256"] == mb.data["payload"]["sha256"]


def test_local_to_s3_then_rerun_is_idempotent(aqe: Any, workdir: Path, s3_bucket: Any) -> None:
    src = Store(build_backend("local", {"base_path": str(workdir / "local")}))
    fill(src, 5)
    section = s3_bucket()
    a = config(workdir / "a.json", "local", {"base_path": str(workdir / "local")})
    b = config(workdir / "b.json", "s3", section)
    first = aqe("artifacts", "copy", "--from-config", a, "--to-config", b, "--format", "json")
    assert first.code == 0, first.err
    assert len(json.loads(first.out)["copied"]) == 10
    assert "copied build-004/" in first.err  # progress on stderr
    same_history(src, Store(build_backend("s3", section)))
    again = aqe("artifacts", "copy", "--from-config", a, "--to-config", b, "--format", "json")
    assert again.code == 0
    report = json.loads(again.out)
    assert report["copied"] == [] and len(report["skipped"]) == 10


def test_github_to_s3_when_a_team_outgrows_90_days(aqe: Any, workdir: Path, s3_bucket: Any,
                                                  results_service: ResultsService) -> None:
    fake = results_service
    run = fake.new_run(branch="main", sha="1" * 40)
    gh = {"repository": fake.repository, "api_url": fake.url, "results_url": fake.url + "/",
          "token": fake.rest_token("write"), "runtime_token": fake.runtime_token(run)}
    src = Store(build_backend("github", gh))
    fill(src, 3)
    section = s3_bucket()
    result = aqe("artifacts", "copy", "--from-config", config(workdir / "gh.json", "github", gh),
                 "--to-config", config(workdir / "s3.json", "s3", section))
    assert result.code == 0, result.err
    assert "copied 6 documents" in result.out
    same_history(Store(build_backend("github", gh)), Store(build_backend("s3", section)))


def test_local_to_github_since_a_date(aqe: Any, workdir: Path, results_service: ResultsService) -> None:
    fake = results_service
    run = fake.new_run(branch="main", sha="2" * 40)
    gh = {"repository": fake.repository, "api_url": fake.url, "results_url": fake.url + "/",
          "token": fake.rest_token("write"), "runtime_token": fake.runtime_token(run)}
    src = Store(build_backend("local", {"base_path": str(workdir / "local")}))
    fill(src, 4)
    a = config(workdir / "a.json", "local", {"base_path": str(workdir / "local")})
    b = config(workdir / "b.json", "github", gh)
    result = aqe("artifacts", "copy", "--from-config", a, "--to-config", b, "--since", "2025-03-03", "--format", "json")
    assert result.code == 0, result.err
    assert sorted(json.loads(result.out)["copied"]) == sorted(
        f"build-{i:03d}/{t}/default" for i in (2, 3) for t in ("test_results", "coverage"))
    target = Store(build_backend("github", gh))
    assert [e.key for e in target.list(Query(type="coverage"))] == ["build-003", "build-002"]
    assert target.latest(branch="main").key == "build-003"
    assert [e.key for e in target.by_commit("0002" + "a" * 36)] == ["build-002", "build-002"]


def test_killed_copy_resumes(workdir: Path) -> None:
    src = Store(build_backend("local", {"base_path": str(workdir / "src")}))
    dst = Store(build_backend("local", {"base_path": str(workdir / "dst")}))
    fill(src, 4)

    class Stop(BaseException):
        pass

    done: list[str] = []

    def die_after_three(what: str, name: str) -> None:
        done.append(name)
        if len(done) == 3:
            raise Stop

    with pytest.raises(Stop):
        copy_history(src, dst, progress=die_after_three)
    report = copy_history(src, dst)
    assert len(report.skipped) == 3 and len(report.copied) == 5
    same_history(src, dst)


def test_conflicting_target_document_is_left_alone_and_exits_3(aqe: Any, workdir: Path) -> None:
    src = Store(build_backend("local", {"base_path": str(workdir / "src")}))
    dst = Store(build_backend("local", {"base_path": str(workdir / "dst")}))
    fill(src, 2)
    dst.put_document(results_doc(99), key="build-001", run=RunFacts(branch="main"))
    result = aqe("artifacts", "copy", "--from-config", config(workdir / "a.json", "local", {"base_path": str(workdir / "src")}),
                 "--to-config", config(workdir / "b.json", "local", {"base_path": str(workdir / "dst")}))
    assert result.code == 3
    assert "1 documents exist in" in result.err and "build-001/test_results/default" in result.err
    assert dst.load(dst.manifest("build-001", "test_results"))["data"]["tests_run"] == 99
    assert len(list(dst.list(Query()))) == 4  # the three others were copied


def test_corrupt_source_is_an_integrity_error_and_stores_nothing(workdir: Path) -> None:
    src_backend = build_backend("local", {"base_path": str(workdir / "src")})
    src = Store(src_backend)
    m = src.put_document(results_doc(3), key="bad", run=RunFacts(branch="main"))
    obj = m.data["payload"]["object"]
    raw = bytearray(src_backend.get_bytes(obj))
    raw[len(raw) // 2] ^= 1
    src_backend.put_bytes(obj, bytes(raw))
    dst = Store(build_backend("local", {"base_path": str(workdir / "dst")}))
    with pytest.raises(IntegrityError):
        copy_history(src, dst)
    assert list(dst.list(Query())) == []


def test_same_store_is_a_usage_error(aqe: Any, workdir: Path) -> None:
    a = config(workdir / "a.json", "local", {"base_path": str(workdir / "x")})
    b = config(workdir / "b.json", "local", {"base_path": str(workdir / "x")})
    result = aqe("artifacts", "copy", "--from-config", a, "--to-config", b)
    assert result.code == 2 and "name the same store" in result.err
