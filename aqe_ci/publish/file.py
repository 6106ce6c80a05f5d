"""The file sink: a comment that could not be posted, saved for a trusted job to post later.

A fork PR's token cannot comment (HTTP 403). Then the comment is written to a **comment file**
(JSON, below) and the job summary, and the build succeeds. A later job that runs with a write token
(``on: workflow_run``) posts it with ``aqe artifacts comment --from-file FILE``.

The file comes from an untrusted run, so the posting job trusts nothing in it but its shape: the
pull request is resolved from GitHub's own data (head sha of the triggering run → its open PRs),
never from ``target``, and the body is rendered again from ``result`` by our escaping renderer
(never posted as written), within the forge's size limit.

Comment file (``format`` ``aqe-artifacts/comment@1``)::

    {"format": "aqe-artifacts/comment@1", "target": {"project": "o/r", "number": 42},
     "head_sha": "…", "comment_id": "default", "mode": "update", "title": "…", "max_rows": 100,
     "reason": "why it was not posted", "body": "the markdown as rendered", "result": {…comparison…}}
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aqe_ci import secrets
from aqe_ci.errors import InvalidInputError
from aqe_ci.model.files import write_atomic
from aqe_ci.publish.base import (
    COMMENT_MODES,
    AnnotateResult,
    Annotation,
    CommentMode,
    CommentResult,
    CommentTarget,
    Forge,
    marker,
)

FORMAT = "aqe-artifacts/comment@1"
MAX_FILE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class CommentFile:
    """What a comment file says. Only ``result`` and the render options are used to post."""

    result: Mapping[str, Any]
    comment_id: str = "default"
    mode: CommentMode = "update"
    title: str | None = None
    max_rows: int | None = 100
    target: CommentTarget | None = None  # informational: never used to pick the PR
    head_sha: str | None = None  # informational
    body: str | None = None

    def as_json(self, reason: str | None = None) -> dict[str, Any]:
        return {"format": FORMAT,
                "target": {"project": self.target.project, "number": self.target.number} if self.target else None,
                "head_sha": self.head_sha, "comment_id": self.comment_id, "mode": self.mode, "title": self.title,
                "max_rows": self.max_rows, "reason": reason, "body": self.body, "result": self.result}


def read_comment_file(path: Path) -> CommentFile:
    """Parse and check a comment file; anything unexpected is an :class:`InvalidInputError` naming the file."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InvalidInputError(f"{path}: comment file is larger than {MAX_FILE_BYTES // 2**20} MiB")
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInputError(f"{path}: comment file does not exist",
                                hint="download the artifact holding it first (actions/download-artifact)") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidInputError(f"{path}: not a readable JSON comment file ({exc})") from None

    def bad(where: str, what: str) -> InvalidInputError:
        return InvalidInputError(f"{path}: $.{where}: {what}", hint=f"expected a {FORMAT} file written by aqe-artifacts")

    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise bad("format", f"is not {FORMAT!r}")
    result = data.get("result")
    if not isinstance(result, dict) or not isinstance(result.get("comparison"), dict):
        raise bad("result", "is not a comparison result object")
    comment_id = data.get("comment_id", "default")
    try:
        marker(comment_id if isinstance(comment_id, str) else "")
    except ValueError:
        raise bad("comment_id", "must be 1-64 letters, digits, '.', '_' or '-'") from None
    mode = data.get("mode", "update")
    if mode not in COMMENT_MODES:
        raise bad("mode", f"must be one of {', '.join(COMMENT_MODES)}")
    title = data.get("title")
    if title is not None and not isinstance(title, str):
        raise bad("title", "must be a string")
    max_rows = data.get("max_rows", 100)
    if max_rows is not None and (not isinstance(max_rows, int) or isinstance(max_rows, bool) or max_rows < 0):
        raise bad("max_rows", "must be a non-negative integer or null")
    target = data.get("target")
    named = None
    if isinstance(target, dict) and isinstance(target.get("number"), int) and isinstance(target.get("project"), str):
        named = CommentTarget(project=target["project"][:200], number=target["number"])
    return CommentFile(result=result, comment_id=comment_id, mode=mode, title=title, max_rows=max_rows or None,
                       target=named, head_sha=data.get("head_sha") if isinstance(data.get("head_sha"), str) else None)


class FileForge(Forge):
    """Writes the comment (with what is needed to render it again) to ``comment_file``; the summary
    and outputs to plain files when given. Used as the fallback when a forge refused the comment."""

    name = "file"
    comment_limit = 65_536

    def __init__(self, comment_file: Path, *, summary_file: Path | None = None, outputs_file: Path | None = None,
                 record: CommentFile | None = None, reason: str | None = None) -> None:
        self.comment_file = comment_file
        self.summary_file = summary_file
        self.outputs_file = outputs_file
        self.record = record
        self.reason = reason

    def upsert_comment(self, target: CommentTarget, body: str, *, comment_id: str = "default",
                       mode: CommentMode = "update") -> CommentResult:
        if mode == "off":
            return CommentResult(action="skipped", reason="comment-mode is off")
        base = self.record or CommentFile(result={"comparison": {}})
        rec = CommentFile(result=base.result, comment_id=comment_id, mode=mode, title=base.title,
                          max_rows=base.max_rows, target=target, head_sha=base.head_sha, body=body)
        write_atomic(self.comment_file, [secrets.redact(json.dumps(rec.as_json(self.reason), ensure_ascii=False))])
        why = f"{self.reason}; " if self.reason else ""
        return CommentResult(action="fallback", reason=f"{why}comment saved to {self.comment_file}")

    def write_summary(self, markdown: str) -> None:
        if self.summary_file is not None:
            with open(self.summary_file, "a", encoding="utf-8") as f:
                f.write(secrets.redact(markdown).rstrip("\n") + "\n")

    def set_outputs(self, outputs: Mapping[str, str]) -> None:
        if self.outputs_file is not None:
            with open(self.outputs_file, "a", encoding="utf-8") as f:
                for name, value in outputs.items():
                    f.write(f"{name}={json.dumps(secrets.redact(str(value)))}\n")

    def annotate(self, annotations: Sequence[Annotation]) -> AnnotateResult:
        return AnnotateResult(written=0, dropped=len(annotations))
