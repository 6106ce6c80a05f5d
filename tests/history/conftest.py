from __future__ import annotations

from pathlib import Path

import pytest

from aqe_ci.storage.local import LocalBackend
from aqe_ci.storage.store import Store
from tests.storage.counting import CountingBackend


@pytest.fixture
def counting(tmp_path: Path) -> CountingBackend:
    return CountingBackend(LocalBackend(tmp_path / "store"))


@pytest.fixture
def store(counting: CountingBackend) -> Store:
    return Store(counting)


@pytest.fixture
def cli_config(tmp_path: Path, workdir: Path) -> Path:
    """A config file pointing ``aqe`` at the test's store; AQE_CONFIG is set by the caller."""
    cfg = tmp_path / "cfg.json"
    cfg.write_text('{"backend": "local", "local": {"base_path": "%s"}}' % (tmp_path / "store"))
    return cfg
