"""A small runner over the real ``git`` binary, for merge-bases and ancestor walks.

Only local, read-only plumbing commands are run (never fetch), with prompts disabled. A missing
binary, a directory that is not a checkout or a commit the checkout lacks all read as "unknown"
(``None``): baseline resolution then says why it fell back.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

Runner = Callable[[Sequence[str], Path], "subprocess.CompletedProcess[str]"]
SHA_RE = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


def run_git(args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60,
                          check=False)


class Git:
    def __init__(self, repo: Path | str, runner: Runner = run_git) -> None:
        self.repo = Path(repo)
        self.runner = runner
        self._ok: bool | None = None

    def _out(self, *args: str) -> str | None:
        try:
            proc = self.runner(args, self.repo)
        except (OSError, subprocess.SubprocessError):
            return None
        return proc.stdout.strip() if proc.returncode == 0 else None

    def available(self) -> bool:
        if self._ok is None:
            self._ok = self.repo.is_dir() and self._out("rev-parse", "--git-dir") is not None
        return self._ok

    def resolve(self, ref: str) -> str | None:
        """A ref or sha → full commit sha, or None when the checkout does not have it."""
        if not self.available() or not ref or ref.startswith("-"):
            return None
        out = self._out("rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
        return out if out and SHA_RE.match(out) else None

    def merge_base(self, a: str, b: str) -> str | None:
        ra, rb = self.resolve(a), self.resolve(b)
        if not ra or not rb:
            return None
        out = self._out("merge-base", ra, rb)
        return out.splitlines()[0] if out and SHA_RE.match(out.splitlines()[0]) else None

    def first_parent_ancestors(self, commit: str, limit: int) -> list[str]:
        """``commit`` and up to ``limit`` first-parent ancestors, nearest first."""
        rc = self.resolve(commit)
        if not rc:
            return []
        out = self._out("rev-list", "--first-parent", f"--max-count={limit + 1}", rc)
        return [s for s in (out or "").splitlines() if SHA_RE.match(s)]
