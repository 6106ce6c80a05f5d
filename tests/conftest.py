"""Shared fixtures. Servers run as real processes on 127.0.0.1; nothing talks to real AWS."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.servers.moto_s3 import MotoServer, server_env

# No test may reach real AWS: dummy credentials, no profile, no instance metadata.
for _name in [k for k in os.environ if k.startswith("AWS_")]:
    del os.environ[_name]
os.environ.update(server_env())


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """moto's standalone S3 server (tests/servers/moto_s3.py) for the whole session."""
    server = MotoServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def s3_bucket(moto_server: MotoServer) -> Callable[..., dict[str, Any]]:
    """Create a fresh bucket; returns the "s3" settings for it (endpoint = the moto server)."""

    def make(*, endpoint: str | None = None, prefix: str = "qe/", **extra: Any) -> dict[str, Any]:
        import boto3

        name = f"aqe-test-{secrets.token_hex(6)}"
        boto3.client("s3", endpoint_url=moto_server.endpoint, region_name="us-east-1").create_bucket(Bucket=name)
        return {"bucket": name, "prefix": prefix, "region": "us-east-1",
                "endpoint_url": endpoint or moto_server.endpoint, "access_key_id": "testing",
                "secret_access_key": "testing", **extra}

    return make
