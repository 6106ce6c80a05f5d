"""Shared fixtures. Servers (S3, Azurite, fake forges) live in tests/servers/ with their own fixtures."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.servers.moto_s3 import MotoServer, server_env

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
SHARED_BENCH = ROOT.parent / "shared" / "bench"


@pytest.fixture(scope="session")
def corpus() -> Path:
    assert CORPUS.is_dir(), f"the report corpus is expected at {CORPUS}"
    return CORPUS


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A clean working directory and an environment without CI or AQE variables."""
    for name in list(os.environ):
        if name.startswith(("AQE_", "GITHUB_", "GITLAB_", "CI_", "CIRCLE", "BUILDKITE", "BITBUCKET_", "JENKINS",
                            "SYSTEM_", "BUILD_")) or name in ("CI", "TF_BUILD"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    yield tmp_path


@pytest.fixture
def aqe(workdir: Path, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run ``aqe ARGS`` in-process through the real entry point; returns code, stdout, stderr."""
    from aqe_ci.cli import main

    def run(*args: str) -> Result:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


# -- S3 (moto's standalone server process; tests/servers/moto_s3.py) --------------------------------
# No test may reach real AWS: dummy credentials, no profile, no instance metadata.
for _name in [k for k in os.environ if k.startswith("AWS_")]:
    del os.environ[_name]
os.environ.update(server_env())


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """moto's standalone S3 server on 127.0.0.1 for the whole session."""
    server = MotoServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def s3_bucket(moto_server: MotoServer) -> Callable[..., dict[str, Any]]:
    """Create a fresh bucket; returns the "s3" config section for it (endpoint = the moto server)."""

    def make(*, endpoint: str | None = None, prefix: str = "qe/", **extra: Any) -> dict[str, Any]:
        import boto3

        name = f"aqe-test-{secrets.token_hex(6)}"
        boto3.client("s3", endpoint_url=moto_server.endpoint, region_name="us-east-1").create_bucket(Bucket=name)
        return {"bucket": name, "prefix": prefix, "region": "us-east-1",
                "endpoint_url": endpoint or moto_server.endpoint, "access_key_id": "testing",
                "secret_access_key": "testing", **extra}

    return make


# -- GitHub artifact storage (Azurite + the results-service/REST fake; tests/servers/) ---------------
@pytest.fixture(scope="session")
def azurite() -> Iterator[Any]:
    """Azurite's blob service on 127.0.0.1 for the whole session (installed by `make node-tools`)."""
    from tests.servers.azurite import Azurite

    server = Azurite().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def results_service(azurite: Any) -> Iterator[Any]:
    """A fresh fake of GitHub's results service + artifacts REST API, its signed URLs on Azurite."""
    from tests.servers.results_service import ResultsService

    fake = ResultsService(azurite).start()
    try:
        yield fake
    finally:
        fake.stop()
