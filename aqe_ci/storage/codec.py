"""Payload codecs: gzip (default, level 6), zstd, none. Streaming in both directions.

The setting itself (algorithm, level, their default and range) is :class:`aqe_ci.model.compression.Codec`.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import shutil
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

from aqe_ci.errors import IntegrityError
from aqe_ci.model.compression import Codec

__all__ = ["Codec", "Encoded", "encode_file", "verified_bytes", "verified_copy"]

CHUNK = 1 << 20


@dataclass(frozen=True, kw_only=True)
class Encoded:
    """A payload compressed into a spooled temp file, with the facts the manifest records."""

    path: Path
    sha256: str
    size: int
    stored_size: int
    codec: str


def encode_file(source: Path | IO[bytes], codec: Codec, workdir: Path | None = None) -> Encoded:
    """Compress ``source`` into a temp file while hashing the uncompressed bytes."""
    digest = hashlib.sha256()
    size = 0
    fd, name = tempfile.mkstemp(prefix="aqe-enc-", dir=workdir)
    out_path = Path(name)
    src_ctx = open(source, "rb") if isinstance(source, Path) else _NoClose(source)  # noqa: SIM115
    try:
        with src_ctx as src, open(fd, "wb") as raw:
            writer: IO[bytes]
            if codec.algorithm == "gzip":
                writer = gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=codec.level, mtime=0)
            elif codec.algorithm == "zstd":
                import zstandard

                writer = zstandard.ZstdCompressor(level=codec.level).stream_writer(raw, closefd=False)
            else:
                writer = _NoClose(raw)
            with writer:
                while chunk := src.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    writer.write(chunk)
    except BaseException:
        out_path.unlink(missing_ok=True)
        raise
    return Encoded(
        path=out_path, sha256=digest.hexdigest(), size=size, stored_size=out_path.stat().st_size,
        codec=codec.algorithm,
    )


def decoded_chunks(stream: BinaryIO, codec: str) -> Iterator[bytes]:
    """Yield the decompressed bytes of ``stream``."""
    if codec == "gzip":
        reader: IO[bytes] = gzip.GzipFile(fileobj=stream, mode="rb")
    elif codec == "zstd":
        import zstandard

        reader = zstandard.ZstdDecompressor().stream_reader(stream, read_across_frames=True)
    elif codec == "none":
        reader = stream
    else:
        raise IntegrityError(f"unknown codec {codec!r} in manifest")
    while chunk := reader.read(CHUNK):
        yield chunk


def verified_copy(stream: BinaryIO, codec: str, expect_sha256: str, expect_size: int, out: IO[bytes],
                  what: str) -> None:
    """Decode ``stream`` into ``out``, then verify size and sha256; raise IntegrityError naming ``what``."""
    digest = hashlib.sha256()
    size = 0
    try:
        for chunk in decoded_chunks(stream, codec):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    except (OSError, EOFError, ValueError, zlib.error) as exc:  # zlib.error: a corrupt deflate stream
        raise IntegrityError(f"stored object {what} cannot be decoded ({codec}): {exc}",
                             hint="the object is corrupt; delete the document and store it again") from None
    except Exception as exc:  # zstandard raises its own ZstdError
        if type(exc).__name__ == "ZstdError":
            raise IntegrityError(f"stored object {what} cannot be decoded (zstd): {exc}",
                                 hint="the object is corrupt; delete the document and store it again") from None
        raise
    if size != expect_size or digest.hexdigest() != expect_sha256:
        raise IntegrityError(
            f"stored object {what} failed its integrity check (sha256 {digest.hexdigest()[:12]}…, "
            f"expected {expect_sha256[:12]}…; {size} bytes, expected {expect_size})",
            hint="the object was altered or truncated; delete the document and store it again",
        )


def verified_bytes(stream: BinaryIO, codec: str, expect_sha256: str, expect_size: int, what: str) -> bytes:
    buf = io.BytesIO()
    verified_copy(stream, codec, expect_sha256, expect_size, buf, what)
    return buf.getvalue()


class _NoClose:
    """Context manager that does not close the wrapped stream."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def __enter__(self) -> IO[bytes]:
        return self._stream

    def __exit__(self, *exc: object) -> None:
        return None

    def write(self, data: bytes) -> int:
        return self._stream.write(data)

    def read(self, n: int = -1) -> bytes:
        return self._stream.read(n)


def copy_stream(src: IO[bytes], dst: IO[bytes]) -> None:
    shutil.copyfileobj(src, dst, CHUNK)
