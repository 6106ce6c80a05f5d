"""Options shared by several commands, defined once."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import click

from aqe_ci.errors import UsageError
from aqe_ci.model.jsontypes import JsonValue

F = TypeVar("F", bound=Callable[..., Any])


def format_option(*choices: str, default: str) -> Callable[[F], F]:
    return click.option("--format", "format", type=click.Choice(choices), default=default, show_default=True,
                        help="Output format.")


def yes_option(f: F) -> F:
    return click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")(f)


def context_options(f: F) -> F:
    """Flags that override what is inferred from the CI environment."""
    for opt in reversed([
        click.option("--commit", metavar="SHA", help="Commit the run belongs to (default: from CI/git)."),
        click.option("--branch", metavar="NAME", help="Branch (default: from CI/git)."),
        click.option("--pr", type=click.IntRange(min=1), metavar="N", help="Pull/merge request number."),
        click.option("--base-branch", metavar="NAME", help="PR/MR target branch."),
        click.option("--base-sha", metavar="SHA", help="PR/MR base commit."),
    ]):
        f = opt(f)
    return f


def tag_option(f: F) -> F:
    return click.option("--tag", "tag", multiple=True, metavar="K=V", help="Tag (repeatable).")(f)


def parse_metadata(text: str | None) -> dict[str, JsonValue]:
    """``--metadata``: a JSON object of user metadata."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--metadata is not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(value, dict):
        raise UsageError("--metadata must be a JSON object")
    return value


def parse_tags(values: tuple[str, ...] | list[str]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in values:
        k, sep, v = item.partition("=")
        if not sep or not k.strip():
            raise click.BadParameter(f"{item!r} is not K=V", param_hint="--tag")
        tags[k.strip()] = v.strip()
    return tags
