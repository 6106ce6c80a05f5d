"""Secret values known to this process: every output path redacts them.

The config registers its secret values here; the CLI error boundary and the output writers pass
text through :func:`redact`; on GitHub Actions each value is also masked with ``::add-mask::``.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Iterator
from typing import Any

_SECRETS: set[str] = set()
MIN_LEN = 4


def register(value: str | None) -> None:
    """Remember a secret; on GitHub Actions also mask it (each line of a multi-line value too)."""
    if not value or len(value) < MIN_LEN or value in _SECRETS:
        return
    _SECRETS.add(value)
    lines = [line.strip() for line in value.splitlines()] if ("\n" in value or "\r" in value) else []
    for line in lines:
        if len(line) >= MIN_LEN:
            _SECRETS.add(line)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        # the runner masks it in every later log line; the command itself is not echoed. The value is
        # escaped like any command data, so a newline in it cannot end the command early
        for v in [value, *lines]:
            if len(v) >= MIN_LEN:
                sys.stdout.write(f"::add-mask::{v.replace('%', '%25').replace(chr(13), '%0D').replace(chr(10), '%0A')}\n")
        sys.stdout.flush()


def _scalars(value: Any) -> Iterator[str | int | float]:
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, str | int | float):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _scalars(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _scalars(v)


def leaves(value: Any) -> Iterator[str]:
    """The scalar values inside ``value`` (itself, or the items of a list / object at any depth) as text.

    A secret config value may have any JSON type (a key pasted as a number, a list of tokens); each
    of its strings and numbers is a secret. Booleans and nulls carry nothing secret.
    """
    return (str(v) for v in _scalars(value))


def register_value(value: Any) -> None:
    """Register every scalar inside a secret value of any type (see :func:`leaves`)."""
    for text in leaves(value):
        register(text)


def scrub(text: str, values: Iterable[Any]) -> str:
    """``text`` with the given secret values removed, whatever their type and however a message quoted
    them (``repr``, JSON, bare), even values too short for :func:`register`; then :func:`redact`."""
    forms: set[str] = set()
    for value in values:
        if isinstance(value, list | dict | tuple):
            forms.update((repr(value), json.dumps(value, ensure_ascii=False)))
        for scalar in _scalars(value):
            leaf = str(scalar)
            forms.update((repr(leaf), json.dumps(leaf, ensure_ascii=False)))
            if len(leaf) >= MIN_LEN or not isinstance(scalar, str):
                forms.update((leaf, repr(scalar)))
    for form in sorted(forms, key=len, reverse=True):
        if form and form in text:
            text = re.sub(rf"(?<![\w.]){re.escape(form)}(?![\w.])" if form[0].isalnum() else re.escape(form),
                          "***", text)
    return redact(text)


def redact(text: str) -> str:
    for value in sorted(_SECRETS, key=len, reverse=True):
        if value in text:
            text = text.replace(value, "***")
    return text


def known() -> frozenset[str]:
    return frozenset(_SECRETS)
