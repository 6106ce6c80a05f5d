"""The composition root: the one place that builds the real collaborators from the config and the
environment — config, store (its backend client), CI context, git — once, and hands them to the use
cases. The CLI (``aqe_ci.cli.runtime.Runtime`` is a thin subclass), the GitHub action entrypoint
and the GitLab component each build one :class:`App` per process::

    app = App(config_path=None, environ=os.environ)
    result = store_run(lambda: app.store, StoreRequest(files=("junit.xml",)), ctx=app.ci_context(),
                       limits=app.config.limits)
    comparison = compare_run(app.store, CompareRequest(head_key=result.key), git=app.git(), ci=app.ci_context())

Nothing is built before it is used, so ``aqe --help`` and commands that need no store stay fast,
and a local store never imports boto3.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from functools import cached_property
from pathlib import Path

from aqe_ci import secrets
from aqe_ci.config import Config, load_config
from aqe_ci.git import Git
from aqe_ci.model.context import CiContext
from aqe_ci.model.jsontypes import JsonValue
from aqe_ci.retention.policy import RetentionPolicy
from aqe_ci.storage.store import Store

#: the flags that may override what detection found (``--commit``, ``--branch``, ``--pr``, ...)
ContextOverrides = Mapping[str, "str | int | None"]


def _stderr(text: str) -> None:
    print(secrets.redact(text), file=sys.stderr, flush=True)


def store_for(config: Config) -> Store:
    """The store a config describes: its backend, codec and retention."""
    from aqe_ci.storage.factory import backend_for

    return Store(backend_for(config), codec=config.codec, retention_days=config.retention_days)


class App:
    """Config, store, CI context and git of one process, each built on first use and kept."""

    def __init__(self, *, config_path: str | None = None, environ: Mapping[str, str] | None = None,
                 cwd: Path | None = None, warn: Callable[[str], None] = _stderr) -> None:
        self.config_path = config_path  # may change until the config is first read (``aqe artifacts --config``)
        self.environ = os.environ if environ is None else environ
        self.cwd = cwd
        self.warn = warn  # where detection warnings go (one line each, no secrets)
        self._git: dict[Path, Git] = {}

    @cached_property
    def config(self) -> Config:
        return load_config(self.config_path, self.environ)

    @cached_property
    def store(self) -> Store:
        return store_for(self.config)

    @cached_property
    def detected_context(self) -> CiContext:
        """The CI context from the environment and the checkout; what detection ignored is warned once."""
        from aqe_ci.context import detect

        ctx = detect(self.environ, cwd=self.cwd)
        for warning in ctx.warnings:
            self.warn(f"Warning: {warning}")
        return ctx

    def ci_context(self, overrides: ContextOverrides | None = None, *,
                   metadata: Mapping[str, JsonValue] | None = None) -> CiContext:
        """The detected CI context with the non-None ``overrides`` (the command-line flags) taking
        precedence; their values are checked first (no newlines or control characters). ``metadata``
        (``--metadata``) fills the branch and PR that neither a flag nor the CI environment gave."""
        from aqe_ci.model.runinput import check_context_flags, with_metadata

        checked = check_context_flags(overrides or {})
        return with_metadata(self.detected_context.replace(**checked), metadata or {})

    def default_key(self, ctx: CiContext) -> str:
        """The run key when none is given: derived from the CI context, unique per job attempt."""
        from aqe_ci.context import default_key
        from aqe_ci.model.keys import utc_now

        return default_key(ctx, utc_now())

    def git(self, path: str | Path = ".") -> Git:
        """The git checkout at ``path`` (relative to the working directory), for merge-bases."""
        p = Path(path) if self.cwd is None else self.cwd / path
        if p not in self._git:
            self._git[p] = Git(p)
        return self._git[p]

    def retention_policy(self) -> RetentionPolicy:
        """The config's retention, protecting the CI's default branch when the config names none."""
        return RetentionPolicy.from_settings(self.config.retention,
                                             default_branch=self.ci_context().default_branch)

    def close(self) -> None:
        """Release the store's connections (when it was built)."""
        if "store" in self.__dict__:
            self.store.backend.close()
