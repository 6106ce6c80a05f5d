"""``aqe context``: a doctor that prints the inferred CI context, where each value came from, and warnings."""

from __future__ import annotations

import os
import re
from typing import Any

import click

from aqe_ci.cli.options import context_options, format_option
from aqe_ci.cli.output import echo, echo_json
from aqe_ci.render.text import table


@click.command(epilog="""\b
Examples:
  aqe context
  aqe context --format json
  aqe context --pr 42 --base-branch main   # see what the override flags change

Shows what `aqe artifacts store` would record: platform, repository, commit, branch, PR/MR,
base branch and sha, run id/attempt/job, run URL, event, default branch, the default run key,
the variable or file each value was read from, and anything that was ignored (warnings).
Always exits 0: a missing value is information, not an error.""")
@context_options
@format_option("table", "json", "markdown", default="table")
def context(format: str, **overrides: Any) -> None:
    """Print the CI context inferred from the environment and the git checkout."""
    fmt = format
    from aqe_ci.context import default_key, detect
    from aqe_ci.model.context import VALUE_FIELDS
    from aqe_ci.model.keys import utc_now
    from aqe_ci.model.runinput import check_context_flags

    ctx = detect(os.environ).replace(**check_context_flags(overrides))
    key = default_key(ctx, utc_now())
    values = ctx.as_json()
    if fmt == "json":
        echo_json({"context": values, "sources": {k: ctx.sources[k] for k in VALUE_FIELDS if k in ctx.sources},
                   "warnings": list(ctx.warnings), "default_key": key})
        return
    rows = [(name, values[name], ctx.sources.get(name, "")) for name in VALUE_FIELDS]
    if fmt == "markdown":
        lines = ["| field | value | source |", "|---|---|---|"]
        lines += [f"| {n} | {_md(v)} | {_md(s)} |" for n, v, s in rows]
        lines += ["", f"Default run key: `{key}`"]
        lines += [f"- ⚠️ {_md(w)}" for w in ctx.warnings]
        echo("\n".join(lines))
        return
    echo(table(("field", "value", "source"), [(n, "-" if v is None else v, s) for n, v, s in rows]))
    echo(f"\ndefault key: {key}")
    for warning in ctx.warnings:
        echo(f"warning: {warning}")
    if not ctx.platform:
        echo("no CI platform and no git checkout found: pass --commit/--branch/--pr or run inside a checkout")


def _md(value: Any) -> str:
    """A value as inert markdown table text: no HTML, no pipes, no line breaks, no code spans."""
    if value is None:
        return ""
    text = re.sub(r"[\r\n]+", " ", str(value))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([\\`*_\[\]|#!~])", r"\\\1", text)
