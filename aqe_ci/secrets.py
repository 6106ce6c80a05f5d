"""Secret values known to this process: every output path redacts them.

The config registers its secret values here; the CLI error boundary and the output writers pass
text through :func:`redact`; on GitHub Actions each value is also masked with ``::add-mask::``.
"""

from __future__ import annotations

import os
import sys

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


def redact(text: str) -> str:
    for value in sorted(_SECRETS, key=len, reverse=True):
        if value in text:
            text = text.replace(value, "***")
    return text


def known() -> frozenset[str]:
    return frozenset(_SECRETS)
