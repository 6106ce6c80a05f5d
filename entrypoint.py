#!/usr/bin/env python3
"""The GitHub action's entrypoint: ``action.yml`` runs it in the container, ``composite/action.yml``
after a pip install. A thin caller of the use cases in ``aqe_ci.app`` (README "GitHub action").

1. Masks every secret (``::add-mask::``) before anything else is printed.
2. Reads the inputs as the runner passes them — ``INPUT_<NAME>`` with spaces turned into ``_``,
   upper-cased, hyphens kept — with @actions/core's rules: values trimmed, booleans exactly
   ``true|True|TRUE|false|False|FALSE``, multi-line inputs split on newlines, empty lines dropped.
3. Runs in ``GITHUB_WORKSPACE`` (joined with ``working-directory``); the CI context (commit, branch,
   PR, base) comes from the runner's variables and the event payload at ``GITHUB_EVENT_PATH``.
4. ``mode``: ``store`` stores the reports; ``compare`` compares the stored run with its baseline and
   writes the job summary, annotations and outputs; ``comment`` does that and comments on the PR;
   ``all`` (default) stores, then comments.
5. ``badges`` (modes ``all`` and ``store``): on a run of the default branch (``badge-on``), the
   badges of the run just stored go to ``badge-dir`` and, with ``badge-publish``, into the store
   under ``badges/<branch>/`` (``aqe_ci.app.badge.badges_for_run``); a badge problem is a warning.

Exit code = step result: 0 success — also when the token may not comment (a fork PR: the comment is
saved to ``comment-file`` instead); 6 a ``fail-on`` gate failed or ``require-baseline`` found none;
2 a bad input or config; 7 an invalid report (nothing stored); 3 the run's documents exist
already; 8 the storage backend is unavailable; 1 anything unexpected.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SECRET_INPUTS = ("github-token", "aws-access-key-id", "aws-secret-access-key", "aws-session-token")
SECRET_ENV = ("GITHUB_TOKEN", "GH_TOKEN", "ACTIONS_RUNTIME_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
              "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
MODES = ("all", "store", "compare", "comment")
#: action input -> key of the config's "s3" section
S3_INPUTS = {"s3-bucket": "bucket", "s3-prefix": "prefix", "s3-region": "region", "s3-endpoint-url": "endpoint_url",
             "s3-addressing-style": "addressing_style", "aws-access-key-id": "access_key_id",
             "aws-secret-access-key": "secret_access_key", "aws-session-token": "session_token"}
DEFAULT_COMMENT_FILE = ".aqe/comment.json"
BADGE_ON = ("default-branch", "branches")  # aqe_ci.app.badge.BADGE_ON (imported only when badges are asked for)
NO_BADGES = ("", "none", "false")  # as aqe_ci.app.badge.parse_badge_types reads them


def input_var(name: str) -> str:
    """The variable the runner sets for input ``name`` (hyphens kept: ``INPUT_GITHUB-TOKEN``)."""
    return "INPUT_" + name.replace(" ", "_").upper()


def mask_secrets(env: Mapping[str, str]) -> None:
    from aqe_ci import secrets

    for name in SECRET_INPUTS:
        secrets.register(env.get(input_var(name), "").strip() or None)
    for name in SECRET_ENV:
        secrets.register(env.get(name, "").strip() or None)


@dataclass(frozen=True)
class Inputs:
    """The action's inputs, parsed (action.yml documents each)."""

    env: Mapping[str, str] = field(repr=False)

    def get(self, name: str) -> str:
        return self.env.get(input_var(name), "").strip()

    def lines(self, name: str) -> list[str]:
        return [line.strip() for line in self.get(name).split("\n") if line.strip()]

    def flag(self, name: str, default: bool) -> bool:
        from aqe_ci.errors import UsageError

        value = self.get(name)
        if not value:
            return default
        if value in ("true", "True", "TRUE"):
            return True
        if value in ("false", "False", "FALSE"):
            return False
        raise UsageError(f"input {name}: {value!r} is not a boolean", hint="use true or false")

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        from aqe_ci.errors import UsageError

        value = self.get(name) or default
        if value not in choices:
            raise UsageError(f"input {name}: {value!r} is not one of {', '.join(choices)}")
        return value


# -- output -------------------------------------------------------------------------------------------
def say(text: str) -> None:
    """One log line: secrets redacted, control characters folded (no workflow command can start)."""
    from aqe_ci import secrets

    clean = "".join(ch if ch.isprintable() else " " for ch in secrets.redact(text))
    print(clean if not clean.startswith("::") else " " + clean, flush=True)


def workflow_command(name: str, message: str, **props: Any) -> None:
    from aqe_ci.publish.github import command

    print(command(name, message, **props), flush=True)


def report_error(message: str) -> None:
    from aqe_ci import secrets

    workflow_command("error", message, title="aqe-artifacts")
    print(f"Error: {secrets.redact(message)}", file=sys.stderr, flush=True)


# -- setup ------------------------------------------------------------------------------------------
def enter_workdir(inputs: Inputs) -> tuple[Path, Path]:
    """``GITHUB_WORKSPACE`` (else the current directory) and the working directory inside it; cd there."""
    from aqe_ci.errors import UsageError

    workspace = Path(inputs.env.get("GITHUB_WORKSPACE") or os.getcwd())
    workdir = workspace / (inputs.get("working-directory") or ".")
    if not workdir.is_dir():
        raise UsageError(f"input working-directory: {workdir} is not a directory")
    os.chdir(workdir)
    return workspace, workdir


def action_config(inputs: Inputs) -> Any:
    """The config file (``config`` input, else AQE_CONFIG / ./config/storage.json / defaults) with the
    ``backend`` and S3 inputs laid over it, validated again as one config."""
    import json

    from aqe_ci.config import load_config, parse_config

    base = load_config(inputs.get("config") or None, inputs.env)
    overrides = {key: inputs.get(name) for name, key in S3_INPUTS.items() if inputs.get(name)}
    backend = inputs.get("backend")
    if not overrides and not backend:
        return base
    data = dict(base.data)
    if backend:
        data["backend"] = backend
    if overrides:
        s3 = data.get("s3")
        data["s3"] = {**(s3 if isinstance(s3, dict) else {}), **overrides}
    return parse_config(json.dumps(data), source=f"{base.source} + action inputs", environ=inputs.env)


def build_forge(inputs: Inputs, workspace: Path, *, client: bool = True) -> Any:
    """The GitHub forge: comments through PyGithub (``client``), and the step's file commands."""
    from aqe_ci.app.forges import DEFAULT_API_URL, GitHubSettings, github_forge

    env = inputs.env
    token = (inputs.get("github-token") or env.get("GITHUB_TOKEN", "").strip() or None) if client else None

    def path(name: str) -> Path | None:
        return Path(env[name]) if env.get(name) else None

    settings = GitHubSettings(token=token, api_url=env.get("GITHUB_API_URL") or DEFAULT_API_URL)
    return github_forge(settings, output_file=path("GITHUB_OUTPUT"), summary_file=path("GITHUB_STEP_SUMMARY"),
                        stream=sys.stdout, workspace=workspace)


def shown_path(path: Path, workspace: Path) -> str:
    """``path`` relative to the workspace when inside it (what a later step of the job can use)."""
    try:
        return str(path.resolve().relative_to(workspace.resolve()))
    except ValueError:
        return str(path)


# -- the steps --------------------------------------------------------------------------------------
def store_reports(inputs: Inputs, store: Any, cfg: Any, ctx: Any, key: str) -> None:
    from aqe_ci.app.store import StoreRequest, store_run
    from aqe_ci.errors import UsageError
    from aqe_ci.model.keys import check_part

    files = inputs.lines("files")
    if not files:
        raise UsageError("input files: no report files given", hint="list report files or globs, one per line")
    part = check_part(inputs.get("part") or "default")
    tags: dict[str, str] = {}
    for item in inputs.lines("tags"):
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"input tags: {item!r} is not NAME=VALUE", hint="one NAME=VALUE per line")
        tags[name.strip()] = value.strip()
    request = StoreRequest(files=tuple(files), key=key, part=part, tags=tags)
    result = store_run(store, request, ctx=ctx, limits=cfg.limits)
    for m in result.stored:
        say(f"stored {m.key}/{m.type}/{m.part} ({m.payload['size']:,} bytes, {m.payload['codec']})")


def compare(inputs: Inputs, store: Any, ctx: Any, key: str, workdir: Path, gates: list[Any]) -> Any:
    """The stored run compared with its baseline (``app.compare.compare_run``) → a typed Comparison."""
    from aqe_ci.app.compare import CompareRequest, compare_run
    from aqe_ci.git import Git

    request = CompareRequest(head_key=key, base_branch=inputs.get("baseline") or None, gates=tuple(gates))
    result = compare_run(store, request, git=Git(workdir), ci=ctx)
    b = result.baseline
    say(f"baseline: {b.key} ({b.method}: {b.reason})" if b.key else f"baseline: none — {b.reason}")
    return result


def write_report(inputs: Inputs, result: Any, workspace: Path) -> str | None:
    name = inputs.get("json-file")
    if not name:
        return None
    from aqe_ci import secrets
    from aqe_ci.model.files import write_atomic
    path = Path(name)
    write_atomic(path, (secrets.redact(c) for c in result.iter_json()))
    return shown_path(path, workspace)


def comment_target(ctx: Any, forge: Any) -> Any:
    """The PR to comment on: the context's, or for ``workflow_run`` the open PR whose head is the commit."""
    from aqe_ci.errors import AqeError
    from aqe_ci.publish.base import CommentTarget

    if not ctx.repository:
        return None
    if ctx.pr:
        return CommentTarget(project=ctx.repository, number=ctx.pr)
    if ctx.event == "workflow_run" and ctx.commit:
        try:
            found = forge.pulls_for_commit(ctx.repository, ctx.commit)
        except AqeError as exc:
            workflow_command("warning", f"no PR to comment on: {exc.one_line()}", title="aqe-artifacts")
            return None
        if found:
            return CommentTarget(project=ctx.repository, number=found[0])
    return None


def publish_options(inputs: Inputs) -> Any:
    """The comment / summary / annotation inputs, checked before any work is done."""
    from aqe_ci.app.publish import DEFAULT_TITLE, PublishOptions
    from aqe_ci.errors import UsageError
    from aqe_ci.publish.base import COMMENT_MODES, COMMENT_ON, marker

    comment_id = inputs.get("comment-id") or "default"
    try:
        marker(comment_id)
    except ValueError as exc:
        raise UsageError(f"input comment-id: {exc}") from None
    return PublishOptions(
        comment_id=comment_id,
        comment_mode=inputs.choice("comment-mode", COMMENT_MODES, "update"),  # type: ignore[arg-type]
        comment_on=inputs.choice("comment-on", COMMENT_ON, "always"),  # type: ignore[arg-type]
        title=inputs.get("comment-title") or DEFAULT_TITLE,
        job_summary=inputs.flag("job-summary", True), annotations=inputs.flag("annotations", True),
        fallback_file=Path(inputs.get("comment-file") or DEFAULT_COMMENT_FILE))


def publish(settings: Settings, forge: Any, result: Any, target: Any, key: str, ctx: Any,
            report_file: str | None, workspace: Path) -> Any:
    from dataclasses import replace

    from aqe_ci.app.publish import publish_run

    options = replace(settings.publish, head_sha=ctx.commit)
    published = publish_run(forge, result, target=target, key=key, options=options, report_file=report_file)
    c = published.comment
    if c.action == "fallback":
        level = "notice" if "HTTP 403" in (c.reason or "") else "warning"
        where = f"; saved to {shown_path(published.fallback_file, workspace)}" if published.fallback_file else ""
        workflow_command(level, f"the PR comment was not posted: {c.reason}{where}", title="aqe-artifacts")
    else:
        say(f"comment: {c.action}" + (f" {c.url}" if c.url else "") + (f" ({c.reason})" if c.reason else ""))
    return published


def badge_request(inputs: Inputs) -> Any:
    """The badge inputs (``badges``, ``badge-on``, ``badge-dir``, ``badge-publish``) → ``app.badge.BadgeRequest``,
    None for ``badges: none`` (the default: every input is still checked, and ``aqe_ci.app.badge`` with
    its rendering is not imported by a step that makes no badge)."""
    on = inputs.choice("badge-on", BADGE_ON, "default-branch")
    publish = inputs.flag("badge-publish", False)
    kinds = inputs.get("badges")
    if kinds.lower() in NO_BADGES:
        return None
    from aqe_ci.app.badge import BadgeRequest

    return BadgeRequest.parse(kinds, on=on, out_dir=Path(inputs.get("badge-dir")) if inputs.get("badge-dir") else None,
                              publish=publish, what="input badges")


def make_badges(request: Any, store: Any, cfg: Any, ctx: Any, forge: Any, workspace: Path) -> None:
    """The branch's badges from the run just stored (``app.badge.badges_for_run``), the log line, a
    warning when something went wrong (never a failed step), the ``badges`` / ``badge-dir`` outputs."""
    from aqe_ci.app.badge import BadgeSettings, badges_for_run

    step = badges_for_run(store, ctx, request, BadgeSettings.from_section(cfg.section("badges")))
    shown = shown_path(request.out_dir, workspace) if request.out_dir is not None else ""
    for level, text in step.messages(request, shown_dir=shown, location=store.location):
        if level == "info":
            say(text)
        else:
            workflow_command(level, text, title="aqe-artifacts: badges")
    forge.set_outputs(step.outputs(shown))


def check_result(settings: Settings, result: Any) -> None:
    """Gate lines in the log, then ``app.compare.check_outcome`` (GateFailed, exit 6)."""
    from aqe_ci.app.compare import check_outcome
    from aqe_ci.errors import GateFailed

    for g in result.gates:
        say(f"gate {g.gate}: {g.status} ({g.message})")
    try:
        check_outcome(result, require_baseline=settings.require_baseline)
    except GateFailed as exc:
        if settings.require_baseline and not result.has_baseline:  # the fix is an input here, not a flag
            raise GateFailed(exc.message, hint="store a run of the base branch first, "
                             "or set require-baseline: false") from None
        raise


@dataclass(frozen=True, kw_only=True)
class Settings:
    """The inputs that steer the step, parsed up front so a bad one fails before any work."""

    mode: str
    gates: list[Any]
    require_baseline: bool
    publish: Any  # aqe_ci.app.publish.PublishOptions
    badges: Any  # aqe_ci.app.badge.BadgeRequest, None without badges

    @classmethod
    def parse(cls, inputs: Inputs) -> Settings:
        from aqe_ci.compare.gates import parse_gates

        return cls(mode=inputs.choice("mode", MODES, "all"), gates=parse_gates(inputs.get("fail-on")),
                   require_baseline=inputs.flag("require-baseline", False), publish=publish_options(inputs),
                   badges=badge_request(inputs))

    @property
    def wants_badges(self) -> bool:
        """Badges come from the run this step stores (modes all and store)."""
        return self.badges is not None and self.mode in ("all", "store")


def run(inputs: Inputs) -> int:
    from aqe_ci.app.root import store_for
    from aqe_ci.context import default_key, detect
    from aqe_ci.model.keys import check_key, utc_now

    settings = Settings.parse(inputs)
    workspace, workdir = enter_workdir(inputs)
    cfg = action_config(inputs)
    ctx = detect(inputs.env, cwd=workdir)
    for warning in ctx.warnings:
        workflow_command("warning", warning, title="aqe-artifacts: CI context")
    key = check_key(inputs.get("key")) if inputs.get("key") else default_key(ctx, utc_now())
    say(f"aqe-artifacts: mode {settings.mode}, key {key}, {ctx.platform or 'no CI'} {ctx.event or ''} "
        f"{ctx.repository or ''} commit {(ctx.commit or '?')[:12]}" + (f" PR #{ctx.pr}" if ctx.pr else ""))
    store = store_for(cfg)  # backend, codec and retention, as the composition root builds every store
    if settings.badges is not None and not settings.wants_badges:
        say(f"badges: none made, mode {settings.mode} stores no run (badges come from modes all and store)")
    if settings.mode == "store":
        store_reports(inputs, store, cfg, ctx, key)
        files = build_forge(inputs, workspace, client=False)
        files.set_outputs({"key": key})
        if settings.wants_badges:
            make_badges(settings.badges, store, cfg, ctx, files, workspace)
        return 0
    # PyGithub takes a good part of a second to import: build the client while the reports are
    # stored and compared (the compression and parsers leave the interpreter free part of the time)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="aqe-forge") as pool:
        pending = pool.submit(build_forge, inputs, workspace)
        if settings.mode == "all":
            store_reports(inputs, store, cfg, ctx, key)
        result = compare(inputs, store, ctx, key, workdir, settings.gates)
        try:
            forge = pending.result()
        except Exception:  # e.g. the import lock's deadlock guard fired in the thread: build it here
            forge = build_forge(inputs, workspace)
    report_file = write_report(inputs, result, workspace)
    target = comment_target(ctx, forge) if settings.mode in ("all", "comment") else None
    publish(settings, forge, result, target, key, ctx, report_file, workspace)
    if settings.wants_badges:
        make_badges(settings.badges, store, cfg, ctx, forge, workspace)
    check_result(settings, result)  # last: a failing gate still leaves the comment, summary and badges
    return 0


def main(environ: Mapping[str, str] | None = None) -> int:
    """Run the action's step; returns the exit code (the step result)."""
    env = dict(os.environ if environ is None else environ)
    started = time.monotonic()
    mask_secrets(env)  # first: nothing may print a secret before the runner knows to mask it
    from aqe_ci.errors import EXIT_FAILURE, AqeError

    try:
        code = run(Inputs(env))
    except AqeError as exc:
        report_error(exc.one_line())
        code = exc.exit_code
    except Exception as exc:  # the last line of defence: one line, no secrets
        report_error(f"unexpected {type(exc).__name__}: {exc} — please report it")
        if env.get("RUNNER_DEBUG") == "1":
            import traceback

            from aqe_ci import secrets

            print(secrets.redact(traceback.format_exc()), file=sys.stderr)
        code = EXIT_FAILURE
    say(f"aqe-artifacts: exit {code} after {time.monotonic() - started:.2f} s")
    return code


if __name__ == "__main__":
    sys.exit(main())
