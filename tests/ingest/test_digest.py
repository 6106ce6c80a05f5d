"""The source digest is computed alongside the parse (a worker thread for big files) and is exact."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

from aqe_ci.ingest import base
from aqe_ci.ingest.driver import ingest_files


def _junit(n: int) -> bytes:
    cases = "".join(f'<testcase classname="c" name="t{i}" time="0.001"/>\n' for i in range(n))
    return f'<?xml version="1.0"?>\n<testsuites><testsuite name="s">\n{cases}</testsuite></testsuites>\n'.encode()


def _sources(result) -> list[dict]:
    doc = json.loads(result.documents["test_results"].path.read_text())
    return doc["data"]["sources"]


def test_big_file_is_hashed_on_a_thread_and_the_digest_is_exact(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(base, "DIGEST_THREAD_BYTES", 50_000)
    monkeypatch.setattr(base, "_DIGEST_BLOCK", 4096)  # many blocks: the worker really interleaves
    big = tmp_path / "big.xml"
    big.write_bytes(_junit(5_000))
    assert big.stat().st_size >= base.DIGEST_THREAD_BYTES  # the threaded path is the one under test
    small = tmp_path / "small.xml"
    small.write_bytes(_junit(3))
    r = ingest_files([big, small], workdir=tmp_path)
    assert not r.problems
    srcs = _sources(r)
    assert [s["sha256"] for s in srcs] == [hashlib.sha256(p.read_bytes()).hexdigest() for p in (big, small)]
    # the key order of a source is the same whichever way the digest arrived
    assert list(srcs[0]) == list(srcs[1]) and list(srcs[0]).index("sha256") < list(srcs[0]).index("bytes")
    assert not [t for t in threading.enumerate() if t.name == "aqe-digest"]


def test_failed_parse_stops_the_digest_thread_and_stores_nothing(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(base, "DIGEST_THREAD_BYTES", 50_000)
    monkeypatch.setattr(base, "_DIGEST_BLOCK", 4096)
    bad = tmp_path / "bad.xml"
    bad.write_bytes(_junit(5_000)[:-200])  # truncated: a malformed-XML problem late in the file
    r = ingest_files([bad], workdir=tmp_path)
    assert [p.file for p in r.problems] == [str(bad)] and "malformed XML" in r.problems[0].reason
    assert "test_results" not in r.documents
    assert not [t for t in threading.enumerate() if t.name == "aqe-digest"]


def test_digest_read_error_is_raised_by_result(tmp_path: Path) -> None:
    gone = tmp_path / "gone.xml"
    for size in (0, 10 << 20):  # inline and on the worker thread
        d = base.FileDigest(gone, size)
        try:
            d.result()
        except FileNotFoundError as exc:
            assert exc.filename == str(gone)
        else:
            raise AssertionError("a missing file must raise OSError from result()")
