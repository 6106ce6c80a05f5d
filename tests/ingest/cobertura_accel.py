"""Run a test module on both Cobertura paths: the C accelerator and the pure-Python reference.

A module opts in with ``pytestmark = pytest.mark.usefixtures("cobertura_path")`` (and imports the
fixture). The switch is the one production uses, ``AQE_PURE_PYTHON`` (so subprocesses follow it);
in ``"c"`` mode the module must be built, else the test fails instead of silently testing Python twice.
"""

from __future__ import annotations

import pytest

from aqe_ci import accel
from aqe_ci.ingest.coverage.cobertura_fast import ACCEL


@pytest.fixture(params=["c", "python"])
def cobertura_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if "workdir" in request.fixturenames:
        request.getfixturevalue("workdir")  # it clears AQE_* variables: let it run first
    if request.param == "python":
        monkeypatch.setenv(accel.DISABLE_ENV, "1")
        assert accel.load(ACCEL) is None
    else:
        monkeypatch.delenv(accel.DISABLE_ENV, raising=False)
        assert accel.load(ACCEL) is not None, f"{ACCEL} is not built (pip install -e .)"
    return str(request.param)
