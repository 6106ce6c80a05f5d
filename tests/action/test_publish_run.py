"""app.publish_run's decisions on real comparisons (compare_run over a real local store), published
through the GitHub forge against the fake GitHub: comment-on, keeping a comment true, the summary's
byte budget, annotations and outputs."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from aqe_ci.app.compare import CompareRequest, compare_run
from aqe_ci.app.forges import GitHubSettings, github_forge
from aqe_ci.app.publish import PublishOptions, annotations_for, outputs_for, publish_run, should_comment
from aqe_ci.model.comparison import Comparison, GateResult
from aqe_ci.publish.base import CommentTarget
from aqe_ci.publish.github import SUMMARY_LIMIT
from aqe_ci.storage.local import LocalBackend
from aqe_ci.storage.store import Store
from tests.action.conftest import REPO, TOKEN
from tests.compare.compare_builders import cov_doc, cov_file, finding, put, results_doc, sec_doc
from tests.servers.fake_github import FakeGitHub

PR = CommentTarget(project=REPO, number=42)
LIST = f"GET /repos/{REPO}/issues/42/comments?per_page=100"


def compare(tmp_path: Path, base_tests: list[dict[str, Any]], head_tests: list[dict[str, Any]], *,
            base_hits: dict[int, int] | None = None, head_hits: dict[int, int] | None = None,
            head_findings: list[dict[str, Any]] = (), baseline: bool = True) -> Comparison:
    store = Store(LocalBackend(tmp_path / "store"))
    if baseline:
        put(store, "base", results_doc(base_tests), commit="a" * 40, branch="main")
        put(store, "base", cov_doc({"app.py": cov_file(base_hits or {1: 1, 2: 1})}), commit="a" * 40, branch="main")
        put(store, "base", sec_doc([]), commit="a" * 40, branch="main")
    put(store, "head", results_doc(head_tests), minutes=5, commit="b" * 40, branch="feature", base_branch="main")
    put(store, "head", cov_doc({"app.py": cov_file(head_hits or {1: 1, 2: 1})}), minutes=5, commit="b" * 40,
        branch="feature", base_branch="main")
    put(store, "head", sec_doc(list(head_findings)), minutes=5, commit="b" * 40, branch="feature", base_branch="main")
    return compare_run(store, CompareRequest(head_key="head"))


PASS = [{"name": "t1", "status": "passed"}, {"name": "t2", "status": "passed"}]
FAIL = [{"name": "t1", "status": "passed"}, {"name": "t2", "status": "failed", "message": "boom"}]


def test_comment_on_decisions(tmp_path: Path) -> None:
    same = compare(tmp_path / "same", PASS, PASS)
    worse = compare(tmp_path / "worse", PASS, FAIL, head_hits={1: 1, 2: 0},
                    head_findings=[finding("f1", "high", path="src/app.py", line=9)])
    nobase = compare(tmp_path / "nobase", [], PASS, baseline=False)
    assert should_comment(same, "always")[0] and not should_comment(same, "changes")[0]
    assert not should_comment(same, "failures")[0] and not should_comment(same, "regressions")[0]
    assert should_comment(worse, "changes")[0] and should_comment(worse, "failures")[0]
    assert should_comment(worse, "regressions")[0]
    assert should_comment(nobase, "changes")[0] and not should_comment(nobase, "regressions")[0]
    gated = replace(same, gates=(GateResult(gate="coverage<99", status="failed", actual=50, message="x"),))
    assert should_comment(gated, "regressions")[0] and should_comment(gated, "failures")[0]


def test_a_run_that_needs_no_comment_still_updates_an_existing_one(tmp_path: Path, github: FakeGitHub) -> None:
    github.add_pull(REPO, 42, "b" * 40)
    worse = compare(tmp_path / "worse", PASS, FAIL)
    fixed = compare(tmp_path / "fixed", PASS, PASS)
    forge = github_forge(GitHubSettings(token=TOKEN, api_url=github.url))
    options = PublishOptions(comment_on="regressions", job_summary=False, annotations=False)

    skipped = publish_run(forge, fixed, target=PR, key="head", options=options)
    assert skipped.comment.action == "skipped" and "nothing regressed" in (skipped.comment.reason or "")
    assert github.calls() == [LIST]

    first = publish_run(forge, worse, target=PR, key="head", options=options)
    assert first.comment.action == "created"
    github.clear_requests()
    again = publish_run(github_forge(GitHubSettings(token=TOKEN, api_url=github.url)), fixed, target=PR, key="head",
                        options=options)
    assert again.comment.action == "updated"  # the regression is gone: the comment must not keep saying it
    assert github.calls() == [LIST, f"PATCH /repos/{REPO}/issues/comments/{first.comment.comment_id}"]
    [comment] = github.comments(REPO, 42)
    assert "New failures" not in comment.body


def test_the_summary_holds_every_row_within_one_mib_and_the_comment_within_65536(tmp_path: Path) -> None:
    many = [{"name": f"test_{i:05d}_" + "é" * 40, "status": "failed", "message": "ø" * 300} for i in range(6000)]
    result = compare(tmp_path, [{"name": "x", "status": "passed"}], many)
    summary = tmp_path / "step_summary"
    out = tmp_path / "set_output"
    forge = github_forge(GitHubSettings(token=None), summary_file=summary, output_file=out, stream=io.StringIO())
    published = publish_run(forge, result, target=None, key="head")
    assert len(published.body) <= 65_536
    size = summary.stat().st_size
    assert 900_000 < size <= SUMMARY_LIMIT  # far more rows than the comment, cut to fit the bytes
    text = summary.read_text(encoding="utf-8")
    assert text.count("| c › test\\_") > published.body.count("| c › test\\_") > 0
    assert published.comment.action == "skipped"


def test_annotations_say_new_only_against_a_baseline(tmp_path: Path) -> None:
    with_base = compare(tmp_path / "a", PASS, FAIL, head_findings=[finding("f1", "medium", path="src/a.py", line=4)])
    without = compare(tmp_path / "b", [], FAIL, head_findings=[finding("f1", "medium")], baseline=False)
    a = annotations_for(with_base)
    assert [(x.level, x.title) for x in a] == [("error", "New failure: c › t2"), ("warning", "New medium finding: R1")]
    assert (a[1].file, a[1].line) == ("src/a.py", 4)
    assert [x.title for x in annotations_for(without)] == ["Failure: c › t2", "Security: medium finding: R1"]


@pytest.mark.parametrize("baseline", [True, False])
def test_outputs_of_a_comparison(tmp_path: Path, baseline: bool) -> None:
    result = compare(tmp_path, PASS, FAIL, base_hits={1: 1, 2: 1}, head_hits={1: 1, 2: 0}, baseline=baseline,
                     head_findings=[finding("f1", "high")])
    out = outputs_for(result, key="head")
    assert out["key"] == "head" and out["tests"] == "2" and out["failed"] == "1" and out["coverage"] == "50"
    if baseline:
        assert out["baseline-key"] == "base" and out["baseline-sha"] == "a" * 40
        assert out["coverage-change"] == "-50" and out["new-failures"] == "1" and out["new-security"] == "1"
    else:
        assert out["baseline-key"] == "" and out["coverage-change"] == ""
