"""Concurrent `aqe artifacts store` processes on the local store: no lost writes, one winner."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from aqe_ci.errors import EXIT_CONFLICT


def doc(i: int) -> dict:
    return {"type": "test_results", "timestamp": "2025-11-12T10:00:00Z",
            "data": {"tests_run": i, "passed": i, "failed": 0, "duration": 1.0, "failures": []}}


def start(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "aqe_ci", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)


def test_32_concurrent_cli_writers_all_listed(tmp_path: Path) -> None:
    files = []
    for i in range(32):
        f = tmp_path / f"d{i}.json"
        f.write_text(json.dumps(doc(i + 1)))
        files.append(f)
    procs = [start(["artifacts", "store", "--file", str(f), "--key", f"build-{i:02d}"], tmp_path)
             for i, f in enumerate(files)]
    results = [p.communicate(timeout=300) for p in procs]
    codes = [p.returncode for p in procs]
    assert codes == [0] * 32, [err for (_, err), p in zip(results, procs, strict=True) if p.returncode]
    out = subprocess.run([sys.executable, "-m", "aqe_ci", "artifacts", "list", "--limit", "100", "--format", "json"],
                         cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert sorted(a["key"] for a in json.loads(out)["artifacts"]) == [f"build-{i:02d}" for i in range(32)]


def test_8_concurrent_cli_writers_of_one_document_one_wins(tmp_path: Path) -> None:
    files = []
    for i in range(8):
        f = tmp_path / f"d{i}.json"
        f.write_text(json.dumps(doc(100 + i)))
        files.append(f)
    procs = [start(["artifacts", "store", "--file", str(f), "--key", "same"], tmp_path) for f in files]
    results = [p.communicate(timeout=300) for p in procs]
    codes = [p.returncode for p in procs]
    assert sorted(codes) == [0] + [EXIT_CONFLICT] * 7, codes
    for (_, err), code in zip(results, codes, strict=True):
        if code == EXIT_CONFLICT:
            assert "already exists" in err
    winner = codes.index(0)
    out = subprocess.run([sys.executable, "-m", "aqe_ci", "artifacts", "get", "same", "--type", "test_results"],
                         cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert json.loads(out)["data"]["tests_run"] == 100 + winner  # the winner's bytes, whole
    payloads = list((tmp_path / ".qe-artifacts" / "runs" / "same").rglob("data-*"))
    assert len(payloads) == 1  # the losers removed their own payloads
