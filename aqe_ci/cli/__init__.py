"""The ``aqe`` command line. :func:`main` is the single error boundary."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import click

from aqe_ci import secrets
from aqe_ci.errors import EXIT_FAILURE, EXIT_USAGE, AqeError


def _verbose(argv: Sequence[str]) -> bool:
    return "--verbose" in argv or "-v" in argv or os.environ.get("AQE_VERBOSE", "").lower() in ("1", "true", "yes")


def _error(message: str) -> None:
    from aqe_ci.render.escape import term_text

    text = term_text(secrets.redact(message))  # one inert line: messages quote untrusted input
    if os.environ.get("GITHUB_ACTIONS") == "true":
        esc = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        click.echo(f"::error::{esc}", err=False)
    click.echo(f"Error: {text}", err=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``aqe`` and return its exit code (documented in aqe_ci/errors.py and README)."""
    from aqe_ci.cli.app import root

    args = list(sys.argv[1:] if argv is None else argv)
    try:
        rv = root.main(args=args, prog_name="aqe", standalone_mode=False)
        return rv if isinstance(rv, int) else 0
    except AqeError as exc:
        _error(exc.one_line())
        if _verbose(args):
            import traceback

            click.echo(secrets.redact(traceback.format_exc()), err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return EXIT_USAGE
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            click.echo(secrets.redact(exc.ctx.get_usage()), err=True)
        _error(exc.format_message())
        return exc.exit_code if exc.exit_code else EXIT_USAGE
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the last line of defence: one line, no secrets
        _error(f"unexpected {type(exc).__name__}: {exc} — rerun with --verbose and report it if it persists")
        if _verbose(args):
            import traceback

            click.echo(secrets.redact(traceback.format_exc()), err=True)
        return EXIT_FAILURE
