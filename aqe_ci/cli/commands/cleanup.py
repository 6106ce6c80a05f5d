"""``aqe artifacts cleanup``: apply the retention policy (docs/retention.md)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from aqe_ci.cli.options import format_option, yes_option
from aqe_ci.cli.output import echo, echo_json, human_bytes
from aqe_ci.errors import UsageError
from aqe_ci.model.keys import DOC_TYPES
from aqe_ci.render.escape import term_text
from aqe_ci.render.text import table
from aqe_ci.storage.layout import Entry

if TYPE_CHECKING:
    from aqe_ci.app.cleanup import CleanupReport
    from aqe_ci.cli.runtime import Runtime
    from aqe_ci.retention.policy import CleanupPlan, RetentionPolicy


def require_confirmation_possible(yes: bool, dry_run: bool, what: str) -> None:
    """Non-interactive runs (CI has no stdin) must say --yes; fail before any work is done."""
    if yes or dry_run or sys.stdin.isatty():
        return
    raise UsageError(f"{what} needs confirmation, and stdin is not a terminal",
                     hint="pass --yes to delete in non-interactive runs (CI), or --dry-run to only list")


def entry_line(prefix: str, e: Entry) -> str:
    bits = [f"{prefix} {e.key}/{e.type}/{e.part}", e.created_at, f"branch={term_text(e.branch or '-')}"]
    if e.pr is not None:
        bits.append(f"pr={e.pr}")
    bits.append(human_bytes(e.stored_size) or "?")
    return "  ".join(bits)


def policy_text(policy: RetentionPolicy) -> str:
    days = ", ".join(f"{t} {policy.days_for(t)}d" for t in DOC_TYPES)
    protected = ", ".join(policy.protected_branches) or "none"
    return (f"retention: {days}; keep_latest_n {policy.keep_latest_n}; "
            f"protected branches: {protected} ({policy.protected_source})")


@click.command(epilog="""\b
Examples:
  aqe artifacts cleanup --dry-run
  aqe artifacts cleanup --yes
  aqe artifacts cleanup --older-than 90d --type test_results --yes
  aqe artifacts cleanup --branch feature-x --older-than 1d --dry-run --format json

\b
Never removes the newest keep_latest_n runs, nor the newest run of each type on a
protected branch (retention.protected_branches; default: the default branch, else main
and master). Non-interactive runs need --yes. Rules: docs/retention.md.""")
@click.option("--older-than", "older_than", metavar="AGE",
              help="Remove documents older than AGE (e.g. 90d, 36h, 2w) instead of the per-type retention days.")
@click.option("--type", "doc_types", type=click.Choice(DOC_TYPES), multiple=True,
              help="Only remove documents of this type (repeatable).")
@click.option("--branch", metavar="NAME", help="Only remove documents of this branch.")
@click.option("--dry-run", is_flag=True, help="List what would be removed; change nothing.")
@yes_option
@format_option("table", "json", default="table")
@click.pass_obj
def cleanup(runtime: Runtime, /, older_than: str | None, doc_types: tuple[str, ...], branch: str | None,
            dry_run: bool, yes: bool, format: str) -> None:
    """Remove expired documents by the retention policy (crash-safe; a rerun finishes an interrupted one)."""
    from aqe_ci.app.cleanup import CleanupRequest, cleanup_run

    request = CleanupRequest(older_than=older_than, doc_types=doc_types, branch=branch, dry_run=dry_run)
    require_confirmation_possible(yes, dry_run, "cleanup")
    policy = runtime.retention_policy()
    store = runtime.store
    streaming = format == "table"
    if streaming:
        echo(f"cleanup of {store.location}{' (dry run: nothing is removed)' if dry_run else ''}")
        echo(policy_text(policy))

    def confirm(plan: CleanupPlan) -> None:
        if yes:
            return
        if streaming:
            for e in plan.delete:
                echo(entry_line("delete", e))
        click.confirm(f"remove {len(plan.delete)} document(s) of {len({e.key for e in plan.delete})} run(s), "
                      f"{human_bytes(plan.delete_bytes)}, from {store.location}?", abort=True, err=True)

    def on_delete(e: Entry) -> None:
        if streaming:
            echo(entry_line("deleted", e))

    report = cleanup_run(store, request, policy=policy, confirm=confirm, on_delete=on_delete,
                         progress=lambda text: echo(text, err=True))
    if format == "json":
        echo_json(report.as_json())
    else:
        print_report(report)


def print_report(report: CleanupReport) -> None:
    from aqe_ci.retention.cleanup import repair_lines

    plan, result, removed = report.plan, report.result, report.removed
    counts = plan.counts()
    repaired = {k: len(v) for k, v in result.repair.items() if v}
    for line in repair_lines(result.repair, dry_run=report.request.dry_run):
        echo(line)
    if repaired:
        echo("repair: " + ", ".join(f"{k.replace('_', ' ')} {n}" for k, n in repaired.items()))
    if report.request.dry_run:
        for e in removed:
            echo(entry_line("would delete", e))
    for e, why in result.skipped:
        echo(entry_line(f"skipped ({why})", e))
    if plan.protected:
        echo("")
        echo(f"kept although expired ({len(plan.protected)}):")
        echo(table(["KEY", "TYPE", "PART", "CREATED", "BRANCH", "REASON"],
                   [[k.entry.key, k.entry.type, k.entry.part, k.entry.created_at, k.entry.branch or "",
                     ", ".join(k.reasons)] for k in plan.protected]))
    verb = "would remove" if report.request.dry_run else "removed"
    echo("")
    echo(f"summary: {verb} {len(removed)} document(s) of {len({e.key for e in removed})} run(s), "
         f"{human_bytes(report.removed_bytes)} stored; kept {counts['protected']} expired but protected, "
         f"{counts['not_expired']} not expired, {counts['not_selected']} not selected by the filters")
