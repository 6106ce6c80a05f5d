"""Baseline selection over real git histories (temporary repositories, the real git binary)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from compare_builders import compare_runs, cov_doc, cov_file, put, results_doc

from aqe_ci.cli import main
from aqe_ci.git import Git
from aqe_ci.storage.local import LocalBackend
from aqe_ci.storage.store import Store


def git(repo: Path, *args: str) -> str:
    out = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main",
                          *args], cwd=repo, check=True, capture_output=True, text=True)
    return out.stdout.strip()


def commit(repo: Path, msg: str) -> str:
    git(repo, "commit", "--allow-empty", "-q", "-m", msg)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def history(tmp_path: Path) -> dict[str, str]:
    """main: c1 ─ c2 (merge of hotfix h1) ─ c3 ─ c4;  feature: branched at c2: f1 ─ f2 (the PR head).

    main moved on (c3, c4) after the PR branched, so "latest on main" is c4 but the merge-base is c2.
    """
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    c = {"c1": commit(repo, "c1")}
    git(repo, "checkout", "-q", "-b", "hotfix")
    c["h1"] = commit(repo, "h1")
    git(repo, "checkout", "-q", "main")
    c["c1b"] = commit(repo, "c1b")
    git(repo, "merge", "-q", "--no-ff", "-m", "c2 merge hotfix", "hotfix")
    c["c2"] = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "-b", "feature")
    c["f1"] = commit(repo, "f1")
    git(repo, "checkout", "-q", "main")
    c["c3"] = commit(repo, "c3")
    c["c4"] = commit(repo, "c4")
    git(repo, "checkout", "-q", "feature")
    git(repo, "merge", "-q", "--no-ff", "-m", "merge hotfix again", "hotfix")  # no-op merge: already in
    c["f2"] = commit(repo, "f2")
    c["repo"] = str(repo)
    return c


def coverage(covered: int) -> dict:
    return cov_doc({"app.py": cov_file({i: (1 if i <= covered else 0) for i in range(1, 101)})})


def results_with(*names: str, failing: tuple[str, ...] = ()) -> dict:
    return results_doc([{"name": n, "status": "failed" if n in failing else "passed"} for n in names])


def fill(store: Store, c: dict[str, str], *, with_c2: bool = True) -> None:
    """Runs, oldest first. main at c2 has 70% and tests a, b; c4 (after the PR branched) 90% and a, b, c."""
    put(store, "run-c1", coverage(60), minutes=0, commit=c["c1"], branch="main")
    put(store, "run-h1", coverage(10), minutes=5, commit=c["h1"], branch="hotfix")
    put(store, "run-c1b", coverage(65), minutes=8, commit=c["c1b"], branch="main")
    if with_c2:
        put(store, "run-c2", coverage(70), minutes=10, commit=c["c2"], branch="main")
        put(store, "run-c2", results_with("a", "b"), minutes=10, commit=c["c2"], branch="main")
    put(store, "run-f1", coverage(71), minutes=20, commit=c["f1"], branch="feature", base_branch="main")
    put(store, "run-c3", coverage(80), minutes=30, commit=c["c3"], branch="main")
    put(store, "run-c4", coverage(90), minutes=40, commit=c["c4"], branch="main")
    put(store, "run-c4", results_with("a", "b", "c"), minutes=40, commit=c["c4"], branch="main")
    # the PR head: GitHub gives pull_request.base.sha = the base *tip* (c4), not the merge-base
    put(store, "run-f2", coverage(75), minutes=50, commit=c["f2"], branch="feature", base_branch="main",
        base_sha=c["c4"], platform="github")
    put(store, "run-f2", results_with("a", "b", failing=("b",)), minutes=50, commit=c["f2"], branch="feature",
        base_branch="main", base_sha=c["c4"], platform="github")


def test_merge_base_run_is_chosen_and_differs_from_latest_on_main(store: Store, history: dict[str, str]) -> None:
    fill(store, history)
    res = compare_runs(store, "run-f2", git=Git(history["repo"]))["comparison"]
    b = res["baseline"]
    assert (b["key"], b["commit"], b["method"], b["distance"]) == ("run-c2", history["c2"], "merge-base", 0)
    assert b["merge_base"] == history["c2"] and "merge-base" in b["reason"]
    assert b["base_tip"]["key"] == "run-c4"  # drift disclosed
    latest = compare_runs(store, "run-f2", base_key="run-c4")["comparison"]
    # vs the merge-base: +5 pp, nothing removed, only b newly failing
    assert res["coverage"]["change"] == 5.0
    assert res["tests"]["removed"] == [] and [t["name"] for t in res["tests"]["new_failures"]] == ["b"]
    # vs latest on main: -15 pp and a "removed" test c that the PR never had: the wrong deltas
    assert latest["coverage"]["change"] == -15.0
    assert [t["name"] for t in latest["tests"]["removed"]] == ["c"]
    assert res["coverage"]["change"] - latest["coverage"]["change"] == pytest.approx(90 - 70)


def test_nearest_stored_first_parent_ancestor(store: Store, history: dict[str, str]) -> None:
    fill(store, history, with_c2=False)
    b = compare_runs(store, "run-f2", git=Git(history["repo"]))["comparison"]["baseline"]
    # c2 is a merge: its first parent is c1b (1 behind); hotfix h1 (second parent) is never taken
    assert (b["key"], b["method"], b["distance"]) == ("run-c1b", "ancestor", 1)
    assert "nearest stored ancestor, 1 commit behind merge-base" in b["reason"]


def test_without_checkout_github_tip_falls_back_to_latest_older_run(store: Store, history: dict[str, str],
                                                                     tmp_path: Path) -> None:
    fill(store, history)
    b = compare_runs(store, "run-f2", git=Git(tmp_path / "not-a-repo"))["comparison"]["baseline"]
    assert (b["key"], b["method"]) == ("run-c4", "latest-on-branch")
    assert "base branch tip, not the merge-base" in b["reason"]


def test_gitlab_diff_base_sha_is_the_merge_base(store: Store, history: dict[str, str]) -> None:
    fill(store, history)
    put(store, "mr-head", coverage(75), minutes=60, commit=history["f2"], branch="feature", base_branch="main",
        base_sha=history["c2"], platform="gitlab")
    b = compare_runs(store, "mr-head", git=None)["comparison"]["baseline"]
    assert (b["key"], b["method"]) == ("run-c2", "merge-base")


def test_head_commit_missing_from_checkout(store: Store, history: dict[str, str]) -> None:
    fill(store, history)
    put(store, "foreign", coverage(50), minutes=60, commit="f" * 40, branch="feature", base_branch="main")
    b = compare_runs(store, "foreign", git=Git(history["repo"]))["comparison"]["baseline"]
    assert b["method"] == "latest-on-branch" and b["key"] == "run-c4"
    assert "fetch-depth" in b["reason"]


def test_previous_run_on_branch_and_none(store: Store, history: dict[str, str]) -> None:
    put(store, "p1", coverage(50), minutes=0, commit=history["c1"], branch="main")
    put(store, "p2", coverage(55), minutes=1, commit=history["c1b"], branch="main")
    b = compare_runs(store, "p2", git=Git(history["repo"]))["comparison"]["baseline"]
    assert (b["key"], b["method"]) == ("p1", "previous-on-branch")
    b = compare_runs(store, "p1", git=Git(history["repo"]))["comparison"]["baseline"]
    assert b["key"] is None and b["method"] == "none" and b["reason"].startswith("no baseline:")


def test_cli_picks_the_merge_base_and_says_so(tmp_path: Path, history: dict[str, str],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "cli-store"
    fill(Store(LocalBackend(root)), history)
    cfg = tmp_path / "storage.json"
    cfg.write_text(json.dumps({"backend": "local", "local": {"base_path": str(root)}}))
    assert main(["--config", str(cfg), "artifacts", "compare", "run-f2", "--git-dir", history["repo"]]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["comparison"]["baseline"]["key"] == "run-c2"
    assert main(["--config", str(cfg), "artifacts", "compare", "run-f2", "--git-dir", history["repo"],
                 "--format", "markdown"]) == 0
    md = capsys.readouterr().out
    assert "**Baseline:** `run-c2`" in md and "merge\\-base" in md
    # no baseline: said plainly, exit 0; with --require-baseline: gate exit code
    assert main(["--config", str(cfg), "artifacts", "compare", "run-c1", "--git-dir", history["repo"],
                 "--format", "table"]) == 0
    assert "baseline: none — no baseline:" in capsys.readouterr().out
    assert main(["--config", str(cfg), "artifacts", "compare", "run-c1", "--require-baseline"]) == 6
