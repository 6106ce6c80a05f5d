"""``aqe artifacts badge``: an SVG or shields.io endpoint badge of the newest run on a branch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from aqe_ci.cli.output import echo, echo_json, write_atomic
from aqe_ci.errors import NotFoundError, UsageError

if TYPE_CHECKING:
    from aqe_ci.cli.runtime import Runtime

KINDS = ("coverage", "tests", "security")


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
    from aqe_ci.app.badge import badge_for, published_name
    from aqe_ci.render.badge import render_svg, shields_endpoint

    if all_kinds != bool(output_dir):
        raise UsageError("--all and --output-dir go together", hint="aqe artifacts badge --all --output-dir public/badges")
    settings: dict[str, Any] = runtime.config.section("badges")  # as JSON: checked by the config schema
    scale = [(float(s["min"]), str(s["color"])) for s in settings.get("coverage_scale") or []] or None
    labels = settings.get("labels") or {}
    branch = branch or _default_branch(runtime)
    kinds = KINDS if all_kinds else (kind,)
    written: list[str] = []
    for k in kinds:
        try:
            result = badge_for(runtime.store, k, branch, label=label or labels.get(k),
                               **({"scale": scale} if scale else {}))
        except NotFoundError:
            if all_kinds:
                echo(f"no {k} run on {branch}: no {k} badge", err=True)
                continue
            raise
        svg, shields = render_svg(result.badge), shields_endpoint(result.badge)
        if publish:
            runtime.store.backend.put_bytes(published_name(branch, k, "svg"), svg.encode())
            runtime.store.backend.put_bytes(published_name(branch, k, "json"), json.dumps(shields).encode())
            echo(f"published {published_name(branch, k, 'svg')} and .json in {runtime.store.location}", err=True)
        if output_dir:
            for name, text in ((f"{k}.svg", svg), (f"{k}.json", json.dumps(shields))):
                write_atomic(Path(output_dir) / name, [text.rstrip("\n")])
                written.append(str(Path(output_dir) / name))
            continue
        _emit(fmt, output, svg, shields, result)
    if written:
        echo("wrote " + ", ".join(written), err=True)


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
