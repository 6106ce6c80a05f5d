"""Shared fixtures. Servers (S3, Azurite, fake forges) live in tests/servers/ with their own fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

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
