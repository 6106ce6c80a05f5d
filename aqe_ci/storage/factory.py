"""The one place that builds real storage clients from configuration."""

from __future__ import annotations

from typing import Any

from aqe_ci.errors import UsageError
from aqe_ci.storage.base import Backend


def build_backend(name: str, settings: dict[str, Any]) -> Backend:
    """A backend for ``name`` (``local``, ``s3``, …) from its config section."""
    if name == "local":
        from aqe_ci.storage.local import LocalBackend

        return LocalBackend(settings.get("base_path", ".qe-artifacts/"),
                            create_dirs=bool(settings.get("create_dirs", True)))
    raise UsageError(f'the "{name}" backend is not available in this version',
                     hint='use "backend": "local" or "s3"')
