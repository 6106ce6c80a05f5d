"""``aqe artifacts compare``: compare a run with another run or with its baseline."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from aqe_ci.cli.options import format_option
from aqe_ci.model import keys
from aqe_ci.model.keys import DOC_TYPES

if TYPE_CHECKING:
    from aqe_ci.cli.runtime import Runtime
    from aqe_ci.model.comparison import Comparison


@click.command(epilog="""\b
Examples:
  aqe artifacts compare build-abc123 build-def456            # baseline A, head B
  aqe artifacts compare build-def456 --baseline main          # merge-base run of main
  aqe artifacts compare build-def456 --diff-only --type coverage --format table
  aqe artifacts compare build-def456 --format markdown --output comment.md
  aqe artifacts compare build-def456 --fail-on "coverage_drop>0.5,new_failures>0,new_security>=high"
  aqe artifacts compare build-def456 --fail-on "patch_coverage<80"
  aqe artifacts compare build-def456 --known-flaky quarantine.json --exclude-flaky --fail-on "new_failures>0"

\b
Baseline (with one KEY): the run of the merge-base of the head commit and the base branch
(git merge-base when a checkout is present, GitLab's MR diff base sha otherwise), else its
nearest stored first-parent ancestor (up to 50 commits), else the newest run on the base branch
older than the head, else none (said plainly, exit 0). Gates exit 6. With a checkout
(--git-dir) the coverage section has patch coverage: the changed lines of git diff
merge-base..head, joined with the head's per-line hits. See docs/compare.md, docs/history.md.""")
@click.argument("key_a")
@click.argument("key_b", required=False)
@click.option("--baseline", "baseline_branch", metavar="BRANCH",
              help="Base branch to find the baseline on (default: the head run's PR/MR base branch).")
@click.option("--base-sha", metavar="SHA", help="The PR/MR base commit (default: the head run's, from CI).")
@click.option("--git-dir", metavar="PATH", type=click.Path(file_okay=False), default=".", show_default=True,
              help="A git checkout to compute merge-bases and the patch-coverage diff in (ignored when it is not one).")
@click.option("--type", "types", multiple=True, type=click.Choice(DOC_TYPES),
              help="Only this document type (repeatable; default: all).")
@click.option("--diff-only", is_flag=True, help="Only what changed: drop unchanged types and unchanged lists.")
@click.option("--fail-on", metavar="GATES",
              help='Quality gates, e.g. "coverage_drop>0.5,new_failures>0,new_security>=high" (exit 6).')
@click.option("--require-baseline", is_flag=True, help="Fail (exit 6) when no baseline run is found.")
@click.option("--known-flaky", "known_flaky_file", metavar="FILE", type=click.Path(dir_okay=False),
              help="Quarantine list (`aqe artifacts flaky --output FILE`): new failures of its tests are marked known flaky.")
@click.option("--flaky-last", type=click.IntRange(min=0, max=1000), default=0, show_default=True, metavar="N",
              help="Also find flaky tests in the last N stored runs of the base branch (reads them; 0: off).")
@click.option("--exclude-flaky", is_flag=True,
              help="The new_failures gate does not count new failures of known-flaky tests.")
@click.option("--trend-last", type=click.IntRange(min=0, max=200), default=20, show_default=True, metavar="N",
              help="Trend of the base branch's last N runs (markdown: a chart with this run's point; 0: off).")
@click.option("--max-chars", type=click.IntRange(min=2000), default=65_536, show_default=True,
              help="Markdown size limit (GitHub 65536, GitLab 1000000).")
@click.option("--max-rows", type=click.IntRange(min=0), default=100, show_default=True,
              help="Markdown: rows per detail table before the size budget applies (0: no cap).")
@click.option("--comment-id", default="default", show_default=True, metavar="ID",
              help="Id in the markdown's hidden marker (one sticky comment per id).")
@click.option("--title", default="aqe-artifacts: quality report", show_default=True, help="Markdown heading.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Also write the report to this file.")
@format_option("json", "table", "markdown", default="json")
@click.pass_obj
def compare(runtime: Runtime, /, key_a: str, key_b: str | None, baseline_branch: str | None, base_sha: str | None,
            git_dir: str, types: tuple[str, ...], diff_only: bool, fail_on: str | None, require_baseline: bool,
            known_flaky_file: str | None, flaky_last: int, exclude_flaky: bool, trend_last: int,
            max_chars: int, max_rows: int, comment_id: str, title: str, output: str | None, format: str) -> None:
    """Compare two runs (KEY_A = baseline, KEY_B = head), or KEY against its baseline."""
    from aqe_ci import secrets
    from aqe_ci.app.compare import CompareRequest, check_outcome, compare_run
    from aqe_ci.app.flaky import known_flaky_tests
    from aqe_ci.cli.output import write_atomic
    from aqe_ci.compare.gates import parse_gates
    from aqe_ci.errors import UsageError
    from aqe_ci.render.escape import json_inert
    from aqe_ci.render.markdown import marker

    gates = parse_gates(fail_on)  # a malformed expression fails before any read
    marker(comment_id)
    keys.check_key(key_a)
    if key_b is not None:
        keys.check_key(key_b)
        if baseline_branch:
            raise UsageError("--baseline cannot be combined with two keys",
                             hint="give KEY_A KEY_B, or one KEY with --baseline BRANCH")
    head_key, base_key = (key_b, key_a) if key_b is not None else (key_a, None)
    ctx = runtime.ci_context()
    known = known_flaky_tests(runtime.store, path=Path(known_flaky_file) if known_flaky_file else None,
                              last=flaky_last, branch=baseline_branch or ctx.base_branch or ctx.default_branch or "main")
    request = CompareRequest(head_key=head_key, base_key=base_key, types=types, base_branch=baseline_branch or None,
                             base_sha=base_sha or None, diff_only=diff_only, gates=tuple(gates), known_flaky=known,
                             exclude_flaky=exclude_flaky, trend_last=trend_last)
    # the checkout: merge-bases for one KEY, the patch-coverage diff in both forms
    comparison = compare_run(runtime.store, request, git=runtime.git(git_dir), ci=ctx)
    if format == "json":  # big comparisons: written in chunks of whole lines, never one huge string
        chunks: Callable[[], Iterator[str]] = comparison.iter_json
    else:
        text = render(comparison, format, max_chars=max_chars, max_rows=max_rows or None, comment_id=comment_id,
                      title=title)
        chunks = lambda: iter((text,))  # noqa: E731
    if output:
        write_atomic(Path(output), (secrets.redact(c) for c in chunks()))
    for chunk in chunks():  # on the terminal, JSON writes bidi / C1 characters as \u escapes (same data)
        click.echo(json_inert(secrets.redact(chunk)) if format == "json" else secrets.redact(chunk), nl=False)
    click.echo("")
    notify_compared(runtime, comparison)
    check_outcome(comparison, require_baseline=require_baseline)


def notify_compared(runtime: Runtime, comparison: Comparison) -> None:
    """The ``compared`` (and, when a gate failed, ``gate_failed``) webhook events, from the comparison's JSON."""
    from aqe_ci.app.notify import compared_events, notifier_from_config, send_events
    from aqe_ci.cli.output import echo

    notifier = notifier_from_config(runtime.config.section("notify"))
    if notifier is None:
        return
    send_events(notifier, compared_events(store=runtime.store.location, comparison=comparison.comparison_json(),
                                          gates=[g.as_json() for g in comparison.gates]),
                lambda line: echo(line, err=True))


def render(comparison: Comparison, fmt: str, *, max_chars: int = 65_536, max_rows: int | None = 100,
           comment_id: str = "default", title: str = "aqe-artifacts: quality report") -> str:
    if fmt == "markdown":
        from aqe_ci.render.markdown import render_markdown

        return render_markdown(comparison, max_chars=max_chars, max_rows=max_rows, comment_id=comment_id,
                               title=title)
    if fmt == "table":
        from aqe_ci.render.table import render_table

        return render_table(comparison)
    return comparison.to_json()
