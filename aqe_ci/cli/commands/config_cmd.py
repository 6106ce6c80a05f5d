"""``aqe config show`` and ``aqe config validate``."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

import click

from aqe_ci.cli.options import format_option
from aqe_ci.cli.output import echo, echo_json
from aqe_ci.config import load_config

if TYPE_CHECKING:
    from aqe_ci.cli.runtime import Runtime


@click.command(epilog="""\b
Examples:
  aqe config show
  aqe --config ci/storage.json config show --format json""")
@format_option("json", "table", default="table")
@click.pass_obj
def show(runtime: Runtime, /, format: str) -> None:
    """Print the effective configuration and where it came from. Secrets are shown as ***."""
    cfg = runtime.config
    if format == "json":
        echo_json({"source": cfg.source, "config": cfg.redacted()})
        return
    echo(f"# source: {cfg.source}")
    echo(json.dumps(cfg.redacted(), indent=2))


@click.command(epilog="""\b
Examples:
  aqe config validate
  aqe config validate config/storage.json
  aqe config validate config/storage.json --format json""")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@format_option("text", "json", default="text")
@click.pass_obj
def validate(runtime: Runtime, /, path: str | None, format: str) -> None:
    """Check a config file against its schema and that every ${VAR} is set. Exit 2 if not."""
    cfg = load_config(path or runtime.config_path, os.environ)
    if format == "json":
        echo_json({"source": cfg.source, "valid": True, "backend": cfg.backend})
        return
    echo(f"ok: {cfg.source} is valid (backend: {cfg.backend})")
