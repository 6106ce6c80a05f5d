"""The compact per-line strings of coverage documents: the one encoder and decoder of the format.

``line_hits``: ``START[-END]:HITS`` entries, comma separated, ascending, one entry per run of
consecutive lines with equal hits. ``branch_hits``: ``LINE:COVERED/VALID`` entries.

Decoding expands runs into two parallel ``array('I')`` (line numbers, hits): compact and fast.
The comparison itself mostly avoids decoding (see :mod:`aqe_ci.compare.coverage`).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence

_MAX_U32 = 0xFFFFFFFF


def _hits(text: str) -> int:
    v = int(text)
    return v if v <= _MAX_U32 else _MAX_U32


def iter_line_hits(text: str | None) -> Iterator[tuple[int, int]]:
    """``(line, hits)`` in ascending line order, hits exact (no clamping)."""
    if not text:
        return
    for entry in text.split(","):
        span, _, hits = entry.partition(":")
        h = int(hits)
        start, dash, end = span.partition("-")
        first = int(start)
        for ln in range(first, (int(end) if dash else first) + 1):
            yield ln, h


def decode_line_hits(text: str | None) -> dict[int, int]:
    """``"1-3:0,5:2"`` → ``{1: 0, 2: 0, 3: 0, 5: 2}``."""
    return dict(iter_line_hits(text))


def decode_line_arrays(text: str | None) -> tuple[array, array]:
    """``line_hits`` → (lines, hits) as two ``array('I')`` in ascending line order."""
    lines: array = array("I")
    hits: array = array("I")
    if not text:
        return lines, hits
    for entry in text.split(","):
        span, _, h = entry.partition(":")
        hv = _hits(h)
        start, dash, end = span.partition("-")
        if dash:
            a, b = int(start), int(end)
            lines.extend(range(a, b + 1))
            hits.extend([hv] * (b - a + 1))
        else:
            lines.append(int(start))
            hits.append(hv)
    return lines, hits


def entry_lines(entry: str) -> range:
    """The lines one ``START[-END]:HITS`` entry covers."""
    span = entry.partition(":")[0]
    start, dash, end = span.partition("-")
    a = int(start)
    return range(a, (int(end) if dash else a) + 1)


def encode_line_hits(pairs: Iterable[tuple[int, int]]) -> str:
    """(line, hits) pairs in ascending line order → the compact string (runs merged)."""
    out: list[str] = []
    ap = out.append
    it = iter(pairs)
    first = next(it, None)
    if first is None:
        return ""
    start = prev = first[0]
    h = first[1]
    for ln, x in it:
        if x == h and ln == prev + 1:
            prev = ln
            continue
        ap(f"{start}:{h}" if start == prev else f"{start}-{prev}:{h}")
        start = prev = ln
        h = x
    ap(f"{start}:{h}" if start == prev else f"{start}-{prev}:{h}")
    return ",".join(out)


def encode_line_runs(lines: Sequence[int], hits: Sequence[int]) -> str:
    """Sorted unique ``lines`` with their ``hits`` (parallel sequences) → the compact string."""
    return encode_line_hits(zip(lines, hits, strict=True))


def decode_branch_hits(text: str | None) -> dict[int, tuple[int, int]]:
    """``"3:1/2,9:2/2"`` → ``{3: (1, 2), 9: (2, 2)}`` (covered, valid)."""
    out: dict[int, tuple[int, int]] = {}
    if not text:
        return out
    for entry in text.split(","):
        ln, _, frac = entry.partition(":")
        cov, _, valid = frac.partition("/")
        out[int(ln)] = (int(cov), int(valid))
    return out


def union_line_hits(texts: Iterable[str]) -> dict[int, int]:
    """Several ``line_hits`` strings united: every line they name, with the MAX hits seen (exact)."""
    merged: dict[int, int] = {}
    get = merged.get
    for text in texts:
        for ln, h in iter_line_hits(text):
            if h > get(ln, -1):
                merged[ln] = h
    return merged


def union_branch_hits(texts: Iterable[str | None]) -> dict[int, tuple[int, int]]:
    """Several ``branch_hits`` strings united per line: the max covered and the max valid count."""
    merged: dict[int, tuple[int, int]] = {}
    for text in texts:
        for ln, (c, v) in decode_branch_hits(text).items():
            old = merged.get(ln)
            merged[ln] = (c, v) if old is None else (max(c, old[0]), max(v, old[1]))
    return merged


def encode_branch_hits(items: Iterable[tuple[int, tuple[int, int]]]) -> str:
    """(line, (covered, valid)) in ascending line order → ``LINE:COVERED/VALID,...``."""
    return ",".join(f"{ln}:{c}/{v}" for ln, (c, v) in items)
