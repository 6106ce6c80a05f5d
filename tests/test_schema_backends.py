"""The two item-validation backends of aqe_ci.model.schema agree: same verdicts, same JSON paths.

jsonschema-rs is the backend of a normal install; jsonschema (the library that also words the
messages of ``first_error``) is the fallback where the jsonschema-rs wheel is missing. Every
writer's validator goes through ``aqe_ci.model.schema``; no other JSON Schema library is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aqe_ci.ingest.base import ReportError, SourceInfo
from aqe_ci.ingest.coverage import writer as coverage_writer
from aqe_ci.ingest.security import writer as security_writer
from aqe_ci.model import schema
from aqe_ci.model.limits import Limits

ROOT = Path(__file__).resolve().parents[1]

FINDING = {"fingerprint": "a", "tool": "t", "rule_id": "r1", "severity": "low", "title": "x"}
FILE_ENTRY = {"lines_valid": 2, "lines_covered": 1, "line_rate": 50.0, "line_hits": "1:0,2:3"}

#: (validator, invalid instance, the JSON path and message both backends give)
CASES: list[tuple[str, Any, str, str]] = [
    ("coverage file", {**FILE_ENTRY, "lines_valid": -1}, "data.lines_valid", "-1 is less than the minimum of 0"),
    ("security finding", {**FINDING, "location": {"start_line": -3}}, "data.location.start_line",
     "-3 is less than the minimum of 0"),
    ("security finding", {**FINDING, "severity": "urgent"}, "data.severity", "is not one of"),
    ("test", {"suite": "s", "classname": "c", "name": "n", "status": "exploded", "duration": 0.0},
     "data.status", "is not one of"),
]


def _validator(which: str) -> schema.ItemValidator:
    if which == "coverage file":
        return coverage_writer.file_validator()
    if which == "security finding":
        return security_writer.finding_validator()
    return schema.item_validator("test_results", which)


def _clear() -> None:
    for fn in (schema.backend, schema.item_validator, coverage_writer.file_validator,
               security_writer.finding_validator, security_writer.envelope_validator):
        fn.cache_clear()


@pytest.fixture(params=schema.ITEM_BACKENDS)
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv(schema.BACKEND_ENV, request.param)
    _clear()
    assert schema.backend() == request.param
    yield request.param
    monkeypatch.delenv(schema.BACKEND_ENV)
    _clear()


def test_the_backends_are_jsonschema_rs_and_the_jsonschema_fallback() -> None:
    assert schema.ITEM_BACKENDS == ("jsonschema-rs", "jsonschema")


@pytest.mark.parametrize(("which", "instance", "path", "message"), CASES)
def test_an_invalid_item_names_its_path_on_both_backends(backend: str, which: str, instance: Any,
                                                         path: str, message: str) -> None:
    with pytest.raises(Exception) as info:
        _validator(which)(instance)
    text = schema.error_text(info.value)
    assert text.startswith(f"{path}: "), text
    assert message in text


def test_valid_items_pass_on_both_backends(backend: str) -> None:
    _validator("coverage file")(FILE_ENTRY)
    _validator("security finding")(FINDING)
    _validator("test")({"suite": "s", "classname": "c", "name": "n", "status": "passed", "duration": 0.5})


def test_coverage_writer_names_the_bad_entry_on_both_backends(tmp_path: Path, backend: str) -> None:
    writer = coverage_writer.CoverageWriter(workdir=tmp_path, limits=Limits())
    writer.begin_source(SourceInfo(file="c.json", format="istanbul-summary", bytes=1))
    with pytest.raises(ReportError, match=r"file entry 'a\.py' does not match the coverage schema: "
                                          r"data\.lines_valid: -1 is less than the minimum of 0"):
        writer.add_file_summary("a.py", lines_valid=-1, lines_covered=0)
    writer.abort()


def test_other_exceptions_keep_their_text() -> None:
    assert schema.error_text(ValueError("plain")) == "plain"


def test_no_module_uses_another_json_schema_library() -> None:
    offenders = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "aqe_ci").rglob("*.py"))
                 if "fastjsonschema" in p.read_text(encoding="utf-8")]
    assert offenders == []


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_every_schema_reference_is_local() -> None:
    """The jsonschema fallback would fetch a remote ``$ref``: none may exist (model/schema.py)."""
    remote = {name: ref for name in schema.SCHEMA_NAMES for ref in _refs(schema.schema(name))
              if not ref.startswith("#/")}
    assert remote == {}
