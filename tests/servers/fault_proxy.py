"""A small HTTP proxy on 127.0.0.1 in front of the S3 server that injects faults.

For each request, with probability ``fault_rate`` (seeded RNG), one of:

* ``drop_before``: close the connection without forwarding (the server never saw it);
* ``drop_after``: forward, then close without answering (the server did it, the client cannot know);
* ``500``: answer ``500 InternalError`` without forwarding;
* ``503``: answer ``503 SlowDown`` without forwarding.

``strip_conditional=True`` removes ``If-None-Match`` / ``If-Match`` before forwarding, like an
S3-compatible server that ignores conditional headers. ``status=403|503`` answers every request with
that error (access denied / permanent throttling); ``status=400`` answers like S3 to a request signed
for the wrong region. ``only`` limits faults to requests whose path and query contain that text
(e.g. ``partNumber=``). The proxy stops itself after ``lifetime`` seconds.
"""

from __future__ import annotations

import http.client
import random
import socket
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

ERRORS = {
    500: ("InternalError", "We encountered an internal error. Please try again.", "Internal Server Error"),
    503: ("SlowDown", "Please reduce your request rate.", "Slow Down"),
    403: ("AccessDenied", "Access Denied", "Forbidden"),
    400: ("AuthorizationHeaderMalformed", "The authorization header is malformed; the region 'us-east-1' is "
          "wrong; expecting 'eu-west-1'", "Bad Request"),
}
#: what a wrong-region request is told (status 400)
WRONG_REGION = "eu-west-1"
FAULT_KINDS = ("drop_before", "drop_after", "500", "503")
HOP_HEADERS = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}


def error_body(status: int) -> bytes:
    code, message, _ = ERRORS[status]
    region = f"<Region>{WRONG_REGION}</Region>" if status == 400 else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
            f"{region}<RequestId>FAULTPROXY</RequestId></Error>").encode()


class FaultProxy:
    def __init__(self, upstream: str, *, fault_rate: float = 0.0, seed: int = 0,
                 kinds: tuple[str, ...] = FAULT_KINDS, strip_conditional: bool = False,
                 status: int | None = None, only: str | None = None, lifetime: float = 600.0) -> None:
        up = urlsplit(upstream)
        self.upstream = (up.hostname or "127.0.0.1", up.port or 80)
        if self.upstream[0] not in ("127.0.0.1", "localhost"):
            raise ValueError("the fault proxy only forwards to 127.0.0.1")
        self.fault_rate = fault_rate
        self.kinds = kinds
        self.strip_conditional = strip_conditional
        self.status = status
        self.only = only
        self.lifetime = lifetime
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.stats: Counter[str] = Counter()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *args: object) -> None:
                return

            def _handle(self) -> None:
                proxy._serve(self)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._thread: threading.Thread | None = None
        self._timer: threading.Timer | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> FaultProxy:
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1},
                                        daemon=True)
        self._thread.start()
        self._timer = threading.Timer(self.lifetime, self.stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- requests -----------------------------------------------------------------------------
    def _pick(self, path: str) -> str | None:
        with self.lock:
            self.stats["requests"] += 1
            if self.only is not None and self.only not in path:
                return None
            if self.fault_rate and self.rng.random() < self.fault_rate:
                kind = self.rng.choice(self.kinds)
                self.stats[kind] += 1
                return kind
        return None

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        if self.status is not None:
            with self.lock:
                self.stats["requests"] += 1
            self._answer(h, self.status, error_body(self.status))
            return
        fault = self._pick(h.path)
        if fault == "drop_before":
            self._drop(h)
            return
        if fault in ("500", "503"):
            self._answer(h, int(fault), error_body(int(fault)))
            return
        headers = {k: v for k, v in h.headers.items() if k.lower() not in HOP_HEADERS}
        if self.strip_conditional:
            headers = {k: v for k, v in headers.items() if k.lower() not in ("if-none-match", "if-match")}
        headers.pop("Expect", None)
        headers.pop("expect", None)
        conn = http.client.HTTPConnection(*self.upstream, timeout=120)
        try:
            conn.request(h.command, h.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            status, reason, resp_headers = resp.status, resp.reason, resp.getheaders()
        except OSError:
            self._drop(h)
            return
        finally:
            conn.close()
        if fault == "drop_after":
            self._drop(h)
            return
        headers_out = [(k, v) for k, v in resp_headers
                       if k.lower() not in HOP_HEADERS and k.lower() not in ("content-length", "server", "date")]
        length = next((v for k, v in resp_headers if k.lower() == "content-length"), str(len(data)))
        headers_out.append(("Content-Length", length if h.command == "HEAD" else str(len(data))))
        self._write(h, status, reason, headers_out, data)

    @staticmethod
    def _write(h: BaseHTTPRequestHandler, status: int, reason: str, headers: list[tuple[str, str]],
               body: bytes) -> None:
        """Status line, headers and body in one send (no Nagle / delayed-ACK stalls)."""
        head = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in headers]
        payload = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        if h.command != "HEAD":
            payload += body
        h.wfile.write(payload)

    def _answer(self, h: BaseHTTPRequestHandler, status: int, body: bytes) -> None:
        headers = [("Content-Type", "application/xml"), ("Content-Length", str(len(body))),
                   ("x-amz-request-id", "FAULTPROXY")]
        if status == 400:
            headers.append(("x-amz-bucket-region", WRONG_REGION))
        self._write(h, status, ERRORS[status][2], headers, body)

    @staticmethod
    def _drop(h: BaseHTTPRequestHandler) -> None:
        h.close_connection = True
        try:
            h.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
