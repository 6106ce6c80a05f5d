"""Azurite (Microsoft's Azure Blob Storage emulator, from npm) as a subprocess on 127.0.0.1.

``make node-tools`` installs it (pinned in tools/node/package.json + lock) at
``tools/node/node_modules/.bin/azurite-blob``. It is started with ``--disableTelemetry``, bound to
127.0.0.1 on a free port, keeping its data in memory (``--inMemoryPersistence``), its working directory (and its log) a temp
directory. A missing Azurite is an error, never a skip: the tests that need
it are part of ``make test``, which installs it.

The account is Azurite's well-known development account (``devstoreaccount1``); its key is public
and documented by Microsoft, not a secret.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.servers.moto_s3 import HOST, free_port, server_env

ROOT = Path(__file__).resolve().parents[2]
AZURITE_BIN = ROOT / "tools" / "node" / "node_modules" / ".bin" / "azurite-blob"
ACCOUNT = "devstoreaccount1"
# Azurite's published development-storage key (the same in every installation)
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def require_node_tool(path: Path, what: str) -> Path:
    if not path.exists():
        raise RuntimeError(f"{what} is not installed at {path}: run `make node-tools` (make test does it)")
    return path


class Azurite:
    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint = f"http://{HOST}:{self.port}/{ACCOUNT}"
        self.workspace = Path(tempfile.mkdtemp(prefix="aqe-azurite-"))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def connection_string(self) -> str:
        return (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
                f"BlobEndpoint={self.endpoint};")

    def start(self, timeout: float = 60.0) -> Azurite:
        binary = require_node_tool(AZURITE_BIN, "Azurite")
        if shutil.which("node") is None:
            raise RuntimeError("node is not on PATH: Azurite needs Node 20+ (apt-get install nodejs)")
        args = [str(binary), "--blobHost", HOST, "--blobPort", str(self.port), "--disableTelemetry",
                "--inMemoryPersistence", "--silent", "--skipApiVersionCheck", "--loose"]
        log = open(self.workspace / "azurite.log", "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=server_env(), cwd=self.workspace, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = (self.workspace / "azurite.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"Azurite exited with {self.proc.returncode}: {tail}")
            try:
                with socket.create_connection((HOST, self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Azurite did not listen on {HOST}:{self.port} within {timeout}s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        shutil.rmtree(self.workspace, ignore_errors=True)

    def __enter__(self) -> Azurite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
