"""Input limits: the size caps every reader of untrusted files enforces (config ``limits``)."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from aqe_ci.errors import InvalidInputError

DEFAULT_MAX_INPUT_BYTES = 1024 * 1024 * 1024  # 1 GiB, config limits.max_input_mb
DEFAULT_MAX_BLOB_BYTES = 1024 * 1024  # 1 MiB per captured text, config limits.max_blob_kb
INLINE_TEXT_BYTES = 4096  # captured texts up to this size stay inline in the document


@dataclass(frozen=True, kw_only=True)
class Limits:
    max_input_bytes: int = DEFAULT_MAX_INPUT_BYTES
    max_blob_bytes: int = DEFAULT_MAX_BLOB_BYTES
    inline_text_bytes: int = INLINE_TEXT_BYTES


def check_report_file(path: Path, limits: Limits) -> os.stat_result:
    """A report must be an existing regular file no larger than the cap (no FIFOs, devices, dirs)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InvalidInputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read ({exc.strerror})") from None
    if not stat.S_ISREG(st.st_mode):
        raise InvalidInputError(f"{path}: not a regular file")
    if st.st_size == 0:
        raise InvalidInputError(f"{path}: the file is empty")
    if st.st_size > limits.max_input_bytes:
        raise InvalidInputError(
            f"{path}: {st.st_size} bytes is over the {limits.max_input_bytes} byte input cap",
            hint='raise "limits": {"max_input_mb": N} in the config if this is expected')
    return st
