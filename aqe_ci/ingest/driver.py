"""Ingest driver: raw report files → one validated, merged document per document type.

``ingest_files`` runs every file through the same steps and never lets one bad file stop the rest:

1. ``check_report_file``: an existing regular file (no FIFO, device, directory), not empty, under
   ``limits.max_input_bytes``;
2. read the first ``HEAD_BYTES`` and pick the parser: ``fmt="auto"`` asks every registered detector
   (best priority first), a forced ``fmt`` uses that parser whatever the content says;
3. ``writer.begin_source`` → ``parser.parse`` → ``writer.commit_source``; on any failure
   ``writer.rollback_source`` (the file adds nothing) and an :class:`IngestProblem` naming the file,
   the line when known, and the reason. Unexpected parser exceptions become
   ``internal parser error: <type>: <message>`` problems instead of tracebacks.

Documents are finished (validated, serialised under ``workdir``) only for types that got at least
one good file. The caller owns the returned files (``WrittenDocument.cleanup``).
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aqe_ci.errors import AqeError, InvalidInputError, UsageError
from aqe_ci.ingest.base import (
    DocumentWriter,
    FileDigest,
    IngestProblem,
    ReportParser,
    SourceInfo,
    WrittenDocument,
    read_head,
    too_many_digits,
)
from aqe_ci.ingest.stream.encoding import utf8_head
from aqe_ci.ingest.stream.opener import collecting
from aqe_ci.model.limits import Limits, check_report_file

__all__ = [
    "IngestProblem",
    "IngestResult",
    "Limits",
    "WrittenDocument",
    "describe_head",
    "expand_globs",
    "ingest_files",
    "known_formats",
]

_GLOB_CHARS = re.compile(r"[*?\[]")
_MAX_REASON = 300


@dataclass(kw_only=True)
class IngestResult:
    """One merged document per document type plus every file that failed."""

    documents: dict[str, WrittenDocument] = field(default_factory=dict)
    problems: list[IngestProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def cleanup(self) -> None:
        for doc in self.documents.values():
            doc.cleanup()


def known_formats() -> list[str]:
    """Every registered parser's format name, sorted."""
    from aqe_ci.ingest import registry

    return sorted({cls.format for cls in registry.parser_classes()})


def expand_globs(patterns: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Expand repeatable ``--file`` values: plain paths and globs (``*``, ``?``, ``[..]``, ``**``).

    A glob keeps regular files only, sorted; a plain path is kept as given (the driver reports a
    missing file or a directory as a problem). A pattern that matches nothing raises
    :class:`UsageError` naming it. Each file appears once, in first-match order.
    """
    out: list[Path] = []
    seen: set[str] = set()
    for raw in patterns:
        pattern = os.fspath(raw)
        if _GLOB_CHARS.search(pattern):
            matches = sorted(m for m in glob.glob(os.path.expanduser(pattern), recursive=True)
                             if not os.path.isdir(m))
            if not matches:
                raise UsageError(f"--file {pattern!r} matched no files",
                                 hint="check the path and quote the pattern so the shell does not expand it")
        else:
            if not os.path.lexists(os.path.expanduser(pattern)):
                raise UsageError(f"--file {pattern!r}: no such file")
            matches = [os.path.expanduser(pattern)]
        for m in matches:
            key = os.path.normpath(os.path.abspath(m))
            if key not in seen:
                seen.add(key)
                out.append(Path(m))
    return out


def _clean(text: str) -> str:
    """One printable line, bounded: reasons may quote hostile content."""
    text = "".join(ch if ch.isprintable() else " " for ch in str(text))
    text = " ".join(text.split())
    return text if len(text) <= _MAX_REASON else text[:_MAX_REASON] + "…"


def _strip_prefix(message: str, path: Path) -> str:
    prefix = f"{path}: "
    return message[len(prefix):] if message.startswith(prefix) else message


def describe_head(head: bytes) -> str:
    """What a file that no detector claims looks like, for the problem message."""
    if not head.strip():
        return "only whitespace"
    if head.startswith((b"\x1f\x8b", b"PK\x03\x04", b"\x28\xb5\x2f\xfd", b"BZh", b"\xfd7zXZ")):
        return "a compressed archive; unpack it first"
    if b"\x00" in head[:4096] and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "binary data"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 4:  # a multi-byte character cut by the head limit
            text = head[: exc.start].decode("utf-8")
        else:
            return f"not UTF-8 text (invalid byte at offset {exc.start})"
    body = text.lstrip("\ufeff \t\r\n")
    if body.startswith("<"):
        m = re.search(r"<([A-Za-z_][\w.:-]*)", re.sub(r"<\?.*?\?>|<!--.*?-->", "", body, flags=re.S))
        return f"XML with root element <{m.group(1)[:60]}>" if m else "XML without a root element"
    if body.startswith(("{", "[")):
        return "JSON of no known report shape"
    return "text of no known report shape"  # never quoted: --file may name any readable file


def _select_parser(fmt: str) -> type[ReportParser] | None:
    from aqe_ci.ingest import registry

    if fmt == "auto":
        return None
    cls = registry.by_format(fmt)
    if cls is None:
        names = ", ".join(["auto", *known_formats()])
        raise UsageError(f"--format {fmt!r} is not a known report format", hint=f"use one of: {names}")
    return cls


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ingest_files(
    paths: Sequence[Path],
    *,
    fmt: str = "auto",
    limits: Limits = Limits(),  # noqa: B008 - frozen dataclass, safe as a default
    workdir: Path,
    timestamp: str | None = None,
) -> IngestResult:
    """Parse every file into the writer of its document type; see the module docstring."""
    from aqe_ci.ingest import registry

    forced = _select_parser(fmt)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    result = IngestResult()
    writers: dict[str, DocumentWriter] = {}
    good: dict[str, int] = {}
    try:
        for path in paths:
            problem = _ingest_one(Path(path), forced, limits, workdir, writers, good, registry)
            if problem is not None:
                result.problems.append(problem)
        stamp = timestamp or _utc_now()
        for doc_type, writer in list(writers.items()):
            if not good.get(doc_type):
                writer.abort()
                continue
            try:
                result.documents[doc_type] = writer.finish(timestamp=stamp)
            except AqeError as exc:
                writer.abort()
                result.problems.append(IngestProblem(
                    file=f"<{doc_type} document>", reason=_clean(exc.one_line())))
    except BaseException:
        for writer in writers.values():
            writer.abort()
        result.cleanup()
        raise
    return result


def _ingest_one(path: Path, forced: type[ReportParser] | None, limits: Limits, workdir: Path,
                writers: dict[str, DocumentWriter], good: dict[str, int], registry: Any) -> IngestProblem | None:
    name = str(path)

    def problem(reason: str, *, line: int | None = None, fmt: str | None = None) -> IngestProblem:
        return IngestProblem(file=name, reason=_clean(reason), line=line, format=fmt)

    try:
        st = check_report_file(path, limits)
        head = utf8_head(read_head(path))
    except InvalidInputError as exc:
        return problem(_strip_prefix(exc.one_line(), path))
    except OSError as exc:
        return problem(f"cannot read ({exc.strerror or type(exc).__name__})")
    cls = forced if forced is not None else _detect(path, head, registry)
    if isinstance(cls, str):
        return problem(cls)

    doc_type = cls.doc_type
    writer = writers.get(doc_type)
    if writer is None:
        writer = registry.writer_class(doc_type)(workdir=workdir, limits=limits)
        writers[doc_type] = writer
    digest = FileDigest(path, st.st_size)  # hashed alongside the parse (see FileDigest)
    source = SourceInfo(file=name, format=cls.format, bytes=st.st_size)

    writer.begin_source(source)
    try:
        with collecting() as notes:
            cls().parse(path, writer, source)
        writer.set_source_sha256(digest.result())
        warnings = notes.warnings()
        if warnings:
            writer.set_source_warnings(warnings)
    except BaseException as exc:
        writer.rollback_source()  # whatever went wrong, the file adds nothing
        failed = _failure(exc, path)
        if failed is None:
            raise
        reason, line = failed
        return problem(reason, line=line, fmt=cls.format)
    finally:
        digest.cancel()  # a no-op once result() returned; stops the worker when the parse failed
    writer.commit_source()
    good[doc_type] = good.get(doc_type, 0) + 1
    return None


def _detect(path: Path, head: bytes, registry: Any) -> Any:
    """The parser class that claims the file, or the problem's reason (a str) when none does.

    The head (UTF-8, transcoded when the file is UTF-16/UTF-32) decides; a JSON object whose
    top-level keys run past the head gets a second look with every top-level key streamed from
    the file (:func:`aqe_ci.ingest.stream.jsonhead.with_streamed_keys`). A detector that fails on
    hostile content (nesting too deep for it, …) is a problem of this file only.
    """
    from aqe_ci.ingest.stream.jsonhead import with_streamed_keys

    try:
        candidates = registry.detect(head)
        if not candidates:
            streamed = with_streamed_keys(path, head)
            if streamed is not None:
                candidates = registry.detect(streamed)
    except RecursionError:
        return "nested too deeply to detect its format"
    except InvalidInputError as exc:
        return _strip_prefix(exc.one_line(), path)
    except OSError as exc:
        return f"cannot read ({exc.strerror or type(exc).__name__})"
    if candidates:
        return candidates[0]
    names = ", ".join(known_formats())
    return (f"not a recognised report format ({describe_head(head)}); "
            f"force one with --format NAME ({names})")


def _failure(exc: BaseException, path: Path) -> tuple[str, int | None] | None:
    """(reason, line) of a failed parse; None for what is not a file's fault (KeyboardInterrupt, …)."""
    if isinstance(exc, InvalidInputError):  # ReportError carries the line
        return _strip_prefix(exc.one_line(), path), getattr(exc, "line", None)
    if isinstance(exc, UnicodeDecodeError):
        return f"not valid {exc.encoding} text (invalid byte at offset {exc.start})", None
    if isinstance(exc, RecursionError):
        return "nested too deeply", None
    if isinstance(exc, ValueError) and too_many_digits(exc):
        return "a number with thousands of digits is out of range", None
    if isinstance(exc, MemoryError):
        return "too large to parse in memory", None
    if isinstance(exc, OSError):
        return f"cannot read ({exc.strerror or type(exc).__name__})", None
    if isinstance(exc, AqeError):
        return _strip_prefix(exc.one_line(), path), None
    if isinstance(exc, Exception):  # a parser bug: keep it visible, never a traceback, never partial data
        return f"internal parser error: {type(exc).__name__}: {exc}", None
    return None
