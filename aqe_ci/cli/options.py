"""Options shared by several commands, each defined once.

``aqe artifacts store`` and ``aqe execute`` take the same run options: :func:`key_option`
(``--key`` / ``--artifact-key``), :func:`part_option`, :func:`metadata_option`, :func:`tag_option`
and the CI-context overrides of :func:`context_options` (``--commit``, ``--branch``, ``--pr``,
``--base-branch``, ``--base-sha``; ``aqe context`` takes those too). Every option is also an
environment variable, ``AQE_<COMMAND PATH>_<NAME>``; a shared option answers to each of its long
names (``AQE_EXECUTE_KEY`` and ``AQE_EXECUTE_ARTIFACT_KEY``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


class SharedOption(click.Option):
    """An option whose environment variable may be spelt with any of its long names."""

    def resolve_envvar_value(self, ctx: click.Context) -> str | None:
        rv = super().resolve_envvar_value(ctx)
        if rv is not None or not self.allow_from_autoenv or ctx.auto_envvar_prefix is None:
            return rv
        for opt in self.opts:
            if opt.startswith("--"):
                value = os.environ.get(f"{ctx.auto_envvar_prefix}_{opt[2:].replace('-', '_').upper()}")
                if value:
                    return value
        return None


def format_option(*choices: str, default: str) -> Callable[[F], F]:
    return click.option("--format", "format", type=click.Choice(choices), default=default, show_default=True,
                        help="Output format.")


def yes_option(f: F) -> F:
    return click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")(f)


def key_option(f: F) -> F:
    return click.option("--key", "--artifact-key", "key", cls=SharedOption, metavar="KEY",
                        help="Run key, e.g. build-$SHA (default: derived from the CI context, printed).")(f)


def part_option(f: F) -> F:
    return click.option("--part", cls=SharedOption, default="default", show_default=True, metavar="NAME",
                        help="Part name, for matrix/sharded jobs storing one type several times under one key.")(f)


def metadata_option(f: F) -> F:
    return click.option("--metadata", cls=SharedOption, metavar="JSON",
                        help='JSON object of user metadata kept in the manifests; its "branch" and "pr" fill what '
                             'the CI context does not say ("pr": "" = none).')(f)


def tag_option(f: F) -> F:
    return click.option("--tag", "tag", cls=SharedOption, multiple=True, metavar="K=V", help="Tag (repeatable).")(f)


def context_options(f: F) -> F:
    """Flags that override what is inferred from the CI environment."""
    for opt in reversed([
        click.option("--commit", cls=SharedOption, metavar="SHA", help="Commit the run belongs to (default: from CI/git)."),
        click.option("--branch", cls=SharedOption, metavar="NAME", help="Branch (default: from CI/git)."),
        click.option("--pr", cls=SharedOption, type=click.IntRange(min=1), metavar="N",
                     help="Pull/merge request number."),
        click.option("--base-branch", cls=SharedOption, metavar="NAME", help="PR/MR target branch."),
        click.option("--base-sha", cls=SharedOption, metavar="SHA", help="PR/MR base commit."),
    ]):
        f = opt(f)
    return f


def run_options(f: F) -> F:
    """What a stored run records: key, part, metadata, tags and the CI-context overrides."""
    for opt in reversed([key_option, part_option, metadata_option, tag_option, context_options]):
        f = opt(f)
    return f


def parse_tags(values: tuple[str, ...] | list[str]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in values:
        k, sep, v = item.partition("=")
        if not sep or not k.strip():
            raise click.BadParameter(f"{item!r} is not K=V", param_hint="--tag")
        tags[k.strip()] = v.strip()
    return tags
