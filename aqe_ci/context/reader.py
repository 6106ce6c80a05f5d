"""Collects context values with their source, validating each value and recording what it ignored.

Every platform detector writes through one :class:`Reader`: the first valid value offered for a
field wins (callers offer candidates in priority order), invalid values are dropped with a one-line
warning naming the variable, so garbage in the environment never ends up in a manifest.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from aqe_ci.git import Git

SHA_RE = re.compile(r"^[0-9a-fA-F]{7,64}$")
PR_RE = re.compile(r"^[0-9]{1,12}$")
ID_RE = re.compile(r"^[A-Za-z0-9{}()._:/+-]{1,200}$")  # run ids, job ids, attempts, uuids
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
TEXT_MAX = 1024

SHA_FIELDS = frozenset({"commit", "merge_commit", "base_sha"})
ID_FIELDS = frozenset({"run_id", "run_attempt", "job_id"})
URL_FIELDS = frozenset({"run_url", "job_url"})


def shown(value: Any) -> str:
    """A short, safe rendering of an ignored value for a warning."""
    text = repr(value)
    return text if len(text) <= 48 else text[:45] + "…"


class Reader:
    def __init__(self, environ: Mapping[str, str], git: Git | None) -> None:
        self.environ = environ
        self.git = git
        self.values: dict[str, Any] = {}
        self.sources: dict[str, str] = {}
        self.warnings: list[str] = []

    # -- raw access -----------------------------------------------------------------------------
    def get(self, name: str) -> str | None:
        """The stripped, non-empty value of an environment variable, else None."""
        value = self.environ.get(name)
        if value is None:
            return None
        value = value.strip()
        return value or None

    def is_true(self, name: str) -> bool:
        return (self.get(name) or "").lower() == "true"

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    # -- writing fields -------------------------------------------------------------------------
    def has(self, field: str) -> bool:
        return field in self.values

    def put(self, field: str, value: Any, source: str) -> bool:
        """Offer ``value`` for ``field``; True when it was taken. None/empty values are silently skipped."""
        if value is None or field in self.values:
            return False
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return False
        checked = self._check(field, value, source)
        if checked is None:
            return False
        self.values[field] = checked
        self.sources[field] = source
        return True

    def env(self, field: str, *names: str, transform: Any = None) -> bool:
        """Offer the first set variable of ``names`` (each validated in turn) for ``field``."""
        for name in names:
            raw = self.get(name)
            if raw is None:
                continue
            value = transform(raw) if transform is not None else raw
            if self.put(field, value, name):
                return True
        return False

    def _check(self, field: str, value: Any, source: str) -> Any:
        if field == "pr":
            if isinstance(value, bool) or not isinstance(value, int | str):
                self.warn(f"ignored {source}: PR/MR number {shown(value)} is not a positive integer")
                return None
            text = str(value).strip()
            if not PR_RE.match(text) or int(text) < 1:
                self.warn(f"ignored {source}: PR/MR number {shown(value)} is not a positive integer")
                return None
            return int(text)
        if not isinstance(value, str):
            self.warn(f"ignored {source}: expected text for {field}, got {type(value).__name__}")
            return None
        if field in SHA_FIELDS:
            if not SHA_RE.match(value) or set(value) == {"0"}:
                self.warn(f"ignored {source}: {shown(value)} is not a commit sha")
                return None
            return value.lower()
        if field == "run_attempt":
            if not PR_RE.match(value) or int(value) < 1:
                self.warn(f"ignored {source}: run attempt {shown(value)} is not a positive integer")
                return None
            return str(int(value))
        if field in ID_FIELDS:
            if not ID_RE.match(value):
                self.warn(f"ignored {source}: {field} {shown(value)} has unexpected characters")
                return None
            return value
        if CONTROL_RE.search(value) or len(value) > TEXT_MAX:
            self.warn(f"ignored {source}: {field} value contains control characters or is too long")
            return None
        if field in URL_FIELDS and not re.match(r"^https?://[^\s]+$", value):
            self.warn(f"ignored {source}: {field} {shown(value)} is not an http(s) URL")
            return None
        return value


def strip_prefix(value: str, *prefixes: str) -> str:
    for prefix in prefixes:
        if value.startswith(prefix):
            return value[len(prefix):]
    return value


def ref_kind(ref: str | None) -> tuple[str | None, str | None]:
    """``refs/heads/x`` → ("branch", "x"), ``refs/tags/v1`` → ("tag", "v1"), else (None, None)."""
    if not ref:
        return None, None
    if ref.startswith("refs/heads/"):
        return "branch", ref[len("refs/heads/"):] or None
    if ref.startswith("refs/tags/"):
        return "tag", ref[len("refs/tags/"):] or None
    return None, None
