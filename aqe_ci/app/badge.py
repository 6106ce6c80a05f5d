"""Badges of the newest run on a branch: read from the store's index and manifests, never a CI log.

``badge_for`` answers from the manifest summaries of the newest run of the type on the branch
(one listing and one manifest read per part); a run stored in several parts is merged the way
``aqe artifacts get`` merges it, so the badge shows the same figure as every other view.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aqe_ci.errors import NotFoundError
from aqe_ci.model.keys import check_type
from aqe_ci.model.summary import summarize
from aqe_ci.render.badge import DEFAULT_COVERAGE_SCALE, Badge, coverage_badge, security_badge, tests_badge
from aqe_ci.storage import layout
from aqe_ci.storage.store import Store

BADGE_TYPES = {"coverage": "coverage", "tests": "test_results", "security": "security"}
DEFAULT_LABELS = {"coverage": "coverage", "tests": "tests", "security": "security"}


@dataclass(frozen=True, kw_only=True)
class BadgeResult:
    badge: Badge
    kind: str  # coverage | tests | security
    branch: str
    key: str
    commit: str | None
    summary: Mapping[str, Any]


def latest_summary(store: Store, doc_type: str, branch: str) -> tuple[str, str | None, dict[str, Any]]:
    """(run key, commit, summary) of the newest ``doc_type`` document on ``branch``, parts merged."""
    entry = store.latest(branch=branch, doc_type=check_type(doc_type))
    if entry is None:
        raise NotFoundError(f"no {doc_type} document stored for branch {branch} in {store.location}",
                            hint="store a run on that branch first, or pass --branch")
    manifests = store.manifests(entry.key, doc_type)
    if len(manifests) == 1:
        return entry.key, entry.commit, dict(manifests[0].data.get("summary") or {})
    from aqe_ci.model.merge import merge_documents

    merged = merge_documents(doc_type, [store.load(m) for m in manifests])
    return entry.key, entry.commit, summarize(doc_type, merged["data"])


def make_badge(kind: str, summary: Mapping[str, Any], *, label: str | None = None,
               scale: Sequence[tuple[float, str]] = DEFAULT_COVERAGE_SCALE) -> Badge:
    text = label or DEFAULT_LABELS[kind]
    if kind == "coverage":
        return coverage_badge(summary, label=text, scale=scale)
    if kind == "tests":
        return tests_badge(summary, label=text)
    return security_badge(summary, label=text)


def badge_for(store: Store, kind: str, branch: str, *, label: str | None = None,
              scale: Sequence[tuple[float, str]] = DEFAULT_COVERAGE_SCALE) -> BadgeResult:
    key, commit, summary = latest_summary(store, BADGE_TYPES[kind], branch)
    return BadgeResult(badge=make_badge(kind, summary, label=label, scale=scale), kind=kind, branch=branch,
                       key=key, commit=commit, summary=summary)


def published_name(branch: str, kind: str, extension: str) -> str:
    """Where ``--publish`` puts a badge in the store: ``badges/<branch>/<kind>.<svg|json>``.

    Outside ``runs/`` and ``index/``, so retention and repair never touch it; overwritten on every
    publish (a badge is a view, not history).
    """
    return f"badges/{layout.encode_segment(branch)}/{kind}.{extension}"
