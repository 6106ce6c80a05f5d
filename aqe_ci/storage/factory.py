"""The one place that builds a real backend from the storage config.

``backend_for(config)`` → the backend ``config.backend`` names, from its typed section;
``build_backend("s3", {...})`` → the same from a section as JSON (``${VAR}``s already expanded), for
callers holding settings rather than a :class:`~aqe_ci.config.Config` (tests, subprocess writers).
The github backend takes its section as JSON either way (the runner's variables fill what it leaves
out). Backend modules are imported on demand, so building a local store never imports boto3.
"""

from __future__ import annotations

from collections.abc import Mapping

from aqe_ci.config import Config, LocalSettings
from aqe_ci.errors import UsageError
from aqe_ci.model.jsontypes import JsonValue
from aqe_ci.storage.base import Backend

BACKENDS = ("local", "s3", "github", "gitlab")


def backend_for(config: Config) -> Backend:
    """The backend of ``config`` (its ``backend`` and that backend's section)."""
    if config.backend == "local":
        return local_backend(config.local)
    if config.backend == "s3":
        from aqe_ci.storage.s3 import from_settings

        if config.s3 is None:
            raise UsageError("s3.bucket is not set", hint='set "s3": {"bucket": "..."} in the storage config')
        return from_settings(config.s3)
    return build_backend(config.backend, config.section(config.backend))


def local_backend(settings: LocalSettings) -> Backend:
    from aqe_ci.storage.local import LocalBackend

    return LocalBackend(settings.base_path, create_dirs=settings.create_dirs)


def build_backend(backend_name: str, settings: Mapping[str, JsonValue] | None = None) -> Backend:
    """A backend for ``backend_name`` with the settings of its config section (as JSON)."""
    settings = dict(settings or {})
    if backend_name == "local":
        unknown = sorted(set(settings) - {"base_path", "create_dirs"})
        if unknown:
            raise UsageError(f"unknown local setting {unknown[0]!r}", hint="known settings: base_path, create_dirs")
        return local_backend(LocalSettings.from_json(settings))
    if backend_name == "s3":
        from aqe_ci.storage.s3 import from_settings

        return from_settings(settings)
    if backend_name == "github":
        from aqe_ci.storage.github import from_settings as github_from_settings

        return github_from_settings(settings)
    if backend_name == "gitlab":
        raise UsageError(f'the "{backend_name}" storage backend is not available in this version',
                         hint='use "backend": "s3" or "local"')
    raise UsageError(f"unknown storage backend {backend_name!r}", hint=f"use one of {', '.join(BACKENDS)}")
