"""``aqe artifacts compare``: compare a run with another run or with its baseline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from aqe_ci.cli.options import format_option
from aqe_ci.model import keys
from aqe_ci.model.keys import DOC_TYPES


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
merge-base..head, joined with the head's per-line hits. See docs/compare.md.""")
@click.argument("key_a")
@click.argument("key_b", required=False)
@click.option("--baseline", "baseline_branch", metavar="BRANCH",
              help="Base branch to find the baseline on (default: the head run's PR/MR base branch).")
@click.option("--base-sha", metavar="SHA", help="The PR/MR base commit (default: the head run's, from CI).")
@click.option("--git-dir", metavar="PATH", type=click.Path(file_okay=False), default=".", show_default=True,
              help="A git checkout to compute merge-bases in (ignored when it is not one).")
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
def compare(runtime: Any, key_a: str, key_b: str | None, baseline_branch: str | None, base_sha: str | None,
            git_dir: str, types: tuple[str, ...], diff_only: bool, fail_on: str | None, require_baseline: bool,
            known_flaky_file: str | None, flaky_last: int, exclude_flaky: bool, trend_last: int,
            max_chars: int, max_rows: int, comment_id: str, title: str, output: str | None, format: str) -> None:
    """Compare two runs (KEY_A = baseline, KEY_B = head), or KEY against its baseline."""
    from aqe_ci import secrets
    from aqe_ci.cli.output import write_atomic
    from aqe_ci.compare.engine import compare_runs
    from aqe_ci.compare.gates import check_gates, parse_gates, raise_if_failed
    from aqe_ci.errors import GateFailed, UsageError
    from aqe_ci.git import Git
    from aqe_ci.render.markdown import marker

    gates = parse_gates(fail_on)  # a malformed expression fails before any read
    marker(comment_id)
    keys.check_key(key_a)
    if key_b is not None:
        keys.check_key(key_b)
        if baseline_branch:
            raise UsageError("--baseline cannot be combined with two keys",
                             hint="give KEY_A KEY_B, or one KEY with --baseline BRANCH")
    ctx = runtime.ci_context()
    head_key, base_key = (key_b, key_a) if key_b is not None else (key_a, None)
    git = Git(Path(git_dir))  # merge-bases (one key) and the patch-coverage diff (both forms)
    known = known_flaky(runtime.store, known_flaky_file, flaky_last,
                        baseline_branch or ctx.base_branch or ctx.default_branch or "main")
    result = compare_runs(runtime.store, head_key, base_key=base_key, types=list(types) or None,
                          base_branch=baseline_branch or None, base_sha=base_sha or None,
                          git=git, diff_only=diff_only, env_base_branch=ctx.base_branch, env_base_sha=ctx.base_sha,
                          known_flaky=known)
    if trend_last:
        from aqe_ci.app.trend import comparison_trend

        trend = comparison_trend(runtime.store, result, last=trend_last)
        if trend:
            result["comparison"]["trend"] = trend.as_json()
    gate_results = check_gates(result, gates, exclude_flaky=exclude_flaky) if gates else []
    if gate_results:
        result["gates"] = gate_results
    if format == "json":  # big comparisons: written in chunks of whole lines, never one huge string
        from aqe_ci.render.json import iter_json

        chunks: Any = lambda: iter_json(result)  # noqa: E731
    else:
        text = render(result, format, max_chars=max_chars, max_rows=max_rows or None, comment_id=comment_id,
                      title=title)
        chunks = lambda: iter((text,))  # noqa: E731
    if output:
        write_atomic(Path(output), (secrets.redact(c) for c in chunks()))
    from aqe_ci.render.escape import json_inert

    for chunk in chunks():  # on the terminal, JSON writes bidi / C1 characters as \u escapes (same data)
        click.echo(json_inert(secrets.redact(chunk)) if format == "json" else secrets.redact(chunk), nl=False)
    click.echo("")
    notify_compared(runtime, result, gate_results)
    no_baseline = result["comparison"]["baseline"]["key"] is None
    if require_baseline and no_baseline:
        raise GateFailed(f"no baseline: {result['comparison']['baseline']['reason']}",
                         hint="store a run for the base branch first, or drop --require-baseline")
    raise_if_failed(gate_results)


def known_flaky(store: Any, path: str | None, last: int, branch: str) -> dict[tuple[str, ...], str]:
    """(suite, classname, name, file) → why, from a quarantine file and/or the last ``last`` runs of ``branch``."""
    known: dict[tuple[str, ...], str] = {}

    def add(t: Any, why: str) -> None:
        ident = (t.get("suite") or "", t.get("classname") or "", t.get("name") or "", t.get("file") or "")
        known.setdefault(ident, why)
        known.setdefault(ident[:3] + ("",), why)

    if path:
        from aqe_ci.app.flaky import load_quarantine

        for t in load_quarantine(Path(path)):
            add(t, str(t.get("description") or f"listed in {Path(path).name}"))
    if last:
        from aqe_ci.app.flaky import find_flaky

        for ft in find_flaky(store, last=max(2, last), branch=branch).tests:
            add(ft.as_json(), ft.describe())
    return known


def notify_compared(runtime: Any, result: dict[str, Any], gate_results: list[dict[str, Any]]) -> None:
    """The ``compared`` (and, when a gate failed, ``gate_failed``) webhook events."""
    from aqe_ci.app.notify import compared_events, notifier_from_config, send_events
    from aqe_ci.cli.output import echo

    notifier = notifier_from_config(runtime.config.section("notify"))
    if notifier is None:
        return
    send_events(notifier, compared_events(store=runtime.store.location, comparison=result["comparison"],
                                          gates=gate_results), lambda line: echo(line, err=True))


def render(result: dict[str, Any], fmt: str, *, max_chars: int = 65_536, max_rows: int | None = 100,
           comment_id: str = "default", title: str = "aqe-artifacts: quality report") -> str:
    if fmt == "markdown":
        from aqe_ci.render.markdown import render_markdown

        return render_markdown(result, max_chars=max_chars, max_rows=max_rows, comment_id=comment_id, title=title)
    if fmt == "table":
        from aqe_ci.render.table import render_table

        return render_table(result)
    from aqe_ci.render.json import render_json

    return render_json(result)
