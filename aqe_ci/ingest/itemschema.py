"""Compiled validators for one schema item definition (``$defs/<name>``) or a whole document schema.

Document writers validate every item they stream against its item definition, so this is on the
hot path of every ingest (50,000 calls for a 50,000-case JUnit file). Two backends, same schemas,
same verdicts (``tests/ingest/test_itemschema.py`` runs both on the same good and bad items):

- ``jsonschema-rs`` (compiled Rust, Draft 2020-12 native): about 0.6 µs per test item and a few
  milliseconds to build — the default;
- ``fastjsonschema`` (generated Python): about 3–5 µs per item and 15–55 ms of code generation per
  validator; used when ``jsonschema_rs`` cannot be imported (a platform without its wheel).

Formats are validated by both (``date-time`` timestamps). Nothing is ever fetched: our schemas
only use local ``#/$defs`` references, and jsonschema-rs gets a retriever that refuses every URI.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from typing import Any

#: set AQE_SCHEMA_BACKEND=fastjsonschema to force the pure-Python backend (tests, comparisons)
BACKEND_ENV = "AQE_SCHEMA_BACKEND"


@cache
def backend() -> str:
    forced = os.environ.get(BACKEND_ENV)
    if forced in ("fastjsonschema", "jsonschema-rs"):
        return forced
    try:
        import jsonschema_rs  # noqa: F401
    except ImportError:
        return "fastjsonschema"
    return "jsonschema-rs"


@cache
def _schema(doc_type: str) -> dict[str, Any]:
    from aqe_ci.validate import schema

    return dict(schema(doc_type))


def _sub_schema(doc_type: str, name: str) -> dict[str, Any]:
    s = _schema(doc_type)
    if name == "document":
        return s
    # the definition itself at the root (no $ref hop), its siblings reachable as #/$defs/...
    return {"$schema": s.get("$schema"), "$defs": s["$defs"], **s["$defs"][name]}


@cache
def validator(doc_type: str, name: str) -> Callable[[Any], Any]:
    """A validator of ``$defs/<name>`` of ``doc_type``'s schema (``"document"``: the whole schema).

    Calling it raises on an invalid instance; :func:`error_text` turns that exception into
    ``"<path>: <message>"``. Built once per process.
    """
    sub = _sub_schema(doc_type, name)
    if backend() == "jsonschema-rs":
        import jsonschema_rs

        return jsonschema_rs.validator_for(  # type: ignore[no-any-return]
            sub, validate_formats=True, retriever=_no_fetch).validate
    import fastjsonschema

    sub = {k: v for k, v in sub.items() if k not in ("$schema", "$id")}  # keywords used are Draft 7 too
    return fastjsonschema.compile(sub, use_default=False)  # type: ignore[no-any-return]


def _no_fetch(uri: str) -> Any:
    raise ValueError(f"schema reference {uri!r} is not local: refusing to fetch it")


def error_text(exc: BaseException) -> str:
    """``data.path: message`` for either backend's validation error (other exceptions: their text)."""
    path = getattr(exc, "instance_path", None)
    if path is not None:  # jsonschema-rs
        where = "data" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
        return f"{where}: {getattr(exc, 'message', exc)}"
    name = getattr(exc, "name", None)
    message = getattr(exc, "message", None) or str(exc)
    return f"{name}: {message}" if name else message
