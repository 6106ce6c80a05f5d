"""The base of the stream filters that wrap a report while it is read (:mod:`.encoding`'s
transcoder, :mod:`.surrogates`' filter): a readable raw stream that can only be rewound to its
start (the coverage.py reader reads a file in several passes), tells how far it has been read, and
closes the stream it wraps. A subclass sets ``_pos`` as it hands bytes out and implements
``_reset`` (back to the start of the wrapped stream)."""

from __future__ import annotations

import io
from typing import BinaryIO


class RewindOnly(io.RawIOBase):
    """A filter over ``raw``: ``seek(0)`` rewinds (``_reset``), any other seek is refused with
    ``what`` in the message; ``tell()`` is the count of bytes handed out."""

    what = "a filtered report"

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self._raw = raw
        self._pos = 0

    def _reset(self) -> None:
        raise NotImplementedError

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR and offset == 0:
            return self._pos
        if whence != io.SEEK_SET or offset != 0:
            raise io.UnsupportedOperation(f"{self.what} can only be rewound")
        self._reset()
        return 0

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()
