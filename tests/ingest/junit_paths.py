"""Run JUnit tests on both paths: the C accelerator (aqe_ci.ingest.tests._junit_c) and the pure-Python
reference. Import ``both_paths`` into a test module (it is a fixture) and ``parser`` for a bare
hardened parser of the current path."""

from __future__ import annotations

from typing import Any

import pytest

from aqe_ci import accel
from aqe_ci.ingest.stream import safeexpat
from aqe_ci.ingest.tests import junit


@pytest.fixture(params=["accel", "pure"])
def both_paths(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "pure":
        monkeypatch.setenv(accel.DISABLE_ENV, "1")
        assert accel.load(junit.ACCEL) is None
    else:
        monkeypatch.delenv(accel.DISABLE_ENV, raising=False)
        assert accel.load(junit.ACCEL) is not None, "the JUnit accelerator is not built"
    return str(request.param)


class NullRun:
    """What the C parser needs of a _JUnitRun when no test case is written."""

    case_time = 0.0

    def __init__(self) -> None:
        self.encoded: list[tuple[str, int]] = []

    def add_encoded(self, text: str, n: int, skipped: int = 0) -> None:
        self.encoded.append((text, n))

    def flush(self) -> None:
        pass


def parser(run: Any = None) -> Any:
    """safeexpat.create_parser() on the pure path, the C parser (create_fast_parser) otherwise."""
    fast = accel.load(junit.ACCEL)
    if fast is None:
        return safeexpat.create_parser()
    return safeexpat.create_fast_parser(fast, run or NullRun(), set(), set())
