"""The CI context of a run: what platform, repository, commit, branch and PR it belongs to."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aqe_ci.model.run import RunFacts

#: the fields that describe the run (what ``as_json`` returns); ``sources`` and ``warnings`` explain them
VALUE_FIELDS = (
    "platform", "repository", "commit", "merge_commit", "branch", "tag", "pr", "base_branch", "base_sha",
    "default_branch", "run_id", "run_attempt", "job", "job_id", "run_url", "job_url", "event",
)


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
    job_id: str | None = None  # the platform's id of this job when it has one (GitLab CI_JOB_ID, ...)
    run_url: str | None = None
    job_url: str | None = None
    event: str | None = None  # push, pull_request, merge_request_event, ...
    # field name -> where its value came from (an env var, the event payload, git, "override")
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False, repr=False)
    # what detection could not read or ignored as invalid (one line each, no secrets)
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def replace(self, **changes: Any) -> CiContext:
        """A copy with the non-None ``changes`` applied (flags override the environment).

        Changed value fields are recorded in ``sources`` as ``"override"`` unless ``sources`` is given.
        """
        changes = {k: v for k, v in changes.items() if v is not None}
        if "sources" not in changes:
            overridden = {k: "override" for k in changes if k in VALUE_FIELDS}
            if overridden:
                changes["sources"] = {**self.sources, **overridden}
        return dataclasses.replace(self, **changes)

    def as_json(self) -> dict[str, Any]:
        """The value fields only (no ``sources`` / ``warnings``)."""
        return {name: getattr(self, name) for name in VALUE_FIELDS}

    def run_facts(self) -> RunFacts:
        """What a stored document records about this run (``Store.put`` takes these, not the context)."""
        return RunFacts(commit=self.commit, branch=self.branch, pr=self.pr, base_branch=self.base_branch,
                        base_sha=self.base_sha, platform=self.platform, repository=self.repository,
                        run_id=self.run_id, run_url=self.run_url)
