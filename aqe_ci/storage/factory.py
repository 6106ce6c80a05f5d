"""The one place that builds a real backend from the storage config.

``build_backend("s3", config["s3"])`` → :class:`~aqe_ci.storage.s3.S3Backend`;
``build_backend("local", config["local"])`` → :class:`~aqe_ci.storage.local.LocalBackend`;
``build_backend("github", config["github"])`` → :class:`~aqe_ci.storage.github.GitHubBackend`.
Settings arrive with ``${VAR}`` already expanded. Backend modules are imported on demand, so
building a local store never imports boto3.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aqe_ci.errors import UsageError
from aqe_ci.storage.base import Backend

BACKENDS = ("local", "s3", "github", "gitlab")


def build_backend(backend_name: str, settings: Mapping[str, Any] | None = None) -> Backend:
    """A backend for ``backend_name`` with the settings of its config section."""
    settings = dict(settings or {})
    if backend_name == "local":
        from aqe_ci.storage.local import LocalBackend

        unknown = sorted(set(settings) - {"base_path", "create_dirs"})
        if unknown:
            raise UsageError(f"unknown local setting {unknown[0]!r}", hint="known settings: base_path, create_dirs")
        return LocalBackend(settings.get("base_path") or ".qe-artifacts/",
                            create_dirs=bool(settings.get("create_dirs", True)))
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
