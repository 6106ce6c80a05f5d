"""``aqe artifacts comment``: post the comparison as the PR's sticky comment, or a saved comment file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from aqe_ci.app.publish import PublishOptions
from aqe_ci.cli.options import format_option


@click.command(epilog="""\b
Examples:
  aqe artifacts comment build-def456                    # compare with the baseline, comment on the PR
  aqe artifacts comment build-def456 --comment-id e2e --comment-mode recreate
  aqe artifacts comment --from-file .aqe/comment.json   # in a trusted workflow_run job

\b
--from-file posts a comment saved by a run whose token could not comment (a fork PR). The file
comes from that untrusted run, so the pull request is looked up on GitHub from the commit
(--commit, default: the CI context's, which for workflow_run is workflow_run.head_sha) and the
comment is rendered again from the file's comparison with our escaping; the file's own target
and body are never used. Exit 4 when no open PR has that head commit, 7 for a malformed file,
8 when GitHub refuses or cannot be reached. See README "Pull requests from forks".""")
@click.argument("key", required=False)
@click.option("--from-file", "from_file", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Post this saved comment file instead of comparing KEY.")
@click.option("--repository", metavar="OWNER/NAME", help="Repository of the PR (default: from the CI context).")
@click.option("--commit", metavar="SHA", help="Head commit whose open PR gets the comment (default: from CI).")
@click.option("--pr", type=click.IntRange(min=1), metavar="N", help="PR number (KEY form; default: from CI).")
@click.option("--baseline", "baseline_branch", metavar="BRANCH", help="KEY form: base branch of the baseline.")
@click.option("--comment-id", default="default", show_default=True, metavar="ID", help="Sticky comment id.")
@click.option("--comment-mode", type=click.Choice(["update", "recreate", "new", "off"]), default="update",
              show_default=True, help="How the sticky comment is written.")
@click.option("--comment-on", type=click.Choice(["always", "changes", "failures", "regressions"]),
              default="always", show_default=True, help="When to comment (KEY form).")
@click.option("--title", default="aqe-artifacts: quality report", show_default=True, help="Comment heading.")
@click.option("--comment-file", type=click.Path(dir_okay=False, path_type=Path), default=Path(".aqe/comment.json"),
              show_default=True, help="KEY form: where the comment is saved when the token may not post it.")
@click.option("--token", envvar=["GITHUB_TOKEN", "GH_TOKEN"], show_envvar=True, show_default=False, metavar="TOKEN",
              help="GitHub token with pull-requests: write.")
@click.option("--api-url", envvar="GITHUB_API_URL", show_envvar=True, default="https://api.github.com",
              help="GitHub API URL (GitHub Enterprise Server: https://HOST/api/v3).")
@format_option("table", "json", default="table")
@click.pass_obj
def comment(runtime: Any, key: str | None, from_file: Path | None, repository: str | None, commit: str | None,
            pr: int | None, baseline_branch: str | None, comment_id: str, comment_mode: str, comment_on: str,
            title: str, comment_file: Path, token: str | None, api_url: str, format: str) -> None:
    """Comment on the pull request: KEY compared with its baseline, or --from-file FILE."""
    from aqe_ci import secrets
    from aqe_ci.errors import UsageError

    secrets.register(token)
    if (key is None) == (from_file is None):
        raise UsageError("give a run KEY or --from-file FILE (not both)")
    ctx = runtime.ci_context({"commit": commit, "pr": None if from_file else pr})
    project = repository or ctx.repository
    if not project:
        raise UsageError("no repository known", hint="pass --repository OWNER/NAME")
    forge = _forge(token, api_url)
    if from_file is not None:
        _from_file(forge, from_file, project, ctx.commit, format)
        return
    options = PublishOptions(comment_id=comment_id, comment_mode=comment_mode,  # type: ignore[arg-type]
                             comment_on=comment_on, title=title, annotations=False,  # type: ignore[arg-type]
                             fallback_file=comment_file, head_sha=ctx.commit)
    _compare_and_comment(runtime, forge, key or "", ctx, project, baseline_branch, options, format)


def _forge(token: str | None, api_url: str) -> Any:
    from aqe_ci.app.forges import GitHubSettings, github_forge

    env = os.environ
    output = Path(env["GITHUB_OUTPUT"]) if env.get("GITHUB_OUTPUT") else None
    summary = Path(env["GITHUB_STEP_SUMMARY"]) if env.get("GITHUB_STEP_SUMMARY") else None
    return github_forge(GitHubSettings(token=token, api_url=api_url), output_file=output, summary_file=summary,
                        workspace=Path.cwd())


def _from_file(forge: Any, path: Path, project: str, sha: str | None, format: str) -> None:
    from aqe_ci.app.publish import publish_comment_file
    from aqe_ci.errors import UsageError

    if not sha:
        raise UsageError("no head commit known to find the pull request by",
                         hint="pass --commit ${{ github.event.workflow_run.head_sha }}")
    published, warnings = publish_comment_file(forge, path, project=project, sha=sha)
    _report(published.comment, warnings, format)


def _compare_and_comment(runtime: Any, forge: Any, key: str, ctx: Any, project: str, baseline: str | None,
                         options: PublishOptions, format: str) -> None:
    from aqe_ci.app.compare import CompareRequest, compare_run
    from aqe_ci.app.publish import publish_run
    from aqe_ci.errors import UsageError
    from aqe_ci.model.keys import check_key
    from aqe_ci.publish.base import CommentTarget

    check_key(key)
    if not ctx.pr:
        raise UsageError("no pull request known to comment on", hint="pass --pr N")
    result = compare_run(runtime.store, CompareRequest(head_key=key, base_branch=baseline or None),
                         git=runtime.git("."), ci=ctx)
    published = publish_run(forge, result, target=CommentTarget(project=project, number=ctx.pr), key=key,
                            options=options)
    _report(published.comment, [], format)


def _report(c: Any, warnings: list[str], format: str) -> None:
    from aqe_ci.cli.output import echo, echo_json

    for w in warnings:
        echo(f"Warning: {w}", err=True)
    if format == "json":
        echo_json({"action": c.action, "comment_id": c.comment_id, "url": c.url, "reason": c.reason,
                   "warnings": warnings})
        return
    echo(f"comment {c.action}" + (f": {c.url}" if c.url else "") + (f" ({c.reason})" if c.reason else ""))
