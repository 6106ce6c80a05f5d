"""GitHubForge against the stateful fake GitHub, through the real PyGithub client."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from aqe_ci.app.forges import GitHubSettings, github_forge
from aqe_ci.publish.base import Annotation, CommentTarget, marker
from aqe_ci.publish.github import SUMMARY_LIMIT, GitHubForge, heredoc
from tests.action.conftest import REPO, TOKEN
from tests.action.runner_files import parse_file_command
from tests.servers.fake_github import BOT, FakeGitHub, User

PR = CommentTarget(project=REPO, number=42)
LIST = f"GET /repos/{REPO}/issues/42/comments?per_page=100"
POST = f"POST /repos/{REPO}/issues/42/comments"


def settings(github: FakeGitHub, token: str = TOKEN, **kw: object) -> GitHubSettings:
    """No waiting between retries in tests (the fake answers ``Retry-After: 0``)."""
    return GitHubSettings(token=token, api_url=github.url, backoff_factor=0, **kw)  # type: ignore[arg-type]


def forge(github: FakeGitHub, token: str = TOKEN, **kw: object) -> GitHubForge:
    return github_forge(settings(github, token), **kw)  # type: ignore[arg-type]


def body(text: str, cid: str = "default") -> str:
    return f"{marker(cid)}\n### report\n{text}\n"


def test_first_run_creates_then_second_run_updates_the_same_comment(github: FakeGitHub) -> None:
    github.add_pull(REPO, 42, "a" * 40)
    first = forge(github).upsert_comment(PR, body("one"))
    assert first.action == "created" and first.url and first.url.endswith(f"#issuecomment-{first.comment_id}")
    assert github.calls() == [LIST, POST]

    github.clear_requests()
    second = forge(github).upsert_comment(PR, body("two"))
    assert second.action == "updated" and second.comment_id == first.comment_id
    # the token's own login is asked only once a marked comment exists; GITHUB_TOKEN may not (403)
    assert github.calls() == [LIST, f"PATCH /repos/{REPO}/issues/comments/{first.comment_id}"]
    [only] = github.comments(REPO, 42)
    assert only.body == body("two") and only.user == BOT


def test_an_unchanged_body_is_not_patched(github: FakeGitHub) -> None:
    github.add_pull(REPO, 42, "a" * 40)
    forge(github).upsert_comment(PR, body("same"))
    github.clear_requests()
    again = forge(github).upsert_comment(PR, body("same"))
    assert again.action == "unchanged"
    assert github.calls() == [LIST]


def test_the_sticky_comment_is_found_across_pages_and_among_other_authors(github: FakeGitHub) -> None:
    github.add_pull(REPO, 42, "a" * 40)
    human = User("octocat", id=7)
    for i in range(120):
        github.add_comment(REPO, 42, f"comment {i}", human)
    github.add_comment(REPO, 42, body("a human quoting our marker"), human)  # not ours: never touched
    ours = github.add_comment(REPO, 42, body("old"), BOT)
    for i in range(110):
        github.add_comment(REPO, 42, f"later {i}", human)
    result = forge(github).upsert_comment(PR, body("new"))
    assert result.action == "updated" and result.comment_id == str(ours.id)
    pages = [c for c in github.calls() if c.startswith("GET /repos")]
    assert pages == [LIST, f"GET /repos/{REPO}/issues/42/comments?page=2&per_page=100",
                     f"GET /repos/{REPO}/issues/42/comments?page=3&per_page=100"]
    bodies = {c.id: c.body for c in github.comments(REPO, 42)}
    assert bodies[ours.id] == body("new")
    assert sum(b.startswith(marker()) for b in bodies.values()) == 2  # the human's copy is left alone


def test_a_personal_token_matches_comments_by_its_own_login(github: FakeGitHub) -> None:
    github.add_pull(REPO, 42, "a" * 40)
    me = User("release-bot", id=99)
    github.add_token("ghp_personal", me)
    github.add_comment(REPO, 42, body("by the actions bot"), BOT)
    result = forge(github, "ghp_personal").upsert_comment(PR, body("mine"))
    assert result.action == "created"  # the bot's comment is not this token's
    second = forge(github, "ghp_personal").upsert_comment(PR, body("mine again"))
    assert second.action == "updated" and second.comment_id == result.comment_id
    assert [c.user.login for c in github.comments(REPO, 42)] == [BOT.login, "release-bot"]
    assert github.calls().count("GET /user") == 2  # a personal token asks who it is (once per forge)


def test_an_installation_token_is_the_actions_bot_without_asking(github: FakeGitHub) -> None:
    github.add_pull(REPO, 42, "a" * 40)
    github.add_comment(REPO, 42, body("ours, from an earlier run"), BOT)
    result = forge(github).upsert_comment(PR, body("this run"))
    assert result.action == "updated" and "GET /user" not in github.calls()


def test_recreate_deletes_the_old_comment_and_posts_a_new_one(github: FakeGitHub) -> None:
    github.add_pull(REPO, 42, "a" * 40)
    old = forge(github).upsert_comment(PR, body("one"))
    github.clear_requests()
    new = forge(github).upsert_comment(PR, body("two"), mode="recreate")
    assert new.action == "recreated" and new.comment_id != old.comment_id
    assert github.calls() == [LIST, POST, f"DELETE /repos/{REPO}/issues/comments/{old.comment_id}"]
    assert [c.body for c in github.comments(REPO, 42)] == [body("two")]


def test_recreate_minimises_the_old_comment_when_it_may_not_be_deleted(github: FakeGitHub) -> None:
    github.add_pull(REPO, 42, "a" * 40)
    old = forge(github).upsert_comment(PR, body("one"))
    github.state.deny_delete = True
    new = forge(github).upsert_comment(PR, body("two"), mode="recreate")
    assert new.action == "recreated" and "minimised outdated comment" in (new.reason or "")
    assert github.calls()[-1] == "POST /graphql"
    minimized = {c.id: c.minimized for c in github.comments(REPO, 42)}
    assert minimized == {int(old.comment_id or 0): "OUTDATED", int(new.comment_id or 0): None}


def test_new_posts_each_time_and_minimises_the_previous_comment(github: FakeGitHub) -> None:
    github.add_pull(REPO, 42, "a" * 40)
    first = forge(github).upsert_comment(PR, body("one"), mode="new")
    second = forge(github).upsert_comment(PR, body("two"), mode="new")
    assert (first.action, second.action) == ("created", "created")
    comments = github.comments(REPO, 42)
    assert [(c.body, c.minimized) for c in comments] == [(body("one"), "OUTDATED"), (body("two"), None)]


def test_off_makes_no_request(github: FakeGitHub) -> None:
    result = forge(github).upsert_comment(PR, body("x"), mode="off")
    assert result.action == "skipped" and github.calls() == []


def test_each_comment_id_has_its_own_sticky_comment(github: FakeGitHub) -> None:
    github.add_pull(REPO, 42, "a" * 40)
    a = forge(github).upsert_comment(PR, body("unit", "unit"), comment_id="unit")
    b = forge(github).upsert_comment(PR, body("e2e", "e2e"), comment_id="e2e")
    a2 = forge(github).upsert_comment(PR, body("unit 2", "unit"), comment_id="unit")
    assert a.comment_id != b.comment_id and a2.comment_id == a.comment_id and a2.action == "updated"
    assert len(github.comments(REPO, 42)) == 2


def test_a_read_only_token_falls_back_instead_of_failing(github: FakeGitHub) -> None:
    github.add_pull(REPO, 42, "a" * 40)
    github.state.read_only = True
    result = forge(github).upsert_comment(PR, body("x"))
    assert result.action == "fallback"
    assert "HTTP 403: Resource not accessible by integration" in (result.reason or "")
    assert TOKEN not in (result.reason or "")
    assert github.calls() == [LIST, POST]  # a 403 that is not a rate limit is not retried
    assert github.comments(REPO, 42) == []


def test_a_secondary_rate_limit_is_retried_after_retry_after(github: FakeGitHub) -> None:
    github.add_pull(REPO, 42, "a" * 40)
    github.rate_limit(2, retry_after="0")
    result = forge(github).upsert_comment(PR, body("x"))
    assert result.action == "created"
    assert github.calls() == [LIST, LIST, LIST, POST]
    assert [r.status for r in github.requests] == [403, 403, 200, 201]


def test_rate_limited_past_the_retries_falls_back(github: FakeGitHub) -> None:
    github.add_pull(REPO, 42, "a" * 40)
    github.rate_limit(50, retry_after="0")
    f = github_forge(settings(github, retries=2))
    result = f.upsert_comment(PR, body("x"))
    assert result.action == "fallback" and "403" in (result.reason or "")
    assert len(github.calls()) == 3  # the request and its two retries


def test_unreachable_api_falls_back(tmp_path: Path) -> None:
    f = github_forge(GitHubSettings(token=TOKEN, api_url="http://127.0.0.1:9", retries=0, timeout=2))
    result = f.upsert_comment(PR, body("x"))
    assert result.action == "fallback" and "unreachable" in (result.reason or "")


def test_without_a_token_nothing_is_sent() -> None:
    result = GitHubForge(None).upsert_comment(PR, body("x"))
    assert result.action == "fallback" and "no GitHub token" in (result.reason or "")


def test_pulls_for_commit_are_resolved_from_the_server(github: FakeGitHub) -> None:
    sha = "c" * 40
    github.add_pull(REPO, 7, sha, head_repo="stranger/widgets")
    github.add_pull(REPO, 8, sha, state="closed")
    github.add_pull(REPO, 9, "d" * 40)
    assert forge(github).pulls_for_commit(REPO, sha) == [7]
    assert github.calls() == [f"GET /repos/{REPO}/commits/{sha}/pulls?per_page=100"]


def test_outputs_use_random_heredoc_delimiters_so_values_cannot_inject(tmp_path: Path) -> None:
    out = tmp_path / "set_output"
    out.write_text("earlier=1\n")
    hostile = "line one\nghadelimiter_x\ninjected<<EOF\nevil\nEOF\nlast=2"
    GitHubForge(None, output_file=out).set_outputs({"comment-url": "https://x/1", "gates": hostile, "empty": ""})
    assert parse_file_command(out) == {"earlier": "1", "comment-url": "https://x/1", "gates": hostile, "empty": ""}
    with pytest.raises(ValueError):
        heredoc("bad name", "x")


def test_the_summary_is_appended_and_never_passes_one_mib(tmp_path: Path) -> None:
    summary = tmp_path / "step_summary"
    f = GitHubForge(None, summary_file=summary)
    f.write_summary("# first")
    f.write_summary("x" * (SUMMARY_LIMIT - 5))
    text = summary.read_text()
    assert text.startswith("# first\n") and "bytes of summary left out" in text
    assert summary.stat().st_size <= SUMMARY_LIMIT


def test_annotations_are_escaped_and_capped_per_level_with_a_note(tmp_path: Path) -> None:
    stream = io.StringIO()
    notes = [Annotation(level="error", message=f"boom {i}\n::warning::injected", title="T, a: b",
                        file=f"{tmp_path}/src/a.py", line=i + 1) for i in range(25)]
    notes.append(Annotation(level="warning", message="w", file="/github/workspace/lib/b.py", line=3, end_line=1))
    result = GitHubForge(None, stream=stream, workspace=tmp_path).annotate(notes)
    lines = stream.getvalue().splitlines()
    assert result.written == 10 and result.dropped == 16
    assert lines[0] == "::error file=src/a.py,line=1,title=T%2C a%3A b::boom 0%0A::warning::injected"
    assert lines[9] == ("::error title=aqe-artifacts::16 more error annotations were left out (GitHub shows 10 per "
                        "step); see the job summary")
    assert lines[10] == "::warning file=lib/b.py,line=3::w"
    assert len(lines) == 11 and all(line.startswith("::") for line in lines)
