"""``aqe artifacts delete``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from aqe_ci.cli.options import format_option, yes_option
from aqe_ci.cli.output import echo, echo_json
from aqe_ci.errors import NotFoundError, UsageError
from aqe_ci.model import keys
from aqe_ci.model.keys import DOC_TYPES

if TYPE_CHECKING:
    from aqe_ci.cli.runtime import Runtime


def confirm(question: str, yes: bool) -> None:
    """Ask on a terminal; refuse without --yes when nobody can answer (CI has no stdin)."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError(f"{question} — not confirmed", hint="pass --yes to confirm in non-interactive runs")
    click.confirm(question, abort=True)


@click.command(epilog="""\b
Examples:
  aqe artifacts delete build-abc123
  aqe artifacts delete build-abc123 --type coverage --yes
  aqe artifacts delete --branch feature-x --all --dry-run
  aqe artifacts delete --branch feature-x --all --yes

\b
--branch B --all removes every document stored for branch B (a merged branch); it refuses a
protected branch (retention.protected_branches), whose runs are PR baselines.""")
@click.argument("key", required=False)
@click.option("--branch", metavar="NAME", help="Delete the documents of this branch (needs --all).")
@click.option("--all", "all_", is_flag=True, help="With --branch: every document of the branch.")
@click.option("--type", "doc_type", type=click.Choice(DOC_TYPES), help="Only this document type.")
@click.option("--part", metavar="NAME", help="Only this part (with KEY).")
@click.option("--dry-run", is_flag=True, help="List what would be deleted; change nothing.")
@yes_option
@format_option("table", "json", default="table")
@click.pass_obj
def delete(runtime: Runtime, /, key: str | None, branch: str | None, all_: bool, doc_type: str | None, part: str | None,
           dry_run: bool, yes: bool, format: str) -> None:
    """Delete a run's documents, or with --branch B --all every document of branch B.

    Crash-safe: an interrupted delete is finished by `aqe artifacts cleanup`.
    """
    if branch is not None or all_:
        if key is not None:
            raise UsageError("give either KEY or --branch B --all, not both")
        if branch is None:
            raise UsageError("--all needs --branch", hint="aqe artifacts delete --branch feature-x --all")
        if not all_:
            raise UsageError(f"--branch {branch} deletes every document of the branch: add --all to confirm",
                             hint="to delete one run use: aqe artifacts delete KEY")
        if part:
            raise UsageError("--part works with KEY, not with --branch")
        _delete_branch(runtime, branch, doc_type, dry_run, yes, format)
        return
    if key is None:
        raise UsageError("missing KEY", hint="aqe artifacts delete KEY, or aqe artifacts delete --branch B --all")
    keys.check_key(key)
    if part:
        keys.check_part(part)
    store = runtime.store
    targets = [m for m in store.manifests(key, doc_type) if part is None or m.part == part]
    if dry_run:
        if not targets:
            what = "/".join(x for x in (key, doc_type, part) if x)
            raise NotFoundError(f"nothing stored under {what} in {store.location}",
                                hint="check the key with `aqe artifacts list`")
        if format == "json":
            echo_json({"dry_run": True, "deleted": [],
                       "would_delete": [{"key": m.key, "type": m.type, "part": m.part} for m in targets]})
            return
        for m in targets:
            echo(f"would delete {m.key}/{m.type}/{m.part}")
        return
    if targets:
        confirm(f"delete {len(targets)} document(s) of run {key} from {store.location}?", yes)
    removed = store.delete(key, doc_type, part)
    if format == "json":
        echo_json({"deleted": [{"key": m.key, "type": m.type, "part": m.part} for m in removed]})
        return
    for m in removed:
        echo(f"deleted {m.key}/{m.type}/{m.part}")


def _delete_branch(runtime: Runtime, branch: str, doc_type: str | None, dry_run: bool, yes: bool, format: str) -> None:
    from aqe_ci.cli.commands.cleanup import entry_line, require_confirmation_possible
    from aqe_ci.cli.output import human_bytes
    from aqe_ci.retention.cleanup import delete_branch

    require_confirmation_possible(yes, dry_run, f"delete --branch {branch} --all")
    policy = runtime.retention_policy()
    store = runtime.store
    table = format == "table"

    def ask(planned: list[Any]) -> None:
        if yes:
            return
        for e in planned:
            echo(entry_line("delete", e))
        confirm(f"delete {len(planned)} document(s) of {len({e.key for e in planned})} run(s) on branch "
                f"{branch} from {store.location}?", yes)

    result = delete_branch(store, branch, policy=policy, doc_type=doc_type, dry_run=dry_run, confirm=ask,
                           on_delete=(lambda e: echo(entry_line("deleted", e))) if table else None,
                           progress=lambda text: echo(text, err=True))
    if format == "json":
        echo_json(result.as_json())
        return
    docs = result.planned if dry_run else result.deleted
    if dry_run:
        for e in docs:
            echo(entry_line("would delete", e))
    for e, why in result.skipped:
        echo(entry_line(f"skipped ({why})", e))
    verb = "would delete" if dry_run else "deleted"
    echo(f"summary: {verb} {len(docs)} document(s) of {len({e.key for e in docs})} run(s) on branch {branch}, "
         f"{human_bytes(sum(e.stored_size or 0 for e in docs))} stored")
