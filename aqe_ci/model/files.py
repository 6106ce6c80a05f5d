"""Reading normalised aqe documents from files (size cap, JSON errors with positions, schema check),
and writing files atomically."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from aqe_ci.errors import InvalidInputError
from aqe_ci.model.limits import Limits, check_report_file
from aqe_ci.model.schema import validate_document

_DOC_HEAD = re.compile(rb'^\s*\{[^{]{0,200}"type"\s*:\s*"(test_results|coverage|security)"', re.S)


def looks_like_document(head: bytes) -> bool:
    """True when ``head`` starts an aqe document envelope: an object with "type", "timestamp" and "data".

    An envelope with an unknown type still counts, so validation can say what is wrong with it.
    """
    if _DOC_HEAD.match(head):
        return True
    return (re.match(rb'\s*\{\s*"(type|timestamp|data)"\s*:', head) is not None
            and all(re.search(rb'"%s"\s*:' % k, head) for k in (b"type", b"timestamp", b"data")))


def load_document_file(path: Path, limits: Limits) -> dict[str, Any]:
    """Load and validate a normalised document; InvalidInputError names the file and what is wrong."""
    check_report_file(path, limits)
    try:
        with open(path, "rb") as f:
            raw = f.read()
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"{path}: line {exc.lineno} column {exc.colno}: invalid JSON ({exc.msg})") from None
    validate_document(doc, source=str(path))
    return doc


def write_atomic(path: Path, chunks: Iterable[str]) -> None:
    """Write ``chunks`` and a final newline to ``path`` atomically (temp file in the same directory, then
    rename), so a reader never sees half a file. Callers redact what needs it."""
    import os
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".aqe-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for chunk in chunks:
                f.write(chunk)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
