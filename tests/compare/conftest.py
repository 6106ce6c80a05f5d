from __future__ import annotations

from pathlib import Path

import pytest

from aqe_ci.storage.local import LocalBackend
from aqe_ci.storage.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(LocalBackend(tmp_path / "store"))
