"""GitHub backend benchmark: requests per query on 2,000 stored runs vs a one-run and an empty store.

    python bench/bench_github_store.py [--runs 2000] [--repeat 5]

A store of ``--runs`` workflow runs (one test_results document each, alternating between ``main``
and ``feature/x``, one commit per run) is written into the fake results service + REST API
(tests/servers/results_service.py, blobs in Azurite) by the real backend code — names, zips,
pointers, entries, the REST checks of each write — except that each artifact is put into the fake
directly instead of through CreateArtifact / Put Block / FinalizeArtifact (that protocol is what the
tests exercise; 2,000 runs of it would only slow the set-up). Then, with a fresh backend and a
token that has ``actions: read``, each query runs against the full store, a one-run store and an
empty store: ``list --limit 10``; ``get --branch main --latest`` (latest entry, its manifest, its
payload, verified); ``get --commit SHA`` (every document of the newest commit, each read and
verified). It counts every HTTP request (REST calls and blob downloads; the REST share is shown
apart: that is what GitHub's rate limit counts) and times the medians.

Writes docs/benchmarks/github.md.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aqe_ci.errors import ObjectExists  # noqa: E402
from aqe_ci.model.run import RunFacts  # noqa: E402
from aqe_ci.storage.github import GitHubBackend  # noqa: E402
from aqe_ci.storage.store import Query, Store  # noqa: E402
from tests.servers.azurite import Azurite  # noqa: E402
from tests.servers.results_service import ResultsService, Run  # noqa: E402

OUT = ROOT / "docs" / "benchmarks" / "github.md"


class PreloadingBackend(GitHubBackend):
    """The real backend, with each finalized artifact put into the fake directly (see the docstring)."""

    def __init__(self, fake: ResultsService, run: Run, created: datetime, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fake, self.run, self.created = fake, run, created
        self.names: set[str] = set()  # what this run holds (each run is written by one backend)

    def _upload_artifact(self, name: str, source: Path | IO[bytes], expires: datetime) -> int:
        if name in self.names:
            raise ObjectExists(name)
        self.names.add(name)
        data = source.read_bytes() if isinstance(source, Path) else source.read()
        art = self.fake.preload(self.run, name, data, created_at=self.created)
        self._our_ids[name] = art.id
        return art.id


def sha_of(i: int) -> str:
    return f"{i:08x}" + "ab" * 16


def populate(fake: ResultsService, runs: int) -> float:
    t0 = time.perf_counter()
    base = datetime.now(UTC) - timedelta(days=30)
    token = fake.rest_token("write")
    for i in range(runs):
        branch = "main" if (runs - 1 - i) % 2 == 0 else "feature/x"  # the newest run is on main
        run = fake.new_run(branch=branch, sha=sha_of(i))
        created = base + timedelta(minutes=10 * i)
        backend = PreloadingBackend(fake, run, created, repository=fake.repository, token=token, api_url=fake.url,
                                    runtime_token=fake.runtime_token(run), results_url=fake.url)
        document = {"type": "test_results", "timestamp": "2025-01-01T00:00:00Z",
                    "data": {"tests_run": 100 + i % 7, "passed": 100, "failed": i % 7, "duration": 12.5,
                             "failures": []}}
        Store(backend).put_document(document, key=f"gh-{run.run_id}-1-test", created_at=created,
                                    run=RunFacts(branch=branch, commit=sha_of(i)))
        backend.close()
    return time.perf_counter() - t0


def measure(fakes: dict[str, tuple[ResultsService, int]], repeat: int) -> dict[str, dict[str, Any]]:
    queries: dict[str, Callable[[Store, int], Any]] = {
        "list --limit 10": lambda s, n: list(s.list(Query(limit=10))),
        "get --branch main --latest": lambda s, n: (e := s.latest(branch="main")) and s.load(s.manifest(*e.id)),
        "get --commit SHA": lambda s, n: [s.load(s.manifest(*e.id)) for e in s.by_commit(sha_of(max(n - 1, 0)))],
    }
    out: dict[str, dict[str, Any]] = {}
    for qname, q in queries.items():
        out[qname] = {}
        samples: dict[str, list[float]] = {label: [] for label in fakes}
        counts: dict[str, tuple[int, int]] = {}
        for _ in range(repeat):
            for label, (fake, n) in fakes.items():
                backend = GitHubBackend(repository=fake.repository, token=fake.rest_token("read"), api_url=fake.url)
                rest_before = sum(v for k, v in fake.requests.items() if k.startswith("rest"))
                t0 = time.perf_counter()
                result = q(Store(backend), n)
                samples[label].append(time.perf_counter() - t0)
                rest = sum(v for k, v in fake.requests.items() if k.startswith("rest")) - rest_before
                assert n == 0 or result, (qname, label)
                counts[label] = (max(counts.get(label, (0, 0))[0], backend.request_count),
                                 max(counts.get(label, (0, 0))[1], rest))
                backend.close()
        for label in fakes:
            out[qname][label] = {"requests": counts[label][0], "rest": counts[label][1],
                                 "ms": statistics.median(samples[label]) * 1000}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    with Azurite() as azurite:
        full = ResultsService(azurite, repo="full").start()
        one = ResultsService(azurite, repo="one").start()
        empty = ResultsService(azurite, repo="empty").start()
        try:
            setup = populate(full, args.runs)
            populate(one, 1)
            labels = {"empty": (empty, 0), "1 run": (one, 1), f"{args.runs:,} runs": (full, args.runs)}
            results = measure(labels, args.repeat)
            artifacts = len(full.live())
        finally:
            for f in (full, one, empty):
                f.stop()
    lines = [
        "# GitHub backend benchmark",
        "",
        f"Command: `python bench/bench_github_store.py --runs {args.runs} --repeat {args.repeat}`. "
        f"Machine: {platform.machine()}, Python {platform.python_version()}; fake results service + REST API "
        "(tests/servers/results_service.py) on 127.0.0.1, blobs in Azurite 3.35.0.",
        "",
        f"Store: {args.runs:,} workflow runs, one test_results document each ({artifacts:,} artifacts: the "
        f"document, its entry and the run's key/branch/commit pointers), set up in {setup:.0f} s. Requests are "
        "every HTTP request of the query (REST and blob downloads) from a fresh backend; REST is the part "
        "GitHub's rate limit counts. Times are medians of the repeats.",
        "",
        "| query | " + " | ".join(f"requests ({label})" for label in labels) + " | REST (" + list(labels)[-1]
        + ") | " + " | ".join(f"ms ({label})" for label in labels) + " |",
        "|---|" + "---:|" * (2 * len(labels) + 1),
    ]
    for qname, per in results.items():
        row = [qname] + [str(per[label]["requests"]) for label in labels] + [str(per[list(labels)[-1]]["rest"])]
        row += [f"{per[label]['ms']:.1f}" for label in labels]
        lines.append("| " + " | ".join(row) + " |")
    lines += [
        "",
        "`list --limit 10` is one REST listing (the repository's newest 100 artifacts). The `get` queries "
        "add the download of the document's zip: one REST call answered with a 302 and one blob GET. An "
        "empty store answers with the one listing. `get --commit` needs no second listing because the "
        "oldest run pointer of the commit on the first page belongs to a run whose entry is marked `e1` "
        "(the first run to store that commit), which proves that page holds all of its documents. Times are "
        "the fake's, not GitHub's: it answers every listing by scanning all its artifacts in Python and renders "
        "up to 100 records; the request counts are what the design controls.",
        "",
    ]
    OUT.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
