"""``aqe doctor``: what aqe infers about this run, why, where the comment would go, and whether the
storage backend answers — the first thing to run when a comment lands in the wrong place."""

from __future__ import annotations

import os
import time
from typing import Any

import click

from aqe_ci.cli.options import context_options, format_option
from aqe_ci.cli.output import echo, echo_json
from aqe_ci.render.text import table

FIELDS = ("platform", "event", "repository", "commit", "merge_commit", "branch", "tag", "pr", "base_branch",
          "base_sha", "default_branch", "run_url")


@click.command(epilog="""\b
Examples:
  aqe doctor
  aqe doctor --format json
  aqe --config config/storage.json doctor

Prints the inferred platform, repository, commit, branch, PR, base branch and base sha with
the variable or event-payload field each came from, the run key, where a PR comment would be
posted and why, and whether the storage backend answers (one small listing). Exit 0, or 8 when
the backend is unreachable; a config error is exit 2 as everywhere.""")
@context_options
@format_option("table", "json", default="table")
@click.pass_obj
def doctor(runtime: Any, format: str, **overrides: Any) -> None:
    """Diagnose the CI context, the comment target and the storage backend."""
    from aqe_ci.errors import BackendError

    ctx = runtime.ci_context(overrides)
    report = {"context": {f: getattr(ctx, f) for f in FIELDS},
              "sources": {f: ctx.sources[f] for f in FIELDS if f in ctx.sources},
              "run_key": runtime.default_key(ctx), "comment": comment_target(ctx), "token": token_source(),
              "backend": probe_backend(runtime), "warnings": list(ctx.warnings)}
    if format == "json":
        echo_json(report)
    else:
        print_report(report)
    if not report["backend"]["reachable"]:
        raise BackendError(f"storage backend {report['backend']['location']} is unreachable: "
                           f"{report['backend']['error']}")


def comment_target(ctx: Any) -> dict[str, Any]:
    """Where ``aqe artifacts comment`` / the action would post, and the reason."""
    if not ctx.repository:
        return {"target": None, "why": "no repository known (GITHUB_REPOSITORY / git remote)"}
    if ctx.pr:
        return {"target": f"{ctx.repository}#{ctx.pr}",
                "why": f"the PR number from {ctx.sources.get('pr', 'the context')}"}
    if ctx.event == "workflow_run" and ctx.commit:
        return {"target": f"{ctx.repository}: the open PR whose head is {ctx.commit[:12]}",
                "why": "workflow_run lists no pull request (a fork?): looked up on GitHub by the head sha"}
    return {"target": None, "why": f"this run belongs to no pull request (event {ctx.event or 'unknown'})"}


def token_source() -> str:
    """Which variable holds a GitHub token (never the token)."""
    for name in ("INPUT_GITHUB-TOKEN", "GITHUB_TOKEN", "GH_TOKEN"):
        if os.environ.get(name, "").strip():
            return name
    return "none: comments cannot be posted (set GITHUB_TOKEN or the github-token input)"


def probe_backend(runtime: Any) -> dict[str, Any]:
    from aqe_ci.errors import AqeError
    from aqe_ci.storage.store import Query

    cfg = runtime.config
    out: dict[str, Any] = {"backend": cfg.backend, "config": cfg.source, "location": cfg.backend,
                           "reachable": False, "error": None, "seconds": None}
    started = time.monotonic()
    try:
        store = runtime.store
        out["location"] = store.location
        found = list(store.list(Query(limit=1)))
        out["reachable"] = True
        out["newest"] = found[0].key if found else None
    except AqeError as exc:
        if exc.exit_code == 2:  # a config error is the user's to fix, not "unreachable"
            raise
        out["error"] = exc.one_line()
    out["seconds"] = round(time.monotonic() - started, 3)
    return out


def print_report(r: dict[str, Any]) -> None:
    rows = [(f, "-" if v is None else v, r["sources"].get(f, "")) for f, v in r["context"].items()]
    echo(table(("field", "value", "from"), rows))
    echo(f"\nrun key:  {r['run_key']} (default: derived from the context)")
    c = r["comment"]
    echo(f"comment:  {c['target'] or 'not posted'} — {c['why']}")
    echo(f"token:    {r['token']}")
    b = r["backend"]
    state = (f"reachable ({b['seconds']} s; newest run {b.get('newest') or 'none stored yet'})" if b["reachable"]
             else f"UNREACHABLE: {b['error']}")
    echo(f"backend:  {b['backend']} at {b['location']} — {state}")
    echo(f"config:   {b['config']}")
    for w in r["warnings"]:
        echo(f"warning:  {w}")
