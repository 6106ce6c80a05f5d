"""JSON Schema validation (Draft 2020-12) of documents, items, manifests and the config: the one validation module.

Schemas ship as package data (``aqe_ci/schemas/*.schema.json``) and print with
``aqe artifacts schema TYPE``. Errors name the JSON path of the first problem.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, NoReturn, cast

from aqe_ci.errors import InvalidInputError

if TYPE_CHECKING:
    import jsonschema_rs
    from jsonschema import Draft202012Validator

SCHEMA_NAMES = ("test_results", "coverage", "security", "manifest", "config", "webhook_event")


def schema_text(name: str) -> str:
    if name not in SCHEMA_NAMES:
        raise KeyError(name)
    return resources.files("aqe_ci.schemas").joinpath(f"{name}.schema.json").read_text(encoding="utf-8")


@cache
def schema(name: str) -> dict[str, Any]:
    return cast(dict[str, Any], json.loads(schema_text(name)))


@cache
def validator(name: str) -> Draft202012Validator:
    from jsonschema import Draft202012Validator, FormatChecker

    return Draft202012Validator(schema(name), format_checker=FormatChecker())


def json_path(parts: Iterable[str | int]) -> str:
    out = "$"
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if str(p).isidentifier() else f"[{json.dumps(p)}]")
    return out


@cache
def _fast_validator(name: str) -> jsonschema_rs.Validator | None:
    """A compiled jsonschema-rs validator: a cheap yes/no, so valid input never imports jsonschema."""
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover - a platform without its wheel
        return None
    return jsonschema_rs.validator_for(schema(name), validate_formats=True, retriever=_no_fetch)


def _no_fetch(uri: str) -> NoReturn:
    raise ValueError(f"schema reference {uri!r} is not local: refusing to fetch it")


def first_error(name: str, instance: Any) -> tuple[str, str] | None:
    """(json path, message) of the most relevant schema violation, or None if valid.

    jsonschema-rs answers "valid?" fast; only invalid input pays for jsonschema, whose best_match
    gives the message and JSON path users see.
    """
    fast = _fast_validator(name)
    if fast is not None and fast.is_valid(instance):
        return None
    from jsonschema.exceptions import best_match

    err = best_match(validator(name).iter_errors(instance))
    if err is None:
        return None
    message = err.message
    if len(message) > 200:
        message = message[:200] + "…"
    return json_path(err.absolute_path), message


def validate_document(doc: Any, *, source: str = "document") -> str:
    """Validate a normalised document; return its type or raise InvalidInputError naming the path."""
    if not isinstance(doc, dict):
        raise InvalidInputError(f"{source}: $: expected a JSON object with type, timestamp and data")
    doc_type = doc.get("type")
    if not isinstance(doc_type, str) or doc_type not in ("test_results", "coverage", "security"):
        raise InvalidInputError(
            f"{source}: $.type: {doc_type!r} is not one of 'test_results', 'coverage', 'security'")
    problem = first_error(doc_type, doc)
    if problem:
        raise InvalidInputError(f"{source}: {problem[0]}: {problem[1]}",
                                hint=f"see `aqe artifacts schema {doc_type}`")
    return doc_type


def validate_manifest(data: dict[str, Any]) -> None:
    problem = first_error("manifest", data)
    if problem:
        raise InvalidInputError(f"manifest: {problem[0]}: {problem[1]}")


# ---------------------------------------------------------------------------------------------
# item validators: the ingest hot path
#
# Document writers validate every item they stream against its item definition (``$defs/<name>``),
# 50,000 calls for a 50,000-case JUnit file. ``jsonschema-rs`` (compiled Rust, Draft 2020-12
# native) answers in about 0.6 µs per test item. ``jsonschema`` — the library that also gives
# users the messages of :func:`first_error` — is the fallback on a platform without the
# jsonschema-rs wheel: the same schemas, the same verdicts, messages of the same shape
# (``data.<path>: <message>``), 100–300x slower per item. Nothing is ever fetched: our schemas only
# use local ``#/$defs`` references (tests/test_schema_backends.py checks), and jsonschema-rs gets a
# retriever that refuses every URI. jsonschema has no such refusal here: it would retrieve a remote
# ``$ref`` over HTTP, so :func:`compile_validator` takes local references only.

#: set AQE_SCHEMA_BACKEND=jsonschema to force the pure-Python backend (tests, comparisons)
BACKEND_ENV = "AQE_SCHEMA_BACKEND"
ITEM_BACKENDS = ("jsonschema-rs", "jsonschema")

#: validates one instance: returns None, raises the backend's validation error when it is invalid
ItemValidator = Callable[[Any], None]


@cache
def backend() -> str:
    forced = os.environ.get(BACKEND_ENV)
    if forced in ITEM_BACKENDS:
        return forced
    try:
        import jsonschema_rs  # noqa: F401
    except ImportError:  # pragma: no cover - a platform without its wheel
        return "jsonschema"
    return "jsonschema-rs"


def _sub_schema(doc_type: str, name: str) -> dict[str, Any]:
    s = schema(doc_type)
    if name == "document":
        return dict(s)
    # the definition itself at the root (no $ref hop), its siblings reachable as #/$defs/...
    return {"$schema": s.get("$schema"), "$defs": s["$defs"], **s["$defs"][name]}


@cache
def item_validator(doc_type: str, name: str) -> ItemValidator:
    """A validator of ``$defs/<name>`` of ``doc_type``'s schema (``"document"``: the whole schema).

    Calling it raises on an invalid instance; :func:`error_text` turns that exception into
    ``"<path>: <message>"``. Built once per process.
    """
    return compile_validator(_sub_schema(doc_type, name))


def compile_validator(definition: dict[str, Any]) -> ItemValidator:
    """An :data:`ItemValidator` of a Draft 2020-12 schema (with local ``#/$defs`` references only),
    on the :func:`backend` of this process. For writers that check a derived definition (the
    coverage writer's ``$defs/file`` without its string patterns); cache the result."""
    if backend() == "jsonschema-rs":
        import jsonschema_rs

        return jsonschema_rs.validator_for(definition, validate_formats=True, retriever=_no_fetch).validate
    from jsonschema import Draft202012Validator, FormatChecker

    return Draft202012Validator(definition, format_checker=FormatChecker()).validate


def _data_path(parts: Iterable[str | int]) -> str:
    return "data" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


def error_text(exc: BaseException) -> str:
    """``data.path: message`` for either backend's validation error (other exceptions: their text)."""
    rs_path = getattr(exc, "instance_path", None)
    if rs_path is not None:  # jsonschema-rs
        return f"{_data_path(rs_path)}: {getattr(exc, 'message', exc)}"
    from jsonschema import ValidationError

    if isinstance(exc, ValidationError):
        return f"{_data_path(exc.absolute_path)}: {exc.message}"
    return str(exc)
