"""Hostile coverage input: DTD/ENTITY tricks, external DTD baits, truncation, garbage.

The JaCoCo/Cobertura allowance (one DOCTYPE with only PUBLIC/SYSTEM ids) must never load that DTD:
a FIFO bait proves no file is opened and a listening socket on 127.0.0.1 proves no connection.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from aqe_ci.errors import InvalidInputError
from aqe_ci.ingest import registry
from aqe_ci.ingest.base import ReportError, SourceInfo, read_head
from aqe_ci.ingest.coverage.writer import CoverageWriter
from aqe_ci.ingest.stream import safexml
from aqe_ci.model.limits import Limits, check_report_file
from tests.ingest.cobertura_accel import cobertura_path  # noqa: F401  (fixture, used by pytestmark)

#: every test here runs on the C accelerator and on the pure-Python reference path
pytestmark = pytest.mark.usefixtures("cobertura_path")

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"
COVERAGE_FORMATS = ("cobertura", "lcov", "jacoco", "coveragepy-json", "istanbul", "istanbul-summary",
                    "go-coverprofile")

COBERTURA_BODY = (b'<coverage line-rate="1" lines-valid="1" lines-covered="1" version="1"><packages><package name="p">'
                  b'<classes><class name="a" filename="a.py"><methods/><lines><line number="1" hits="1"/>'
                  b"</lines></class></classes></package></packages></coverage>\n")
JACOCO_BODY = (b'<report name="r"><package name="p"><sourcefile name="A.java"><line nr="1" mi="0" ci="2" mb="0" cb="0"/>'
               b'<counter type="LINE" missed="0" covered="1"/></sourcefile></package></report>\n')


def parse(path: Path, fmt: str, tmp_path: Path) -> dict[str, object]:
    writer = CoverageWriter(workdir=tmp_path / "work", limits=Limits())
    src = SourceInfo(file=str(path), format=fmt, bytes=path.stat().st_size)
    writer.begin_source(src)
    try:
        registry.by_format(fmt)().parse(path, writer, src)
    except BaseException:
        writer.rollback_source()
        writer.abort()
        raise
    writer.commit_source()
    doc = writer.finish(timestamp="2026-01-01T00:00:00Z")
    summary = doc.summary
    doc.cleanup()
    return summary


@contextmanager
def fifo_bait(tmp_path: Path) -> Iterator[tuple[Path, threading.Event]]:
    """A FIFO whose opening for reading is observed: a parser that reads the bait unblocks the writer."""
    bait = tmp_path / "bait.fifo"
    os.mkfifo(bait)
    opened = threading.Event()

    def writer() -> None:
        fd = os.open(bait, os.O_WRONLY)  # blocks until somebody opens the FIFO for reading
        if not released.is_set():
            opened.set()
        try:
            os.write(fd, b'<!ENTITY xxe "stolen">')
        except OSError:
            pass
        os.close(fd)

    released = threading.Event()
    t = threading.Thread(target=writer, daemon=True)
    t.start()
    try:
        yield bait, opened
    finally:
        time.sleep(0.05)
        released.set()
        fd = os.open(bait, os.O_RDONLY | os.O_NONBLOCK)  # release the writer thread ourselves
        t.join(5)
        os.close(fd)


@contextmanager
def listener() -> Iterator[tuple[int, socket.socket]]:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(5)
    s.setblocking(False)
    try:
        yield s.getsockname()[1], s
    finally:
        s.close()


def no_connection(s: socket.socket) -> bool:
    time.sleep(0.05)
    try:
        conn, _ = s.accept()
    except BlockingIOError:
        return True
    conn.close()
    return False


# ------------------------------------------------------------------------- the tolerated DOCTYPE never loads


@pytest.mark.parametrize("fmt,body,name", [("jacoco", JACOCO_BODY, b"report"), ("cobertura", COBERTURA_BODY, b"coverage")])
def test_public_doctype_pointing_at_a_local_file_is_not_read(fmt: str, body: bytes, name: bytes, tmp_path: Path) -> None:
    with fifo_bait(tmp_path) as (bait, opened):
        report = tmp_path / "report.xml"
        report.write_bytes(b'<?xml version="1.0"?>\n<!DOCTYPE ' + name + b' PUBLIC "-//JACOCO//DTD Report 1.1//EN" "'
                           + bait.as_uri().encode() + b'">\n' + body.replace(b'name="p">', b'name="p">&xxe;', 1))
        summary = parse(report, fmt, tmp_path)
        time.sleep(0.05)
        assert not opened.is_set(), "the external DTD was opened"
    assert summary["lines_valid"] == 1 and summary["lines_covered"] == 1


@pytest.mark.parametrize("fmt,body,name", [("jacoco", JACOCO_BODY, b"report"), ("cobertura", COBERTURA_BODY, b"coverage")])
def test_system_doctype_pointing_at_a_server_opens_no_connection(fmt: str, body: bytes, name: bytes,
                                                                 tmp_path: Path) -> None:
    with listener() as (port, sock):
        report = tmp_path / "report.xml"
        report.write_bytes(b'<?xml version="1.0"?>\n<!DOCTYPE ' + name + b' SYSTEM "http://127.0.0.1:'
                           + str(port).encode() + b'/evil.dtd">\n' + body)
        summary = parse(report, fmt, tmp_path)
        assert no_connection(sock)
    assert summary["files"] == 1


# ------------------------------------------------------------------------- still rejected


def _xxe_variants(bait_uri: str) -> dict[str, bytes]:
    entity = f'<!ENTITY xxe SYSTEM "{bait_uri}">'.encode()
    return {
        "internal subset with external entity": b'<?xml version="1.0"?>\n<!DOCTYPE coverage [' + entity + b"]>\n",
        "public id plus internal subset": b'<!DOCTYPE report PUBLIC "-//JACOCO//DTD Report 1.1//EN" "report.dtd" ['
                                          + entity + b"]>\n",
        "parameter entity": f'<!DOCTYPE coverage [<!ENTITY % p SYSTEM "{bait_uri}"> %p;]>\n'.encode(),
        "bare ENTITY before root": entity + b"\n",
        "DOCTYPE hidden behind a comment holding a tag": b'<?xml version="1.0"?><!-- <a> --><!DOCTYPE coverage ['
                                                        + entity + b"]>\n",
        "two DOCTYPEs": b'<!DOCTYPE coverage SYSTEM "a.dtd">\n<!DOCTYPE coverage [' + entity + b"]>\n",
        "lower-case doctype": b"<!doctype coverage [" + entity + b"]>\n",
        "ATTLIST without DOCTYPE": b"<!ATTLIST coverage a CDATA 'x'>\n",
    }


@pytest.mark.parametrize("variant", list(_xxe_variants("file:///x")))
@pytest.mark.parametrize("fmt,body", [("cobertura", COBERTURA_BODY), ("jacoco", JACOCO_BODY)])
def test_dtd_entity_tricks_are_rejected_before_parsing(variant: str, fmt: str, body: bytes, tmp_path: Path) -> None:
    with fifo_bait(tmp_path) as (bait, opened):
        report = tmp_path / "evil.xml"
        report.write_bytes(_xxe_variants(bait.as_uri())[variant] + body.replace(b'name="p">', b'name="p">&xxe;', 1))
        with pytest.raises(ReportError, match="DTD/ENTITY|malformed XML"):
            parse(report, fmt, tmp_path)
        assert not opened.is_set()


def test_utf16_encoded_xxe_is_rejected(tmp_path: Path) -> None:
    text = ('<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE coverage [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
            + COBERTURA_BODY.decode())
    report = tmp_path / "utf16.xml"
    report.write_bytes(text.encode("utf-16"))
    with pytest.raises(ReportError, match="DTD/ENTITY"):
        safexml.check_prolog(report, allow_external_doctype=True)


def test_billion_laughs_is_rejected(tmp_path: Path) -> None:
    lol = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    report = tmp_path / "lol.xml"
    report.write_text('<?xml version="1.0"?>\n<!DOCTYPE coverage [' + "".join(lol) + "]>\n"
                      + COBERTURA_BODY.decode().replace('version="1">', 'version="&lol9;">'))
    started = time.perf_counter()
    with pytest.raises(ReportError, match="DTD/ENTITY"):
        parse(report, "cobertura", tmp_path)
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize("rel", [
    "publish-unit-test-result-action/python/test/files/nunit/nunit3/jenkins/NUnit-sec1752-file.xml",
    "publish-unit-test-result-action/python/test/files/nunit/nunit3/jenkins/NUnit-sec1752-https.xml",
])
@pytest.mark.parametrize("allow", [False, True])
def test_corpus_xxe_samples_stay_rejected_with_and_without_the_allowance(rel: str, allow: bool) -> None:
    path = CORPUS / rel
    assert path.is_file(), f"corpus sample missing: {path}"
    with pytest.raises(ReportError, match="DTD/ENTITY"):
        safexml.check_prolog(path, allow_external_doctype=allow)


def test_default_check_prolog_still_rejects_every_doctype(tmp_path: Path) -> None:
    report = tmp_path / "pub.xml"
    report.write_bytes(b'<!DOCTYPE report PUBLIC "-//JACOCO//DTD Report 1.1//EN" "report.dtd">\n' + JACOCO_BODY)
    with pytest.raises(ReportError, match="DTD/ENTITY"):
        safexml.check_prolog(report)
    safexml.check_prolog(report, allow_external_doctype=True)


# ------------------------------------------------------------------------- truncated, garbage, oversized


def _real(rel: str) -> bytes:
    path = CORPUS / rel
    assert path.is_file(), f"corpus sample missing: {path}"
    return path.read_bytes()


@pytest.mark.parametrize("rel,fmt,match", [
    ("_generated-real-tools/coveragepy/run_a.cobertura.xml", "cobertura", "malformed XML"),
    ("jacoco-report/__tests__/__fixtures__/report.xml", "jacoco", "malformed XML"),
    ("_generated-real-tools/coveragepy/run_a.coverage.json", "coveragepy-json", "invalid JSON"),
    ("istanbuljs/_derived/missing-decl/coverage-final.json", "istanbul", "invalid JSON"),
    ("istanbuljs/_derived/missing-decl/generated-by-istanbul-reports/coverage-summary.json", "istanbul-summary",
     "invalid JSON"),
    ("_generated-real-tools/coveragepy/run_a.lcov.info", "lcov", "truncated|malformed DA"),
])
def test_truncated_reports_are_clear_problems(rel: str, fmt: str, match: str, tmp_path: Path) -> None:
    data = _real(rel)
    cut = tmp_path / "cut"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ReportError, match=match) as info:
        parse(cut, fmt, tmp_path)
    assert "\n" not in str(info.value)


def test_truncated_go_profile_line_is_a_clear_problem(tmp_path: Path) -> None:
    p = tmp_path / "c.out"
    p.write_bytes(b"mode: set\nexample.com/a/b.go:1.1,3.2 2 1\nexample.com/a/b.go:4.1,")
    with pytest.raises(ReportError, match="malformed coverprofile block") as info:
        parse(p, "go-coverprofile", tmp_path)
    assert info.value.line == 3


@pytest.mark.parametrize("fmt", COVERAGE_FORMATS)
def test_binary_garbage_is_detected_by_nothing_and_rejected_by_every_parser(fmt: str, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(bytes(range(256)) * 64 + os.urandom(4096))
    assert [c.format for c in registry.detect(read_head(garbage)) if c.format in COVERAGE_FORMATS] == []
    with pytest.raises(ReportError):
        parse(garbage, fmt, tmp_path)


def test_oversized_input_is_refused_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.xml"
    big.write_bytes(COBERTURA_BODY * 100)
    with pytest.raises(InvalidInputError, match="input cap"):
        check_report_file(big, Limits(max_input_bytes=1024))
