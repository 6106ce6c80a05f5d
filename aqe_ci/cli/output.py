"""Writing results: JSON, tables and plain lines, always through secret redaction."""

from __future__ import annotations

import json
from typing import Any

import click

from aqe_ci import secrets
from aqe_ci.model.files import write_atomic as write_atomic  # re-exported: the commands' file writer


def echo(text: str = "", *, err: bool = False) -> None:
    """Print lines for people: secrets redacted, escape sequences and bidi overrides removed."""
    from aqe_ci.render.escape import term_lines

    click.echo(term_lines(secrets.redact(text)), err=err)


def echo_json(obj: Any) -> None:
    """Print JSON: secrets redacted; characters a terminal would act on written as ``\\uXXXX`` (same data)."""
    from aqe_ci.render.escape import json_inert

    click.echo(json_inert(secrets.redact(json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False))))


def human_bytes(n: int | None) -> str:
    if n is None:
        return ""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def summary_text(doc_type: str, s: dict[str, Any]) -> str:
    """One short human line for a document's summary."""
    if doc_type == "test_results":
        run = s.get("tests_run")
        if run is None:
            return ""
        bits = [f"{s.get('passed', 0)}/{run} passed"]
        for name in ("failed", "errors", "skipped", "flaky"):
            if s.get(name):
                bits.append(f"{s[name]} {name}")
        return ", ".join(bits)
    if doc_type == "coverage":
        bits = []
        if s.get("line_rate") is not None:
            bits.append(f"lines {s['line_rate']:.2f}%")
        if s.get("branch_rate") is not None:
            bits.append(f"branches {s['branch_rate']:.2f}%")
        return ", ".join(bits)
    if doc_type == "security":
        order = ("critical", "high", "medium", "low", "info")
        bits = [f"{s[k]} {k}" for k in order if s.get(k)]
        return ", ".join(bits) if bits else "no findings"
    return ""
