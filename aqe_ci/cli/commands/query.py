"""``aqe artifacts list`` and ``aqe artifacts get``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from aqe_ci.cli.options import format_option, parse_tags, tag_option
from aqe_ci.cli.output import echo, echo_json, human_bytes, summary_text, write_atomic
from aqe_ci.errors import NotFoundError, UsageError
from aqe_ci.model import keys
from aqe_ci.model.keys import DOC_TYPES
from aqe_ci.render.text import table
from aqe_ci.storage.store import Query

if TYPE_CHECKING:
    from aqe_ci.cli.runtime import Runtime
    from aqe_ci.storage.store import Store


def parse_date(value: str | None, *, end: bool, option: str) -> int | None:
    """YYYY-MM-DD (whole day) or an ISO 8601 time → epoch ms (UTC when no zone is given)."""
    if not value:
        return None
    try:
        if len(value) == 10:
            day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
            ts = day + timedelta(days=1) - timedelta(milliseconds=1) if end else day
        else:
            ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if ts.tzinfo is None:
                ts = ts.replace(tzinfo=UTC)
    except ValueError:
        raise UsageError(f"{option} {value!r} is not a date", hint="use YYYY-MM-DD or an ISO 8601 time") from None
    return keys.to_ms(ts)


def entry_rows(entries: list[Any]) -> list[list[Any]]:
    return [[e.created_at[:19].replace("T", " "), e.key, e.type, e.part, e.branch or "", (e.commit or "")[:12],
             e.pr or "", summary_text(e.type, e.summary), human_bytes(e.stored_size)] for e in entries]


HEADERS = ["CREATED (UTC)", "KEY", "TYPE", "PART", "BRANCH", "COMMIT", "PR", "SUMMARY", "SIZE"]


@click.command("list", epilog="""\b
Examples:
  aqe artifacts list --limit 10
  aqe artifacts list --type coverage --limit 5
  aqe artifacts list --since 2025-11-01 --until 2025-11-12
  aqe artifacts list --branch main --format json
  aqe artifacts list --tag suite=unit

Costs what it returns: one listing of the most selective index, newest first.""")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="At most N documents.")
@click.option("--type", "doc_type", type=click.Choice(DOC_TYPES), help="Only this document type.")
@click.option("--since", metavar="DATE", help="Created on or after (YYYY-MM-DD or ISO time, UTC).")
@click.option("--until", metavar="DATE", help="Created on or before (a date includes the whole day).")
@click.option("--branch", metavar="NAME", help="Only this branch.")
@click.option("--commit", metavar="SHA", help="Only this commit (a prefix of 4+ hex digits works).")
@click.option("--pr", type=click.IntRange(min=1), metavar="N", help="Only this pull/merge request.")
@click.option("--key", metavar="KEY", help="Only this run key.")
@tag_option
@format_option("table", "json", default="table")
@click.pass_obj
def list_cmd(runtime: Runtime, /, limit: int, doc_type: str | None, since: str | None, until: str | None,
             branch: str | None, commit: str | None, pr: int | None, key: str | None, tag: tuple[str, ...],
             format: str) -> None:
    """List stored documents, newest first."""
    if key:
        keys.check_key(key)
    q = Query(type=doc_type, branch=branch, commit=commit, pr=pr, key=key, tags=parse_tags(tag),
              since_ms=parse_date(since, end=False, option="--since"),
              until_ms=parse_date(until, end=True, option="--until"), limit=limit)
    entries = list(runtime.store.list(q))
    if format == "json":
        echo_json({"store": runtime.store.location, "count": len(entries),
                   "artifacts": [e.as_json() for e in entries]})
        return
    if not entries:
        echo(f"no documents match in {runtime.store.location}")
        return
    echo(table(HEADERS, entry_rows(entries)))


@click.command(epilog="""\b
Examples:
  aqe artifacts get build-abc123
  aqe artifacts get build-abc123 --type coverage --output coverage.json
  aqe artifacts get --commit abc123def456
  aqe artifacts get --branch main --latest --type coverage
  aqe artifacts get build-abc123 --format table

With --type the output is the document itself ({"type", "timestamp", "data"}); without it, an
object {"key", ..., "documents": {TYPE: document}}. Every read is checked against its sha256.""")
@click.argument("key", required=False)
@click.option("--commit", metavar="SHA", help="The newest run of this commit.")
@click.option("--branch", metavar="NAME", help="With --latest: the newest run on this branch.")
@click.option("--latest", is_flag=True, help="With --branch: pick the newest run.")
@click.option("--type", "doc_type", type=click.Choice(DOC_TYPES), help="Only this document type.")
@click.option("--part", metavar="NAME", help="Only this part (default: all parts, merged).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the JSON to this file.")
@format_option("json", "table", default="json")
@click.pass_obj
def get(runtime: Runtime, /, key: str | None, commit: str | None, branch: str | None, latest: bool,
        doc_type: str | None, part: str | None, output: str | None, format: str) -> None:
    """Get a run's documents by key, by commit, or the latest on a branch."""
    store = runtime.store
    run_key = resolve_run(store, key=key, commit=commit, branch=branch, latest=latest, doc_type=doc_type)
    manifests = store.manifests(run_key, doc_type)
    if part:
        keys.check_part(part)
        manifests = [m for m in manifests if m.part == part]
    if not manifests:
        what = f"{doc_type} document" if doc_type else "documents"
        raise NotFoundError(f"run {run_key} has no {what}{f' in part {part}' if part else ''} in {store.location}")
    if format == "table":
        rows = [[m.type, m.part, m.created_at, m.branch or "", (m.commit or "")[:12], summary_text(m.type, m.summary),
                 human_bytes(m.payload["stored_size"]), m.payload["sha256"][:12]] for m in manifests]
        echo(f"run {run_key}")
        echo(table(["TYPE", "PART", "CREATED", "BRANCH", "COMMIT", "SUMMARY", "SIZE", "SHA256"], rows))
        return
    by_type: dict[str, list[Any]] = {}
    for m in manifests:
        by_type.setdefault(m.type, []).append(store.load(m))
    documents = {t: merge_parts(t, docs) for t, docs in by_type.items()}
    if doc_type:
        result: Any = documents[doc_type]
    else:
        first = manifests[0]
        result = {"key": run_key, "commit": first.commit, "branch": first.branch, "pr": first.pr,
                  "created_at": min(m.created_at for m in manifests), "documents": documents}
    if output:
        write_atomic(Path(output), [json.dumps(result, indent=2, ensure_ascii=False)])
        echo(f"wrote {output}", err=True)
    else:
        echo_json(result)


def merge_parts(doc_type: str, docs: list[dict[str, Any]]) -> dict[str, Any]:
    if len(docs) == 1:
        return docs[0]
    from aqe_ci.model.merge import merge_documents

    return merge_documents(doc_type, docs)


def resolve_run(store: Store, *, key: str | None, commit: str | None, branch: str | None, latest: bool,
                doc_type: str | None) -> str:
    given = [x for x in (key, commit, branch) if x]
    if len(given) != 1:
        raise UsageError("give exactly one of KEY, --commit SHA or --branch NAME --latest")
    if key:
        return keys.check_key(key)
    if commit:
        entries = store.by_commit(commit, doc_type)
        if not entries:
            raise NotFoundError(f"no run stored for commit {commit} in {store.location}")
        return entries[0].key
    if not latest:
        raise UsageError("--branch needs --latest", hint="aqe artifacts get --branch main --latest")
    assert branch  # the one given
    entry = store.latest(branch=branch, doc_type=doc_type)
    if entry is None:
        raise NotFoundError(f"no run stored for branch {branch} in {store.location}")
    return entry.key
