"""``aqe ci gitlab``: the GitLab CI/CD component's job — store, compare, post the MR note, in one step."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import click

from aqe_ci.cli.options import parse_tags, tag_option
from aqe_ci.cli.output import echo
from aqe_ci.publish.base import COMMENT_MODES, COMMENT_ON


@click.command(epilog="""\b
Examples:
  aqe ci gitlab --file junit.xml --file coverage.xml
  aqe ci gitlab --file 'reports/**/*.xml' --fail-on "coverage_drop>0.5,new_failures>0"
  aqe ci gitlab --file junit.xml --backend s3 --comment-on regressions
  aqe ci gitlab --file junit.xml --key "pipeline-$CI_PIPELINE_ID" --part "node-$CI_NODE_INDEX"
  aqe ci gitlab --file junit.xml --file coverage.xml --badges all --badge-publish
  AQE_CI_GITLAB_FILE="junit.xml coverage.xml" aqe ci gitlab     # how the component calls it

\b
Inside a GitLab job: stores the reports under the run key (default gl-<CI_JOB_ID>), compares the
run with its baseline (the merge-base run, CI_MERGE_REQUEST_DIFF_BASE_SHA), posts or updates one
sticky note on the merge request, and writes into --out-dir: aqe.env (dotenv report: AQE_KEY,
AQE_COVERAGE, AQE_COVERAGE_CHANGE, AQE_PATCH_COVERAGE, AQE_TESTS, AQE_FAILED, AQE_NEW_FAILURES, AQE_FIXED,
AQE_NEW_SECURITY, AQE_GATES, AQE_BASELINE_KEY, AQE_BASELINE_SHA, AQE_COMMENT_ID, AQE_COMMENT_URL,
AQE_COMMENT_FILE, AQE_REPORT_FILE), comparison.json, summary.md, note.md (when the note was not
posted), gl-code-quality-report.json, reports/junit/, reports/coverage/ (the raw reports for
artifacts:reports) and, with --badges on a default-branch pipeline, badges/<type>.svg and .json
(AQE_BADGES, AQE_BADGE_DIR; --badge-publish also stores them under badges/<branch>/). The note token is gitlab.token or the masked variable --token-env names
(CI_JOB_TOKEN cannot write notes); without one, on a fork MR running in the fork, or when GitLab
refuses, the note goes to note.md and the job log and the job succeeds.
Exit codes: as `aqe artifacts store`, plus 6 when a --fail-on gate fails (after the note is posted).""")
@click.option("--file", "file", multiple=True, required=True, metavar="PATH",
              help="Report or document to store; repeatable; globs (quoted). From the environment: "
                   "space-separated.")
@click.option("--key", metavar="KEY", help="Run key (default: gl-<CI_JOB_ID>, from the CI context).")
@click.option("--part", default="default", show_default=True, metavar="NAME", help="Part name (matrix legs).")
@tag_option
@click.option("--backend", type=click.Choice(["auto", "gitlab", "s3", "local"]), default="auto",
              show_default=True, help="Storage backend. auto: the config file's when one is used, else gitlab "
                                      "(this project's package registry).")
@click.option("--overwrite", is_flag=True, help="Replace documents that exist under the key.")
@click.option("--fail-on", metavar="GATES", help='Quality gates, e.g. "coverage_drop>0.5,new_failures>0" (exit 6).')
@click.option("--baseline", metavar="BRANCH", help="Base branch (default: the MR's target branch).")
@click.option("--require-baseline", is_flag=True, help="Exit 6 when no baseline run is found.")
@click.option("--comment-mode", type=click.Choice(COMMENT_MODES), default="update", show_default=True,
              help="update the sticky note, recreate it at the bottom, post a new one each time, or off.")
@click.option("--comment-on", type=click.Choice(COMMENT_ON), default="always", show_default=True,
              help="Post only when: always, there are changes, tests fail, or something regressed.")
@click.option("--comment-id", default="default", show_default=True, metavar="ID",
              help="Sticky note id (one note per MR and id).")
@click.option("--title", default="aqe-artifacts: quality report", show_default=True, help="Note heading.")
@click.option("--max-rows", type=click.IntRange(min=0), default=100, show_default=True,
              help="Rows per detail table in the note (0: no cap; the 1,000,000-character limit still applies).")
@click.option("--token-env", default="AQE_GITLAB_TOKEN", show_default=True, metavar="VAR",
              help="The masked CI/CD variable holding the access token for MR notes.")
@click.option("--out-dir", type=click.Path(file_okay=False), default=".aqe", show_default=True,
              help="Where the dotenv report, the note, the comparison and the raw reports go.")
@click.option("--coverage-format", type=click.Choice(["cobertura", "jacoco"]), default="cobertura",
              show_default=True, help="Which coverage reports to copy for artifacts:reports:coverage_report.")
@click.option("--artifacts-expire-in", metavar="DURATION",
              help="The job's artifacts:expire_in; a warning says when it differs from retention.test_results.")
@click.option("--git-dir", type=click.Path(file_okay=False), default=".", show_default=True,
              help="The checkout, for merge-bases.")
@click.option("--badges", "badges", default="none", show_default=True, metavar="TYPES",
              help="Badges of the run stored: none, all, or a comma list of coverage,tests,security; written "
                   "to OUT_DIR/badges/<type>.svg and .json (shields.io endpoint) on default-branch pipelines.")
@click.option("--badge-on", type=click.Choice(["default-branch", "branches"]), default="default-branch",
              show_default=True, help="Which pipelines make badges: the default branch's, or every branch's "
                                      "(never MR or tag pipelines).")
@click.option("--badge-publish", is_flag=True, help="Also put the badges into the store under badges/<branch>/.")
@click.pass_obj
def gitlab(runtime: Any, file: tuple[str, ...], key: str | None, part: str, tag: tuple[str, ...], backend: str,
           overwrite: bool, fail_on: str | None, baseline: str | None, require_baseline: bool, comment_mode: str,
           comment_on: str, comment_id: str, title: str, max_rows: int, token_env: str, out_dir: str,
           coverage_format: str, artifacts_expire_in: str | None, git_dir: str, badges: str, badge_on: str,
           badge_publish: bool) -> None:
    """Store the run's reports, compare with the baseline, post one sticky MR note (GitLab CI)."""
    from aqe_ci.app.badge import BadgeRequest
    from aqe_ci.app.forges import gitlab_forge, gitlab_settings
    from aqe_ci.app.gitlab_ci import JobOptions, comment_target, compare_and_publish
    from aqe_ci.compare.gates import parse_gates
    from aqe_ci.context.gitlab import gitlab_job
    from aqe_ci.model.keys import check_key, check_part
    from aqe_ci.render.markdown import marker

    check_part(part)
    marker(comment_id)
    parse_gates(fail_on)  # a malformed gate fails before anything is stored
    out = Path(out_dir)
    badge_request = BadgeRequest.parse(badges, on=badge_on, out_dir=out / "badges", publish=badge_publish,
                                       what="--badges")
    cfg = runtime.config
    store = _store(cfg, backend)
    ctx = runtime.ci_context()
    run_key = check_key(key) if key else runtime.default_key(ctx)
    _check_expiry(cfg, artifacts_expire_in)
    _store_reports(cfg, store, ctx, run_key, files=file, part=part, tags=parse_tags(tag), overwrite=overwrite,
                   out=out, coverage_format=coverage_format)
    job = gitlab_job(os.environ)
    settings = gitlab_settings(cfg.section("gitlab"), os.environ, api_url=job.api_url, token_env=token_env)
    forge = gitlab_forge(settings, job, out_dir=out)
    options = JobOptions(out_dir=out, comment_id=comment_id, comment_mode=comment_mode,  # type: ignore[arg-type]
                         comment_on=comment_on, title=title, max_rows=max_rows or None,  # type: ignore[arg-type]
                         fail_on=fail_on, baseline=baseline)
    result = compare_and_publish(store, forge, key=run_key, ctx=ctx, target=comment_target(job), options=options,
                                 git_dir=Path(git_dir))
    _report(result)
    _notify(cfg, "compared", store=store.location, result=result)
    if badge_request.kinds:
        _badges(cfg, store, ctx, forge, badge_request)
    _finish(result, require_baseline)  # last: a failing gate still leaves the note, the reports and the badges


def _store_reports(cfg: Any, store: Any, ctx: Any, run_key: str, *, files: tuple[str, ...], part: str,
                   tags: dict[str, str], overwrite: bool, out: Path, coverage_format: str) -> None:
    """Store every report under the run key (all or nothing), then copy the raw ones for artifacts:reports."""
    from aqe_ci.app.gitlab_ci import copy_raw_reports
    from aqe_ci.app.store import collect_documents, put_all

    with tempfile.TemporaryDirectory(prefix="aqe-ci-") as tmp:
        docs = collect_documents(list(files), doc_type=None, fmt="auto", limits=cfg.limits, workdir=Path(tmp))
        stored = put_all(store, docs, key=run_key, part=part, ctx=ctx, tags=tags, metadata={}, overwrite=overwrite)
    for m in stored:
        echo(f"stored {m.key}/{m.type}/{m.part} in {store.location}")
    _notify(cfg, "stored", store=store.location, key=run_key, ctx=ctx, stored=stored)
    copy_raw_reports([s for d in docs.values() if not isinstance(d, dict) for s in d.sources], out,
                     coverage_format=coverage_format)


def _badges(cfg: Any, store: Any, ctx: Any, forge: Any, request: Any) -> None:
    """The branch's badges from the run just stored; a problem is a warning, never the job's result."""
    from aqe_ci.app.badge import BadgeSettings, badges_for_run

    step = badges_for_run(store, ctx, request, BadgeSettings.from_section(cfg.section("badges")))
    for level, text in step.messages(request, shown_dir=str(request.out_dir), location=store.location):
        if level == "info":
            echo(text)
        else:
            echo(f"{'Note' if level == 'notice' else 'Warning'}: {text}", err=True)
    forge.set_outputs(step.outputs(str(request.out_dir)))


def _store(cfg: Any, backend: str) -> Any:
    from aqe_ci.storage.factory import build_backend
    from aqe_ci.storage.store import Store

    if backend == "auto":
        backend = cfg.backend if cfg.source != "built-in defaults" else "gitlab"
    name = backend
    return Store(build_backend(name, cfg.section(name)), codec=cfg.codec)


def _notify(cfg: Any, what: str, *, store: str, key: str = "", ctx: Any = None, stored: Any = (),
            result: Any = None) -> None:
    """The config's webhooks (``notify``), as `aqe artifacts store` and `compare` send them."""
    from aqe_ci.app.notify import compared_events, notifier_from_config, send_events, stored_events

    notifier = notifier_from_config(cfg.section("notify"))
    if notifier is None:
        return
    if what == "stored":
        run = {k: getattr(ctx, k, None) for k in ("commit", "branch", "pr", "platform", "repository", "run_url")}
        events = stored_events(store=store, key=key, run=run,
                               documents=[{"type": m.type, "part": m.part, "summary": m.summary} for m in stored])
    else:
        events = compared_events(store=store, comparison=result.result.comparison_json(), gates=result.gates)
    send_events(notifier, events, lambda line: echo(line, err=True))


def _check_expiry(cfg: Any, expire_in: str | None) -> None:
    from aqe_ci.app.gitlab_ci import expire_in_days

    days = expire_in_days(expire_in) if expire_in else None
    if days is None:
        return
    keep = cfg.retention_days("test_results")
    if abs(days - keep) >= 1:
        echo(f"Warning: artifacts:expire_in is {expire_in} but retention.test_results in {cfg.source} keeps "
             f"{keep} days — set the component's artifacts-expire-in input to \"{keep} days\"", err=True)


def _report(result: Any) -> None:
    c = result.published.comment
    if c.action == "fallback":
        echo(f"MR note not posted: {c.reason}; saved to {result.note_file}", err=True)
    elif c.url:
        echo(f"MR note {c.action}: {c.url}")
    else:
        echo(f"MR note {c.action}{f': {c.reason}' if c.reason else ''}")
    base = result.result.baseline
    echo(f"baseline: {base.run.key if base.run else 'none'} ({base.method}: {base.reason})")


def _finish(result: Any, require_baseline: bool) -> None:
    from aqe_ci.app.compare import check_outcome

    check_outcome(result.result, require_baseline=require_baseline)
