"""The examples of docs/api.md run, in order, in one namespace, in a folder with the demo's reports."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "examples" / "reports" / "base"


def blocks() -> list[str]:
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, re.S)


def test_the_page_has_examples() -> None:
    assert len(blocks()) >= 5


def test_api_examples_run(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("junit.xml", "coverage.xml", "bandit.json"):
        shutil.copy(REPORTS / name, workdir / name)
    namespace: dict[str, object] = {"__name__": "api_docs"}
    for i, code in enumerate(blocks()):
        try:
            exec(compile(code, f"docs/api.md block {i + 1}", "exec"), namespace)  # noqa: S102 - our own docs
        except Exception as exc:  # pragma: no cover - the failure message names the block
            pytest.fail(f"docs/api.md block {i + 1} failed: {type(exc).__name__}: {exc}")
    out = capsys.readouterr().out
    assert "run no-such-run has no documents" in out  # the error example printed its one-line message


def test_api_types_and_dunder_all() -> None:
    from aqe_ci import api

    assert set(api.__all__) == {"ArtifactStore", "Document", "Run", "StoredRun", "TrendPoint", "open_store"}
    for name in api.__all__:
        assert getattr(api, name).__doc__, f"{name} has no docstring"
