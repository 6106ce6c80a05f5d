"""``aqe artifacts badge``: an SVG or shields.io endpoint badge of the newest run on a branch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from aqe_ci.cli.output import echo, echo_json, write_atomic
from aqe_ci.errors import UsageError

if TYPE_CHECKING:
    from aqe_ci.cli.runtime import Runtime

KINDS = ("coverage", "tests", "security")  # aqe_ci.app.badge.KINDS (not imported: --help stays light)


@click.command(epilog="""\b
Examples:
  aqe artifacts badge --type coverage --output badge.svg
  aqe artifacts badge --type tests --branch main --format shields --output tests.json
  aqe artifacts badge --all --output-dir public/badges
  aqe artifacts badge --type coverage --publish

\b
The figures are those of the newest run of the type on the branch (parts merged). The
coverage colour scale and the labels come from the config's "badges" section. --publish
also writes the SVG and the shields JSON into the store under badges/<branch>/<type>.*
(retention never removes them). README snippets: docs/badges.md.""")
@click.option("--type", "kind", type=click.Choice(KINDS), default="coverage", help="What the badge shows.")
@click.option("--branch", metavar="NAME", help="Branch whose newest run is shown (default: the repository's "
              "default branch from the CI context, else main).")
@click.option("--label", metavar="TEXT", help="Left-hand text (default: the config's badges.labels, else the type).")
@click.option("--format", "fmt", type=click.Choice(["svg", "shields", "json"]), default="svg",
              help="svg: the badge; shields: a shields.io endpoint JSON; json: the figures and both.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
@click.option("--all", "all_kinds", is_flag=True, help="Every type that has a run, both formats, into --output-dir.")
@click.option("--output-dir", type=click.Path(file_okay=False), help="With --all: the folder to write into.")
@click.option("--publish", is_flag=True, help="Also store the SVG and shields JSON under badges/<branch>/.")
@click.pass_obj
def badge(runtime: Runtime, /, kind: str, branch: str | None, label: str | None, fmt: str, output: str | None,
          all_kinds: bool, output_dir: str | None, publish: bool) -> None:
    """Render a status badge of the newest coverage, test or security run on a branch."""
    from aqe_ci.app.badge import (
        BadgeSettings,
        check_publishable,
        publish_badges,
        render_badges,
        write_badge_files,
    )

    if all_kinds != bool(output_dir):
        raise UsageError("--all and --output-dir go together", hint="aqe artifacts badge --all --output-dir public/badges")
    settings = BadgeSettings.from_section(runtime.config.section("badges"))  # checked by the config schema
    branch = branch or _default_branch(runtime)
    if publish:
        check_publishable(runtime.store)
    made, missing = render_badges(runtime.store, branch, KINDS if all_kinds else (kind,), settings=settings,
                                  label=label, skip_missing=all_kinds)
    for k in missing:
        echo(f"no {k} run on {branch}: no {k} badge", err=True)
    if publish:
        for name in publish_badges(runtime.store, branch, made)[::2]:
            echo(f"published {name} and .json in {runtime.store.location}", err=True)
    if output_dir:
        written = write_badge_files(Path(output_dir), made)
        if written:
            echo("wrote " + ", ".join(str(p) for p in written), err=True)
        return
    for b in made:
        _emit(fmt, output, b.svg, b.shields, b.result)


def _emit(fmt: str, output: str | None, svg: str, shields: dict[str, Any], result: Any) -> None:
    if fmt == "json":
        data = {"type": result.kind, "branch": result.branch, "key": result.key, "commit": result.commit,
                "summary": dict(result.summary), "label": result.badge.label, "message": result.badge.message,
                "color": result.badge.hex_color, "shields": shields, "svg": svg}
        text = json.dumps(data, indent=2, ensure_ascii=False)
    elif fmt == "shields":
        text = json.dumps(shields, ensure_ascii=False)
    else:
        text = svg.rstrip("\n")
    if output:
        write_atomic(Path(output), [text])
        echo(f"wrote {output}", err=True)
    elif fmt == "json":
        echo_json(json.loads(text))
    else:
        echo(text)


def _default_branch(runtime: Runtime) -> str:
    try:
        return runtime.ci_context().default_branch or "main"
    except Exception:  # detection problems are warnings elsewhere; a badge just falls back
        return "main"
