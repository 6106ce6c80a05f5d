"""The storage conformance suite: DESIGN's invariants 1-7, at the Store level, for every backend.

A backend's test module subclasses :class:`StoreConformance` and provides a ``backend_spec``
fixture (a :class:`BackendSpec`): ``build_backend(spec.name, spec.settings)`` must open the same
store in this process and in writer subprocesses (tests/storage/writer.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from aqe_ci.errors import ConflictError, IntegrityError, NotFoundError
from aqe_ci.model.run import RunFacts
from aqe_ci.storage import layout
from aqe_ci.storage.base import Backend
from aqe_ci.storage.codec import Codec
from aqe_ci.storage.factory import build_backend
from aqe_ci.storage.store import Query, Store
from tests.servers.moto_s3 import server_env
from tests.storage.counting import CountingBackend

WRITER = Path(__file__).resolve().parent / "writer.py"

# -- file-open counting for the local backend (audit hooks cannot be removed: install once) --------
_AUDIT: dict[str, Any] = {"root": None, "opens": 0, "scans": 0}


def _audit(event: str, args: tuple[Any, ...]) -> None:
    root = _AUDIT["root"]
    if root is None or not args or event not in ("open", "os.scandir", "os.listdir"):
        return
    try:
        path = os.fspath(args[0])
    except TypeError:
        return
    if not isinstance(path, str) or not path.startswith(root):
        return
    _AUDIT["opens" if event == "open" else "scans"] += 1


sys.addaudithook(_audit)


class Killed(BaseException):
    """Stands for a writer dying (not an Exception: the store must not treat it as an error)."""


@dataclass
class BackendSpec:
    name: str  # factory name: local | s3
    settings: dict[str, Any]
    label: str = ""
    env: dict[str, str] = field(default_factory=dict)
    #: another, empty store of the same kind
    fresh: Callable[[], BackendSpec] | None = None
    #: settings of writer process N on top of ``settings`` (github: each writer is its own CI job)
    writer_settings: Callable[[int], dict[str, Any]] | None = None

    def make(self) -> Backend:
        return build_backend(self.name, self.settings)

    def store(self, **kwargs: Any) -> Store:
        return Store(self.make(), **kwargs)


def doc(n: int = 1, *, writer: str = "", size: int = 100) -> dict[str, Any]:
    return {"type": "test_results", "timestamp": "2024-05-01T12:00:00Z",
            "data": {"tests_run": n, "passed": n, "failed": 0, "writer": writer, "filler": "x" * size}}


def run_writers(spec: BackendSpec, tmp: Path, plans: list[dict[str, Any]], *, parallel: int | None = None,
                timeout: float = 300) -> list[dict[str, Any]]:
    """Run one writer process per plan (tests/storage/writer.py), released together; return the result lines."""
    tag = random.randrange(1 << 30)
    if spec.writer_settings is not None:
        plans = [{**plan, "settings": spec.writer_settings(i)} for i, plan in enumerate(plans)]
    results = tmp / f"results-{tag}.jsonl"
    run_file = tmp / f"run-{tag}.json"
    run_file.write_text(json.dumps({"backend": spec.name, "settings": spec.settings, "results": str(results),
                                    "tmp": str(tmp), "plans": plans, "parallel": parallel}))
    proc = subprocess.run([sys.executable, str(WRITER), str(run_file)], env=server_env(spec.env),
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False)
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    statuses = json.loads(proc.stdout)
    assert len(statuses) == len(plans)
    bad = [s for s in statuses if s not in (0, -9)]
    assert not bad, proc.stderr.decode()[-3000:]
    if not results.exists():
        return []
    return [json.loads(line) for line in results.read_text().splitlines() if line.strip()]


def final_states(lines: list[dict[str, Any]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in lines:
        out[line["key"]] = line["state"] if line["state"] != "started" else out.get(line["key"], "started")
    return out


class StoreConformance:
    """Mixed into a test class that provides the ``backend_spec`` fixture."""

    # -- 1. immutability ----------------------------------------------------------------------
    def test_second_write_conflicts_and_overwrite_replaces(self, backend_spec: BackendSpec) -> None:
        store = backend_spec.store()
        first = store.put_document(doc(1), key="run-1", run=RunFacts(branch="main", commit="a" * 40))
        with pytest.raises(ConflictError, match="run-1/test_results/default already exists"):
            store.put_document(doc(2), key="run-1")
        assert store.load(store.manifest("run-1", "test_results"))["data"]["tests_run"] == 1
        second = store.put_document(doc(3), key="run-1", overwrite=True,
                                    run=RunFacts(branch="main", commit="b" * 40))
        assert store.load(store.manifest("run-1", "test_results"))["data"]["tests_run"] == 3
        names = {i.name for i in store.backend.list("runs/run-1/")}
        assert first.data["payload"]["object"] not in names
        assert second.data["payload"]["object"] in names
        listed = list(store.list(Query()))
        assert [(e.key, e.commit) for e in listed] == [("run-1", "b" * 40)]
        assert store.by_commit("a" * 40) == []

    # -- 2. atomic visibility -----------------------------------------------------------------
    def test_document_without_manifest_is_invisible_and_collected(self, backend_spec: BackendSpec) -> None:
        backend = backend_spec.make()

        armed = [False]

        def fail_at_manifest(n: int, when: str) -> None:
            if armed[0] and when == "before" and counting.calls["put_bytes"] == 1:
                armed[0] = False
                raise Killed  # the writer dies right before its commit point

        counting = CountingBackend(backend, hook=fail_at_manifest)
        store = Store(counting)
        store.put_document(doc(1), key="whole", run=RunFacts(branch="main"))
        counting.calls.clear()
        armed[0] = True
        with pytest.raises(Killed):
            Store(counting).put_document(doc(2), key="half", run=RunFacts(branch="main"))
        # cleanup in the writer removed its payload; simulate a SIGKILL leaving it behind instead
        backend.put_bytes("runs/half/test_results/default/data-00000000000000aa.json.gz", b"partial")
        assert [e.key for e in store.list(Query())] == ["whole"]
        with pytest.raises(NotFoundError):
            store.manifest("half", "test_results")
        report = Store(backend).repair(grace_seconds=0)
        assert "runs/half/test_results/default/data-00000000000000aa.json.gz" in report["orphans"]
        assert not list(backend.list("runs/half/"))
        assert [e.key for e in store.list(Query())] == ["whole"]

    # -- 3. integrity -------------------------------------------------------------------------
    @pytest.mark.parametrize("algorithm", ["gzip", "none"])
    def test_flipped_byte_is_an_integrity_error_naming_the_object(self, backend_spec: BackendSpec,
                                                                   algorithm: str) -> None:
        store = backend_spec.store(codec=Codec(algorithm=algorithm))
        m = store.put_document(doc(5, size=5000), key="flip")
        obj = m.data["payload"]["object"]
        raw = bytearray(store.backend.get_bytes(obj))
        raw[len(raw) // 2] ^= 0x01
        store.backend.put_bytes(obj, bytes(raw))
        with pytest.raises(IntegrityError) as err:
            store.load(store.manifest("flip", "test_results"))
        assert obj in str(err.value)

    @pytest.mark.parametrize("algorithm", ["gzip", "zstd", "none"])
    def test_codecs_round_trip(self, backend_spec: BackendSpec, algorithm: str) -> None:
        store = backend_spec.store(codec=Codec(algorithm=algorithm))
        document = doc(7, size=20_000)
        m = store.put_document(document, key=f"codec-{algorithm}")
        assert m.data["payload"]["codec"] == algorithm
        assert m.data["payload"]["object"].endswith(".json" + Codec(algorithm=algorithm).extension)
        again = Store(backend_spec.make())
        assert again.load(again.manifest(f"codec-{algorithm}", "test_results")) == document

    # -- 4. no lost writes --------------------------------------------------------------------
    @pytest.mark.slow
    def test_32_concurrent_writers_of_distinct_documents_are_all_listed(self, backend_spec: BackendSpec,
                                                                         tmp_path: Path) -> None:
        plans = [{"jobs": [{"key": f"par-{i:02d}", "n": i, "writer": str(i)}]} for i in range(32)]
        states = final_states(run_writers(backend_spec, tmp_path, plans))
        assert states == {f"par-{i:02d}": "ok" for i in range(32)}
        store = backend_spec.store()
        listed = sorted(e.key for e in store.list(Query()))
        assert listed == [f"par-{i:02d}" for i in range(32)]
        for i in range(32):
            assert store.load(store.manifest(f"par-{i:02d}", "test_results"))["data"]["writer"] == str(i)

    @pytest.mark.slow
    def test_8_concurrent_writers_of_one_document_exactly_one_wins(self, backend_spec: BackendSpec,
                                                                    tmp_path: Path) -> None:
        plans = [{"jobs": [{"key": "same", "n": i, "writer": f"w{i}"}]} for i in range(8)]
        lines = [ln for ln in run_writers(backend_spec, tmp_path, plans) if ln["state"] != "started"]
        assert sorted(ln["state"] for ln in lines) == ["conflict"] * 7 + ["ok"], lines
        store = backend_spec.store()
        stored = store.load(store.manifest("same", "test_results"))
        winner = [ln for ln in lines if ln["state"] == "ok"]
        assert len(winner) == 1
        assert stored["data"]["writer"] in {f"w{i}" for i in range(8)}
        assert [e.key for e in store.list(Query())] == ["same"]
        docs = [i.name for i in store.backend.list("runs/same/") if "/data-" in i.name]
        assert docs == [store.manifest("same", "test_results").data["payload"]["object"]]

    @pytest.mark.slow
    def test_writers_killed_at_random_points_leave_no_partial_document(self, backend_spec: BackendSpec,
                                                                       tmp_path: Path) -> None:
        rng = random.Random(20240501)
        plans = []
        expected: dict[str, str] = {}
        for w in range(20):  # 20 writers x 10 documents = 200 writes, most writers SIGKILLed at random
            jobs = [{"key": f"kill-{w:02d}-{j}", "n": j, "writer": f"{w}-{j}"} for j in range(10)]
            expected.update({job["key"]: job["writer"] for job in jobs})
            plans.append({"jobs": jobs, "kill_at_call": rng.randrange(1, 90),
                          "kill_when": rng.choice(["before", "after"])})
        lines = run_writers(backend_spec, tmp_path, plans, parallel=4)
        states = final_states(lines)
        store = backend_spec.store()
        listed = {e.key: e for e in store.list(Query())}
        for key, entry in listed.items():
            m = store.manifest(key, "test_results")  # every listed document reads back whole
            assert store.load(m)["data"]["writer"] == expected[key]
            assert entry.key == key
        for key, state in states.items():
            if state == "ok":
                assert key in listed
            else:  # killed mid-write: whole or not there at all
                try:
                    m = store.manifest(key, "test_results")
                except NotFoundError:
                    continue
                store.load(m)
        assert any(s == "started" for s in states.values()), "no writer was killed mid-write"
        store.repair(grace_seconds=0)
        for info in store.backend.list("runs/"):
            parsed = layout.parse_doc_object(info.name)
            assert parsed is not None and parsed[3] != "tombstone"
            m = store.manifest(*parsed[:3])
            assert info.name in (layout.manifest_name(*parsed[:3]), m.data["payload"]["object"]), info.name
        after = {e.key for e in store.list(Query())}
        whole = set()
        for key in states:
            with contextlib.suppress(NotFoundError):
                store.load(store.manifest(key, "test_results"))
                whole.add(key)
        assert after == whole

    # -- 5. queries cost what they return ------------------------------------------------------
    def test_queries_cost_what_they_return(self, backend_spec: BackendSpec) -> None:
        def populate(store: Store, n: int) -> None:
            base = datetime(2024, 5, 1, 12, tzinfo=UTC)
            for i in range(n):
                store.put_document(doc(i), key=f"q-{i:03d}", created_at=base + timedelta(hours=6 * i),
                                   run=RunFacts(branch="main" if i % 2 else "feature/x",
                                                     commit=f"{i:04d}" + "c" * 36))

        def costs(store: Store, backend: Backend, newest: int) -> dict[str, tuple[int, ...]]:
            counting = CountingBackend(backend)
            s = Store(counting)
            out: dict[str, tuple[int, ...]] = {}
            queries: dict[str, Callable[[], Any]] = {
                "list10": lambda: list(s.list(Query(limit=3))),
                "latest": lambda: s.load(s.manifest(*s.latest(branch="main").id)),
                "commit": lambda: [s.load(s.manifest(*e.id)) for e in s.by_commit(f"{newest:04d}" + "c" * 36)],
            }
            for name, q in queries.items():
                counting.reset()
                before_req = getattr(backend, "request_count", 0)
                _AUDIT.update(root=backend.location if backend.kind == "local" else None, opens=0, scans=0)
                try:
                    q()
                finally:
                    opened, scanned = _AUDIT["opens"], _AUDIT["scans"]
                    _AUDIT["root"] = None
                out[name] = (counting.total, getattr(backend, "request_count", 0) - before_req, opened, scanned)
            return out

        small_spec = backend_spec
        small = small_spec.store()
        populate(small, 4)
        small_costs = costs(small, small.backend, 3)
        assert backend_spec.fresh is not None
        big_spec = backend_spec.fresh()
        big = big_spec.store()
        populate(big, 30)
        big_costs = costs(big, big.backend, 29)
        assert {k: v[:3] for k, v in big_costs.items()} == {k: v[:3] for k, v in small_costs.items()}, \
            (small_costs, big_costs)
        for name, (calls, requests, opened, scans) in big_costs.items():
            assert scans <= 4, (name, scans)  # local: the dimension directory and the day directories read
            assert calls <= 3, (name, calls)
            assert requests <= 3, (name, requests)
            assert opened <= 2, (name, opened)
        assert [e.key for e in big.list(Query(limit=3))] == ["q-029", "q-028", "q-027"]
        assert big.latest(branch="main").key == "q-029"

    # -- delete + layout -----------------------------------------------------------------------
    def test_delete_removes_every_object(self, backend_spec: BackendSpec) -> None:
        store = backend_spec.store()
        store.put_document(doc(1), key="gone", run=RunFacts(branch="main", commit="d" * 40, pr=7))
        store.put_document(doc(1), key="kept", run=RunFacts(branch="main"))
        store.delete("gone")
        assert not list(store.backend.list("runs/gone/"))
        assert all("~gone~" not in i.name for i in store.backend.list("index/"))
        assert [e.key for e in store.list(Query())] == ["kept"]
        with pytest.raises(NotFoundError):
            store.delete("gone")
