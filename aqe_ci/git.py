"""The one place that runs the local ``git`` executable — one runner, :class:`Git`, for the context
questions (HEAD, branch, remote) and the merge-bases and ancestor walks of baseline resolution —
and repository-slug parsing of remote URLs.

Only local, read-only plumbing commands are run (never fetch), with prompts disabled. Failures (no git, not a checkout, unborn HEAD, timeout)
are answered with ``None``, never an exception: a missing checkout is a normal situation for
context detection.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path

_SCP_RE = re.compile(r"^(?:[^@/]+@)?[^:/]+:(?!//)(?P<path>.+)$")  # git@host:owner/name.git


SHA_RE = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
#: context questions are quick; merge-bases and ancestor walks over a deep history take longer
CONTEXT_TIMEOUT = 15.0
HISTORY_TIMEOUT = 60.0


class Git:
    """A git checkout at ``cwd``: every question is ``git <args>`` answered with stripped stdout, or
    None when git fails (no git, not a checkout, unknown ref, timeout)."""

    def __init__(self, cwd: Path | str | None = None, *, env: Mapping[str, str] | None = None,
                 timeout: float = HISTORY_TIMEOUT) -> None:
        self.cwd = Path(cwd) if cwd is not None else Path.cwd()
        self.env = dict(env) if env is not None else None
        self.timeout = timeout
        self._ok: bool | None = None

    @property
    def repo(self) -> Path:
        return self.cwd

    def run(self, *args: str) -> str | None:
        env = dict(os.environ if self.env is None else self.env)
        env.setdefault("GIT_TERMINAL_PROMPT", "0")
        env["GIT_OPTIONAL_LOCKS"] = "0"
        env["LC_ALL"] = "C"
        try:
            proc = subprocess.run(["git", *args], cwd=self.cwd, env=env, capture_output=True,
                                  text=True, timeout=self.timeout, check=False)
        except (OSError, subprocess.SubprocessError):
            return None
        if proc.returncode != 0:
            return None
        return proc.stdout.strip()

    # -- the questions context detection asks ------------------------------------------------
    def inside_work_tree(self) -> bool:
        return self.run("rev-parse", "--is-inside-work-tree") == "true"

    def head_sha(self) -> str | None:
        return self.run("rev-parse", "--verify", "--quiet", "HEAD") or None

    def head_branch(self) -> str | None:
        """The checked-out branch, None when HEAD is detached (or unborn without a name)."""
        name = self.run("symbolic-ref", "--quiet", "--short", "HEAD")
        return name or None

    def remote_url(self, remote: str = "origin") -> str | None:
        return self.run("remote", "get-url", remote) or None

    def remote_default_branch(self, remote: str = "origin") -> str | None:
        ref = self.run("symbolic-ref", "--quiet", "--short", f"refs/remotes/{remote}/HEAD")
        if ref and ref.startswith(f"{remote}/"):
            return ref[len(remote) + 1:] or None
        return None

    # -- merge-bases and ancestor walks (baseline resolution) --------------------------------
    def available(self) -> bool:
        if self._ok is None:
            self._ok = self.cwd.is_dir() and self.run("rev-parse", "--git-dir") is not None
        return self._ok

    def resolve(self, ref: str) -> str | None:
        """A ref or sha → full commit sha, or None when the checkout does not have it."""
        if not self.available() or not ref or ref.startswith("-"):
            return None
        out = self.run("rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
        return out if out and SHA_RE.match(out) else None

    def merge_base(self, a: str, b: str) -> str | None:
        ra, rb = self.resolve(a), self.resolve(b)
        if not ra or not rb:
            return None
        out = self.run("merge-base", ra, rb)
        return out.splitlines()[0] if out and SHA_RE.match(out.splitlines()[0]) else None

    def first_parent_ancestors(self, commit: str, limit: int) -> list[str]:
        """``commit`` and up to ``limit`` first-parent ancestors, nearest first."""
        rc = self.resolve(commit)
        if not rc:
            return []
        out = self.run("rev-list", "--first-parent", f"--max-count={limit + 1}", rc)
        return [s for s in (out or "").splitlines() if SHA_RE.match(s)]


def slug_from_url(url: str | None) -> str | None:
    """``owner/name`` (or ``group/sub/name``) of a git remote URL; never returns credentials or the host.

    Handles ``https://[user[:token]@]host[:port]/owner/name(.git)``, ``ssh://git@host[:port]/owner/name``,
    scp-like ``git@host:owner/name.git`` and ``file``/local paths (the last two path segments).
    """
    if not url:
        return None
    url = url.strip()
    path: str | None
    if "://" in url:
        rest = url.split("://", 1)[1]
        if "/" not in rest:
            return None
        path = rest.split("/", 1)[1]
    else:
        m = _SCP_RE.match(url)
        path = m.group("path") if m else url
    path = path.split("?", 1)[0].split("#", 1)[0].strip("/")
    if path.endswith(".git"):
        path = path[:-4]
    segments = [s for s in path.split("/") if s and s not in (".", "..")]
    if url.startswith(("/", "file://", ".")) or "://" not in url and not _SCP_RE.match(url):
        segments = segments[-2:]  # a local path: keep parent/name
    if len(segments) < 2:
        return None
    if not all(re.fullmatch(r"[A-Za-z0-9._~-]+", s) for s in segments):
        return None
    return "/".join(segments)
