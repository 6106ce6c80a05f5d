"""``aqe execute``: run the tests, collect the reports they wrote, store them, exit with their code."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import click

from aqe_ci.cli.options import context_options, parse_tags, tag_option
from aqe_ci.cli.output import echo, summary_text
from aqe_ci.errors import AqeError, UsageError
from aqe_ci.model.keys import check_key, check_part


def default_command(path: str, reports: Path) -> list[str]:
    """pytest writing JUnit XML, plus Cobertura coverage when pytest-cov is installed."""
    cmd = [sys.executable, "-m", "pytest", path, f"--junitxml={reports / 'junit.xml'}", "-o",
           "junit_family=xunit2"]
    if importlib.util.find_spec("pytest_cov") is not None:
        cmd += ["--cov", "--cov-branch", f"--cov-report=xml:{reports / 'coverage.xml'}"]
    return cmd


def collect_reports(reports_dir: Path, patterns: tuple[str, ...]) -> list[str]:
    found = [str(p) for p in sorted(reports_dir.rglob("*")) if p.is_file()]
    return found + list(patterns)


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
  aqe execute --store-artifacts --metadata '{"suite": "unit"}'
  aqe execute --store-artifacts --report 'build/test-results/**/*.xml' -- ./gradlew test
  aqe execute --store-artifacts -- npx jest --ci --reporters=jest-junit

Without a command after --, runs `python -m pytest PATH` writing JUnit XML (and Cobertura
coverage when pytest-cov is installed) to a temp directory. A command given after -- can write
its reports into $AQE_REPORTS_DIR, or name them with --report. Exits with the tests' exit code;
when the tests passed but storing failed, exits with the storing error's code.""")
@click.argument("path", required=False, default=None)
@click.option("--store-artifacts", is_flag=True, help="Store the reports the run produced.")
@click.option("--artifact-key", "--key", "artifact_key", metavar="KEY",
              help="Run key (default: derived from the CI context, printed).")
@click.option("--part", default="default", show_default=True, metavar="NAME", help="Part name (matrix legs).")
@click.option("--metadata", metavar="JSON", help="JSON object of user metadata kept in the manifests.")
@click.option("--report", "report", multiple=True, metavar="GLOB",
              help="Report files the command writes (repeatable); $AQE_REPORTS_DIR is always collected.")
@tag_option
@context_options
@click.pass_obj
def execute(runtime: Any, path: str | None, store_artifacts: bool,
            artifact_key: str | None, part: str, metadata: str | None, report: tuple[str, ...],
            tag: tuple[str, ...], **ctx_flags: Any) -> int:
    """Run the tests, then store the test results and coverage they produced."""
    from aqe_ci.cli.commands.store import collect_documents, parse_metadata, put_all

    check_part(part)
    meta = parse_metadata(metadata)
    tags = parse_tags(tag)
    if artifact_key:
        check_key(artifact_key)
    command: list[str] = click.get_current_context().meta.get("aqe.command", [])
    with tempfile.TemporaryDirectory(prefix="aqe-exec-") as tmp:
        reports_dir = Path(tmp) / "reports"
        reports_dir.mkdir()
        if command:
            cmd = list(command)
        else:
            target = path or ("tests" if Path("tests").is_dir() else ".")
            cmd = default_command(target, reports_dir)
        echo(f"aqe: running {' '.join(cmd)}", err=True)
        env = dict(os.environ, AQE_REPORTS_DIR=str(reports_dir))
        try:
            rc = subprocess.run(cmd, env=env).returncode
        except FileNotFoundError:
            raise UsageError(f"command not found: {cmd[0]}") from None
        echo(f"aqe: tests exited with {rc}", err=True)
        files = collect_reports(reports_dir, report)
        if not store_artifacts:
            return rc
        if not files:
            echo("aqe: the run produced no reports to store (write them to $AQE_REPORTS_DIR or name them "
                 "with --report)", err=True)
            return rc or 7
        ctx = runtime.ci_context(**ctx_flags)
        key = artifact_key or runtime.default_key(ctx)
        try:
            docs = collect_documents(files, doc_type=None, fmt="auto", limits=runtime.config.limits,
                                     workdir=Path(tmp) / "work")
            stored = put_all(runtime.store, docs, key=key, part=part, ctx=ctx, tags=tags, metadata=meta,
                             overwrite=False)
        except AqeError as exc:
            if rc:
                echo(f"Error: {exc.one_line()}", err=True)
                return rc
            raise
        for m in stored:
            echo(f"stored {m.key}/{m.type}/{m.part}: {summary_text(m.type, m.summary)}")
        echo(f"key: {key}")
    return rc
