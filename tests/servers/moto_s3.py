"""moto's standalone S3 server as a subprocess on 127.0.0.1, for the tests and the benchmarks.

Run as a script it is ``python -m moto.server`` with one correction: moto checks ``If-None-Match: *``
and then writes, without a lock, while serving requests on several threads, so two concurrent
conditional PUTs of one key can both succeed. Real S3 (and MinIO, R2, Ceph ≥ 18) make that check
atomic; the launcher serialises conditional writes so the server honours what it advertises. Nothing
else in moto is changed, so everything our code does still goes through moto's real HTTP handlers.

``--preload FILE`` (benchmarks only) loads a pickled ``{bucket: {key: bytes}}`` into the server
before it serves, so a store of 20,000 runs does not take 140,000 HTTP PUTs to build.

``--indexed-listing`` (benchmarks only) replaces moto's ListObjectsV2, which scans and sorts every
key of the bucket on each call, with a bisect over a sorted name index, so list timings reflect an
indexed store like S3 rather than moto's in-memory scan. The request counts do not depend on it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

HOST = "127.0.0.1"


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def server_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """An environment that can only reach 127.0.0.1 with dummy credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "NO_PROXY": "127.0.0.1,localhost",
    })
    env.update(extra or {})
    return env


class MotoServer:
    """Start ``python tests/servers/moto_s3.py -p PORT -H 127.0.0.1``; stop it on ``stop()``."""

    def __init__(self, *, indexed_listing: bool = False, preload: Path | None = None,
                 log: Path | None = None) -> None:
        self.port = free_port()
        self.endpoint = f"http://{HOST}:{self.port}"
        self.indexed_listing = indexed_listing
        self.preload = preload
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> MotoServer:
        args = [sys.executable, str(Path(__file__).resolve()), "-p", str(self.port), "-H", HOST]
        if self.indexed_listing:
            args.append("--indexed-listing")
        if self.preload:
            args += ["--preload", str(self.preload)]
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=server_env(),
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"moto server exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"moto server did not start on {self.endpoint} within {timeout}s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ------------------------------------------------------------------------------------------------
# the server side (runs inside the subprocess)


def _patch_conditional_writes() -> None:
    from moto.s3.responses import S3Response

    lock = threading.Lock()

    def serialised(method):  # type: ignore[no-untyped-def]
        def wrapper(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            if self.headers.get("If-None-Match") or self.headers.get("If-Match"):
                with lock:
                    return method(self, *args, **kwargs)
            return method(self, *args, **kwargs)

        return wrapper

    S3Response.put_object = serialised(S3Response.put_object)  # type: ignore[method-assign]
    S3Response._key_response_post = serialised(S3Response._key_response_post)  # type: ignore[method-assign]


def _patch_indexed_listing() -> None:
    import bisect

    from moto.s3 import models

    cache: dict[int, tuple[int, list[str]]] = {}
    generation = [0]
    store_cls = type(models.FakeBucket("x", "123456789012", "us-east-1").keys)
    for meth in ("__setitem__", "__delitem__", "pop", "setlist", "update", "clear"):
        original = getattr(store_cls, meth, None)
        if original is None:
            continue

        def bump(self, *a, __orig=original, **kw):  # type: ignore[no-untyped-def]
            generation[0] += 1
            return __orig(self, *a, **kw)

        setattr(store_cls, meth, bump)

    original_v2 = models.S3Backend.list_objects_v2

    def list_objects_v2(self, bucket, prefix, delimiter, continuation_token, start_after, max_keys):  # type: ignore[no-untyped-def]
        if delimiter or isinstance(bucket, models.FakeTableStorageBucket):
            return original_v2(self, bucket, prefix, delimiter, continuation_token, start_after, max_keys)
        gen, names = cache.get(id(bucket), (-1, []))
        if gen != generation[0]:
            names = sorted(bucket.keys.keys())
            cache[id(bucket)] = (generation[0], names)
        prefix = prefix or ""
        after = self._pagination_tokens.get(continuation_token) if continuation_token else start_after
        lo = bisect.bisect_left(names, prefix)
        if after and after >= prefix:
            lo = max(lo, bisect.bisect_right(names, after))
        out = []
        i = lo
        while i < len(names) and names[i].startswith(prefix) and len(out) < max_keys + 1:
            key = bucket.keys.get(names[i])
            if isinstance(key, models.FakeKey):
                out.append(key)
            i += 1
        truncated = len(out) > max_keys
        out = out[:max_keys]
        token = None
        if truncated:
            token = models.random_str() if hasattr(models, "random_str") else os.urandom(16).hex()
            self._pagination_tokens[token] = out[-1].name
        return out, truncated, token

    models.S3Backend.list_objects_v2 = list_objects_v2  # type: ignore[method-assign]


def _preload(path: str) -> None:
    """Load ``{bucket: {key: bytes}}`` (a pickle the benchmark writes) straight into the server's memory."""
    import pickle

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    with open(path, "rb") as f:
        data = pickle.load(f)  # noqa: S301 - our own file
    for bucket, objects in data.items():
        backend.create_bucket(bucket, "us-east-1")
        for key, value in objects.items():
            backend.put_object(bucket, key, value)


def main(argv: list[str]) -> None:
    indexed = "--indexed-listing" in argv
    argv = [a for a in argv if a != "--indexed-listing"]
    preload = None
    if "--preload" in argv:
        i = argv.index("--preload")
        preload = argv[i + 1]
        del argv[i:i + 2]
    _patch_conditional_writes()
    if indexed:
        _patch_indexed_listing()
    if preload:
        _preload(preload)
    from moto import server

    server.main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
