"""The facts a stored document records about the run that produced it (the manifest's run fields).

:class:`RunFacts` is what :meth:`aqe_ci.storage.store.Store.put` takes: plain values, no CI detection.
Where they come from is the caller's business — ``aqe artifacts store`` and the action take them
from the detected :class:`~aqe_ci.model.context.CiContext` (``CiContext.run_facts()``), tests and
imports write them directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields


@dataclass(frozen=True, kw_only=True)
class RunFacts:
    commit: str | None = None
    branch: str | None = None
    pr: int | None = None
    base_branch: str | None = None
    base_sha: str | None = None
    platform: str | None = None
    repository: str | None = None
    run_id: str | None = None
    run_url: str | None = None

    def as_json(self) -> dict[str, str | int | None]:
        """The manifest fields, in the manifest's order."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_manifest(cls, data: Mapping[str, object]) -> RunFacts:
        """The run facts a stored manifest recorded (absent or mistyped fields are None)."""
        def text(name: str) -> str | None:
            value = data.get(name)
            return value if isinstance(value, str) else None

        pr = data.get("pr")
        return cls(commit=text("commit"), branch=text("branch"), pr=pr if isinstance(pr, int) else None,
                   base_branch=text("base_branch"), base_sha=text("base_sha"), platform=text("platform"),
                   repository=text("repository"), run_id=text("run_id"), run_url=text("run_url"))
