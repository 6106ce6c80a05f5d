"""``aqe artifacts compare`` end to end through the real CLI entry point and a local store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from compare_builders import cov_doc, cov_file, finding, put, results_doc, sec_doc

from aqe_ci.cli import main
from aqe_ci.storage.local import LocalBackend
from aqe_ci.storage.store import Store


@pytest.fixture
def cfg(tmp_path: Path) -> str:
    root = tmp_path / "store"
    s = Store(LocalBackend(root))
    put(s, "base", cov_doc({"a.py": cov_file(dict.fromkeys(range(1, 11), 1))}), commit="a" * 40, branch="main")
    put(s, "base", results_doc([{"name": "t1", "status": "passed"}, {"name": "t2", "status": "passed"}]),
        commit="a" * 40, branch="main")
    put(s, "base", sec_doc([]), commit="a" * 40, branch="main")
    put(s, "head", cov_doc({"a.py": cov_file({i: int(i > 1) for i in range(1, 11)})}), minutes=3, commit="b" * 40,
        branch="feature", base_branch="main")
    put(s, "head", results_doc([{"name": "t1", "status": "failed", "message": "x | y"},
                                {"name": "t2", "status": "passed"}]), minutes=3, commit="b" * 40, branch="feature",
        base_branch="main")
    put(s, "head", sec_doc([finding("f1", "high")]), minutes=3, commit="b" * 40, branch="feature", base_branch="main")
    path = tmp_path / "storage.json"
    path.write_text(json.dumps({"backend": "local", "local": {"base_path": str(root)}}))
    return str(path)


def run(cfg: str, *args: str) -> int:
    return main(["--config", cfg, "artifacts", "compare", *args])


def test_json_is_the_guides_shape(cfg: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(cfg, "base", "head") == 0
    c = json.loads(capsys.readouterr().out)["comparison"]
    assert c["coverage"]["before"] == 100.0 and c["coverage"]["after"] == 90.0 and c["coverage"]["change"] == -10.0
    assert (c["tests"]["before"], c["tests"]["after"], c["tests"]["change"]) == (2, 2, 0)
    assert [t["name"] for t in c["tests"]["new_failures"]] == ["t1"]
    assert [f["fingerprint"] for f in c["security"]["new"]] == ["f1"]


def test_gates_exit_6_naming_every_failed_gate(cfg: str, capsys: pytest.CaptureFixture[str]) -> None:
    rc = run(cfg, "base", "head", "--format", "table",
             "--fail-on", "coverage_drop>0.5,new_failures>0,new_security>=high,coverage<50")
    out, err = capsys.readouterr()
    assert rc == 6
    assert "line coverage" in out and "GATE" in out  # the report is printed before failing
    line = err.strip().splitlines()[-1]
    assert line.startswith("Error: 3 quality gates failed:")
    for g in ("coverage_drop>0.5", "new_failures>0", "new_security>=high"):
        assert g in line
    assert "coverage<50" not in line


def test_bad_usage_and_unknown_key(cfg: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(cfg, "base", "head", "--fail-on", "coverage_drop>>1") == 2
    assert "coverage_drop>>1" in capsys.readouterr().err
    assert run(cfg, "base", "nope") == 4
    assert "nope" in capsys.readouterr().err
    assert run(cfg, "base", "head", "--baseline", "main") == 2
    assert run(cfg, "head", "--comment-id", "bad id", "--format", "markdown") == 2


def test_markdown_to_file_and_baseline_from_the_runs_context(cfg: str, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "comment.md"
    assert run(cfg, "head", "--git-dir", str(tmp_path), "--format", "markdown", "--comment-id", "unit",
               "--output", str(out_file)) == 0
    md = out_file.read_text()
    assert md.startswith("<!-- aqe-artifacts:comment id=unit -->")
    assert "**Baseline:** `base`" in md and "newest run on main older than the head" in md
    assert "x \\| y" in md  # the pipe in the failure message cannot break the table
    assert capsys.readouterr().out.strip() == md.strip()


def test_env_vars_set_options(cfg: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("AQE_ARTIFACTS_COMPARE_FAIL_ON", "new_failures>0")
    monkeypatch.setenv("AQE_ARTIFACTS_COMPARE_FORMAT", "markdown")
    assert run(cfg, "base", "head") == 6
    out, err = capsys.readouterr()
    assert out.startswith("<!-- aqe-artifacts:comment") and "new_failures>0" in err


def test_json_output_file_matches_stdout_and_chunks_join(cfg: str, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    from aqe_ci.render.json import iter_json, render_json

    out_file = tmp_path / "cmp.json"
    assert run(cfg, "base", "head", "--output", str(out_file)) == 0
    printed = capsys.readouterr().out
    assert json.loads(printed) == json.loads(out_file.read_text())
    result = json.loads(printed)
    chunks = list(iter_json(result, chunk_chars=50))
    assert len(chunks) > 10 and "".join(chunks) == render_json(result)
    assert json.loads(render_json(result)) == result
