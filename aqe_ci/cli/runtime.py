"""What the CLI commands share: the application's composition root (:class:`aqe_ci.app.root.App`),
built once per invocation, with the CLI's own stderr (redacted ``echo``) and ``--verbose``."""

from __future__ import annotations

from aqe_ci.app.root import App


def _warn(text: str) -> None:
    from aqe_ci.cli.output import echo

    echo(text, err=True)


class Runtime(App):
    def __init__(self, *, config_path: str | None = None, verbose: bool = False) -> None:
        super().__init__(config_path=config_path, warn=_warn)
        self.verbose = verbose
