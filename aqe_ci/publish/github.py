"""GitHub: PR comments through PyGithub, and the runner's file and workflow commands.

* **Comments** (platform reference §4): the sticky comment for a comment id is the newest comment
  whose body starts with :func:`~aqe_ci.publish.base.marker` *and* whose author is the token's own
  user, searched across every page of the PR's comments. The token's user comes from ``GET /user``,
  asked only when a marked comment exists; an installation token (``GITHUB_TOKEN``, ``ghs_…``) is
  not allowed to ask (403), so the composition root passes ``github-actions[bot]`` for it and no
  request is made. Modes: ``update`` edits it in place (no request when
  the body is unchanged), ``recreate`` posts a new one and deletes the old (minimising it as
  OUTDATED when the delete is refused), ``new`` posts a new one and minimises the previous one,
  ``off`` does nothing. Any failure — a fork PR's read-only token (403 "Resource not accessible by
  integration"), a network error after retries — is returned as ``action="fallback"``, never raised.
  Retries (secondary rate limits with ``Retry-After``, 5xx) are PyGithub's ``GithubRetry``, set up
  by the composition root that builds the client.
* **File commands** (§1.5): step outputs go to ``GITHUB_OUTPUT`` always in the heredoc form with a
  random ``ghadelimiter_<uuid4>`` delimiter that the value does not contain, as @actions/core does,
  so no value can start another output; the job summary is appended to ``GITHUB_STEP_SUMMARY``
  within the 1 MiB a step may write.
* **Annotations** (§1.6): ``::error file=…,line=…::message``, escaped, at most 10 per level per step
  (the runner drops the rest); when there are more, the 10th says how many were left out.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from aqe_ci import secrets
from aqe_ci.publish.base import (
    AnnotateResult,
    Annotation,
    CommentMode,
    CommentResult,
    CommentTarget,
    Forge,
    marker,
)

if TYPE_CHECKING:
    from github import Github
    from github.Issue import Issue
    from github.IssueComment import IssueComment

BOT_LOGIN = "github-actions[bot]"
SUMMARY_LIMIT = 1024 * 1024  # bytes per step (runner constant)
ANNOTATIONS_PER_LEVEL = 10  # per step, for each of error / warning / notice
OUTPUT_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
CONTAINER_WORKSPACE = "/github/workspace"


# -- workflow commands ------------------------------------------------------------------------------
def escape_data(text: str) -> str:
    """A workflow command's message: ``%``, CR and LF encoded, so it cannot end the command's line."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **props: Any) -> str:
    """``::name k=v,…::message`` with every part escaped and every known secret redacted."""
    shown = ",".join(f"{k}={escape_property(secrets.redact(str(v)))}" for k, v in props.items() if v is not None)
    return f"::{name}{' ' + shown if shown else ''}::{escape_data(secrets.redact(message))}"


def heredoc(name: str, value: str) -> str:
    """One ``GITHUB_OUTPUT`` entry: ``name<<DELIM\\nvalue\\nDELIM\\n`` with a delimiter not in the value."""
    if not name or not set(name) <= OUTPUT_NAME_CHARS or name[0] in "-0123456789":
        raise ValueError(f"invalid output name {name!r}")
    delim = f"ghadelimiter_{uuid.uuid4()}"
    while delim in value:  # astronomically unlikely; never write a value that could close the heredoc
        delim = f"ghadelimiter_{uuid.uuid4()}"
    return f"{name}<<{delim}\n{value}\n{delim}\n"


def _describe(exc: Exception) -> str:
    """A one-line, secret-free reason for a failed GitHub call."""
    from github import GithubException

    if isinstance(exc, GithubException):
        data = exc.data if isinstance(exc.data, dict) else {}
        message = str(data.get("message") or exc.message or "").strip() or "no message"
        text = f"GitHub answered HTTP {exc.status}: {message}"
        if exc.status == 403 and "not accessible by integration" in message.lower():
            text += " (the token may not write comments: a pull request from a fork, or a read-only token)"
        elif exc.status == 401:
            text += " (the token is invalid or expired)"
        return secrets.redact(text)
    return secrets.redact(f"GitHub API unreachable: {type(exc).__name__}: {exc}")


class GitHubForge(Forge):
    name = "github"
    comment_limit = 65_536

    def __init__(self, client: Github | None = None, *, output_file: Path | None = None,
                 summary_file: Path | None = None, stream: IO[str] | None = None, author: str | None = None,
                 workspace: Path | None = None) -> None:
        """``client``: a ready PyGithub client (None: no token, comments fall back); ``output_file`` /
        ``summary_file``: the step's ``GITHUB_OUTPUT`` / ``GITHUB_STEP_SUMMARY`` (None: not written);
        ``stream``: where workflow commands go (stdout); ``author``: the comment author to match
        (default: the token's own user); ``workspace``: annotation paths are made relative to it."""
        self.client = client
        self.output_file = output_file
        self.summary_file = summary_file
        self.stream = stream
        self.workspace = workspace
        self._author = author
        self._found: dict[tuple[CommentTarget, str], list[IssueComment]] = {}

    # -- comments ---------------------------------------------------------------------------------
    def upsert_comment(self, target: CommentTarget, body: str, *, comment_id: str = "default",
                       mode: CommentMode = "update") -> CommentResult:
        if mode == "off":
            return CommentResult(action="skipped", reason="comment-mode is off")
        if len(body) > self.comment_limit:
            raise ValueError(f"comment body of {len(body)} characters is over GitHub's {self.comment_limit}")
        if self.client is None:
            return CommentResult(action="fallback", reason="no GitHub token was given")
        from github import GithubException
        from requests import RequestException

        try:
            return self._upsert(target, body, comment_id, mode)
        except (GithubException, RequestException, OSError) as exc:
            return CommentResult(action="fallback", reason=_describe(exc))
        finally:
            self._found.pop((target, comment_id), None)

    def find_comment(self, target: CommentTarget, *, comment_id: str = "default") -> CommentResult | None:
        if self.client is None:
            return None
        from github import GithubException
        from requests import RequestException

        try:
            mine = self._mine(target, comment_id)
        except (GithubException, RequestException, OSError):
            return None
        if not mine:
            return None
        return CommentResult(action="unchanged", comment_id=str(mine[-1].id), url=mine[-1].html_url)

    def _issue(self, target: CommentTarget) -> Issue:
        assert self.client is not None
        return self.client.get_repo(target.project).get_issue(target.number)  # lazy: no request

    def _mine(self, target: CommentTarget, comment_id: str) -> list[IssueComment]:
        """Our comments for ``comment_id``, oldest first (every page is read; cached until the next write)."""
        cached = self._found.get((target, comment_id))
        if cached is not None:
            return cached
        mark = marker(comment_id)
        marked = [c for c in self._issue(target).get_comments() if (c.body or "").lstrip().startswith(mark)]
        mine = []
        if marked:
            author = self._own_login()
            mine = [c for c in marked if c.user is not None and c.user.login == author]
        self._found[(target, comment_id)] = mine
        return mine

    def _own_login(self) -> str:
        if self._author is None:
            from github import GithubException

            assert self.client is not None
            try:
                self._author = self.client.get_user().login
            except GithubException as exc:
                if exc.status != 403:
                    raise
                self._author = BOT_LOGIN  # an installation token (GITHUB_TOKEN) may not read /user
        return self._author

    def _upsert(self, target: CommentTarget, body: str, comment_id: str, mode: CommentMode) -> CommentResult:
        mine = self._mine(target, comment_id)
        if mode == "update" and mine:
            keep = mine[-1]
            notes = self._retire(mine[:-1], "duplicate")
            if keep.body == body:
                return CommentResult(action="unchanged", comment_id=str(keep.id), url=keep.html_url,
                                     reason=notes or None)
            keep.edit(body)
            return CommentResult(action="updated", comment_id=str(keep.id), url=keep.html_url, reason=notes or None)
        new = self._issue(target).create_comment(body)
        if mode == "recreate" and mine:
            notes = self._retire(mine, "outdated")
            return CommentResult(action="recreated", comment_id=str(new.id), url=new.html_url, reason=notes or None)
        note = None
        if mode == "new" and mine:
            note = "previous comment minimised" if self._minimize(mine[-1]) else "previous comment left as it was"
        return CommentResult(action="created", comment_id=str(new.id), url=new.html_url, reason=note)

    def _retire(self, comments: Iterable[IssueComment], why: str) -> str:
        """Delete ``comments``; one whose delete is refused is minimised as OUTDATED instead."""
        from github import GithubException

        notes = []
        for c in comments:
            try:
                c.delete()
                notes.append(f"deleted {why} comment {c.id}")
            except GithubException as exc:
                if exc.status not in (403, 404):
                    raise
                done = self._minimize(c)
                notes.append(f"{'minimised' if done else 'could not delete or minimise'} {why} comment {c.id}")
        return "; ".join(notes)

    def _minimize(self, comment: IssueComment) -> bool:
        from github import GithubException

        try:
            return comment.minimize("OUTDATED")
        except GithubException:
            return False

    def pulls_for_commit(self, project: str, sha: str) -> list[int]:
        """Open PRs of ``project`` whose head commit is ``sha`` (``GET /repos/{o}/{r}/commits/{sha}/pulls``)."""
        from github import GithubException
        from requests import RequestException

        from aqe_ci.errors import BackendError

        if self.client is None:
            raise BackendError("no GitHub token to look up the pull request", hint="pass github-token / GITHUB_TOKEN")
        try:
            pulls = list(self.client.get_repo(project).get_commit(sha).get_pulls())
        except (GithubException, RequestException, OSError) as exc:
            raise BackendError(f"cannot list the pull requests of commit {sha[:12]} in {project}: "
                               f"{_describe(exc)}") from None
        found = [p.number for p in pulls if p.state == "open" and (p.head.sha or "").lower() == sha.lower()
                 and (p.base.repo is None or p.base.repo.full_name.lower() == project.lower())]
        return sorted(found, reverse=True)

    # -- summary, outputs, annotations ------------------------------------------------------------
    def write_summary(self, markdown: str) -> None:
        """Append ``markdown`` (and a newline) to the step summary, never past 1 MiB for the step."""
        if self.summary_file is None:
            return
        data = (secrets.redact(markdown).rstrip("\n") + "\n").encode("utf-8")
        used = self.summary_file.stat().st_size if self.summary_file.exists() else 0
        if used + len(data) > SUMMARY_LIMIT:
            data = (f"\n_aqe-artifacts: {len(data):,} bytes of summary left out: the step summary is limited to "
                    f"{SUMMARY_LIMIT:,} bytes._\n").encode()
            if used + len(data) > SUMMARY_LIMIT:
                return
        with open(self.summary_file, "ab") as f:
            f.write(data)

    def set_outputs(self, outputs: Mapping[str, str]) -> None:
        if self.output_file is None:
            return
        text = "".join(heredoc(name, secrets.redact(str(value))) for name, value in outputs.items())
        with open(self.output_file, "a", encoding="utf-8", newline="\n") as f:
            f.write(text)

    def annotate(self, annotations: Sequence[Annotation]) -> AnnotateResult:
        out = self.stream if self.stream is not None else sys.stdout
        lines: list[str] = []
        dropped = 0
        for level in ("error", "warning", "notice"):
            items = [a for a in annotations if a.level == level]
            keep = items if len(items) <= ANNOTATIONS_PER_LEVEL else items[:ANNOTATIONS_PER_LEVEL - 1]
            lines += [self._line(a) for a in keep]
            left = len(items) - len(keep)
            if left:
                dropped += left
                lines.append(command(level, f"{left} more {level} annotations were left out (GitHub shows "
                                     f"{ANNOTATIONS_PER_LEVEL} per step); see the job summary",
                                     title="aqe-artifacts"))
        if lines:
            out.write("\n".join(lines) + "\n")
            out.flush()
        return AnnotateResult(written=len(annotations) - dropped, dropped=dropped)

    def _line(self, a: Annotation) -> str:
        line = a.line if a.line else None
        end = a.end_line if line and a.end_line and a.end_line >= line else None
        return command(a.level, a.message, file=self._path(a.file), line=line, endLine=end, title=a.title)

    def _path(self, path: str | None) -> str | None:
        """Workspace-relative (what the runner expects; a ``/github/workspace/…`` path also works)."""
        if not path:
            return None
        p = path.replace("\\", "/")
        for root in filter(None, (str(self.workspace) if self.workspace else None, CONTAINER_WORKSPACE)):
            root = root.rstrip("/") + "/"
            if p.startswith(root):
                return p[len(root):]
        return p.removeprefix("./") if not os.path.isabs(p) else p
