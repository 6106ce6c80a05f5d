"""The vocabulary every layer shares: document types, run keys and parts, severities, timestamps.

A run key names one CI run, a part one shard of a document type under it (DESIGN "Vocabulary").
Object names and index encodings built from these live in ``aqe_ci.storage.layout``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from aqe_ci.errors import UsageError

DOC_TYPES = ("test_results", "coverage", "security")
KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
PART_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MS_PER_DAY = 86_400_000

#: security severities, most severe first (every tool's scale is mapped onto this one)
SEVERITIES = ("critical", "high", "medium", "low", "info")
SEVERITY_RANK = {s: i for i, s in enumerate(reversed(SEVERITIES))}  # info 0 … critical 4


def check_key(key: str, what: str = "key") -> str:
    if not isinstance(key, str) or not KEY_RE.match(key) or ".." in key:
        shown = key if isinstance(key, str) and len(key) <= 60 else f"{str(key)[:60]}… ({len(str(key))} chars)"
        raise UsageError(
            f"invalid {what} {shown!r}",
            hint="use 1-128 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit, without '..' or '/'",
        )
    return key


def check_part(part: str) -> str:
    if not isinstance(part, str) or not PART_RE.match(part) or ".." in part:
        raise UsageError(f"invalid part {part!r}",
                         hint="use 1-64 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit")
    return part


def check_type(doc_type: str) -> str:
    if doc_type not in DOC_TYPES:
        raise UsageError(f"unknown document type {doc_type!r}", hint=f"use one of {', '.join(DOC_TYPES)}")
    return doc_type


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_time(ts: datetime) -> str:
    ts = ts.astimezone(UTC)
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def to_ms(ts: datetime) -> int:
    return int(ts.timestamp() * 1000)
