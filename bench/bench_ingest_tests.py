#!/usr/bin/env python3
"""Benchmark: JUnit ingest (50,000 test cases) side by side with junitparser and a bare iterparse.

Ours runs twice: with the C accelerator (``aqe_ci.ingest.tests._junit_c``, the default when built) and on
the pure-Python reference path (``AQE_PURE_PYTHON=1``); the targets are checked on the first.

Each contender runs in a fresh subprocess (``bench/measure.py::run_python``), best wall time of N
runs; peak RSS is the child's own ``VmHWM`` (wait4's ``ru_maxrss`` would carry the parent's size over
fork+exec).
Runs are interleaved (one of each contender per round) so a change in machine load hits all of
them alike. Our package's bytecode is compiled first (``compileall``), as ``pip install`` does:
with an editable install and ``PYTHONDONTWRITEBYTECODE`` set, every fresh interpreter would
otherwise recompile our sources while the reference tools load theirs from ``.pyc``.
Prints a markdown table. Usage::

    python bench/bench_ingest_tests.py [--runs 3] [--suites 2000] [--cases-per-suite 25]
"""

from __future__ import annotations

import argparse
import compileall
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.measure import run_python  # noqa: E402

BENCH_DIR = ROOT / ".bench"
GEN = ROOT / ".." / "shared" / "bench" / "gen_junit.py"

OURS = """
import sys, tempfile
from pathlib import Path
from aqe_ci.ingest.driver import ingest_files
with tempfile.TemporaryDirectory(dir=sys.argv[2]) as tmp:
    r = ingest_files([Path(sys.argv[1])], workdir=Path(tmp))
    assert not r.problems, r.problems
    from aqe_ci.model.schema import backend
    print(r.documents["test_results"].summary["tests_run"], "validated with", backend())
"""
#: contender -> (code, extra environment)
CONTENDERS: dict[str, tuple[str, dict[str, str]]] = {
    "aqe ingest_files (validated document written)": (OURS, {"AQE_PURE_PYTHON": "0"}),
    "junitparser JUnitXml.fromfile + iterate cases": ("""
import sys
from junitparser import JUnitXml
n = 0
for suite in JUnitXml.fromfile(sys.argv[1]):
    for case in suite:
        case.name; case.result; n += 1
print(n)
""", {}),
    "xml.etree.ElementTree.iterparse (clear)": ("""
import sys
import xml.etree.ElementTree as ET
n = 0
for _, el in ET.iterparse(sys.argv[1]):
    if el.tag == "testcase":
        n += 1
    el.clear()
print(n)
""", {}),
    "aqe ingest_files, pure-Python path (AQE_PURE_PYTHON=1)": (OURS, {"AQE_PURE_PYTHON": "1"}),
}


def run_child(code: str, path: Path, env: dict[str, str] | None = None) -> tuple[float, float, int, str]:
    """(wall s, CPU s user+sys, peak RSS bytes, stdout) of one fresh interpreter running ``code``
    (``bench/measure.py``: the child's own ``VmHWM``, the same method as the other ingest benches)."""
    return run_python(code, [str(path), str(BENCH_DIR)], cwd=ROOT, env={**os.environ, **(env or {})})


def ensure_input(suites: int, cases: int) -> Path:
    BENCH_DIR.mkdir(exist_ok=True)
    path = BENCH_DIR / f"junit-{suites * cases // 1000}k.xml"
    if not path.exists():
        subprocess.run([sys.executable, str(GEN), str(path), "--suites", str(suites), "--cases-per-suite",
                        str(cases)], check=True, stdout=subprocess.DEVNULL)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--suites", type=int, default=2000)
    ap.add_argument("--cases-per-suite", type=int, default=25)
    args = ap.parse_args(argv)
    path = ensure_input(args.suites, args.cases_per_suite)
    compileall.compile_dir(str(ROOT / "aqe_ci"), quiet=1)
    best: dict[str, list[Any]] = {name: [float("inf"), float("inf"), 0, ""] for name in CONTENDERS}
    for _ in range(args.runs):
        for name, (code, env) in CONTENDERS.items():
            wall, cpu, rss, out = run_child(code, path, env)
            b = best[name]
            b[:] = [min(b[0], wall), min(b[1], cpu), max(b[2], rss), out]
    rows = [(name, *b) for name, b in best.items()]
    ours, jp, et = rows[0][1], rows[1][1], rows[2][1]
    cpu_ours, cpu_jp, cpu_et = rows[0][2], rows[1][2], rows[2][2]
    load = os.getloadavg()[0]
    from aqe_ci import accel

    built = "built" if accel.status().get("aqe_ci.ingest.tests._junit_c") else "NOT built"
    print(f"JUnit accelerator {built}. JUnit ingest, {path.name} ({path.stat().st_size / 1e6:.1f} MB, {rows[0][4]}); "
          f"best of {args.runs}, fresh subprocess each; {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"load average {load:.1f}\n")
    print("| contender | wall (s) | CPU user+sys (s) | peak RSS (MB) |")
    print("|---|---:|---:|---:|")
    for name, wall, cpu, rss, _ in rows:
        print(f"| {name} | {wall:.2f} | {cpu:.2f} | {rss / 1e6:.0f} |")
    print(f"\nwall: ours / junitparser = {ours / jp:.2f} (target <= 1.0), ours / iterparse = {ours / et:.2f} "
          f"(target <= 1.5); CPU: {cpu_ours / cpu_jp:.2f} and {cpu_ours / cpu_et:.2f}; "
          f"our peak RSS {rows[0][3] / 1e6:.0f} MB (target <= 40)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
