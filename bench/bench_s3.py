"""S3 backend benchmark: queries on 20,000 stored runs, and storing a 200 MB payload vs ``aws s3 cp``.

    python bench/bench_s3.py [--runs 20000] [--payload-mb 200] [--repeat 15]

1. **Scale.** A store of ``--runs`` runs (one test_results document each, on 2 branches, one commit
   each) is built with the real Store code into memory, then preloaded into moto's S3 server
   process (HTTP PUTs of 140,000 objects would take an hour on moto). Then, through real boto3 over
   HTTP, ``list --limit 10``, ``get --branch main --latest`` and ``get --commit SHA`` (listing, manifest
   and payload read, verified) are timed and their S3 requests counted with botocore's
   ``before-send`` hook, on the full store and on a store holding a single run. Run twice: on stock
   moto (whose ListObjectsV2 scans every key of the bucket) and with tests/servers/moto_s3.py's
   ``--indexed-listing`` (a sorted index, like S3).
2. **Large payload.** A ``--payload-mb`` test_results document is stored with ``Store.put`` (gzip
   and codec none) and uploaded with ``aws s3 cp`` to the same server, each in a fresh process;
   wall time and peak RSS (ru_maxrss of the child) side by side.

Prints markdown tables. Generated inputs go to .bench/ (gitignored).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aqe_ci.errors import ObjectExists, ObjectMissing  # noqa: E402
from aqe_ci.model.run import RunFacts  # noqa: E402
from aqe_ci.storage.base import Backend, ObjectInfo  # noqa: E402
from aqe_ci.storage.store import Query, Store  # noqa: E402
from tests.servers.moto_s3 import MotoServer, server_env  # noqa: E402

WORK = ROOT / ".bench" / "s3"
BUCKET_FULL = "bench-full"
BUCKET_ONE = "bench-one"
PREFIX = "qe/"


class MemoryBackend(Backend):
    """Collects what the Store writes (to preload the S3 server); enough of Backend for Store.put."""

    kind = "memory"

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    @property
    def location(self) -> str:
        return "memory"

    def put_file(self, name: str, path: Path, *, if_absent: bool = False) -> None:
        self.put_bytes(name, Path(path).read_bytes(), if_absent=if_absent)

    def put_bytes(self, name: str, data: bytes, *, if_absent: bool = False) -> None:
        if if_absent and name in self.objects:
            raise ObjectExists(name)
        self.objects[name] = data

    def open(self, name: str) -> BinaryIO:
        import io

        if name not in self.objects:
            raise ObjectMissing(name)
        return io.BytesIO(self.objects[name])

    def list(self, prefix: str, *, start_after: str | None = None, limit: int | None = None) -> Iterator[ObjectInfo]:
        for n in sorted(k for k in self.objects if k.startswith(prefix) and (start_after is None or k > start_after)):
            yield ObjectInfo(name=n, size=len(self.objects[n]))

    def exists(self, name: str) -> bool:
        return name in self.objects

    def delete(self, name: str) -> None:
        self.objects.pop(name, None)


def sha_of(i: int) -> str:
    return f"{i:08x}" + "ab" * 16


def build_preload(runs: int, path: Path) -> float:
    """Write ``runs`` runs with the real Store into memory; pickle {bucket: objects} for the server."""
    t0 = time.perf_counter()
    full = MemoryBackend()
    one = MemoryBackend()
    base = datetime(2025, 1, 1, tzinfo=UTC)

    def put(store: Store, i: int) -> None:
        document = {"type": "test_results", "timestamp": "2025-01-01T00:00:00Z",
                    "data": {"tests_run": 100 + i % 7, "passed": 100, "failed": i % 7, "duration": 12.5}}
        store.put_document(document, key=f"build-{i:06d}", created_at=base + timedelta(minutes=5 * i),
                           run=RunFacts(branch="main" if i % 2 else "feature/x", commit=sha_of(i), pr=None))

    store_full = Store(full)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: put(store_full, i), range(runs)))
    put(Store(one), runs - 1)
    data = {BUCKET_FULL: {PREFIX + k: v for k, v in full.objects.items()},
            BUCKET_ONE: {PREFIX + k: v for k, v in one.objects.items()}}
    with open(path, "wb") as f:
        pickle.dump(data, f, protocol=pickle.HIGHEST_PROTOCOL)
    return time.perf_counter() - t0


def s3_settings(endpoint: str, bucket: str) -> dict[str, Any]:
    return {"bucket": bucket, "prefix": PREFIX, "endpoint_url": endpoint, "region": "us-east-1",
            "access_key_id": "testing", "secret_access_key": "testing"}


def measure_queries(endpoint: str, runs: int, repeat: int) -> dict[str, dict[str, Any]]:
    """Median time and max S3 requests per query, alternating between the two stores."""
    from aqe_ci.storage.s3 import S3Backend

    labels = {"1 run": BUCKET_ONE, f"{runs:,} runs": BUCKET_FULL}
    backends = {label: S3Backend(**s3_settings(endpoint, bucket)) for label, bucket in labels.items()}
    stores = {label: Store(b) for label, b in backends.items()}
    newest = sha_of(runs - 1)
    queries: dict[str, Callable[[Store], Any]] = {
        "list --limit 10": lambda s: list(s.list(Query(limit=10))),
        "get --branch main --latest": lambda s: s.load(s.manifest(*s.latest(branch="main").id)),
        "get --commit SHA": lambda s: [s.load(s.manifest(*e.id)) for e in s.by_commit(newest)],
    }
    out: dict[str, dict[str, Any]] = {}
    for name, q in queries.items():
        samples: dict[str, list[float]] = {label: [] for label in labels}
        requests: dict[str, int] = dict.fromkeys(labels, 0)
        for label in labels:
            assert q(stores[label]), (label, name)  # warm the connection
        for _ in range(repeat):
            for label in labels:
                backend = backends[label]
                backend.reset_counts()
                t0 = time.perf_counter()
                q(stores[label])
                samples[label].append(time.perf_counter() - t0)
                requests[label] = max(requests[label], backend.request_count)
        out[name] = {label: {"ms": statistics.median(samples[label]) * 1000, "requests": requests[label]}
                     for label in labels}
    for b in backends.values():
        b.close()
    return out


# -- large payload ----------------------------------------------------------------------------------


def make_payload(path: Path, megabytes: int) -> None:
    """A test_results document of about ``megabytes`` MB: many test cases with messages."""
    if path.exists() and path.stat().st_size >= megabytes * 1_000_000:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write('{"type":"test_results","timestamp":"2025-01-01T00:00:00Z","data":{"tests_run":0,"tests":[')
        written, i = 0, 0
        while written < megabytes * 1_000_000:
            case = json.dumps({"suite": f"suite{i % 97}", "classname": f"pkg.mod{i % 1013}.TestClass{i % 31}",
                               "name": f"test_case_{i}_{(i * 7919) % 100003}", "status": "passed" if i % 13 else "failed",
                               "duration": (i * 37 % 1000) / 1000,
                               "message": f"assert {i * 31 % 977} == {i * 17 % 991} at line {i % 400}"})
            f.write(("," if i else "") + case)
            written += len(case) + 1
            i += 1
        f.write("]}}")


def child_put(settings_file: str, payload: str, codec: str, key: str) -> None:
    from aqe_ci.storage.codec import Codec
    from aqe_ci.storage.factory import build_backend

    settings = json.loads(Path(settings_file).read_text())
    store = Store(build_backend("s3", settings), codec=Codec(algorithm=codec))
    store.put(doc_type="test_results", key=key, payload=Path(payload), summary={"tests_run": 0})


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run ``cmd`` in a fresh wrapper process; return (wall seconds, peak RSS MiB of cmd)."""
    wrapper = ("import resource,subprocess,sys,time;t=time.perf_counter();"
               "r=subprocess.run(sys.argv[1:]);w=time.perf_counter()-t;"
               "print(w, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss);sys.exit(r.returncode)")
    proc = subprocess.run([sys.executable, "-c", wrapper, *cmd], env=env, capture_output=True, text=True, check=False)
    if proc.returncode:
        raise RuntimeError(f"{cmd[:3]} failed: {proc.stderr[-2000:]}")
    wall, rss_kb = proc.stdout.split()[-2:]
    return float(wall), int(rss_kb) / 1024


def measure_upload(endpoint: str, megabytes: int, rounds: int) -> list[tuple[str, float, float, int]]:
    import boto3

    payload = WORK / f"payload-{megabytes}mb.json"
    make_payload(payload, megabytes)
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket="bench-upload")
    settings = WORK / "upload-settings.json"
    settings.write_text(json.dumps(s3_settings(endpoint, "bench-upload")))
    env = server_env()
    aws = str(Path(sys.executable).parent / "aws")
    rows: dict[str, list[tuple[float, float]]] = {"aqe Store.put (gzip)": [], "aqe Store.put (codec none)": [],
                                                  "aws s3 cp": []}
    for r in range(rounds):
        rows["aws s3 cp"].append(timed([aws, "--endpoint-url", endpoint, "s3", "cp", "--quiet", str(payload),
                                        f"s3://bench-upload/awscli/{r}.json"], env))
        rows["aqe Store.put (gzip)"].append(timed([sys.executable, __file__, "_put", str(settings), str(payload),
                                                   "gzip", f"gz-{r}"], env))
        rows["aqe Store.put (codec none)"].append(timed([sys.executable, __file__, "_put", str(settings),
                                                         str(payload), "none", f"raw-{r}"], env))
    size = payload.stat().st_size
    return [(name, statistics.median(w for w, _ in v), max(m for _, m in v), size) for name, v in rows.items()]


# -- report -----------------------------------------------------------------------------------------


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.system()}"


def run(argv: list[str] | None = None) -> str:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20_000)
    ap.add_argument("--payload-mb", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--skip-scale", action="store_true")
    ap.add_argument("--skip-upload", action="store_true")
    args = ap.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    os.environ.update(server_env())
    lines = [f"Machine: {machine()}. Command: `python bench/bench_s3.py --runs {args.runs} "
             f"--payload-mb {args.payload_mb}`.", ""]
    if not args.skip_scale:
        preload = WORK / f"preload-{args.runs}.pickle"
        built = build_preload(args.runs, preload)
        objects = sum(len(v) for v in pickle.loads(preload.read_bytes()).values())
        lines += [f"Store built with the real Store code in {built:.0f} s: {objects:,} objects "
                  f"(manifest, payload, 4 index entries per run), preloaded into moto.", ""]
        for indexed in (False, True):
            with MotoServer(indexed_listing=indexed, preload=preload).start(timeout=900) as server:
                res = measure_queries(server.endpoint, args.runs, args.repeat)
            title = "moto with an indexed ListObjectsV2 (like S3)" if indexed else "stock moto (ListObjectsV2 scans the bucket)"
            lines += [f"**{title}** — median of {args.repeat}:", "",
                      "| query | requests (1 run) | requests (full) | ms (1 run) | ms (full) | full / 1 run |",
                      "|---|---:|---:|---:|---:|---:|"]
            for name, by in res.items():
                one, full = by["1 run"], by[f"{args.runs:,} runs"]
                lines.append(f"| `{name}` | {one['requests']} | {full['requests']} | {one['ms']:.1f} | "
                             f"{full['ms']:.1f} | {full['ms'] / one['ms']:.2f}x |")
            lines.append("")
    if not args.skip_upload:
        with MotoServer() as server:
            rows = measure_upload(server.endpoint, args.payload_mb, args.rounds)
        size = rows[0][3]
        lines += [f"**Storing a {size / 1e6:.0f} MB document** (median wall of {args.rounds}, max peak RSS):", "",
                  "| tool | wall s | peak RSS MiB |", "|---|---:|---:|"]
        lines += [f"| {name} | {wall:.1f} | {rss:.0f} |" for name, wall, rss, _ in rows]
        lines.append("")
    report = "\n".join(lines)
    print(report)
    return report


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_put":
        child_put(*sys.argv[2:6])
    else:
        run(sys.argv[1:])
