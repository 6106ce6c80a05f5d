"""What commands share: the config, the store and the CI context, built lazily, once."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from aqe_ci.config import Config, load_config
from aqe_ci.storage.store import Store

if TYPE_CHECKING:
    from aqe_ci.model.context import CiContext


class Runtime:
    def __init__(self, *, config_path: str | None = None, verbose: bool = False) -> None:
        self.config_path = config_path
        self.verbose = verbose

    @cached_property
    def config(self) -> Config:
        return load_config(self.config_path, os.environ)

    @cached_property
    def store(self) -> Store:
        from aqe_ci.storage.factory import build_backend

        cfg = self.config
        backend = build_backend(cfg.backend, cfg.section(cfg.backend))
        return Store(backend, codec=cfg.codec, retention_days=cfg.retention_days)

    def ci_context(self, *, metadata: Mapping[str, Any] | None = None, **overrides: Any) -> CiContext:
        """The CI context from the environment, with command-line flags taking precedence.

        Flag values are checked first (no newlines or control characters); ``metadata`` (``--metadata``)
        fills the branch and PR that neither a flag nor the CI environment gave. What detection ignored
        (unreadable event file, invalid values) is printed to stderr.
        """
        from aqe_ci.cli.output import echo
        from aqe_ci.context import detect
        from aqe_ci.model.runinput import check_context_flags, with_metadata

        overrides = check_context_flags(overrides)
        ctx = detect(os.environ)
        for warning in ctx.warnings:
            echo(f"Warning: {warning}", err=True)
        return with_metadata(ctx.replace(**overrides), metadata or {})

    def default_key(self, ctx: CiContext) -> str:
        """The run key when none is given: derived from the CI context, unique per job attempt."""
        from aqe_ci.context import default_key
        from aqe_ci.model.keys import utc_now

        return default_key(ctx, utc_now())
