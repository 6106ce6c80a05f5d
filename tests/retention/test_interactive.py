"""On a terminal, cleanup shows the plan and asks; answering no removes nothing."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aqe_ci.errors import EXIT_USAGE
from aqe_ci.storage.local import LocalBackend
from aqe_ci.storage.store import Query, Store

from .conftest import History


def run_on_tty(cwd: Path, args: list[str], answer: str) -> tuple[int, str]:
    """Run aqe with stdin/stdout/stderr on a pseudo-terminal; type ``answer`` at the prompt."""
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AQE_", "GITHUB_", "GITLAB_", "CI"))}
    proc = subprocess.Popen([sys.executable, "-m", "aqe_ci", *args], cwd=cwd, env=env,
                            stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    out = b""
    answered = False
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                out += chunk
                if not answered and b"[y/N]" in out:
                    os.write(master, answer.encode() + b"\n")
                    answered = True
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=60)
    finally:
        os.close(master)
    assert answered, out.decode(errors="replace")
    return code, out.decode(errors="replace")


@pytest.mark.parametrize("answer", ["n", "y"])
def test_cleanup_asks_on_a_terminal(history_250: History, fast_tmp: Path, tmp_path: Path, answer: str) -> None:
    root = history_250.copy_to(fast_tmp / "store")
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "storage.json").write_text(json.dumps(
        {"local": {"base_path": str(root)}, "retention": {"keep_latest_n": 10, "protected_branches": ["main"]}}))
    store = Store(LocalBackend(root))
    before = {e.id for e in store.list(Query())}
    code, out = run_on_tty(tmp_path, ["artifacts", "cleanup", "--branch", "feature-b"], answer)
    assert "delete run-" in out and "from " + str(root) in out  # the plan is shown before the question
    after = {e.id for e in store.list(Query())}
    if answer == "n":
        assert code == EXIT_USAGE and "Aborted" in out
        assert after == before
    else:
        assert code == 0, out
        removed = before - after
        assert removed and all(history_250_branch(history_250, i) == "feature-b" for i in removed)
        assert out.count("\ndeleted run-") == len(removed)


def history_250_branch(h: History, ident: tuple[str, str, str]) -> str:
    return next(d.branch for d in h.docs if d.id == ident)
