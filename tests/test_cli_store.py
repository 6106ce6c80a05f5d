"""Store, list, get and delete through the CLI on the local backend; bad input stores nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aqe_ci.errors import EXIT_CONFLICT, EXIT_INVALID_INPUT, EXIT_NOT_FOUND, EXIT_USAGE

TESTS_DOC = {
    "type": "test_results",
    "timestamp": "2025-11-12T10:00:00Z",
    "data": {
        "tests_run": 156, "passed": 154, "failed": 2, "duration": 45.3,
        "failures": [
            {"suite": "api", "classname": "tests.api", "name": "test_login", "status": "failed",
             "message": "assert 401 == 200"},
            {"suite": "api", "classname": "tests.api", "name": "test_logout", "status": "error",
             "message": "ConnectionError"},
        ],
    },
}
COVERAGE_DOC = {
    "type": "coverage",
    "timestamp": "2025-11-12T10:00:00Z",
    "data": {"line_rate": 87.5, "branch_rate": 82.3, "files": {
        "src/a.py": {"lines_valid": 8, "lines_covered": 7, "line_rate": 87.5, "line_hits": "1-7:1,8:0"}}},
}


def write(path: Path, obj: object) -> Path:
    path.write_text(json.dumps(obj))
    return path


def store_tree(workdir: Path) -> list[str]:
    base = workdir / ".qe-artifacts"
    return sorted(str(p.relative_to(base)) for p in base.rglob("*") if p.is_file()) if base.exists() else []


def test_store_list_get_delete_roundtrip(aqe, workdir: Path) -> None:
    t = write(workdir / "t.json", TESTS_DOC)
    c = write(workdir / "c.json", COVERAGE_DOC)
    r = aqe("artifacts", "store", "--file", str(t), "--file", str(c), "--key", "build-abc123",
            "--branch", "main", "--commit", "abc123def456", "--tag", "suite=unit")
    assert r.code == 0, r.err
    assert "key: build-abc123" in r.out

    r = aqe("artifacts", "list", "--format", "json")
    listed = json.loads(r.out)["artifacts"]
    assert {(a["key"], a["type"]) for a in listed} == {("build-abc123", "test_results"), ("build-abc123", "coverage")}
    assert all(a["branch"] == "main" and a["commit"] == "abc123def456" for a in listed)
    assert all(a["tags"] == {"suite": "unit"} for a in listed)

    r = aqe("artifacts", "list", "--type", "coverage", "--format", "json")
    assert [a["type"] for a in json.loads(r.out)["artifacts"]] == ["coverage"]
    r = aqe("artifacts", "list", "--tag", "suite=other", "--format", "json")
    assert json.loads(r.out)["count"] == 0

    r = aqe("artifacts", "get", "build-abc123", "--type", "test_results")
    assert json.loads(r.out) == TESTS_DOC
    r = aqe("artifacts", "get", "--commit", "abc123d", "--type", "coverage")
    assert json.loads(r.out) == COVERAGE_DOC
    r = aqe("artifacts", "get", "--branch", "main", "--latest")
    assert set(json.loads(r.out)["documents"]) == {"test_results", "coverage"}
    out = workdir / "out" / "doc.json"
    r = aqe("artifacts", "get", "build-abc123", "--type", "coverage", "--output", str(out))
    assert r.code == 0 and json.loads(out.read_text()) == COVERAGE_DOC

    r = aqe("artifacts", "delete", "build-abc123")  # no tty, no --yes: refused, nothing deleted
    assert r.code == EXIT_USAGE and "--yes" in r.err
    assert json.loads(aqe("artifacts", "list", "--format", "json").out)["count"] == 2
    r = aqe("artifacts", "delete", "build-abc123", "--type", "coverage", "--yes")
    assert r.code == 0 and "deleted build-abc123/coverage/default" in r.out
    r = aqe("artifacts", "get", "build-abc123", "--type", "coverage")
    assert r.code == EXIT_NOT_FOUND


def test_immutable_unless_overwrite(aqe, workdir: Path) -> None:
    t = write(workdir / "t.json", TESTS_DOC)
    assert aqe("artifacts", "store", "--file", str(t), "--key", "k1").code == 0
    r = aqe("artifacts", "store", "--file", str(t), "--key", "k1")
    assert r.code == EXIT_CONFLICT
    assert r.err.count("\n") == 1 and "already exists" in r.err
    changed = json.loads(json.dumps(TESTS_DOC))
    changed["data"]["passed"] = 155
    write(t, changed)
    assert aqe("artifacts", "store", "--file", str(t), "--key", "k1", "--overwrite").code == 0
    assert json.loads(aqe("artifacts", "get", "k1", "--type", "test_results").out)["data"]["passed"] == 155
    # the replaced payload is gone: exactly one payload object for the document
    payloads = [p for p in store_tree(workdir) if "/data-" in p]
    assert len(payloads) == 1


def test_parts_do_not_conflict(aqe, workdir: Path) -> None:
    c = write(workdir / "c.json", COVERAGE_DOC)
    assert aqe("artifacts", "store", "--file", str(c), "--key", "k", "--part", "linux").code == 0
    assert aqe("artifacts", "store", "--file", str(c), "--key", "k", "--part", "windows").code == 0
    r = aqe("artifacts", "get", "k", "--format", "table")
    assert "linux" in r.out and "windows" in r.out


BAD_INPUTS = {
    "schema violation": (json.dumps({**TESTS_DOC, "data": {**TESTS_DOC["data"], "passed": -1}}), "$.data.passed"),
    "malformed json": ('{"type": "test_results", "timestamp": ', "invalid JSON"),
    "empty file": ("", "empty"),
    "not an object": ("[1, 2]", "not a recognised report format"),
    "unknown type": (json.dumps({**TESTS_DOC, "type": "perf"}), "$.type"),
    "extra envelope key": (json.dumps({**TESTS_DOC, "extra": 1}), "$"),
    "binary garbage": ("\x00\x01\x02\xff" * 10, ""),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_documents_rejected_nothing_stored(aqe, workdir: Path, case: str) -> None:
    text, expected = BAD_INPUTS[case]
    f = workdir / "bad.json"
    f.write_bytes(text.encode("latin-1"))
    r = aqe("artifacts", "store", "--file", str(f), "--key", "k")
    assert r.code == EXIT_INVALID_INPUT, r.err
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and str(f) in lines[0] and expected in lines[0]
    assert store_tree(workdir) == []


def test_forced_document_format(aqe, workdir: Path) -> None:
    f = workdir / "list.json"
    f.write_text("[1, 2]")
    r = aqe("artifacts", "store", "--file", str(f), "--format", "document", "--key", "k")
    assert r.code == EXIT_INVALID_INPUT and f"{f}: $: expected a JSON object" in r.err


def test_one_bad_file_stores_none(aqe, workdir: Path) -> None:
    good = write(workdir / "t.json", TESTS_DOC)
    bad = workdir / "c.json"
    bad.write_text('{"type": "coverage", "timestamp": "x", "data": {}}')
    r = aqe("artifacts", "store", "--file", str(good), "--file", str(bad), "--key", "k")
    assert r.code == EXIT_INVALID_INPUT and "c.json" in r.err
    assert store_tree(workdir) == []


def test_file_over_size_cap(aqe, workdir: Path) -> None:
    (workdir / "config").mkdir()
    write(workdir / "config" / "storage.json", {"limits": {"max_input_mb": 1}})
    big = json.loads(json.dumps(TESTS_DOC))
    big["data"]["failures"][0]["message"] = "x" * (2 * 1024 * 1024)
    f = write(workdir / "big.json", big)
    r = aqe("artifacts", "store", "--file", str(f), "--key", "k")
    assert r.code == EXIT_INVALID_INPUT and "input cap" in r.err
    assert store_tree(workdir) == []


@pytest.mark.parametrize("key", ["../../etc/passwd", "a/b", "x" * 500, "..", "-leading", "a b"])
def test_bad_keys(aqe, workdir: Path, key: str) -> None:
    t = write(workdir / "t.json", TESTS_DOC)
    r = aqe("artifacts", "store", "--file", str(t), "--key", key)
    assert r.code == EXIT_USAGE, (r.code, r.err)
    assert len(r.err.strip().splitlines()) == 1 and "invalid key" in r.err
    assert len(r.err) < 400  # a 500-character key is not echoed whole
    assert store_tree(workdir) == []
    assert not (workdir.parent / "etc").exists()


def test_get_requires_one_selector(aqe) -> None:
    assert aqe("artifacts", "get").code == EXIT_USAGE
    assert aqe("artifacts", "get", "--branch", "main").code == EXIT_USAGE
    assert aqe("artifacts", "get", "nope").code == EXIT_NOT_FOUND
    assert aqe("artifacts", "get", "--commit", "abcdef").code == EXIT_NOT_FOUND
    assert aqe("artifacts", "get", "--branch", "main", "--latest").code == EXIT_NOT_FOUND


def test_list_date_range(aqe, workdir: Path) -> None:
    from datetime import UTC, datetime

    from aqe_ci.storage.local import LocalBackend
    from aqe_ci.storage.store import Store

    store = Store(LocalBackend(workdir / ".qe-artifacts"))
    for day in (1, 5, 12, 20):
        store.put_document(TESTS_DOC, key=f"d{day}", created_at=datetime(2025, 11, day, 12, tzinfo=UTC))
    r = aqe("artifacts", "list", "--since", "2025-11-01", "--until", "2025-11-12", "--format", "json")
    assert [a["key"] for a in json.loads(r.out)["artifacts"]] == ["d12", "d5", "d1"]
    r = aqe("artifacts", "list", "--since", "2025-11-05T12:00:00Z", "--limit", "2", "--format", "json")
    assert [a["key"] for a in json.loads(r.out)["artifacts"]] == ["d20", "d12"]
    assert aqe("artifacts", "list", "--since", "yesterday").code == EXIT_USAGE


def test_schema_command(aqe) -> None:
    for name in ("test_results", "coverage", "security", "manifest", "config"):
        r = aqe("artifacts", "schema", name)
        assert r.code == 0 and json.loads(r.out)["$schema"].endswith("2020-12/schema")


def test_metadata_must_be_json_object(aqe, workdir: Path) -> None:
    t = write(workdir / "t.json", TESTS_DOC)
    assert aqe("artifacts", "store", "--file", str(t), "--key", "k", "--metadata", "[1]").code == EXIT_USAGE
    assert aqe("artifacts", "store", "--file", str(t), "--key", "k", "--metadata", "{bad").code == EXIT_USAGE
    r = aqe("artifacts", "store", "--file", str(t), "--key", "k", "--metadata", '{"pipeline": "nightly"}',
            "--output-format", "json")
    assert r.code == 0 and json.loads(r.out)["key"] == "k"


def test_store_raw_reports_with_globs(aqe, workdir: Path, corpus: Path) -> None:
    pattern = str(corpus / "_generated-real-tools" / "js-test-runners" / "*junit*.xml")
    r = aqe("artifacts", "store", "--file", pattern, "--key", "js", "--output-format", "json")
    assert r.code == 0, r.err
    docs = json.loads(r.out)["documents"]
    assert [d["type"] for d in docs] == ["test_results"] and docs[0]["summary"]["tests_run"] > 0
    doc = json.loads(aqe("artifacts", "get", "js", "--type", "test_results").out)
    assert len(doc["data"]["sources"]) >= 2  # several reports merged into one document


@pytest.mark.parametrize("sample", [
    "publish-unit-test-result-action/python/test/files/nunit/nunit3/jenkins/NUnit-sec1752-file.xml",
    "publish-unit-test-result-action/python/test/files/nunit/nunit3/jenkins/NUnit-sec1752-https.xml",
])
def test_store_hostile_report_stores_nothing(aqe, workdir: Path, corpus: Path, sample: str) -> None:
    r = aqe("artifacts", "store", "--file", str(corpus / sample), "--key", "x")
    assert r.code == EXIT_INVALID_INPUT
    assert len(r.err.strip().splitlines()) == 1 and "not allowed" in r.err and sample.rsplit("/", 1)[-1] in r.err
    assert store_tree(workdir) == []
