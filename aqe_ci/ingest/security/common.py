"""Shared pieces of the security parsers: fingerprints, severity scales, detection helpers."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aqe_ci.ingest.base import MAX_LINE, ReportError, too_many_digits
from aqe_ci.ingest.stream.jsonstream import JsonStream
from aqe_ci.ingest.stream.opener import open_report

_SPACES = re.compile(r"\s+")
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]*@")
_CWE = re.compile(r"(?i)^(?:external/cwe/)?cwe[-_:/ ]?0*(\d+)")
_CVE = re.compile(r"^(CVE-\d{4}-\d{4,}|GHSA(-[23456789cfghjmpqrvwx]{4}){3})$", re.IGNORECASE)
_GHSA_IN_URL = re.compile(r"(GHSA(?:-[23456789cfghjmpqrvwx]{4}){3})")

FINGERPRINT_CHARS = 40


def fingerprint(kind: str, *parts: object) -> str:
    """A stable identity: sha256 over the kind and the parts (NUL separated), 40 hex chars."""
    text = "\0".join([kind, *("" if p is None else str(p) for p in parts)])
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:FINGERPRINT_CHARS]


def normalise_ws(text: str) -> str:
    """Collapse every run of whitespace to one space and strip: indentation changes don't count."""
    return _SPACES.sub(" ", text).strip()


def text_hash(text: str) -> str:
    return hashlib.sha256(normalise_ws(text).encode("utf-8", "surrogatepass")).hexdigest()[:24]


def cvss_severity(score: float) -> str:
    """CVSS v3 qualitative scale, as GitHub maps ``security-severity``."""
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    if score > 0:
        return "low"
    return "info"


def as_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if value == value else None
    if isinstance(value, str):
        try:
            f = float(value.strip())
        except ValueError:
            return None
        return f if f == f and f not in (float("inf"), float("-inf")) else None
    return None


def nonneg_int(value: Any) -> int | None:
    """A JSON integer >= 0 as it is (line, column, index), anything else None."""
    return value if type(value) is int and value >= 0 else None


def line_number(value: Any, what: str = "line number") -> int | None:
    """A location's line (or column) as :func:`nonneg_int` reads it; one over
    :data:`~aqe_ci.ingest.base.MAX_LINE` makes the report invalid ("line number is out of range")."""
    n = nonneg_int(value)
    if n is not None and n > MAX_LINE:
        raise ReportError(f"{what} is out of range")
    return n


class Occurrences:
    """Occurrence numbers of computed fingerprints (1, 2, … per key, in file order).

    The number tells apart the distinct results of one key (the same rule and snippet twice in a
    file are two findings); a result repeated byte for byte — same JSON value, whatever its key
    order or spacing — gets the number it had, hence the same fingerprint, and the writer keeps one
    finding. Results that differ in anything (a line, a ``uriBaseId``, a tool's own issue hash in
    ``properties``) stay apart.
    """

    def __init__(self) -> None:
        self._seen: dict[tuple[Any, ...], dict[str, int]] = {}

    def number(self, key: tuple[Any, ...], raw: Any) -> int:
        """The occurrence number of the result ``raw`` (the decoded JSON value) under ``key``."""
        seen = self._seen.setdefault(key, {})
        digest = raw_digest(raw)
        n = seen.get(digest)
        if n is None:
            n = seen[digest] = len(seen) + 1
        return n


def raw_digest(value: Any) -> str:
    """A digest of a decoded JSON value that ignores key order and spacing."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def cwe_id(tag: Any) -> str | None:
    if not isinstance(tag, str | int):
        return None
    m = _CWE.match(str(tag).strip())
    return f"CWE-{m.group(1)}" if m else None


def advisory_id(value: Any) -> str | None:
    """A CVE / GHSA id as written (GHSA upper-cased prefix), else None."""
    if isinstance(value, str) and _CVE.match(value.strip()):
        v = value.strip()
        return v.upper() if v.upper().startswith("CVE") else "GHSA" + v[4:].lower()
    return None


def ghsa_from_url(url: Any) -> str | None:
    if isinstance(url, str):
        m = _GHSA_IN_URL.search(url)
        if m:
            return "GHSA" + m.group(1)[4:].lower()
    return None


def safe_text(value: Any, limit: int = 4000) -> str | None:
    """A string field for the document: str or None, credentials in URLs removed, length capped."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    if "@" in text and "://" in text:
        text = _USERINFO.sub(r"\1", text)
    return text if len(text) <= limit else text[:limit] + "…"


def first_line(text: str | None, limit: int = 200) -> str:
    if not text:
        return ""
    line = text.strip().split("\n", 1)[0].strip()
    return line if len(line) <= limit else line[:limit] + "…"


def dedupe(items: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for i in items:
        if i:
            seen.setdefault(i, None)
    return list(seen)


# -- detection ---------------------------------------------------------------------------------

def head_text(head: bytes) -> str:
    """The head as text without BOM and leading blanks ('' if it is not text)."""
    if b"\x00" in head[:4096]:
        return ""
    text = head.decode("utf-8", "ignore")
    return text.lstrip("\ufeff \t\r\n")


def first_json_line(head: bytes) -> dict[str, Any] | None:
    """The first non-blank line of a JSON-lines head, decoded, if it is a complete JSON object."""
    text = head_text(head)
    line = text.split("\n", 1)[0].strip()
    if not line.startswith("{"):
        return None
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError):  # RecursionError: nested too deeply for the json module
        return None
    return obj if isinstance(obj, dict) else None


# -- reading -----------------------------------------------------------------------------------

@contextmanager
def json_stream(path: Path) -> Iterator[JsonStream]:
    with open_report(path, "json") as f:
        yield JsonStream(f)


def report_keys(js: JsonStream, what: str) -> Iterator[str]:
    """The top-level keys of a report that must be one JSON object (``what``: "a Grype report"),
    each with its value next in ``js``; the end of the document is checked after the last one."""
    if js.peek() != "{":
        raise js.error(f"{what} must be a JSON object")
    yield from js.iter_object()
    js.end()


def array_items(js: JsonStream, where: str) -> Iterator[tuple[int, Any]]:
    """(index, decoded value) of each element of the array next in ``js`` (``where``: "$.results")."""
    if js.peek() != "[":
        raise js.error(f"{where} must be an array")
    for i in js.iter_array():
        yield i, js.value()


def read_json_document(path: Path) -> Any:
    """A whole (small, already size-capped) JSON document through the hardened stream."""
    with json_stream(path) as js:
        value = js.value()
        js.end()
        return value


def iter_json_lines(path: Path, *, max_line_bytes: int = 16 << 20) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) of each non-blank line of a JSON-lines report."""
    with open_report(path, "jsonl") as f:
        for lineno, raw in enumerate(_lines(f, max_line_bytes), 1):
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise ReportError("not valid UTF-8 text", line=lineno) from None
            if lineno == 1:
                text = text.lstrip("\ufeff")
            try:
                obj = json.loads(text, parse_constant=_no_constant)
            except RecursionError:
                raise ReportError("invalid JSON line: nesting too deep", line=lineno) from None
            except ValueError as exc:
                reason = ("a number with thousands of digits is out of range" if too_many_digits(exc)
                          else str(exc).split(":")[0])
                raise ReportError(f"invalid JSON line: {reason}", line=lineno) from None
            if not isinstance(obj, dict):
                raise ReportError("a JSON-lines report must hold one object per line", line=lineno)
            yield lineno, obj


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _lines(f: Any, cap: int) -> Iterator[bytes]:
    while True:
        line = f.readline(cap + 1)
        if not line:
            return
        if len(line) > cap and not line.endswith(b"\n"):
            raise ReportError(f"a line is longer than {cap} bytes")
        yield line
