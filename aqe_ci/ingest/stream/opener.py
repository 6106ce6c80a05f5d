"""The one way parsers open a report, and what reading it taught us about it (``warnings``).

:func:`open_report` returns a binary file object of the report's content as the parsers expect it:

- UTF-16 / UTF-32 (a byte-order mark, or the zero-byte pattern of an XML/JSON start) is
  transcoded to UTF-8 while it is read (:class:`~aqe_ci.ingest.stream.encoding.Transcoder`);
- for JSON (``kind="json"``), lone surrogate escapes become ``\\ufffd``
  (:class:`~aqe_ci.ingest.stream.surrogates.SurrogateFilter`);
- anything else is the plain file (no wrapper, no cost).

Replacements are counted in the :class:`Notes` of the file being ingested: the driver opens a
:func:`collecting` scope around each file, and the notes become the file's ``sources[].warnings``
in the document. Outside such a scope nothing is recorded. Several passes over one file (a
parser may read it twice) count once: a note keeps the largest count of any single pass.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, BinaryIO

from aqe_ci.ingest.stream.encoding import Transcoder, sniff
from aqe_ci.ingest.stream.surrogates import SurrogateFilter

_BUFFER = 1 << 16


class Notes:
    """What the readers of one file replaced (see the module docstring)."""

    def __init__(self) -> None:
        self._readers: list[Transcoder | SurrogateFilter] = []
        self.encoding: str | None = None

    def watch(self, reader: Transcoder | SurrogateFilter) -> None:
        self._readers.append(reader)

    def count(self, kind: type) -> int:
        return max((r.replaced for r in self._readers if isinstance(r, kind)), default=0)

    def warnings(self) -> list[str]:
        out = []
        n = self.count(Transcoder)
        if n:
            out.append(f"{n} unpaired UTF-16 surrogate{'s' if n > 1 else ''} replaced by U+FFFD")
        n = self.count(SurrogateFilter)
        if n:
            out.append(f"{n} lone surrogate escape{'s' if n > 1 else ''} (\\ud800-\\udfff without its pair) "
                       "replaced by U+FFFD")
        return out


_CURRENT: ContextVar[Notes | None] = ContextVar("aqe_ingest_notes", default=None)


@contextmanager
def collecting() -> Iterator[Notes]:
    """The scope of one file's ingest: every :func:`open_report` inside it reports to the notes."""
    notes = Notes()
    token = _CURRENT.set(notes)
    try:
        yield notes
    finally:
        _CURRENT.reset(token)


def open_report(path: Path | str, kind: str = "xml") -> BinaryIO:
    """Open ``path`` for reading as UTF-8 bytes (see the module docstring). ``kind`` is ``"xml"``,
    ``"text"``, ``"json"`` (a raw stream: ``read`` may return less than asked, blocks are handed
    over without copies; JsonStream reads it) or ``"jsonl"`` (JSON lines: buffered, ``readline``)."""
    f: Any = open(path, "rb")  # noqa: SIM115 - the caller closes what is returned
    try:
        found = sniff(f.read(4))
        f.seek(0)
        notes = _CURRENT.get()
        if found is not None:
            f = io.BufferedReader(Transcoder(f, *found), _BUFFER)
            if notes is not None:
                notes.watch(f.raw)
                notes.encoding = found[0]
        if kind in ("json", "jsonl"):
            f = SurrogateFilter(f)
            if notes is not None:
                notes.watch(f)
            if kind == "jsonl":
                f = io.BufferedReader(f, _BUFFER)
        return f  # type: ignore[no-any-return]
    except BaseException:
        f.close()
        raise
