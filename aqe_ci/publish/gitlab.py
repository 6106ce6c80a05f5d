"""The GitLab forge: one sticky MR note, the job log as summary, a dotenv report as outputs.

* **Notes** (``upsert_comment``) through python-gitlab: every note of the MR is read page by page;
  ours is the one carrying the hidden marker of ``comment_id`` *and* written by the token's own
  user (someone quoting the marker, or another bot, is never overwritten). ``update`` edits it in
  place (or creates it), ``recreate`` deletes ours and posts a new one at the bottom, ``new`` always
  posts, ``off`` does nothing. Bodies are limited to GitLab's 1,000,000 characters.
* ``CI_JOB_TOKEN`` cannot write notes (platform reference §5.3), so the client given here holds a
  project / group / personal access token; with none (``client=None``), or when GitLab refuses
  (401/403/404, rate limited past the retries), the result is ``fallback`` with the reason — never
  an exception, so the job still succeeds and the caller saves the note to a file.
* ``write_summary`` prints the report into the job log as a collapsible section and saves it as a
  file for ``artifacts:paths``; ``set_outputs`` writes a ``dotenv`` report (``AQE_<NAME>=value``,
  GitLab's rules: keys ``[A-Za-z0-9_]``, one line each, at most 5 KB); ``annotate`` writes a Code
  Quality report (``artifacts:reports:codequality``), which GitLab shows in the MR widget.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

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

NOTE_LIMIT = 1_000_000
DOTENV_LIMIT = 5 * 1024
DOTENV_KEY = re.compile(r"^[A-Za-z0-9_]+$")
SEVERITY = {"error": "major", "warning": "minor", "notice": "info"}
SECTION = "aqe_artifacts_report"


def dotenv_name(output: str) -> str:
    """``coverage-change`` → ``AQE_COVERAGE_CHANGE``."""
    return "AQE_" + re.sub(r"[^A-Za-z0-9]+", "_", output).strip("_").upper()


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".aqe-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class GitLabForge(Forge):
    name = "gitlab"
    comment_limit = NOTE_LIMIT

    def __init__(self, client: Any | None, *, web_url: str | None = None, dotenv_file: Path | None = None,
                 summary_file: Path | None = None, codequality_file: Path | None = None,
                 stream: IO[str] | None = None, no_client_reason: str | None = None) -> None:
        self.client: Any = client  # a python-gitlab Gitlab with a token that may write notes, or None
        self.web_url = (web_url or "").rstrip("/") or None  # the MR project's page, for note links
        self.dotenv_file = dotenv_file
        self.summary_file = summary_file
        self.codequality_file = codequality_file
        self.stream = stream
        self.no_client_reason = no_client_reason or "no access token that may write merge request notes"
        self._me: int | None = None
        self._outputs: dict[str, str] = {}  # every output set so far: the dotenv file holds them all

    # -- notes ----------------------------------------------------------------------------------
    def upsert_comment(self, target: CommentTarget, body: str, *, comment_id: str = "default",
                       mode: CommentMode = "update") -> CommentResult:
        if mode == "off":
            return CommentResult(action="skipped", reason="comment-mode is off")
        if len(body) > NOTE_LIMIT:
            return CommentResult(action="fallback", reason=f"the note has {len(body):,} characters; GitLab takes "
                                                           f"at most {NOTE_LIMIT:,}")
        if self.client is None:
            return CommentResult(action="fallback", reason=self.no_client_reason)
        try:
            return self._upsert(target, body, marker(comment_id), mode)
        except Exception as exc:  # every refusal is a fallback, never a failed build
            return CommentResult(action="fallback", reason=self._refusal(exc, target))

    def _upsert(self, target: CommentTarget, body: str, mark: str, mode: CommentMode) -> CommentResult:
        mr = self.client.projects.get(target.project, lazy=True).mergerequests.get(target.number, lazy=True)
        ours = self._ours(mr, mark) if mode != "new" else []
        if mode == "update" and ours:
            note = ours[0]
            for extra in ours[1:]:  # duplicates left by racing jobs: keep the oldest
                extra.delete()
            if note.body == body:
                return self._result("unchanged", target, note.id)
            note.body = body
            note.save()
            return self._result("updated", target, note.id)
        if mode == "recreate":
            for note in ours:
                note.delete()
        note = mr.notes.create({"body": body})
        return self._result("recreated" if mode == "recreate" and ours else "created", target, note.id)

    def _ours(self, mr: Any, mark: str) -> list[Any]:
        """Our notes carrying ``mark``, oldest first (every page is read)."""
        me = self._user_id()
        return [n for n in mr.notes.list(iterator=True, per_page=100, sort="asc", order_by="created_at")
                if not getattr(n, "system", False) and mark in (n.body or "")
                and (n.author or {}).get("id") == me]

    def _user_id(self) -> int:
        if self._me is None:
            self.client.auth()
            self._me = int(self.client.user.id)
        return self._me

    def _result(self, action: Any, target: CommentTarget, note_id: int) -> CommentResult:
        url = f"{self.web_url}/-/merge_requests/{target.number}#note_{note_id}" if self.web_url else None
        return CommentResult(action=action, comment_id=str(note_id), url=url)

    def _refusal(self, exc: BaseException, target: CommentTarget) -> str:
        from aqe_ci.gitlab_api import message_of, status_of

        status = status_of(exc)
        where = f"!{target.number} of project {target.project}"
        if status in (401, 403):
            return (f"GitLab refused to write a note on {where} ({status}): the token needs the api scope and at "
                    "least the Reporter role (a project access token with Developer is safe; "
                    "docs/troubleshooting.md#gitlab-note-403)")
        if status == 404:
            return f"GitLab: {where} not found or not visible to the token (404)"
        if status == 429:
            return f"GitLab kept throttling note writes on {where} (429)"
        if status is None:
            return f"GitLab could not be reached to write a note on {where} ({type(exc).__name__})"
        return f"GitLab answered {status} writing a note on {where}: {message_of(exc)}"

    def find_comment(self, target: CommentTarget, *, comment_id: str = "default") -> CommentResult | None:
        if self.client is None:
            return None
        try:
            mr = self.client.projects.get(target.project, lazy=True).mergerequests.get(target.number, lazy=True)
            ours = self._ours(mr, marker(comment_id))
        except Exception:
            return None
        return self._result("unchanged", target, ours[0].id) if ours else None

    def pulls_for_commit(self, project: str, sha: str) -> list[int]:
        """Open MRs of ``project`` whose head is ``sha`` (``GET …/repository/commits/:sha/merge_requests``)."""
        if self.client is None:
            return []
        mrs = self.client.projects.get(project, lazy=True).commits.get(sha, lazy=True).merge_requests()
        return [int(m["iid"]) for m in mrs if m.get("state") == "opened" and (m.get("sha") in (None, sha))]

    # -- job log, artifacts, dotenv --------------------------------------------------------------
    def write_summary(self, markdown: str) -> None:
        text = secrets.redact(markdown)
        if self.summary_file is not None:
            _write_atomic(self.summary_file, text)
        out = self.stream or sys.stdout
        # a collapsible section of the job log (GitLab's section markers; plain text elsewhere)
        out.write(f"\x1b[0Ksection_start:{_now()}:{SECTION}[collapsed=false]\r\x1b[0Kaqe-artifacts report\n")
        out.write(_log_safe(text).rstrip("\n") + "\n")
        out.write(f"\x1b[0Ksection_end:{_now()}:{SECTION}\r\x1b[0K\n")
        out.flush()

    def set_outputs(self, outputs: Mapping[str, str]) -> None:
        """Add ``outputs`` to the dotenv report (a later value of a name replaces the earlier one)."""
        if self.dotenv_file is None:
            return
        self._outputs.update(outputs)
        lines, size = [], 0
        for name, value in self._outputs.items():
            key = dotenv_name(name)
            text = " ".join(secrets.redact(str(value)).split())  # one line, no secret
            line = f"{key}={text}\n"
            if not DOTENV_KEY.match(key) or size + len(line.encode()) > DOTENV_LIMIT:
                continue
            lines.append(line)
            size += len(line.encode())
        _write_atomic(self.dotenv_file, "".join(lines))

    def annotate(self, annotations: Sequence[Annotation]) -> AnnotateResult:
        """A Code Quality report: one entry per annotation that names a file."""
        if self.codequality_file is None:
            return AnnotateResult(written=0, dropped=len(annotations))
        entries: list[dict[str, Any]] = []
        for a in annotations:
            if not a.file:
                continue
            text = f"{a.title}: {a.message}" if a.title else a.message
            fingerprint = hashlib.sha256(f"{a.level}|{a.title}|{a.file}|{a.line}".encode()).hexdigest()
            entries.append({"description": secrets.redact(text)[:2000], "check_name": "aqe-artifacts",
                            "fingerprint": fingerprint, "severity": SEVERITY.get(a.level, "info"),
                            "location": {"path": a.file, "lines": {"begin": a.line or 1}}})
        _write_atomic(self.codequality_file, json.dumps(entries, indent=1))
        return AnnotateResult(written=len(entries), dropped=len(annotations) - len(entries))


def _now() -> int:
    import time

    return int(time.time())


#: what must not reach the job log from untrusted text: C0 controls but tab and newline, DEL, C1 controls,
#: and the bidirectional embedding / override / isolate characters
_LOG_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _log_safe(text: str) -> str:
    """The report made inert for the job log (its markdown is escaped already): line breaks stay
    ``\n``, nothing moves the cursor, changes colours or reorders text."""
    return _LOG_UNSAFE.sub("", re.sub(r"\r\n?|[\u2028\u2029]", "\n", text))
