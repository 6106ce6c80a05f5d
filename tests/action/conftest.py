"""Fixtures of the action tests: the fake GitHub server and the runner's environment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers.fake_github import BOT, FakeGitHub

REPO = "acme/widgets"
TOKEN = "ghs_" + "T0kenCanary" * 3  # an installation token, like GITHUB_TOKEN


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    """A fresh fake GitHub on 127.0.0.1 that knows the installation token ``TOKEN``."""
    with FakeGitHub() as fake:
        fake.add_token(TOKEN, BOT)
        yield fake
