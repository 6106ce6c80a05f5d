"""`make bench`: run every benchmark, side by side with its reference tool, and print the tables.

Each bench/bench_*.py is run in its own process (so memory figures are not mixed); each writes
its figures to docs/benchmarks/<area>.md as well. Pass names to run only some:
    python bench/run.py foundation ingest_tests
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    wanted = set(sys.argv[1:])
    failed = 0
    for script in sorted(HERE.glob("bench_*.py")):
        name = script.stem.removeprefix("bench_")
        if wanted and name not in wanted:
            continue
        print(f"\n## {name}\n", flush=True)
        rc = subprocess.run([sys.executable, str(script)], cwd=HERE.parent).returncode
        if rc:
            print(f"(bench {name} exited {rc})")
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
