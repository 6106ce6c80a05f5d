"""Errors and exit codes.

Every failure a user can cause or meet is an :class:`AqeError` subclass carrying its exit code and
a hint. The CLI's single error boundary (``aqe_ci.cli.main``) turns them into one line on stderr:
``Error: <what> — <how to fix>``.

Exit codes (documented in README.md, tested in tests/test_exit_codes.py):

====  =======================================================================
0     success
1     unexpected failure (a bug, or an error we did not classify)
2     usage or configuration error
3     conflict: the document already exists (use --overwrite to replace it)
4     not found: no such run, document, commit or branch
5     integrity: a stored object failed its checksum or is unreadable
6     a quality gate failed (``--fail-on``)
7     invalid input: a report or document was malformed, hostile, too large
      or did not match its schema; nothing was stored
8     storage backend unavailable: unreachable endpoint, missing bucket,
      access denied, throttled past retries
====  =======================================================================
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_CONFLICT = 3
EXIT_NOT_FOUND = 4
EXIT_INTEGRITY = 5
EXIT_GATE = 6
EXIT_INVALID_INPUT = 7
EXIT_BACKEND = 8

EXIT_CODES: dict[int, str] = {
    EXIT_OK: "success",
    EXIT_FAILURE: "unexpected failure",
    EXIT_USAGE: "usage or configuration error",
    EXIT_CONFLICT: "conflict: the document already exists",
    EXIT_NOT_FOUND: "not found",
    EXIT_INTEGRITY: "integrity error: checksum mismatch or unreadable stored object",
    EXIT_GATE: "a quality gate failed",
    EXIT_INVALID_INPUT: "invalid input: malformed, hostile, oversized or schema-violating",
    EXIT_BACKEND: "storage backend unavailable",
}


class AqeError(Exception):
    """Base of every error we expect. ``str(err)`` is the one-line message, ``hint`` how to fix it."""

    exit_code: int = EXIT_FAILURE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        text = self.message if not self.hint else f"{self.message} — {self.hint}"
        return " ".join(text.split())


class UsageError(AqeError):
    exit_code = EXIT_USAGE


class ConfigError(AqeError):
    """A config file is wrong. The message names the file and the JSON path."""

    exit_code = EXIT_USAGE


class ConflictError(AqeError):
    exit_code = EXIT_CONFLICT


class NotFoundError(AqeError):
    exit_code = EXIT_NOT_FOUND


class IntegrityError(AqeError):
    exit_code = EXIT_INTEGRITY


class GateFailed(AqeError):
    exit_code = EXIT_GATE


class WebhookDeliveryFailed(AqeError):
    """A webhook marked ``"required": true`` did not accept its event (after its retries)."""

    exit_code = EXIT_FAILURE


class InvalidInputError(AqeError):
    """A report or document is malformed, hostile, too large or violates its schema."""

    exit_code = EXIT_INVALID_INPUT


class BackendError(AqeError):
    """The storage backend cannot be reached or refused us. Never carries a secret."""

    exit_code = EXIT_BACKEND


class ObjectExists(ConflictError):
    """Raised by a backend when a conditional create finds the object already there."""


class ObjectMissing(NotFoundError):
    """Raised by a backend when an object does not exist."""
