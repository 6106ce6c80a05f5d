"""The CI context of a run: what platform, repository, commit, branch and PR it belongs to."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, kw_only=True)
class CiContext:
    platform: str | None = None  # github, gitlab, circleci, jenkins, buildkite, azure, bitbucket, git
    repository: str | None = None  # owner/name or group/project
    commit: str | None = None  # the commit users see: PR head sha, not GitHub's test-merge sha
    merge_commit: str | None = None  # the CI's merge/test commit when it differs from ``commit``
    branch: str | None = None  # source branch for PRs/MRs
    tag: str | None = None
    pr: int | None = None  # PR / MR number (GitLab: the MR iid)
    base_branch: str | None = None  # PR/MR target branch
    base_sha: str | None = None  # target branch sha / MR diff base sha, when the platform tells
    default_branch: str | None = None
    run_id: str | None = None
    run_attempt: str | None = None
    job: str | None = None
    run_url: str | None = None
    event: str | None = None  # push, pull_request, merge_request_event, ...

    def replace(self, **changes: Any) -> CiContext:
        """A copy with the non-None ``changes`` applied (flags override the environment)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
