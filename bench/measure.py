"""Measuring a fresh child interpreter: wall time, CPU time and its own peak RSS.

Peak RSS is the child's ``VmHWM`` from /proc/self/status, written by an atexit hook. ``ru_maxrss``
from wait4 is not used for memory: Linux carries the parent's resident size over fork+exec into the
child's maximum, so a large parent (a pytest run, a bench that generated data) inflates the figure.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

PEAK_HOOK = (
    "import atexit as _a, sys as _s\n"
    "def _aqe_peak():\n"
    "    with open('/proc/self/status') as _f:\n"
    "        for _l in _f:\n"
    "            if _l.startswith('VmHWM:'):\n"
    "                _s.stderr.write('AQE_PEAK_KB=' + _l.split()[1] + '\\n')\n"
    "_a.register(_aqe_peak)\n"
)


def run_python(code: str, args: list[str], *, env: dict[str, str] | None = None,
               cwd: Path | None = None) -> tuple[float, float, int, str]:
    """(wall s, CPU s, peak RSS bytes, stdout) of ``python -c code args``."""
    _init()
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", PEAK_HOOK + code, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, cwd=cwd)
    out_b, err_b = proc.communicate()
    wall = time.perf_counter() - start
    err = err_b.decode(errors="replace")
    if proc.returncode != 0:
        raise SystemExit(f"contender failed ({proc.returncode}): {err.strip()[-500:]}")
    peak_kb = 0
    for line in err.splitlines():
        if line.startswith("AQE_PEAK_KB="):
            peak_kb = int(line.split("=", 1)[1])
    cpu = child_cpu_seconds(proc.pid)
    return wall, cpu, peak_kb * 1024, out_b.decode().strip()


_last_children = [0.0]


def _init() -> None:
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    _last_children[0] = ru.ru_utime + ru.ru_stime


def child_cpu_seconds(_pid: int) -> float:
    """CPU seconds of the child just reaped (difference of RUSAGE_CHILDREN totals)."""
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = ru.ru_utime + ru.ru_stime
    delta = total - _last_children[0]
    _last_children[0] = total
    return delta
