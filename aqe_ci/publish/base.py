"""The Forge seam: what a code forge (GitHub, GitLab) or a plain file sink offers the publisher.

Implementations receive their clients ready-made from the composition root (``aqe_ci.app``) and
never read the environment themselves. Every method is safe to call on a read-only token: lack of
permission is reported in the result (``CommentResult.action == "fallback"``), never raised, so a
fork PR does not fail its build.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

CommentMode = Literal["update", "recreate", "new", "off"]
CommentOn = Literal["always", "changes", "failures", "regressions"]
CommentAction = Literal["created", "updated", "recreated", "unchanged", "skipped", "fallback"]
AnnotationLevel = Literal["error", "warning", "notice"]

COMMENT_MODES: tuple[CommentMode, ...] = ("update", "recreate", "new", "off")
COMMENT_ON: tuple[CommentOn, ...] = ("always", "changes", "failures", "regressions")

_COMMENT_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def marker(comment_id: str = "default") -> str:
    """The hidden HTML marker that identifies our sticky comment for ``comment_id``."""
    if not _COMMENT_ID.match(comment_id):
        raise ValueError(f"comment id {comment_id!r}: use 1-64 letters, digits, '.', '_' or '-'")
    return f"<!-- aqe-artifacts:comment id={comment_id} -->"


@dataclass(frozen=True, kw_only=True)
class CommentTarget:
    """Where a comment goes: a pull request (GitHub) or merge request (GitLab) of one project."""

    project: str  # "owner/repo" on GitHub, the project path or numeric id on GitLab
    number: int  # PR number / MR iid


@dataclass(frozen=True, kw_only=True)
class CommentResult:
    action: CommentAction
    comment_id: str | None = None  # the forge's id of the comment written or found
    url: str | None = None
    reason: str | None = None  # why skipped / why the fallback was taken (no secrets)


@dataclass(frozen=True, kw_only=True)
class Annotation:
    level: AnnotationLevel
    message: str
    title: str | None = None
    file: str | None = None
    line: int | None = None
    end_line: int | None = None


@dataclass(frozen=True, kw_only=True)
class AnnotateResult:
    written: int
    dropped: int  # left out because of the forge's per-step limits


class Forge(ABC):
    #: short name: github, gitlab, file
    name: str = "abstract"
    #: the largest comment body the forge accepts, in characters
    comment_limit: int = 65_536

    @abstractmethod
    def upsert_comment(self, target: CommentTarget, body: str, *, comment_id: str = "default",
                       mode: CommentMode = "update") -> CommentResult:
        """Create or update the sticky comment found by :func:`marker` and the token's own author."""

    @abstractmethod
    def write_summary(self, markdown: str) -> None:
        """Append ``markdown`` to the job summary (GitHub step summary, GitLab job log/artifact)."""

    @abstractmethod
    def set_outputs(self, outputs: Mapping[str, str]) -> None:
        """Expose step outputs (GitHub ``GITHUB_OUTPUT``, GitLab ``dotenv`` report)."""

    @abstractmethod
    def annotate(self, annotations: Sequence[Annotation]) -> AnnotateResult:
        """Attach file/line annotations where the forge supports them."""

    # -- optional capabilities (additive; the defaults say "not supported") ---------------------
    def find_comment(self, target: CommentTarget, *, comment_id: str = "default") -> CommentResult | None:
        """The existing sticky comment for ``comment_id`` (action ``"unchanged"``), else None.

        Used to keep an existing comment current when ``comment-on`` decides not to post a new one.
        The default answers None: the forge cannot tell, so nothing is updated.
        """
        return None

    def pulls_for_commit(self, project: str, sha: str) -> list[int]:
        """Open PR/MR numbers of ``project`` whose head is ``sha``, from the forge's own data.

        This is how a trusted job finds where a comment file belongs without trusting the file.
        """
        raise NotImplementedError(f"the {self.name} forge cannot look up pull requests by commit")
