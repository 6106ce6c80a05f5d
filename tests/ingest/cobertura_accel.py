"""Run a test module on both Cobertura paths: the C accelerator and the pure-Python reference.

A module opts in with ``pytestmark = pytest.mark.usefixtures("cobertura_path")`` (and imports the
fixture). The switch is the one production uses, ``AQE_PURE_PYTHON`` (so subprocesses follow it);
in ``"c"`` mode the module must be built, else the test fails instead of silently testing Python twice.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from aqe_ci import accel
from aqe_ci.ingest.base import ReportError, SourceInfo
from aqe_ci.ingest.coverage.cobertura import CoberturaParser
from aqe_ci.ingest.coverage.cobertura_fast import ACCEL, Decline, FastCobertura
from aqe_ci.ingest.coverage.writer import CoverageWriter
from aqe_ci.model.limits import Limits

TS = "2024-05-17T09:30:00Z"


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


def read_with(path: Path, work: Path, how: str) -> tuple[str, bytes | str]:
    """("ok", document bytes) / ("error", reason) / ("declined", "") through one reader: production
    (``"parse"``), the fast reader alone (``"fast"``) or the lxml reference (``"lxml"``)."""
    work.mkdir(parents=True, exist_ok=True)
    writer = CoverageWriter(workdir=work, limits=Limits())
    src = SourceInfo(file=path.name, format="cobertura", bytes=path.stat().st_size)
    writer.begin_source(src)
    try:
        if how == "lxml":
            CoberturaParser().parse_lxml(path, writer)
        elif how == "fast":
            FastCobertura(writer).run(path)
        else:
            CoberturaParser().parse(path, writer, src)
    except Decline:
        writer.abort()
        return "declined", ""
    except ReportError as exc:
        writer.rollback_source()
        writer.abort()
        return "error", str(exc)
    writer.commit_source()
    doc = writer.finish(timestamp=TS)
    data = doc.path.read_bytes()
    doc.path.unlink()
    return "ok", data
