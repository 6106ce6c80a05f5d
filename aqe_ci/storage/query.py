"""A listing filter: what ``Store.list`` (and a document backend's ``query``) selects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from aqe_ci.storage.layout import Entry


@dataclass(frozen=True, kw_only=True)
class Query:
    """A listing filter. The most selective dimension is listed; the rest filter the entries."""

    type: str | None = None
    branch: str | None = None
    commit: str | None = None
    pr: int | None = None
    key: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    since_ms: int | None = None  # inclusive
    until_ms: int | None = None  # inclusive
    limit: int | None = None

    def matches(self, e: Entry) -> bool:
        if self.type and e.type != self.type:
            return False
        if self.branch is not None and e.branch != self.branch:
            return False
        if self.commit and not (e.commit or "").lower().startswith(self.commit.lower()):
            return False
        if self.pr is not None and e.pr != self.pr:
            return False
        if self.key and e.key != self.key:
            return False
        if any(e.tags.get(k) != v for k, v in self.tags.items()):
            return False
        if self.until_ms is not None and e.created_ms > self.until_ms:
            return False
        return not (self.since_ms is not None and e.created_ms < self.since_ms)
