"""The S3 backend: AWS S3 and S3-compatible servers (MinIO, Ceph, R2, …) through boto3.

boto3 is imported here only, when an :class:`S3Backend` is built. What it adds to the plain object
primitives of :class:`~aqe_ci.storage.base.Backend`:

* **Create-only writes** with ``If-None-Match: *`` (PutObject and CompleteMultipartUpload). Whether
  the server honours the header is probed once per bucket and prefix (cached in-process and in
  ``<prefix>_aqe/capabilities.json``); where it does not, a claim protocol takes over
  (docs/storage-layout.md, "S3 conditional writes and the fallback protocol").
* **Lost responses** are resolved, not guessed: every write carries a writer-unique token in its
  metadata, so a retried conditional PUT that meets ``412`` because its first attempt did land is
  recognised as ours.
* **Large payloads** stream from disk as a multipart upload with ``max_concurrency`` parts in flight,
  each part read from the file as it is sent (memory is bounded by the connection buffers, not the
  file); a failed upload is aborted, and :meth:`remove_stale_temp_files` aborts uploads left by
  killed writers.
* **Checksums**: botocore's flexible checksums (CRC32 by default) where the server supports them —
  set ``AWS_REQUEST_CHECKSUM_CALCULATION=when_required`` for servers that reject them — plus the
  store's own sha256 of every payload, verified on read.
* **Object tags** ``aqe-type`` and ``aqe-kind`` on every document object, so S3 lifecycle rules can
  expire each document type on its own schedule (``aqe artifacts lifecycle``). The Store says what
  each object is (:meth:`put_object` with an :class:`~aqe_ci.storage.base.ObjectMeta`); object
  names are never parsed here.
* **Retries**: botocore "standard" mode (throttling and 5xx with backoff); errors that remain become
  one-line :class:`~aqe_ci.errors.BackendError` naming the bucket and endpoint, never a credential.
* **Request counting**: :attr:`S3Backend.request_count` counts every HTTP attempt (botocore's
  ``before-send`` event), by operation in :attr:`S3Backend.requests`.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import json
import random
import secrets
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, NoReturn
from urllib.parse import quote, urlsplit

from aqe_ci.config import S3Settings
from aqe_ci.errors import BackendError, ObjectExists, ObjectMissing, UsageError
from aqe_ci.model import keys
from aqe_ci.model.jsontypes import JsonValue
from aqe_ci.storage import layout
from aqe_ci.storage.base import Backend, ObjectInfo, ObjectMeta

if TYPE_CHECKING:
    import botocore.config
    import botocore.loaders
    import botocore.session
    from botocore.response import StreamingBody
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import HeadObjectOutputTypeDef

MB = 1024 * 1024
CAPABILITIES_NAME = "_aqe/capabilities.json"
PROBE_PREFIX = "_aqe/probe/"
CLAIM_MARK = ".claim-"
#: a claim older than this (server time) is abandoned: its writer was killed
CLAIM_STALE_SECONDS = 600.0
#: a winner must put its object within this time after starting its claim, or start over
CLAIM_WINDOW_SECONDS = CLAIM_STALE_SECONDS / 2
CLAIM_ATTEMPTS = 40
#: most queries need the first few names: the first page is small, the next ones full (1,000)
FIRST_PAGE = 10
WRITER_META = "aqe-writer"

# (bucket-location, prefix) -> conditional writes honoured?
_CAPABILITIES: dict[tuple[str, str, str], bool] = {}
_CAPABILITIES_LOCK = threading.Lock()

NOT_FOUND_CODES = {"NoSuchKey", "404", "NotFound"}
THROTTLE_CODES = {"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests",
                  "503", "ServiceUnavailable", "RequestThrottled"}
DENIED_CODES = {"AccessDenied", "403", "Forbidden", "AllAccessDisabled", "InvalidAccessKeyId",
                "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "AccountProblem"}
REGION_CODES = {"PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException",
                "301", "TemporaryRedirect"}


_LOADER: botocore.loaders.Loader | None = None


def _botocore_session() -> botocore.session.Session:
    """A new botocore session sharing one model loader per process (the S3 model is parsed once)."""
    global _LOADER
    import botocore.loaders
    import botocore.session

    session = botocore.session.get_session()
    with _CAPABILITIES_LOCK:
        if _LOADER is None:
            _LOADER = botocore.loaders.create_loader()
    session.register_component("data_loader", _LOADER)
    return session


def _tagging(tags: dict[str, str]) -> str:
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in sorted(tags.items()))


class _FileSlice(io.RawIOBase):
    """A seekable read-only window onto a file, read as it is sent (a multipart upload part)."""

    def __init__(self, path: Path, start: int, length: int) -> None:
        self._f = open(path, "rb")  # noqa: SIM115
        self._start = start
        self._len = length
        self._pos = 0
        self._f.seek(start)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        left = self._len - self._pos
        if left <= 0:
            return b""
        n = left if n is None or n < 0 else min(n, left)
        data = self._f.read(n)
        self._pos += len(data)
        return data

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence == 0:
            pos = offset
        elif whence == 1:
            pos = self._pos + offset
        else:
            pos = self._len + offset
        self._pos = max(0, min(pos, self._len))
        self._f.seek(self._start + self._pos)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def __len__(self) -> int:
        return self._len

    def close(self) -> None:
        self._f.close()
        super().close()


class _Body(io.RawIOBase):
    """A GetObject body whose transport errors become BackendError (not decode errors)."""

    def __init__(self, body: StreamingBody, describe: Callable[[Exception], Exception]) -> None:
        self._body = body
        self._describe = describe

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        try:
            return self._body.read(None if n is None or n < 0 else n)
        except Exception as exc:
            if isinstance(exc, BackendError):
                raise
            raise self._describe(exc) from None

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._body.close()
        super().close()


AddressingStyle = Literal["auto", "path", "virtual"]


_ADDRESSING_STYLES: dict[str, AddressingStyle] = {"auto": "auto", "path": "path", "virtual": "virtual"}


def _addressing_style(value: str) -> AddressingStyle:
    """``s3.addressing_style`` as botocore's literal type; the one check of its value (``_check`` calls it)."""
    style = _ADDRESSING_STYLES.get(value)
    if style is not None:
        return style
    raise UsageError(f"invalid s3.addressing_style {value!r}", hint="use auto, path or virtual")


def _client_config(style: AddressingStyle, *, max_attempts: int, connect_timeout: float, read_timeout: float,
                   max_pool_connections: int) -> botocore.config.Config:
    """botocore's client settings: standard retries, the addressing style, timeouts, the pool size."""
    from botocore.config import Config

    return Config(
        retries={"mode": "standard", "total_max_attempts": max(1, max_attempts)},
        s3={"addressing_style": style},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        max_pool_connections=max_pool_connections,
        user_agent_extra="aqe-artifacts",
    )


class S3Backend(Backend):
    kind = "s3"

    def __init__(self, settings: S3Settings, *, connect_timeout: float = 10.0, read_timeout: float = 60.0) -> None:
        _check(settings)
        self.bucket = settings.bucket
        prefix = settings.prefix.strip("/")
        self.prefix = f"{prefix}/" if prefix else ""
        self.endpoint_url = settings.endpoint_url
        self.conditional_writes = settings.conditional_writes
        self.multipart_threshold = max(5, settings.multipart_threshold_mb) * MB
        self.chunk_size = max(5, settings.multipart_chunk_mb) * MB
        self.max_concurrency = max(1, settings.max_concurrency)
        self.request_count = 0
        self.requests: Counter[str] = Counter()
        self._count_lock = threading.Lock()
        self.client = self._client(settings, connect_timeout=connect_timeout, read_timeout=read_timeout)
        self.client.meta.events.register("before-send.s3", self._count_request)
        self.region = self.client.meta.region_name

    def _client(self, s: S3Settings, *, connect_timeout: float, read_timeout: float) -> S3Client:
        import boto3

        session = boto3.session.Session(
            botocore_session=_botocore_session(),
            aws_access_key_id=s.access_key_id or None,
            aws_secret_access_key=s.secret_access_key or None,
            aws_session_token=s.session_token or None,
            profile_name=s.profile or None,
            region_name=s.region or None,
        )
        config = _client_config(_addressing_style(s.addressing_style), max_attempts=s.max_attempts,
                                connect_timeout=connect_timeout, read_timeout=read_timeout,
                                max_pool_connections=max(10, self.max_concurrency * 2))
        try:
            return session.client("s3", endpoint_url=s.endpoint_url or None, use_ssl=s.use_ssl,
                                  verify=s.verify_ssl, config=config)
        except Exception as exc:  # botocore.exceptions.ProfileNotFound, invalid endpoint, …
            raise BackendError(f"cannot set up the S3 client for bucket {s.bucket}: {type(exc).__name__}: "
                               f"{self._scrub(str(exc))}") from None

    # -- identity -----------------------------------------------------------------------------
    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    @property
    def endpoint(self) -> str:
        """The endpoint for messages: scheme, host and port only."""
        url = self.endpoint_url or self.client.meta.endpoint_url
        parts = urlsplit(url)
        host = parts.hostname or url
        return f"{parts.scheme}://{host}{':' + str(parts.port) if parts.port else ''}"

    def _count_request(self, event_name: str = "", **_: Any) -> None:
        op = event_name.rsplit(".", 1)[-1]
        with self._count_lock:
            self.request_count += 1
            self.requests[op] += 1

    def reset_counts(self) -> None:
        with self._count_lock:
            self.request_count = 0
            self.requests.clear()

    def _key(self, name: str) -> str:
        if not name or not name.isascii() or name.startswith("/") or "//" in name or "\0" in name:
            raise UsageError(f"invalid object name {name[:80]!r}")
        return self.prefix + name

    @staticmethod
    def _scrub(text: str) -> str:
        """Drop anything that could be a credential from a library message."""
        import re

        text = re.sub(r"(?i)(signature|credential|x-amz-security-token|token|secret)[=:][^\s&,]+", r"\1=…", text)
        return " ".join(text.split())[:300]

    # -- errors -------------------------------------------------------------------------------
    def _error(self, exc: Exception, name: str | None = None, op: str = "request") -> Exception:
        from botocore import exceptions as bex

        where = f"s3://{self.bucket}/{self.prefix}{name or ''}"
        if isinstance(exc, bex.ClientError):
            err = exc.response.get("Error", {})
            code = str(err.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code == "NoSuchBucket":
                return BackendError(f"S3 bucket {self.bucket} does not exist at {self.endpoint}",
                                    hint="create it, or fix s3.bucket / s3.endpoint_url")
            if code in NOT_FOUND_CODES or status == 404:
                return ObjectMissing(f"object {name} not found in {self.location}")
            if code in DENIED_CODES or status == 403:
                return BackendError(f"access denied to {where} at {self.endpoint} ({code})",
                                    hint="check the credentials and the bucket policy (s3:GetObject, "
                                         "s3:PutObject, s3:ListBucket, s3:DeleteObject); "
                                         "see docs/troubleshooting.md#s3-accessdenied")
            if code in REGION_CODES or status == 301:
                actual = (exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
                          .get("x-amz-bucket-region") or err.get("Region"))
                told = f"; it is in {actual}" if actual else ""
                return BackendError(f"S3 bucket {self.bucket} is not in region {self.region}{told}",
                                    hint="set s3.region to the bucket's region; see docs/troubleshooting.md#s3-wrong-region")
            if code in THROTTLE_CODES or status == 503:
                return BackendError(f"S3 endpoint {self.endpoint} is throttling requests to bucket {self.bucket} "
                                    f"({code}), still failing after retries",
                                    hint="retry later; see docs/troubleshooting.md#s3-slowdown")
            return BackendError(f"S3 {op} on {where} at {self.endpoint} failed: {code} "
                                f"{self._scrub(str(err.get('Message') or ''))}".rstrip())
        if isinstance(exc, bex.NoCredentialsError | bex.PartialCredentialsError | bex.CredentialRetrievalError):
            return BackendError(f"no usable AWS credentials for S3 bucket {self.bucket}",
                                hint="set s3.access_key_id/secret_access_key (e.g. ${AWS_ACCESS_KEY_ID}), "
                                     "AWS_* variables, a profile, an instance role or AWS_ROLE_ARN + "
                                     "AWS_WEB_IDENTITY_TOKEN_FILE")
        if isinstance(exc, bex.EndpointConnectionError | bex.ConnectTimeoutError | bex.ConnectionClosedError
                      | bex.ReadTimeoutError | bex.ResponseStreamingError | bex.IncompleteReadError):
            return BackendError(f"cannot reach S3 endpoint {self.endpoint} for bucket {self.bucket} "
                                f"({type(exc).__name__})", hint="check s3.endpoint_url and the network")
        if isinstance(exc, bex.SSLError):
            return BackendError(f"TLS error talking to S3 endpoint {self.endpoint} for bucket {self.bucket}",
                                hint="check the certificate, or s3.verify_ssl / s3.use_ssl")
        if isinstance(exc, bex.BotoCoreError | OSError):
            return BackendError(f"S3 {op} on {where} at {self.endpoint} failed: {type(exc).__name__}: "
                                f"{self._scrub(str(exc))}")
        return exc

    def _raise_mapped(self, exc: Exception, name: str | None, op: str) -> NoReturn:
        """Raise ``exc`` as :meth:`_error` maps it (or unchanged when it is not an S3/network error)."""
        mapped = self._error(exc, name, op)
        if mapped is exc:
            raise exc
        raise mapped from None

    def call(self, op: str, fn: Callable[..., Any], name: str | None = None, *,
             absent: Collection[str] = (), **kwargs: Any) -> Any:
        """One client call (``fn(**kwargs)``) whose errors become one-line AqeErrors; an error whose S3
        code is in ``absent`` (e.g. ``NoSuchLifecycleConfiguration``) returns None instead."""
        try:
            return fn(**kwargs)
        except Exception as exc:
            if absent and self._code(exc)[0] in absent:
                return None
            self._raise_mapped(exc, name, op)

    @staticmethod
    def _code(exc: Exception) -> tuple[str, int | None]:
        from botocore.exceptions import ClientError

        if isinstance(exc, ClientError):
            meta = exc.response.get("ResponseMetadata", {})
            return str(exc.response.get("Error", {}).get("Code", "")), meta.get("HTTPStatusCode")
        return "", None

    # -- reads --------------------------------------------------------------------------------
    def open(self, name: str) -> BinaryIO:
        resp = self.call("GetObject", self.client.get_object, name, Bucket=self.bucket, Key=self._key(name))
        return io.BufferedReader(_Body(resp["Body"], lambda e: self._error(e, name, "GetObject")),
                                 buffer_size=1 << 20)

    def get_bytes(self, name: str) -> bytes:
        for attempt in range(3):
            stream = self.open(name)
            try:
                return stream.read()
            except BackendError:
                if attempt == 2:
                    raise
            finally:
                stream.close()
        raise AssertionError("unreachable")

    def head(self, name: str) -> HeadObjectOutputTypeDef | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._key(name))
        except Exception as exc:
            code, status = self._code(exc)
            if status == 404 or code in NOT_FOUND_CODES:
                return None
            self._raise_mapped(exc, name, "HeadObject")

    def exists(self, name: str) -> bool:
        return self.head(name) is not None

    def list(self, prefix: str, *, start_after: str | None = None, limit: int | None = None) -> Iterator[ObjectInfo]:
        if limit is not None and limit <= 0:
            return
        full = self.prefix + prefix
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": full}
        if start_after:
            kwargs["StartAfter"] = self.prefix + start_after
        # most queries need the first few names: ask for a small first page, then full pages
        page = min(FIRST_PAGE, limit) if limit else FIRST_PAGE
        count = 0
        cut = len(self.prefix)
        while True:
            resp = self.call("ListObjectsV2", self.client.list_objects_v2, prefix, MaxKeys=page, **kwargs)
            for obj in resp.get("Contents", []):
                key = obj["Key"]
                if not key.startswith(full):
                    continue
                modified = obj.get("LastModified")
                yield ObjectInfo(name=key[cut:], size=int(obj.get("Size", 0)),
                                 modified=modified.timestamp() if modified else None)
                count += 1
                if limit is not None and count >= limit:
                    return
            if not resp.get("IsTruncated"):
                return
            kwargs.pop("StartAfter", None)
            kwargs["ContinuationToken"] = resp["NextContinuationToken"]
            page = 1000 if limit is None else min(1000, max(limit - count, 1))

    # -- writes -------------------------------------------------------------------------------
    def put_bytes(self, name: str, data: bytes, *, if_absent: bool = False) -> None:
        self._put(name, data, None, if_absent=if_absent)

    def put_file(self, name: str, path: Path, *, if_absent: bool = False) -> None:
        self._put(name, Path(path), None, if_absent=if_absent)

    def put_object(self, name: str, source: Path | bytes, *, meta: ObjectMeta, if_absent: bool = False) -> None:
        """A document object, tagged ``aqe-type`` / ``aqe-kind`` from ``meta`` for the lifecycle rules."""
        self._put(name, source, meta, if_absent=if_absent)

    def _put(self, name: str, source: Path | bytes, meta: ObjectMeta | None, *, if_absent: bool) -> None:
        key = self._key(name)
        token = secrets.token_hex(8)
        fields: dict[str, Any] = {"Bucket": self.bucket, "Key": key, "Metadata": {WRITER_META: token}}
        if meta is not None:
            fields["Tagging"] = _tagging(meta.tags())
        media_type = layout.published_media_type(name)
        if media_type is not None:  # a badge a bucket may serve to browsers; overwritten on each publish
            fields["ContentType"], fields["CacheControl"] = media_type, "no-cache"
        put: Callable[[bool], None]
        if isinstance(source, bytes) or source.stat().st_size < self.multipart_threshold:
            def put(conditional: bool) -> None:
                kwargs = dict(fields, IfNoneMatch="*") if conditional else fields
                if isinstance(source, bytes):
                    self.client.put_object(Body=source, **kwargs)
                    return
                with open(source, "rb") as body:
                    self.client.put_object(Body=body, **kwargs)
        else:
            size = source.stat().st_size

            def put(conditional: bool) -> None:
                self._multipart(name, source, size, fields, conditional)

        self._write(name, put, token, if_absent=if_absent, meta=meta)

    def _write(self, name: str, put: Callable[[bool], None], token: str, *, if_absent: bool,
               meta: ObjectMeta | None) -> None:
        if not if_absent:
            self.call("PutObject", put, name, conditional=False)
            return
        if self.conditional_writes_honoured():
            self._conditional(name, put, token)
        else:
            self._claimed(name, lambda: put(False), meta)

    def _conditional(self, name: str, put: Callable[[bool], None], token: str) -> None:
        for attempt in range(8):
            try:
                put(True)
                return
            except Exception as exc:
                code, status = self._code(exc)
                if status == 412 or code == "PreconditionFailed":
                    if self._written_by(name, token):
                        return  # our first attempt landed; its response was lost and botocore retried
                    raise ObjectExists(f"object {name} already exists in {self.location}") from None
                if status == 409 or code == "ConditionalRequestConflict":
                    time.sleep(min(2.0, 0.05 * 2 ** attempt) * random.random())
                    continue  # a concurrent conditional write is in flight: retry (AWS's advice)
                self._raise_mapped(exc, name, "PutObject")
        raise BackendError(f"conditional write of {name} in {self.location} kept conflicting", hint="retry later")

    def _written_by(self, name: str, token: str) -> bool:
        info = self.head(name)
        if not info:
            return False
        return info.get("Metadata", {}).get(WRITER_META) == token

    # -- multipart ----------------------------------------------------------------------------
    def _multipart(self, name: str, path: Path, size: int, fields: dict[str, Any], conditional: bool) -> None:
        """A multipart upload of ``path``; ``fields``: Bucket, Key, Metadata and Tagging of the object."""
        key = fields["Key"]
        parts_n = max(1, -(-size // self.chunk_size))
        chunk = self.chunk_size
        if parts_n > 10_000:
            chunk = -(-size // 10_000)
            parts_n = -(-size // chunk)
        create: dict[str, Any] = dict(fields)
        checksum = self._checksums_on()
        if checksum:
            create["ChecksumAlgorithm"] = "CRC32"
        upload_id = self.client.create_multipart_upload(**create)["UploadId"]
        try:
            def send(number: int) -> dict[str, Any]:
                start = (number - 1) * chunk
                length = min(chunk, size - start)
                body = _FileSlice(path, start, length)
                try:
                    kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key, "UploadId": upload_id,
                                              "PartNumber": number, "Body": body, "ContentLength": length}
                    if checksum:
                        kwargs["ChecksumAlgorithm"] = "CRC32"
                    resp = self.client.upload_part(**kwargs)
                finally:
                    body.close()
                part = {"PartNumber": number, "ETag": resp["ETag"]}
                if checksum and resp.get("ChecksumCRC32"):
                    part["ChecksumCRC32"] = resp["ChecksumCRC32"]
                return part

            with ThreadPoolExecutor(max_workers=min(self.max_concurrency, parts_n),
                                    thread_name_prefix="aqe-s3-part") as pool:
                parts = list(pool.map(send, range(1, parts_n + 1)))
            complete: dict[str, Any] = {"Bucket": self.bucket, "Key": key, "UploadId": upload_id,
                                        "MultipartUpload": {"Parts": parts}}
            if conditional:
                complete["IfNoneMatch"] = "*"
            self.client.complete_multipart_upload(**complete)
        except BaseException:
            self._abort(key, upload_id)
            raise
        finally:
            self._sweep_uploads(key, upload_id)

    def _sweep_uploads(self, key: str, upload_id: str) -> None:
        """Abort other open uploads of ``key``: a CreateMultipartUpload whose response was lost and
        retried leaves one behind. Multipart names are writer-unique (``data-<upload>``), so they are ours."""
        with contextlib.suppress(Exception):
            resp = self.client.list_multipart_uploads(Bucket=self.bucket, Prefix=key)
            for up in resp.get("Uploads", []):
                if up.get("Key") == key and up.get("UploadId") != upload_id:
                    self._abort(key, up["UploadId"])

    def _abort(self, key: str, upload_id: str) -> None:
        from botocore.exceptions import ClientError

        for attempt in range(4):
            try:
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
                return
            except ClientError as exc:
                if self._code(exc)[0] == "NoSuchUpload":
                    return
            except Exception:  # noqa: S110 - best effort; lifecycle and repair abort leftovers
                pass
            time.sleep(0.2 * (attempt + 1))

    def _checksums_on(self) -> bool:
        setting = getattr(self.client.meta.config, "request_checksum_calculation", None) or "when_supported"
        return setting == "when_supported"

    def open_multipart_uploads(self) -> builtins.list[dict[str, Any]]:
        """Multipart uploads started under the prefix and neither completed nor aborted."""
        out: builtins.list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self.prefix}
        while True:
            resp = self.call("ListMultipartUploads", self.client.list_multipart_uploads, None, **kwargs)
            out.extend(resp.get("Uploads", []))
            if not resp.get("IsTruncated"):
                return out
            kwargs["KeyMarker"] = resp.get("NextKeyMarker")
            kwargs["UploadIdMarker"] = resp.get("NextUploadIdMarker")

    def remove_stale_temp_files(self, older_than_seconds: float, *, dry_run: bool = False) -> builtins.list[str]:
        """Abort multipart uploads older than the grace period (killed writers); ``Store.repair`` calls this.

        ``dry_run`` lists them and aborts nothing."""
        now = time.time()
        aborted = []
        for up in self.open_multipart_uploads():
            started = up.get("Initiated")
            if started is not None and now - started.timestamp() < older_than_seconds:
                continue
            if not dry_run:
                self._abort(up["Key"], up["UploadId"])
            aborted.append(f"{up['Key'][len(self.prefix):]} (multipart upload)")
        return aborted

    # -- deletes ------------------------------------------------------------------------------
    def delete(self, name: str) -> None:
        try:
            self.call("DeleteObject", self.client.delete_object, name, Bucket=self.bucket, Key=self._key(name))
        except ObjectMissing:
            return

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()

    # -- conditional-write capability ---------------------------------------------------------
    def conditional_writes_honoured(self) -> bool:
        """Does the server honour ``If-None-Match: *``? Probed once per bucket and prefix, then cached."""
        if self.conditional_writes != "auto":
            return self.conditional_writes == "on"
        ident = (self.endpoint, self.bucket, self.prefix)
        with _CAPABILITIES_LOCK:
            if ident in _CAPABILITIES:
                return _CAPABILITIES[ident]
        honoured = self._stored_capability()
        if honoured is None:
            honoured = self._probe()
            body = json.dumps({"conditional_writes": honoured, "probed_at": keys.format_time(keys.utc_now()),
                               "endpoint": self.endpoint}, sort_keys=True).encode()
            with contextlib.suppress(BackendError):
                self.call("PutObject", self.client.put_object, CAPABILITIES_NAME,
                          Bucket=self.bucket, Key=self._key(CAPABILITIES_NAME), Body=body)
        with _CAPABILITIES_LOCK:
            first = ident not in _CAPABILITIES
            _CAPABILITIES[ident] = honoured
        if first and not honoured:
            self._warn_fallback()
        return honoured

    def _warn_fallback(self) -> None:
        """Said once per process, bucket and prefix: writes stay safe, but users should know why they cost more."""
        print(f"Warning: S3 endpoint {self.endpoint} ignores conditional writes (If-None-Match) for bucket "
              f"{self.bucket}: create-only writes use the claim protocol, a few more requests each — see "
              "docs/troubleshooting.md#conditional-write-fallback-warning", file=sys.stderr)

    def _stored_capability(self) -> bool | None:
        try:
            data = json.loads(self.get_bytes(CAPABILITIES_NAME))
        except ObjectMissing:
            return None
        except ValueError:
            return None
        value = data.get("conditional_writes") if isinstance(data, dict) else None
        return value if isinstance(value, bool) else None

    def _probe(self) -> bool:
        """Write a probe object twice with ``If-None-Match: *``: the second must fail with 412."""
        name = f"{PROBE_PREFIX}{secrets.token_hex(8)}"
        key = self._key(name)
        try:
            for attempt in (1, 2):
                try:
                    self.client.put_object(Bucket=self.bucket, Key=key, Body=b"probe", IfNoneMatch="*")
                except Exception as exc:
                    code, status = self._code(exc)
                    if status == 412 or code == "PreconditionFailed":
                        return attempt == 2
                    if status in (400, 501) or code in ("NotImplemented", "InvalidArgument", "InvalidRequest"):
                        return False  # the server rejects the header: treat as not honoured
                    self._raise_mapped(exc, name, "PutObject")
            return False  # the second create-only write succeeded: the header is ignored
        finally:
            with contextlib.suppress(Exception):
                self.client.delete_object(Bucket=self.bucket, Key=key)

    # -- the fallback protocol ----------------------------------------------------------------
    def _claim_prefix(self, name: str) -> str:
        directory, _, base = name.rpartition("/")
        return f"{directory}/{CLAIM_MARK}{base}-" if directory else f"{CLAIM_MARK}{base}-"

    def _claimed(self, name: str, put: Callable[[], None], meta: ObjectMeta | None = None) -> None:
        """Create-only write on a server that ignores ``If-None-Match`` (docs/storage-layout.md).

        1. if ``name`` exists: ObjectExists;
        2. write a unique claim ``<dir>/.claim-<base>-<ms>-<random>``;
        3. list the claims of ``name``: if ours is the only live one, we own ``name``; otherwise remove
           ours, back off at random and start over (a claim older than CLAIM_STALE_SECONDS is ignored);
        4. as owner: check ``name`` again (a previous owner may have finished), write it, drop the claim.

        Two writers can both lose a round, never both win: whichever lists second sees the other's claim.
        """
        cprefix = self._claim_prefix(name)
        for attempt in range(CLAIM_ATTEMPTS):
            if self.exists(name):
                raise ObjectExists(f"object {name} already exists in {self.location}")
            started = time.monotonic()
            claim = f"{cprefix}{int(time.time() * 1000):013d}-{secrets.token_hex(6)}"
            if meta is None:
                self.put_bytes(claim, b"")
            else:  # tagged as a claim of the same type, so the lifecycle rule for claims collects it
                self.put_object(claim, b"", meta=ObjectMeta(doc_type=meta.doc_type, kind="claim"))
            won = False
            try:
                claims = {info.name: info.modified for info in self.list(cprefix)}
                mine = claims.get(claim)
                # staleness is judged on the server's clock: another claim's age relative to ours
                live = [c for c, modified in claims.items()
                        if c == claim or mine is None or modified is None or mine - modified < CLAIM_STALE_SECONDS]
                won = live == [claim]
                if won:
                    if self.exists(name):
                        raise ObjectExists(f"object {name} already exists in {self.location}")
                    if time.monotonic() - started > CLAIM_WINDOW_SECONDS:
                        won = False  # too slow: another writer may consider our claim stale
                    else:
                        self.call("PutObject", put, name)
                        return
            finally:
                with contextlib.suppress(BackendError):
                    self.delete(claim)
            time.sleep(min(2.0, 0.02 * 2 ** min(attempt, 6)) * (0.5 + random.random()))
        raise BackendError(f"could not obtain the write claim for {name} in {self.location} "
                           f"after {CLAIM_ATTEMPTS} attempts", hint="too many concurrent writers; retry later")


KNOWN_SETTINGS = frozenset(S3Settings.__dataclass_fields__)


def _check(s: S3Settings) -> None:
    if not s.bucket:
        raise UsageError("s3.bucket is not set", hint='set "s3": {"bucket": "..."} in the storage config')
    if s.conditional_writes not in ("auto", "on", "off"):
        raise UsageError(f"invalid s3.conditional_writes {s.conditional_writes!r}", hint="use auto, on or off")
    _addressing_style(s.addressing_style)  # raises UsageError on anything but auto, path or virtual
    if bool(s.access_key_id) != bool(s.secret_access_key):
        raise UsageError(f"s3 storage for bucket {s.bucket}: access_key_id and secret_access_key must be set together",
                         hint="set both, or neither to use the AWS credential chain")


def from_settings(settings: S3Settings | Mapping[str, JsonValue]) -> S3Backend:
    """An S3Backend from the typed ``s3`` config section, or from that section as JSON (``${VAR}``s expanded)."""
    if not isinstance(settings, S3Settings):
        unknown = sorted(set(settings) - KNOWN_SETTINGS)
        if unknown:
            raise UsageError(f"unknown s3 setting {unknown[0]!r}",
                             hint=f"known settings: {', '.join(sorted(KNOWN_SETTINGS))}")
        settings = S3Settings.from_json(dict(settings))
    return S3Backend(settings)
