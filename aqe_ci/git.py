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
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
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

    def _env(self) -> dict[str, str]:
        env = dict(os.environ if self.env is None else self.env)
        env.setdefault("GIT_TERMINAL_PROMPT", "0")
        env["GIT_OPTIONAL_LOCKS"] = "0"
        env["LC_ALL"] = "C"
        return env

    def run(self, *args: str) -> str | None:
        env = self._env()
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

    # -- the change between two commits (patch coverage) -------------------------------------
    def stream(self, *args: str) -> Iterator[bytes]:
        """The stdout lines (bytes) of ``git ARGS`` as they come, so a large diff is never held whole.

        Raises :class:`GitStreamError` after the last line when git failed (or could not start).
        """
        try:
            proc = subprocess.Popen(["git", *args], cwd=self.cwd, env=self._env(), stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        except OSError as exc:
            raise GitStreamError(str(exc)) from None
        assert proc.stdout is not None
        done = False
        try:
            yield from proc.stdout
            done = True
        finally:
            proc.stdout.close()
            if not done:
                proc.kill()
            try:
                rc = proc.wait(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                rc = proc.wait()
        if rc != 0:
            raise GitStreamError(f"git {args[0] if args else ''} exited {rc}")

    def changed_files(self, base: str, head: str) -> list[FileDiff] | None:
        """The files and head lines changed from ``base`` to ``head`` (``git diff --unified=0``, renames
        detected); None when either commit is missing from the checkout or git fails."""
        rb, rh = self.resolve(base), self.resolve(head)
        if not rb or not rh:
            return None
        try:
            return parse_diff(self.stream(*DIFF_ARGS, rb, rh))
        except (GitStreamError, OSError, subprocess.SubprocessError):
            return None


class GitStreamError(Exception):
    """``git`` exited non-zero (or could not start) while its output was streamed."""


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


# ---------------------------------------------------------------------------------------------
# changed lines between two commits (patch coverage)

#: ``git diff`` flags that make the output independent of the user's git config: no colour, no external
#: diff or textconv drivers, fixed a/ b/ prefixes, paths from the repository root, no context lines,
#: renames detected (a moved file contributes only its edited lines).
DIFF_ARGS = ("-c", "core.quotePath=off", "diff", "--no-color", "--no-ext-diff", "--no-textconv", "--no-relative",
             "--src-prefix=a/", "--dst-prefix=b/", "--unified=0", "--find-renames", "--ignore-submodules")
_HUNK_RE = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_C_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


@dataclass(frozen=True)
class FileDiff:
    """One file of a diff: its path at the head, its path at the base, and the head lines added or changed.

    ``status``: ``added`` | ``modified`` | ``renamed`` | ``copied`` | ``deleted``. ``added`` holds head line
    numbers, ascending (a changed line is a removed line plus an added one, so it is listed).
    """

    path: str
    old_path: str | None
    status: str
    added: tuple[int, ...] = ()
    binary: bool = False


def unquote_path(raw: str) -> str:
    """A path as git prints it (C-style quoted when it holds special bytes) → the path."""
    if len(raw) < 2 or not (raw.startswith('"') and raw.endswith('"')):
        return raw
    out = bytearray()
    s = raw[1:-1]
    i = 0
    while i < len(s):
        ch = s[i]
        if ch != "\\" or i + 1 >= len(s):
            out += ch.encode("utf-8", "surrogateescape")
            i += 1
            continue
        nxt = s[i + 1]
        octal = s[i + 1:i + 4]
        if len(octal) == 3 and all(c in "01234567" for c in octal):
            out.append(int(octal, 8) & 0xFF)
            i += 4
        else:
            out.append(_C_ESCAPES.get(nxt, ord(nxt)))
            i += 2
    return out.decode("utf-8", "replace")


def _side(raw: str, prefix: str) -> str | None:
    """``a/path`` / ``b/path`` (maybe quoted, maybe with git's trailing tab) → path; None for /dev/null."""
    text = raw[:-1] if raw.endswith("\t") else raw
    text = unquote_path(text)
    if text == "/dev/null":
        return None
    return text[len(prefix):] if text.startswith(prefix) else text


class _DiffParser:
    """State of :func:`parse_diff` for the file being read."""

    def __init__(self) -> None:
        self.files: list[FileDiff] = []
        self._reset()

    def _reset(self) -> None:
        self.old: str | None = None
        self.new: str | None = None
        self.rename_from: str | None = None
        self.rename_to: str | None = None
        self.status = "modified"
        self.binary = False
        self.added: list[int] = []
        self.started = False

    def flush(self) -> None:
        if self.started:
            path = self.new or self.rename_to or self.old or self.rename_from
            if path is not None:
                old = self.rename_from or self.old
                self.files.append(FileDiff(path=path, old_path=old, status=self.status,
                                           added=tuple(self.added), binary=self.binary))
        self._reset()

    def header(self, line: str) -> None:
        if line.startswith("new file mode"):
            self.status = "added"
        elif line.startswith("deleted file mode"):
            self.status = "deleted"
        elif line.startswith("rename from "):
            self.rename_from, self.status = unquote_path(line[12:]), "renamed"
        elif line.startswith("rename to "):
            self.rename_to = unquote_path(line[10:])
        elif line.startswith("copy from "):
            self.rename_from, self.status = unquote_path(line[10:]), "copied"
        elif line.startswith("copy to "):
            self.rename_to = unquote_path(line[8:])
        elif line.startswith("--- "):
            self.old = _side(line[4:], "a/")
        elif line.startswith("+++ "):
            self.new = _side(line[4:], "b/")
        elif line.startswith(("Binary files ", "GIT binary patch")):
            self.binary = True
            if line.startswith("Binary files ") and self.new is None and self.old is None:
                body = line[len("Binary files "):].removesuffix(" differ")
                old, sep, new = body.rpartition(" and ")
                if sep:
                    self.old, self.new = _side(old, "a/"), _side(new, "b/")


def parse_diff(lines: Iterable[bytes]) -> list[FileDiff]:
    """Parse ``git diff --unified=0`` output (:data:`DIFF_ARGS`) into one :class:`FileDiff` per file.

    Content lines are skipped by the counts of their hunk header, so a line whose text starts with
    ``+++`` or ``diff --git`` is never taken for a header. Pure: no git, no files.
    """
    p = _DiffParser()
    old_left = new_left = 0
    for raw in lines:
        if old_left or new_left:
            if raw.startswith(b"\\"):  # "\ No newline at end of file"
                continue
            if raw.startswith(b"-") and old_left:
                old_left -= 1
                continue
            if raw.startswith(b"+") and new_left:
                new_left -= 1
                continue
            old_left = new_left = 0  # a malformed hunk: fall back to header parsing
        if raw.startswith(b"diff --git "):
            p.flush()
            p.started = True
            continue
        m = _HUNK_RE.match(raw)
        if m and p.started:
            old_left = int(m.group(2)) if m.group(2) is not None else 1
            new_start = int(m.group(3))
            new_left = int(m.group(4)) if m.group(4) is not None else 1
            p.added.extend(range(new_start, new_start + new_left))
            continue
        if p.started and not raw.startswith(b"\\"):
            p.header(raw.rstrip(b"\r\n").decode("utf-8", "surrogateescape"))
    p.flush()
    return p.files
