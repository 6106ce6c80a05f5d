"""Writer processes for the conformance suite: ``python tests/storage/writer.py RUN.json``.

The launcher is a fresh interpreter that imports the store (and boto3) once, then forks one real
writer process per plan (at most ``parallel`` alive at a time), so dozens of concurrent writers do
not each pay the import. Every writer builds its own backend from ``build_backend(name, settings)``,
waits for the "go" file so a batch starts at once, stores its documents, and appends each outcome as
one flushed JSON line to ``results``. A plan may name a backend call number at which the writer
SIGKILLs itself (before or after that call), to stop it at a random point of the write protocol.
The launcher prints the writers' wait statuses as JSON.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from aqe_ci.errors import AqeError, ConflictError  # noqa: E402
from aqe_ci.model.run import RunFacts  # noqa: E402
from aqe_ci.storage.factory import build_backend  # noqa: E402
from aqe_ci.storage.store import Store  # noqa: E402
from tests.storage.counting import CountingBackend  # noqa: E402


def document(job: dict[str, Any]) -> dict[str, Any]:
    n = int(job.get("n", 1))
    return {"type": "test_results", "timestamp": "2024-05-01T12:00:00Z",
            "data": {"tests_run": n, "passed": n, "failed": 0, "writer": job.get("writer", ""),
                     "filler": "x" * int(job.get("size", 100))}}


def write(run: dict[str, Any], plan: dict[str, Any], ready: Path, go: Path) -> None:
    backend = build_backend(run["backend"], {**run["settings"], **plan.get("settings", {})})
    kill_at = plan.get("kill_at_call")
    if kill_at is not None and hasattr(backend, "before_request"):
        # a document backend stores a document in one call: kill it at its N-th HTTP request instead
        def on_request(n: int) -> None:
            if n == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

        backend.before_request = on_request
    elif kill_at is not None:
        def hook(n: int, when: str) -> None:
            if n == kill_at and when == plan.get("kill_when", "before"):
                os.kill(os.getpid(), signal.SIGKILL)

        backend = CountingBackend(backend, hook=hook)
    store = Store(backend)
    ready.touch()
    deadline = time.monotonic() + 120
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.002)
    with open(run["results"], "a", encoding="utf-8") as out:
        for job in plan["jobs"]:
            out.write(json.dumps({"key": job["key"], "state": "started"}) + "\n")
            out.flush()
            try:
                store.put_document(document(job), key=job["key"], part=job.get("part", "default"),
                                   run=RunFacts(branch=job.get("branch", "main"), commit=job.get("commit")))
                state, message = "ok", ""
            except ConflictError as exc:
                state, message = "conflict", str(exc)
            except AqeError as exc:
                state, message = "error", f"{type(exc).__name__}: {exc}"
            out.write(json.dumps({"key": job["key"], "state": state, "message": message}) + "\n")
            out.flush()


def launch(run: dict[str, Any]) -> list[int]:
    build_backend(run["backend"], run["settings"]).close()  # warm imports and model caches the children share
    tmp = Path(run["tmp"])
    plans = run["plans"]
    parallel = run.get("parallel") or len(plans)
    statuses: list[int] = []
    for start in range(0, len(plans), parallel):
        go = tmp / f"go-{os.getpid()}-{start}"
        pids, readies = [], []
        for i, plan in enumerate(plans[start:start + parallel]):
            ready = tmp / f"ready-{os.getpid()}-{start + i}"
            readies.append(ready)
            pid = os.fork()
            if pid == 0:
                code = 0
                try:
                    write(run, plan, ready, go)
                except BaseException as exc:  # report, never return into the launcher
                    sys.stderr.write(f"writer {start + i}: {type(exc).__name__}: {exc}\n")
                    code = 1
                finally:
                    sys.stderr.flush()
                    os._exit(code)
            pids.append(pid)
        deadline = time.monotonic() + 120
        alive = set(pids)
        while not all(r.exists() for r in readies) and time.monotonic() < deadline:
            for pid in list(alive):
                done, _ = os.waitpid(pid, os.WNOHANG)
                if done:
                    alive.discard(pid)
            if not alive:
                break
            time.sleep(0.005)
        go.touch()
        for pid in pids:
            _, status = os.waitpid(pid, 0)
            statuses.append(os.waitstatus_to_exitcode(status))
    return statuses


if __name__ == "__main__":
    print(json.dumps(launch(json.loads(Path(sys.argv[1]).read_text()))))
