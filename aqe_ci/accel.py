"""Optional compiled accelerators: one C extension module per hot parsing loop.

Every accelerator has a pure-Python twin that is the reference implementation: the accelerated
path must give byte-identical documents and the same errors, and tests run both. The C modules are
built by ``pip install`` (``setup.py`` reads :data:`EXTENSIONS`) with ``optional=True``: on a
machine without a C compiler the install still succeeds and the pure-Python paths are used.

``AQE_PURE_PYTHON=1`` in the environment disables every accelerator (for debugging and for the
tests that compare the two paths); :func:`load` is the one place that decides.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

#: module name -> C source, relative to the repository root (read by setup.py; no imports there)
EXTENSIONS: dict[str, str] = {
    "aqe_ci.ingest.coverage._cobertura_c": "aqe_ci/ingest/coverage/_cobertura_c.c",
    "aqe_ci.ingest.security._sarif_c": "aqe_ci/ingest/security/_sarif_c.c",
    "aqe_ci.ingest.tests._junit_c": "aqe_ci/ingest/tests/_junit_c.c",
    "aqe_ci.ingest.stream._stream_c": "aqe_ci/ingest/stream/_stream_c.c",
}

DISABLE_ENV = "AQE_PURE_PYTHON"


def disabled() -> bool:
    return os.environ.get(DISABLE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def load(name: str) -> ModuleType | None:
    """The compiled module ``name`` (a key of :data:`EXTENSIONS`), or ``None`` when it is not built
    or accelerators are disabled; callers then take their pure-Python path."""
    if name not in EXTENSIONS:
        raise KeyError(f"unknown accelerator {name!r}")
    if disabled():
        return None
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def status() -> dict[str, bool]:
    """Which accelerators this installation has (``aqe context``-style diagnostics and tests)."""
    out = {}
    for name in EXTENSIONS:
        try:
            importlib.import_module(name)
            out[name] = True
        except ImportError:
            out[name] = False
    return out
