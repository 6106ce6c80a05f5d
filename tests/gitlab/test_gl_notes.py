"""The GitLab forge (aqe_ci/publish/gitlab.py) through the real python-gitlab against the fake API:
one sticky note per (MR, comment id), found by marker and author across pages, job-token refusals
as fallbacks, throttling, the 1,000,000-character limit, the dotenv and Code Quality reports."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import gitlab
import pytest

from aqe_ci.gitlab_api import GitLabClient
from aqe_ci.publish.base import Annotation, CommentTarget, marker
from aqe_ci.publish.gitlab import NOTE_LIMIT, GitLabForge, dotenv_name
from tests.servers.fake_gitlab import FakeGitLab


def forge(fake: FakeGitLab, token: str | None, tmp_path: Path, **kwargs: Any) -> GitLabForge:
    client = GitLabClient(fake.api_url, private_token=token) if token else None
    return GitLabForge(client, web_url="http://gitlab.example/acme/app", dotenv_file=tmp_path / "aqe.env",
                       summary_file=tmp_path / "summary.md", codequality_file=tmp_path / "cq.json",
                       stream=io.StringIO(), **kwargs)


@pytest.fixture()
def mr(fake_gitlab: FakeGitLab, gl: dict[str, Any]) -> Any:
    """A fresh MR in acme/app with 130 notes by others (system notes, a quote of our marker) before ours."""
    iid = max(gl["project"].mrs) + 1
    fake_gitlab.add_mr(gl["project"], iid)
    for i in range(120):
        fake_gitlab.add_note(gl["project"], iid, f"review comment {i}", gl["developer"])
    for i in range(9):
        fake_gitlab.add_note(gl["project"], iid, f"added {i} commits", gl["maintainer"], system=True)
    fake_gitlab.add_note(gl["project"], iid, f"quoting {marker()} in a reply", gl["maintainer"])
    return gl["project"].mrs[iid]


def ours(mr: Any, gl: dict[str, Any]) -> list[Any]:
    return [n for n in mr.notes if n.author.id == gl["bot"].id]


def test_two_pipelines_on_one_mr_leave_one_note_updated(fake_gitlab: FakeGitLab, gl: dict[str, Any], mr: Any,
                                                       tmp_path: Path) -> None:
    target = CommentTarget(project="acme/app", number=mr.iid)
    first = forge(fake_gitlab, gl["bot_token"], tmp_path).upsert_comment(target, f"{marker()}\nrun 1")
    assert first.action == "created" and first.url.endswith(f"/-/merge_requests/{mr.iid}#note_{first.comment_id}")
    fake_gitlab.reset_requests()
    second = forge(fake_gitlab, gl["bot_token"], tmp_path).upsert_comment(target, f"{marker()}\nrun 2")
    assert second.action == "updated" and second.comment_id == first.comment_id
    assert [n.body for n in ours(mr, gl)] == [f"{marker()}\nrun 2"]
    assert "quoting" in next(n.body for n in mr.notes if marker() in n.body and n.author.id != gl["bot"].id)
    listed = [r for r in fake_gitlab.requests if r.method == "GET" and r.path.endswith("/notes")]
    assert len(listed) == 2  # 131 notes: two pages of 100, followed through the Link header
    third = forge(fake_gitlab, gl["bot_token"], tmp_path).upsert_comment(target, f"{marker()}\nrun 2")
    assert third.action == "unchanged"


def test_comment_ids_modes_and_duplicates(fake_gitlab: FakeGitLab, gl: dict[str, Any], mr: Any, tmp_path: Path) -> None:
    f = forge(fake_gitlab, gl["bot_token"], tmp_path)
    target = CommentTarget(project=str(gl["project"].id), number=mr.iid)
    unit = f.upsert_comment(target, f"{marker('unit')}\nu1", comment_id="unit")
    e2e = f.upsert_comment(target, f"{marker('e2e')}\ne1", comment_id="e2e")
    assert unit.comment_id != e2e.comment_id and len(ours(mr, gl)) == 2
    again = f.upsert_comment(target, f"{marker('unit')}\nu2", comment_id="unit", mode="recreate")
    assert again.action == "recreated" and again.comment_id != unit.comment_id
    assert [n.body.split("\n")[1] for n in ours(mr, gl)] == ["e1", "u2"]  # the new one at the bottom
    extra = f.upsert_comment(target, f"{marker('unit')}\nu3", comment_id="unit", mode="new")
    assert extra.action == "created" and len(ours(mr, gl)) == 3
    merged = f.upsert_comment(target, f"{marker('unit')}\nu4", comment_id="unit", mode="update")
    assert merged.action == "updated"
    assert sorted(n.body.split("\n")[1] for n in ours(mr, gl)) == ["e1", "u4"]  # the duplicate was removed
    assert f.upsert_comment(target, "x", comment_id="unit", mode="off").action == "skipped"
    found = f.find_comment(target, comment_id="e2e")
    assert found is not None and found.comment_id == e2e.comment_id
    assert f.find_comment(target, comment_id="nothing") is None


def test_job_token_cannot_write_notes_and_that_is_a_fallback(fake_gitlab: FakeGitLab, gl: dict[str, Any], mr: Any,
                                                             tmp_path: Path) -> None:
    client = GitLabClient(fake_gitlab.api_url, job_token=gl["job_token"])
    mr_api = client.projects.get("acme/app", lazy=True).mergerequests.get(mr.iid, lazy=True)
    assert len(list(mr_api.notes.list(iterator=True))) == len(mr.notes)  # reading is allowed
    with pytest.raises(gitlab.exceptions.GitlabCreateError) as err:
        mr_api.notes.create({"body": "hi"})
    assert err.value.response_code == 403
    f = GitLabForge(client, stream=io.StringIO())
    result = f.upsert_comment(CommentTarget(project="acme/app", number=mr.iid), f"{marker()}\nx")
    assert result.action == "fallback" and "403" in result.reason and "api scope" in result.reason
    none = GitLabForge(None, no_client_reason="no token here").upsert_comment(
        CommentTarget(project="acme/app", number=mr.iid), "x")
    assert (none.action, none.reason) == ("fallback", "no token here")


def test_outsider_and_missing_mr_are_fallbacks(fake_gitlab: FakeGitLab, gl: dict[str, Any], mr: Any,
                                               tmp_path: Path) -> None:
    outsider = forge(fake_gitlab, gl["outsider_token"], tmp_path)
    result = outsider.upsert_comment(CommentTarget(project="acme/app", number=mr.iid), f"{marker()}\nx")
    assert result.action == "fallback" and "404" in result.reason
    missing = forge(fake_gitlab, gl["bot_token"], tmp_path).upsert_comment(
        CommentTarget(project="acme/app", number=9999), f"{marker()}\nx")
    assert missing.action == "fallback" and "!9999" in missing.reason


def test_throttled_note_writes_wait_for_retry_after(fake_gitlab: FakeGitLab, gl: dict[str, Any], mr: Any,
                                                   tmp_path: Path) -> None:
    f = forge(fake_gitlab, gl["bot_token"], tmp_path)
    fake_gitlab.throttle(1, retry_after=1, match=lambda m, p: m == "POST" and p.endswith("/notes"))
    result = f.upsert_comment(CommentTarget(project="acme/app", number=mr.iid), f"{marker()}\nx")
    assert result.action == "created" and f.client.retries == 1
    assert [r.status for r in fake_gitlab.requests if r.method == "POST"][-2:] == [429, 201]


def test_the_note_limit_is_gitlabs_million(fake_gitlab: FakeGitLab, gl: dict[str, Any], mr: Any, tmp_path: Path) -> None:
    f = forge(fake_gitlab, gl["bot_token"], tmp_path)
    target = CommentTarget(project="acme/app", number=mr.iid)
    assert f.comment_limit == NOTE_LIMIT == 1_000_000
    big = marker() + "\n" + "x" * (NOTE_LIMIT - len(marker()) - 1)
    assert f.upsert_comment(target, big).action == "created"
    too_big = f.upsert_comment(target, big + "y")
    assert too_big.action == "fallback" and "1,000,000" in too_big.reason
    raw = gitlab.Gitlab(fake_gitlab.url, private_token=gl["bot_token"])  # the fake enforces it too
    with pytest.raises(gitlab.exceptions.GitlabCreateError) as err:
        raw.projects.get("acme/app", lazy=True).mergerequests.get(mr.iid, lazy=True).notes.create({"body": big + "y"})
    assert err.value.response_code == 400 and "too long" in str(err.value)


def test_pulls_for_commit(fake_gitlab: FakeGitLab, gl: dict[str, Any], mr: Any, tmp_path: Path) -> None:
    mr.sha = "ab" * 20
    f = forge(fake_gitlab, gl["bot_token"], tmp_path)
    assert f.pulls_for_commit("acme/app", "ab" * 20) == [mr.iid]
    assert f.pulls_for_commit("acme/app", "cd" * 20) == []


def test_dotenv_report_follows_gitlabs_rules(tmp_path: Path) -> None:
    from aqe_ci import secrets

    secrets.register("canary-dotenv-secret-123")
    f = GitLabForge(None, dotenv_file=tmp_path / "aqe.env")
    f.set_outputs({"key": "gl-42", "coverage-change": "-0.5", "comment-url": "https://x/y#note_1",
                   "weird": "two\nlines canary-dotenv-secret-123", "huge": "z" * 6000})
    lines = (tmp_path / "aqe.env").read_text().splitlines()
    assert lines[:3] == ["AQE_KEY=gl-42", "AQE_COVERAGE_CHANGE=-0.5", "AQE_COMMENT_URL=https://x/y#note_1"]
    assert lines[3] == "AQE_WEIRD=two lines ***"
    assert len(lines) == 4 and (tmp_path / "aqe.env").stat().st_size <= 5 * 1024  # the 6 KB value was left out
    f.set_outputs({"comment-file": ".aqe/note.md", "key": "gl-43"})  # outputs accumulate, as on GitHub
    again = (tmp_path / "aqe.env").read_text().splitlines()
    assert again[0] == "AQE_KEY=gl-43" and again[-1] == "AQE_COMMENT_FILE=.aqe/note.md" and len(again) == 5
    assert dotenv_name("new-security") == "AQE_NEW_SECURITY"


def test_summary_goes_to_a_log_section_and_annotations_to_code_quality(tmp_path: Path) -> None:
    log = io.StringIO()
    f = GitLabForge(None, summary_file=tmp_path / "summary.md", codequality_file=tmp_path / "cq.json", stream=log)
    f.write_summary("# report\n\x1b[31mred\x1b[0m row\n")
    text = log.getvalue()
    assert "section_start:" in text and "section_end:" in text and "# report" in text
    assert "\x1b[31m" not in text.split("aqe-artifacts report\n", 1)[1]
    assert (tmp_path / "summary.md").read_text().startswith("# report")
    result = f.annotate([Annotation(level="error", title="New failure: t", message="boom", file="src/a.py", line=3),
                         Annotation(level="warning", message="no file")])
    assert (result.written, result.dropped) == (1, 1)
    entry = json.loads((tmp_path / "cq.json").read_text())[0]
    assert entry["severity"] == "major" and entry["location"] == {"path": "src/a.py", "lines": {"begin": 3}}
