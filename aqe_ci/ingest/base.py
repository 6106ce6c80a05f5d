"""The ingest contracts: parsers detect by content and stream into a per-type document writer.

Flow (``aqe_ci.ingest.driver.ingest_files``)::

    file ─► check_report_file (regular file? size cap?) ─► head bytes ─► registry.detect ─► parser
    parser.parse(path, writer, source)  (streams; raises InvalidInputError on bad input)
    writer.begin_source / commit_source / rollback_source around every file, so a bad file adds
    nothing and the other files carry on;  writer.finish() ─► WrittenDocument (validated JSON on disk)

Each document type has one writer class (``DocumentWriter``) that owns serialisation, per-item
validation, summaries and blobs; several files of one type merge into one writer.
"""

from __future__ import annotations

import hashlib
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from aqe_ci.errors import InvalidInputError
from aqe_ci.model.limits import Limits

HEAD_BYTES = 64 * 1024
#: files from this size on are hashed on a worker thread while they are parsed (see FileDigest)
DIGEST_THREAD_BYTES = 4 << 20
_DIGEST_BLOCK = 1 << 20
#: the largest line (or column) number a document holds; larger ones are "out of range"
MAX_LINE = (1 << 31) - 1
LINE_OUT_OF_RANGE = "line number is out of range"


def too_many_digits(exc: ValueError) -> bool:
    """``int()`` refused a number for its length (Python's 4,300-digit limit)."""
    return "integer string conversion" in str(exc)


@dataclass(frozen=True, kw_only=True)
class SourceInfo:
    """One input file as the document's ``sources[]`` records it."""

    file: str
    format: str
    bytes: int
    sha256: str | None = None
    dialect: str | None = None
    producer: str | None = None
    #: what ingest changed in the file's content to store it (e.g. lone surrogates replaced)
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class IngestProblem:
    """A file that could not be ingested: the error value DESIGN asks for."""

    file: str
    reason: str
    line: int | None = None
    format: str | None = None

    def one_line(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.reason}"


@dataclass(kw_only=True)
class WrittenDocument:
    """A finished, schema-valid document serialised at ``path`` plus what the store needs."""

    doc_type: str
    path: Path
    summary: dict[str, Any]
    blobs: dict[str, Path] = field(default_factory=dict)
    sources: list[SourceInfo] = field(default_factory=list)

    def cleanup(self) -> None:
        self.path.unlink(missing_ok=True)
        for p in self.blobs.values():
            p.unlink(missing_ok=True)


class ReportError(InvalidInputError):
    """Raised by parsers: carries the line number when known."""

    def __init__(self, reason: str, *, line: int | None = None) -> None:
        super().__init__(reason)
        self.line = line


class DocumentWriter(ABC):
    """Streams one document of ``doc_type`` to a temp file in ``workdir``."""

    doc_type: ClassVar[str]

    def __init__(self, *, workdir: Path, limits: Limits) -> None:
        self.workdir = workdir
        self.limits = limits

    @abstractmethod
    def begin_source(self, source: SourceInfo) -> None:
        """Start a file: remember where to roll back to."""

    @abstractmethod
    def set_source_sha256(self, sha256: str) -> None:
        """The current file's digest: the driver computes it while the file is parsed and hands it
        over before :meth:`commit_source` (a ``SourceInfo`` given to :meth:`begin_source` may carry
        it already)."""

    @abstractmethod
    def set_source_warnings(self, warnings: list[str]) -> None:
        """What ingest changed while reading the current file (``sources[].warnings``), handed over
        by the driver before :meth:`commit_source`; not called when there is nothing to say."""

    @abstractmethod
    def commit_source(self) -> None:
        """The file parsed cleanly: keep what it added."""

    @abstractmethod
    def rollback_source(self) -> None:
        """The file failed: forget everything it added (items, counters, blobs)."""

    @abstractmethod
    def finish(self, *, timestamp: str) -> WrittenDocument:
        """Close the document (envelope + summary), validate it, return it."""

    @abstractmethod
    def abort(self) -> None:
        """Remove temp files."""


class ReportParser(ABC):
    """One report format. ``detect`` sniffs content only, never the file name."""

    format: ClassVar[str]
    doc_type: ClassVar[str]
    #: lower runs first when several parsers claim a file
    priority: ClassVar[int] = 100

    @classmethod
    @abstractmethod
    def detect(cls, head: bytes) -> bool:
        """True if the first ``HEAD_BYTES`` of a file look like this format."""

    @abstractmethod
    def parse(self, path: Path, writer: Any, source: SourceInfo) -> None:
        """Stream ``path`` into ``writer`` (the DocumentWriter of ``doc_type``)."""


def read_head(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(HEAD_BYTES)


# -- optional fields of untrusted JSON reports: one shape check each, typed for the caller


def json_object(value: object) -> dict[str, Any]:
    """``value`` when it is a JSON object, else ``{}``."""
    return value if isinstance(value, dict) else {}


def json_array(value: object) -> list[Any]:
    """``value`` when it is a JSON array, else ``[]``."""
    return value if isinstance(value, list) else []


def json_str(value: object) -> str | None:
    """``value`` when it is a JSON string, else None."""
    return value if isinstance(value, str) else None


def file_sha256(path: Path, *, stop: threading.Event | None = None) -> str:
    """The file's sha256 (hex). Reads in 1 MiB blocks: both the read and ``hashlib``'s update run
    without the GIL, so :class:`FileDigest` can hash on a thread while the parser runs."""
    h = hashlib.sha256()
    buf = bytearray(_DIGEST_BLOCK)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(buf):
            h.update(view[:n])
            if stop is not None and stop.is_set():
                break
    return h.hexdigest()


class FileDigest:
    """A report file's sha256, computed alongside its parse.

    Files over :data:`DIGEST_THREAD_BYTES` are hashed on a worker thread started here (a second
    core hashes while the first parses: the digest then costs no wall time); smaller ones at once.
    :meth:`result` waits for the digest and re-raises the worker's ``OSError``; :meth:`cancel`
    stops the worker early when the parse failed and the digest is not needed.
    """

    def __init__(self, path: Path, size: int) -> None:
        self._value: str | None = None
        self._error: OSError | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if size < DIGEST_THREAD_BYTES:
            self._run(path)
        else:
            self._thread = threading.Thread(target=self._run, args=(path,), name="aqe-digest", daemon=True)
            self._thread.start()

    def _run(self, path: Path) -> None:
        try:
            self._value = file_sha256(path, stop=self._stop)
        except OSError as exc:
            self._error = exc

    def result(self) -> str:
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._value is not None and not self._stop.is_set()
        return self._value

    def cancel(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
