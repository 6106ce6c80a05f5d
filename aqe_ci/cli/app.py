"""The command tree. Subcommands are imported only when used, so ``aqe --help`` starts fast."""

from __future__ import annotations

from importlib import import_module
from typing import Any

import click

from aqe_ci import __version__

CONTEXT_SETTINGS: dict[str, Any] = {
    "help_option_names": ["-h", "--help"],
    "auto_envvar_prefix": "AQE",
    "show_default": True,
    "max_content_width": 110,
}

#: name -> ("module:attribute", short help). One line per command; modules load lazily.
ARTIFACTS_COMMANDS: dict[str, tuple[str, str]] = {
    "store": ("aqe_ci.cli.commands.store:store", "Validate documents and store them under a run key."),
    "list": ("aqe_ci.cli.commands.query:list_cmd", "List stored documents, newest first."),
    "get": ("aqe_ci.cli.commands.query:get", "Get a run's documents by key, commit or branch."),
    "compare": ("aqe_ci.cli.commands.compare:compare", "Compare a run with another run or with its baseline."),
    "delete": ("aqe_ci.cli.commands.delete:delete", "Delete a run's documents, or every document of a branch."),
    "cleanup": ("aqe_ci.cli.commands.cleanup:cleanup", "Remove expired documents by the retention policy."),
    "schema": ("aqe_ci.cli.commands.schema:schema", "Print the JSON Schema of a document type or the config."),
    "lifecycle": ("aqe_ci.cli.commands.lifecycle:lifecycle", "Print or apply the S3 lifecycle rules for retention."),
    "ingest": ("aqe_ci.cli.commands.ingest:ingest", "Show the normalised document of raw reports (nothing stored)."),
    "badge": ("aqe_ci.cli.commands.badge:badge", "Render a coverage, tests or security badge (SVG or shields.io JSON)."),
    "copy": ("aqe_ci.cli.commands.copy:copy", "Copy stored history from one store to another (any backends)."),
    "comment": ("aqe_ci.cli.commands.comment:comment", "Comment on the pull request (a run, or a saved comment file)."),
    "trend": ("aqe_ci.cli.commands.history:trend", "Show a metric's trend over the last N runs (summaries only)."),
    "flaky": ("aqe_ci.cli.commands.history:flaky", "Find flaky tests in the stored history; write a quarantine list."),
    "report": ("aqe_ci.cli.commands.history:report", "Write a static HTML history site: runs, trends, flaky, compare."),
}
CONFIG_COMMANDS: dict[str, tuple[str, str]] = {
    "show": ("aqe_ci.cli.commands.config_cmd:show", "Print the effective configuration (secrets redacted)."),
    "validate": ("aqe_ci.cli.commands.config_cmd:validate", "Validate a configuration file."),
}
CI_COMMANDS: dict[str, tuple[str, str]] = {
    "gitlab": ("aqe_ci.cli.commands.ci_gitlab:gitlab",
               "The GitLab component's job: store, compare with the baseline, post the MR note."),
}
ROOT_COMMANDS: dict[str, tuple[str, str]] = {
    "execute": ("aqe_ci.cli.commands.execute:execute", "Run the tests and store the reports they produce."),
    "context": ("aqe_ci.cli.commands.context:context", "Show the CI context inferred from the environment."),
    "doctor": ("aqe_ci.cli.commands.doctor:doctor", "Diagnose the CI context, comment target and storage backend."),
}


class LazyGroup(click.Group):
    def __init__(self, *args: Any, lazy: dict[str, tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module, _, attr = self.lazy[cmd_name][0].partition(":")
            return getattr(import_module(module), attr)  # type: ignore[no-any-return]
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            if name in self.lazy:
                rows.append((name, self.lazy[name][1]))
            else:
                cmd = super().get_command(ctx, name)
                if cmd is not None and not cmd.hidden:
                    rows.append((name, cmd.get_short_help_str(limit=80)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """``--version``: the version, and whether the optional C accelerators are in use (a build
    without a compiler, or ``AQE_PURE_PYTHON=1``, runs the slower pure-Python twins)."""
    if not value or ctx.resilient_parsing:
        return
    from aqe_ci import accel

    built = accel.status()
    names = ", ".join(n.rsplit("._", 1)[-1].removesuffix("_c") for n, ok in built.items() if ok) or "none"
    state = f"C accelerators: {names}"
    if accel.disabled():
        state += f" (off: {accel.DISABLE_ENV} is set)"
    elif not all(built.values()):
        state += " (pure-Python twins run for the others)"
    click.echo(f"aqe-artifacts, version {__version__}; {state}")
    ctx.exit()


@click.group(cls=LazyGroup, lazy=ROOT_COMMANDS, context_settings=CONTEXT_SETTINGS,
             epilog="""\b
Examples:
  aqe artifacts store --type coverage --file coverage.json --key build-abc123
  aqe artifacts list --limit 10
  aqe artifacts get build-abc123
  aqe artifacts get --branch main --latest --type coverage
  aqe config show

Exit codes: 0 ok, 1 failure, 2 usage/config, 3 conflict, 4 not found, 5 integrity,
6 gate failed, 7 invalid input, 8 storage backend unavailable.""")
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Show the version and which C accelerators are built, then exit.")
@click.option("--config", "config_path", metavar="PATH", envvar="AQE_CONFIG", show_envvar=True,
              help="Config file (default: ./config/storage.json if present, else built-in defaults).")
@click.option("-v", "--verbose", is_flag=True, envvar="AQE_VERBOSE", show_envvar=True,
              help="Show tracebacks on errors.")
@click.pass_context
def root(ctx: click.Context, config_path: str | None, verbose: bool) -> None:
    """aqe-artifacts: store test results, coverage and security findings in storage you own,
    query their history and compare runs against the right baseline."""
    from aqe_ci.cli.runtime import Runtime

    ctx.obj = Runtime(config_path=config_path, verbose=verbose)


@root.group(cls=LazyGroup, lazy=ARTIFACTS_COMMANDS, epilog="""\b
Examples:
  aqe artifacts store --type test_results --file results.json --key build-abc123
  aqe artifacts list --type coverage --limit 5
  aqe artifacts list --since 2025-11-01 --until 2025-11-12 --format json
  aqe artifacts get --commit abc123def456
  aqe artifacts delete build-abc123 --yes""")
@click.option("--config", "config_path", metavar="PATH", help="Config file (overrides the global --config).")
@click.pass_context
def artifacts(ctx: click.Context, config_path: str | None) -> None:
    """Store, query, compare and clean up stored documents."""
    if config_path:
        ctx.obj.config_path = config_path


@root.group(cls=LazyGroup, lazy=CONFIG_COMMANDS, name="config", epilog="""\b
Examples:
  aqe config show
  aqe config show --format json
  aqe config validate config/storage.json""")
def config_group() -> None:
    """Show and validate the storage configuration."""


@root.group(cls=LazyGroup, lazy=CI_COMMANDS, name="ci", epilog="""\b
Examples:
  aqe ci gitlab --file junit.xml --file coverage.xml
  aqe ci gitlab --file 'reports/*.xml' --fail-on "new_failures>0" --comment-on regressions""")
def ci_group() -> None:
    """Run as a CI job: store the run, compare it with its baseline and publish, in one step."""
