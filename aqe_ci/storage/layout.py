"""Object names: where every document, manifest and index entry lives (docs/storage-layout.md).

All names are relative to the backend's root (local ``base_path`` or S3 ``prefix``) and are pure
ASCII, ``/``-separated, with no empty, ``.`` or ``..`` segment and no segment over 240 bytes, so
the same names work as S3 keys and as local paths.

::

    runs/<key>/<type>/<part>/manifest.json            commit point, plain JSON, written last
    runs/<key>/<type>/<part>/data-<upload>.json<.gz>  the document, compressed
    runs/<key>/<type>/<part>/blob-<upload>-<name><.gz> captured output referenced by the document
    runs/<key>/<type>/<part>/tombstone                 a delete in progress (cleanup finishes it)
    index/<dim>/[<value>/]<invday>/<entry>             empty objects, one per document and dimension

``<entry>`` is ``<invms>~<key>~<type>~<part>~<commit>~<card>``: ``invms`` = 9999999999999 − creation time in
ms, ``invday`` = 99999 − days since the epoch, so a plain ascending prefix listing returns newest
first. ``card`` is base64url JSON of what ``list`` shows (commit, branch, pr, tags, summary), so a
listing answers ``list`` without reading any object.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

from aqe_ci.model.keys import DOC_TYPES, KEY_RE, MS_PER_DAY, PART_RE, check_type, format_time

UPLOAD_RE = re.compile(r"^[0-9a-f]{16,32}$")
SEGMENT_MAX = 240
INV_MS = 9_999_999_999_999
INV_DAY = 99_999
DIMENSIONS = ("time", "type", "branch", "commit", "pr")


#: published badges (``badges/<branch>/<type>.svg|.json``, ``aqe_ci.app.badge.published_name``): a store
#: that serves them to a browser must say what they are — an SVG with another type is no image
PUBLISHED_MEDIA_TYPES = {"svg": "image/svg+xml", "json": "application/json"}


def published_media_type(name: str) -> str | None:
    """The media type of a published badge object, None for every other name."""
    if not name.startswith("badges/"):
        return None
    return PUBLISHED_MEDIA_TYPES.get(name.rpartition(".")[2])


def encode_segment(value: str) -> str:
    """Percent-encode a free-form value (a branch) into one safe name segment."""
    enc = quote(value, safe="")
    enc = enc.replace("~", "%7E")
    if enc.startswith("."):
        enc = "%2E" + enc[1:]
    return enc[:SEGMENT_MAX]


def decode_segment(value: str) -> str:
    return unquote(value)


def commit_segment(commit: str) -> str:
    """``<first two chars>/<sha>``: a shard directory keeps local prefix lookups small."""
    c = commit.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{4,64}", c):
        c = encode_segment(commit)
    return f"{c[:2]}/{c}"


def doc_dir(key: str, doc_type: str, part: str) -> str:
    return f"runs/{key}/{doc_type}/{part}/"


def manifest_name(key: str, doc_type: str, part: str) -> str:
    return doc_dir(key, doc_type, part) + "manifest.json"


def tombstone_name(key: str, doc_type: str, part: str) -> str:
    return doc_dir(key, doc_type, part) + "tombstone"


def payload_name(key: str, doc_type: str, part: str, upload_id: str, extension: str) -> str:
    return doc_dir(key, doc_type, part) + f"data-{upload_id}.json{extension}"


def blob_name(key: str, doc_type: str, part: str, upload_id: str, name: str, extension: str) -> str:
    return doc_dir(key, doc_type, part) + f"blob-{upload_id}-{name}{extension}"


def parse_doc_object(name: str) -> tuple[str, str, str, str] | None:
    """``runs/<key>/<type>/<part>/<file>`` → (key, type, part, file), else None."""
    parts = name.split("/")
    if len(parts) != 5 or parts[0] != "runs":
        return None
    return parts[1], parts[2], parts[3], parts[4]


# ---------------------------------------------------------------------------------------------
# time encoding


def inv_ms(ms: int) -> str:
    return f"{INV_MS - ms:013d}"


def inv_day(ms: int) -> str:
    return f"{INV_DAY - ms // MS_PER_DAY:05d}"


def ms_from_inv(inv: str) -> int:
    return INV_MS - int(inv)


# ---------------------------------------------------------------------------------------------
# index entries


@dataclass(frozen=True, kw_only=True)
class Entry:
    """One document as an index listing shows it (no object read needed unless ``complete`` is False)."""

    key: str
    type: str
    part: str
    created_ms: int
    commit: str | None = None
    branch: str | None = None
    pr: int | None = None
    tags: dict[str, str] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    stored_size: int | None = None
    complete: bool = True

    @property
    def created_at(self) -> str:
        return format_time(datetime.fromtimestamp(self.created_ms / 1000, UTC))

    @property
    def id(self) -> tuple[str, str, str]:
        return (self.key, self.type, self.part)

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key, "type": self.type, "part": self.part, "created_at": self.created_at,
            "commit": self.commit, "branch": self.branch, "pr": self.pr, "tags": dict(self.tags),
            "summary": dict(self.summary), "stored_size": self.stored_size,
        }


CARD_FIELDS = (("b", "branch"), ("p", "pr"), ("t", "tags"), ("s", "summary"), ("z", "stored_size"))
# when a card does not fit, drop fields in this order; the reader then reads the manifest
CARD_DROP_ORDER = ("t", "s", "b", "z", "p")
#: short codes for the summary numbers a card carries, per type; zero counts are left out
SUMMARY_CODES: dict[str, dict[str, str]] = {
    "test_results": {"tests_run": "r", "passed": "p", "failed": "f", "errors": "e", "skipped": "s", "flaky": "k",
                     "duration": "d"},
    "coverage": {"line_rate": "l", "branch_rate": "b", "lines_valid": "v", "lines_covered": "c"},
    "security": {"critical": "C", "high": "H", "medium": "M", "low": "L", "info": "I", "total": "T"},
}
ZERO_DEFAULT_TYPES = ("test_results", "security")
HEX_COMMIT = re.compile(r"^[0-9a-f]{4,64}$")


def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _encode_summary(doc_type: str, summary: dict[str, Any]) -> dict[str, Any]:
    codes = SUMMARY_CODES.get(doc_type, {})
    out: dict[str, Any] = {}
    for name, code in codes.items():
        v = summary.get(name)
        if v is None or (v == 0 and doc_type in ZERO_DEFAULT_TYPES):
            continue
        out[code] = round(v, 3) if isinstance(v, float) else v
    return out


def _decode_summary(doc_type: str, card: dict[str, Any]) -> dict[str, Any]:
    codes = SUMMARY_CODES.get(doc_type, {})
    out: dict[str, Any] = {}
    for name, code in codes.items():
        if code in card:
            out[name] = card[code]
        elif doc_type in ZERO_DEFAULT_TYPES:
            out[name] = 0
    return out


def entry_basename(entry: Entry) -> str:
    """``<invms>~<key>~<type>~<part>~<commit>~<card>``; the commit is kept as raw hex when it is hex."""
    commit = (entry.commit or "").lower()
    commit_field = commit if HEX_COMMIT.match(commit) else ""
    head = f"{inv_ms(entry.created_ms)}~{entry.key}~{entry.type}~{entry.part}~{commit_field}~"
    card: dict[str, Any] = {}
    if entry.commit and not commit_field:
        card["c"] = entry.commit
    for short, attr in CARD_FIELDS:
        value = getattr(entry, attr)
        if attr == "summary":
            value = _encode_summary(entry.type, value or {})
        if value not in (None, {}, ""):
            card[short] = value
    budget = SEGMENT_MAX - len(head)
    encoded = _b64(card)
    for drop in ("c", *CARD_DROP_ORDER):
        if len(encoded) <= budget:
            break
        if drop in card:
            card.pop(drop)
            card["m"] = 1
            encoded = _b64(card)
    if len(encoded) > budget:
        encoded = ""
    return head + encoded


def entry_names(entry: Entry) -> list[str]:
    """Every index object for ``entry``: one per dimension it has a value in."""
    base = entry_basename(entry)
    day = inv_day(entry.created_ms)
    names = [f"index/time/{day}/{base}", f"index/type/{entry.type}/{day}/{base}"]
    if entry.branch:
        names.append(f"index/branch/{encode_segment(entry.branch)}/{day}/{base}")
    if entry.commit:
        names.append(f"index/commit/{commit_segment(entry.commit)}/{day}/{base}")
    if entry.pr is not None:
        names.append(f"index/pr/{int(entry.pr)}/{day}/{base}")
    return names


def _decode_card(text: str) -> dict[str, Any] | None:
    """The card of an index name (unpadded urlsafe base64 of a JSON object), None when unreadable."""
    try:
        card = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, TypeError):
        return None
    return card if isinstance(card, dict) else None


def parse_entry(name: str) -> Entry | None:
    """Parse an index object name (any dimension) back into an Entry; None if it is not one."""
    base = name.rsplit("/", 1)[-1]
    bits = base.split("~")
    if len(bits) != 6 or not bits[0].isdigit() or len(bits[0]) != 13:
        return None
    inv, key, doc_type, part, commit_field, card_text = bits
    if doc_type not in DOC_TYPES or not KEY_RE.match(key) or not PART_RE.match(part):
        return None
    decoded = _decode_card(card_text) if card_text else None
    card = decoded if decoded is not None else {}
    complete = decoded is not None
    if card.get("m"):
        complete = False
    return Entry(
        key=key, type=doc_type, part=part, created_ms=ms_from_inv(inv),
        commit=commit_field or card.get("c"), branch=card.get("b"), pr=card.get("p"), tags=card.get("t") or {},
        summary=_decode_summary(doc_type, card.get("s") or {}) if complete else {},
        stored_size=card.get("z"), complete=complete,
    )


def dimension_prefix(dim: str, value: str | int | None = None) -> str:
    """The listing prefix for one index dimension (``value`` may be a commit prefix)."""
    if dim == "time":
        return "index/time/"
    if value is None:
        raise ValueError(f"dimension {dim} needs a value")
    if dim == "type":
        return f"index/type/{check_type(str(value))}/"
    if dim == "branch":
        return f"index/branch/{encode_segment(str(value))}/"
    if dim == "pr":
        return f"index/pr/{int(value)}/"
    if dim == "commit":
        return f"index/commit/{commit_segment(str(value))}"  # no slash: a short sha matches as prefix
    raise ValueError(dim)


def start_after_for(prefix: str, until_ms: int | None) -> str | None:
    """A StartAfter name that skips every entry newer than ``until_ms`` under a day-sharded prefix."""
    if until_ms is None or not prefix.endswith("/"):
        return None
    # entries newer than until have a smaller invms: skip names below "<day>/<invms(until)>"
    return f"{prefix}{inv_day(until_ms)}/{inv_ms(until_ms)}"
