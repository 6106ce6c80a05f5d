"""``aqe execute``: run the tests with the project's runner, store the reports they wrote (aqe_ci.app.execute)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from aqe_ci.cli.options import format_option, parse_tags, run_options
from aqe_ci.cli.output import echo, echo_json, summary_text
from aqe_ci.model.keys import check_key, check_part
from aqe_ci.model.runinput import check_context_flags, parse_metadata

if TYPE_CHECKING:
    from aqe_ci.cli.runtime import Runtime
    from aqe_ci.model.context import CiContext


class CommandAfterDashes(click.Command):
    """Everything after the first ``--`` is the test command, untouched by option parsing."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args:
            i = args.index("--")
            ctx.meta["aqe.command"] = args[i + 1:]
            args = args[:i]
        return super().parse_args(ctx, args)


@click.command(cls=CommandAfterDashes, epilog="""\b
Examples:
  aqe execute tests/ --store-artifacts --artifact-key "build-$CI_COMMIT_SHA"
  aqe execute tests/ --coverage --store-artifacts
  aqe execute tests/ --python .venv/bin/python --store-artifacts
  aqe execute --store-artifacts --metadata '{"branch": "main", "pr": ""}'
  aqe execute --store-artifacts --report 'build/test-results/**/*.xml' -- ./gradlew test
  aqe execute --store-artifacts -- npx jest --ci --reporters=jest-junit
  aqe execute tests/ --store-artifacts --format json > run.json

\b
Without a command after --, runs `python -m pytest PATH` with the project's interpreter: --python
(or AQE_EXECUTE_PYTHON), else the active virtualenv, else the interpreter of `pytest` on PATH, else
python3/python on PATH, else aqe's own; the first with pytest runs, and is named on stderr.
JUnit XML goes to a temp folder; --coverage adds that environment's pytest-cov (or coverage.py)
and writes Cobertura XML to ./coverage.xml. A command after -- runs as given and writes its
reports into $AQE_REPORTS_DIR, or names them with --report. --format json prints one JSON object
(the command, its exit code, the coverage XML written, and the run key, store and documents as
`aqe artifacts store --output-format json` reports them) and sends the tests' own output to stderr.

\b
Exit codes: the tests' own code when they ran and their reports were stored (or storing was
not asked for); 2 when the tests could not start (no pytest, no pytest-cov for --coverage, the
command not found); 7 when --store-artifacts found no report (or a malformed one); when storing
fails, its code (3 conflict, 8 backend unavailable, ...). Nothing is stored partly.""")
@click.argument("path", required=False, default=None)
@click.option("--store-artifacts", is_flag=True, help="Store the reports the run produced.")
@click.option("--coverage", is_flag=True,
              help="Measure coverage with the project's pytest-cov (or coverage.py): ./coverage.xml, and "
                   "the coverage document when storing.")
@click.option("--python", "python", metavar="PATH", envvar="AQE_EXECUTE_PYTHON", show_envvar=True,
              help="Interpreter (or virtualenv folder) that runs pytest (default: the active virtualenv, "
                   "then pytest / python on PATH, then aqe's own).")
@click.option("--report", "report", multiple=True, metavar="GLOB",
              help="Report files the command writes (repeatable); $AQE_REPORTS_DIR is always collected.")
@run_options
@format_option("table", "json", default="table")
@click.pass_obj
def execute(runtime: Runtime, /, path: str | None, store_artifacts: bool, coverage: bool, python: str | None,
            report: tuple[str, ...], key: str | None, part: str, metadata: str | None, tag: tuple[str, ...],
            format: str, **ctx_flags: str | int | None) -> int:
    """Run the tests, then store the test results and coverage they produced."""
    from aqe_ci.app import execute as use_case

    click_ctx = click.get_current_context()
    command: list[str] = click_ctx.meta.get("aqe.command", [])
    use_case.check_usage(command=command, python=python, coverage=coverage)
    check_part(part)
    meta = parse_metadata(metadata)
    tags = parse_tags(tag)
    if key:
        check_key(key)
    # every value is checked, and the run key fixed, before the tests run
    run_ctx = runtime.ci_context(ctx_flags, metadata=meta) if store_artifacts else None
    if run_ctx is None:
        check_context_flags(ctx_flags)
    run_key = (key or runtime.default_key(run_ctx)) if run_ctx is not None else None
    runner = None if command else _default_runner(use_case, click_ctx, python, coverage)
    stored: list[Any] = []
    with tempfile.TemporaryDirectory(prefix="aqe-exec-") as tmp:
        reports_dir = Path(tmp) / "reports"
        reports_dir.mkdir()
        if runner is not None:
            target = path or ("tests" if Path("tests").is_dir() else ".")
            commands = use_case.pytest_commands(runner, target, reports_dir)
        else:
            commands = [command]
        execution = use_case.run_tests(commands, reports_dir, os.environ, default_run=runner is not None,
                                       patterns=report, say=lambda text: echo(text, err=True),
                                       stdout=2 if format == "json" else None)  # JSON alone on stdout
        echo(f"aqe: tests exited with {execution.meaning()}", err=True)
        written = _publish_coverage(use_case, execution) if coverage else None
        if run_ctx is not None and run_key is not None:
            stored = _store(runtime, use_case, execution, coverage=coverage, key=run_key, part=part, ctx=run_ctx,
                            tags=tags, metadata=meta, quiet=format == "json")
    if format == "json":
        _report_json(runtime, commands[0], execution, written, run_key, stored)
    return execution.exit_code


def _default_runner(use_case: Any, click_ctx: click.Context, python: str | None, coverage: bool) -> Any:
    """The interpreter that runs the default ``pytest`` (named on stderr, with the ones passed over)."""
    source = click_ctx.get_parameter_source("python")
    origin = use_case.ENV_PYTHON if source == click.core.ParameterSource.ENVIRONMENT else "--python"
    runner = use_case.resolve_runner(os.environ, explicit=(python, origin) if python else None, coverage=coverage)
    for skipped in runner.passed_over:
        if skipped.origin.startswith("the active virtualenv"):
            echo(f"aqe: note: {skipped.where()} {skipped.error or 'has no pytest'}; using the next one", err=True)
    echo(runner.describe(), err=True)
    return runner


def _report_json(runtime: Runtime, command: list[str], execution: Any, coverage_xml: Path | None,
                 key: str | None, stored: list[Any]) -> None:
    """``--format json``: the test command, its exit code, and what was stored, as ``store`` prints it."""
    from aqe_ci.cli.commands.store import stored_json

    documents = stored_json(stored, key, runtime.store.location) if key is not None else \
        {"key": None, "store": None, "documents": []}
    echo_json({"command": list(command), "exit_code": execution.exit_code, "meaning": execution.meaning(),
               "coverage_report": str(coverage_xml) if coverage_xml is not None else None, **documents})


def _publish_coverage(use_case: Any, execution: Any) -> Path | None:
    written: Path | None = use_case.publish_coverage_xml(execution, Path(use_case.COVERAGE_NAME))
    if written is None:
        echo("aqe: warning: the run wrote no coverage report", err=True)
    else:
        echo(f"aqe: wrote {written}", err=True)
    return written


def _store(runtime: Runtime, use_case: Any, execution: Any, *, coverage: bool, key: str, part: str, ctx: CiContext,
           tags: dict[str, str], metadata: dict[str, Any], quiet: bool = False) -> list[Any]:
    """Store every report of the run, or nothing; an error here is the command's exit code. ``quiet``:
    no lines on stdout (``--format json`` prints what was stored instead)."""
    from aqe_ci.app.store import StoreRequest, store_run
    from aqe_ci.cli.commands.store import notify_stored

    if not execution.reports:
        raise use_case.nothing_produced(execution)
    if coverage and execution.coverage_report is None:
        raise use_case.NoReports("--coverage: the run wrote no coverage report", hint="nothing was stored")
    request = StoreRequest(files=tuple(str(r) for r in execution.reports), key=key, part=part, metadata=metadata,
                           tags=tags)
    result = store_run(lambda: runtime.store, request, ctx=ctx, limits=runtime.config.limits)
    if not quiet:
        for m in result.stored:
            echo(f"stored {m.key}/{m.type}/{m.part}: {summary_text(m.type, m.summary)}")
        echo(f"key: {key}")
    notify_stored(runtime, ctx, key, result.stored)
    return list(result.stored)
