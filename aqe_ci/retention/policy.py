"""Retention rules as a pure function: which stored documents a cleanup removes, and why the rest stay.

No I/O here: :func:`plan_cleanup` takes the index entries (``Store.list()``), the policy from the
config and the current time, and returns a :class:`CleanupPlan`. ``cleanup.py`` executes it.
The rules (docs/retention.md):

* a **run** is a key; its time is its newest document's ``created_at``;
* the newest ``keep_latest_n`` runs are kept whole, whatever their age;
* for every protected branch and every document type, the run holding that branch's newest
  document of that type is kept whole (the baseline a PR/MR compares against); pull-request runs
  count like any other run of the branch, and the newest run without a PR number is kept as well;
* any other document older than its type's retention (``--older-than`` overrides it) is expired
  and removed, when it passes the ``--type`` / ``--branch`` filters.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aqe_ci.config import RetentionSettings
from aqe_ci.errors import UsageError
from aqe_ci.model.jsontypes import JsonValue
from aqe_ci.model.keys import DOC_TYPES, MS_PER_DAY
from aqe_ci.storage.layout import Entry

#: protected branches when neither the config nor the CI context names the default branch
FALLBACK_PROTECTED = ("main", "master")

# reasons a document stays
KEEP_LATEST = "keep_latest_n"
KEEP_PROTECTED = "protected_branch"
KEEP_NOT_EXPIRED = "not_expired"
KEEP_FILTERED = "not_selected"

_DURATION_RE = re.compile(r"^\s*(\d+)\s*([hdw])\s*$", re.IGNORECASE)
_UNIT_MS = {"h": 3_600_000, "d": MS_PER_DAY, "w": 7 * MS_PER_DAY}


def parse_duration(text: str) -> int:
    """``90d`` / ``36h`` / ``2w`` → milliseconds. Raises UsageError naming the value."""
    m = _DURATION_RE.match(text or "")
    if not m or int(m.group(1)) <= 0:
        raise UsageError(f"invalid duration {text!r}",
                         hint="use a positive whole number with a unit: h (hours), d (days) or w (weeks), e.g. 90d")
    return int(m.group(1)) * _UNIT_MS[m.group(2).lower()]


@dataclass(frozen=True, kw_only=True)
class RetentionPolicy:
    """The config's ``retention`` section with the protected branches resolved."""

    settings: RetentionSettings = field(default_factory=RetentionSettings)
    #: branch names or fnmatch patterns (``release/*``)
    protected_branches: tuple[str, ...] = FALLBACK_PROTECTED
    #: where ``protected_branches`` came from: config, ci-default-branch or fallback (for reports)
    protected_source: str = "fallback"

    @classmethod
    def from_settings(cls, settings: RetentionSettings, *, default_branch: str | None = None) -> RetentionPolicy:
        """``protected_branches``: the config's list when given (an empty list protects nothing),
        else the CI context's default branch, else ``main`` and ``master``."""
        if settings.protected_branches is not None:
            protected, source = settings.protected_branches, "config"
        elif default_branch:
            protected, source = (default_branch,), "ci-default-branch"
        else:
            protected, source = FALLBACK_PROTECTED, "fallback"
        return cls(settings=settings, protected_branches=protected, protected_source=source)

    @classmethod
    def from_config(cls, retention: Mapping[str, JsonValue] | None, *,
                    default_branch: str | None = None) -> RetentionPolicy:
        """From the ``retention`` section as JSON (already schema-validated)."""
        return cls.from_settings(RetentionSettings.from_json(dict(retention or {})), default_branch=default_branch)

    @property
    def keep_latest_n(self) -> int:
        return self.settings.keep_latest_n

    def days_for(self, doc_type: str) -> int:
        return self.settings.days_for(doc_type)

    def max_age_ms(self, doc_type: str) -> int:
        return self.days_for(doc_type) * MS_PER_DAY

    def is_protected(self, branch: str | None) -> bool:
        return branch is not None and any(fnmatch.fnmatchcase(branch, p) for p in self.protected_branches)

    def as_json(self) -> dict[str, Any]:
        return {
            "days": {t: self.days_for(t) for t in DOC_TYPES},
            "keep_latest_n": self.keep_latest_n,
            "protected_branches": list(self.protected_branches),
            "protected_branches_source": self.protected_source,
        }


@dataclass(frozen=True, kw_only=True)
class CleanupFilters:
    """What this invocation may remove: ``--older-than``, ``--type``, ``--branch``."""

    older_than_ms: int | None = None
    doc_types: Sequence[str] = ()
    branch: str | None = None

    def selects(self, e: Entry) -> bool:
        if self.doc_types and e.type not in self.doc_types:
            return False
        return self.branch is None or e.branch == self.branch


@dataclass(frozen=True)
class Kept:
    entry: Entry
    reasons: tuple[str, ...]  # KEEP_* constants; protected ones carry detail after a colon


@dataclass
class CleanupPlan:
    now_ms: int
    policy: RetentionPolicy
    filters: CleanupFilters
    delete: list[Entry] = field(default_factory=list)
    keep: list[Kept] = field(default_factory=list)

    @property
    def protected(self) -> list[Kept]:
        """Documents that are expired and selected but stay because a rule protects them."""
        return [k for k in self.keep if k.reasons[0] not in (KEEP_NOT_EXPIRED, KEEP_FILTERED)]

    @property
    def delete_bytes(self) -> int:
        return sum(e.stored_size or 0 for e in self.delete)

    def counts(self) -> dict[str, int]:
        out = {"documents": len(self.delete) + len(self.keep), "delete": len(self.delete),
               "delete_runs": len({e.key for e in self.delete}), "protected": len(self.protected),
               KEEP_NOT_EXPIRED: 0, KEEP_FILTERED: 0}
        for k in self.keep:
            if k.reasons[0] in (KEEP_NOT_EXPIRED, KEEP_FILTERED):
                out[k.reasons[0]] += 1
        return out


def _run_order(entries: Sequence[Entry]) -> list[str]:
    """Keys newest first by their newest document; ties by key, descending, so the order is total."""
    newest: dict[str, int] = {}
    for e in entries:
        if e.created_ms > newest.get(e.key, -1):
            newest[e.key] = e.created_ms
    return sorted(newest, key=lambda k: (newest[k], k), reverse=True)


def protected_runs(entries: Sequence[Entry], policy: RetentionPolicy) -> dict[str, list[str]]:
    """key → reasons (``protected_branch:<branch>:<type>``) for the baseline runs of protected branches."""
    best: dict[tuple[str, str, bool], Entry] = {}
    for e in entries:
        if e.branch is None or not policy.is_protected(e.branch):
            continue
        slots = [(e.branch, e.type, False)]
        if e.pr is None:
            slots.append((e.branch, e.type, True))
        for slot in slots:
            cur = best.get(slot)
            if cur is None or (e.created_ms, e.key, e.part) > (cur.created_ms, cur.key, cur.part):
                best[slot] = e
    out: dict[str, list[str]] = {}
    for (branch, doc_type, _push_only), e in sorted(best.items()):
        reason = f"{KEEP_PROTECTED}:{branch}:{doc_type}"
        reasons = out.setdefault(e.key, [])
        if reason not in reasons:
            reasons.append(reason)
    return out


def plan_cleanup(entries: Iterable[Entry], policy: RetentionPolicy, now_ms: int,
                 filters: CleanupFilters | None = None) -> CleanupPlan:
    """Decide, for every stored document, whether this cleanup removes it (pure, deterministic)."""
    filters = filters or CleanupFilters()
    seen: set[tuple[str, str, str]] = set()
    docs: list[Entry] = []
    for e in entries:
        if e.id not in seen:
            seen.add(e.id)
            docs.append(e)
    latest = set(_run_order(docs)[: max(policy.keep_latest_n, 0)])
    protected = protected_runs(docs, policy)
    plan = CleanupPlan(now_ms=now_ms, policy=policy, filters=filters)
    for e in sorted(docs, key=lambda d: (-d.created_ms, d.key, d.type, d.part)):
        if not filters.selects(e):
            plan.keep.append(Kept(e, (KEEP_FILTERED,)))
            continue
        max_age = filters.older_than_ms if filters.older_than_ms is not None else policy.max_age_ms(e.type)
        if now_ms - e.created_ms <= max_age:
            plan.keep.append(Kept(e, (KEEP_NOT_EXPIRED,)))
            continue
        reasons = ([KEEP_LATEST] if e.key in latest else []) + protected.get(e.key, [])
        if reasons:
            plan.keep.append(Kept(e, tuple(reasons)))
        else:
            plan.delete.append(e)
    return plan
