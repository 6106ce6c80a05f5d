"""Hostile input: rejected with one line, no bait file read, no connection opened.

Three witnesses, because libxml2 reads files and sockets from C (invisible to Python):
- a ``sys.addaudithook`` hook records Python-level ``open`` and ``socket.*`` events;
- Linux inotify (via ctypes) records any open/read of the bait files by anyone, C code included;
- a listening socket on 127.0.0.1 that generated XXE samples point at must see no connection.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import socket
import struct
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from ingest_helpers import CORPUS, TIMESTAMP  # type: ignore[import-not-found]
from junit_paths import both_paths  # type: ignore[import-not-found]  # noqa: F401

from aqe_ci.ingest.driver import ingest_files
from aqe_ci.model.limits import Limits

#: every test here runs on the C accelerator and on the pure-Python reference path
pytestmark = pytest.mark.usefixtures("both_paths")

NUNIT = CORPUS / "publish-unit-test-result-action/python/test/files/nunit/nunit3/jenkins"
ALLURE = CORPUS / "allure2/plugins/junit-xml-plugin/src/test/resources/junitdata"
BAITS = [NUNIT / "NUnit-sec1752-file.txt", ALLURE / "secret-file.txt"]

_events: list[tuple[str, tuple[Any, ...]]] = []
_recording = False


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if _recording and (event == "open" or event.startswith("socket.")):
        _events.append((event, args))


sys.addaudithook(_hook)


class _Inotify:
    IN_ACCESS, IN_OPEN = 0x1, 0x20

    def __init__(self, paths: list[Path]) -> None:
        self.libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        assert self.fd >= 0, "inotify unavailable"
        self.watches = {}
        for p in paths:
            wd = self.libc.inotify_add_watch(self.fd, os.fsencode(p), self.IN_ACCESS | self.IN_OPEN)
            assert wd >= 0, f"cannot watch {p}"
            self.watches[wd] = p

    def events(self) -> list[Path]:
        seen: list[Path] = []
        while True:
            try:
                buf = os.read(self.fd, 65536)
            except BlockingIOError:
                return seen
            pos = 0
            while pos < len(buf):
                wd, _mask, _cookie, length = struct.unpack_from("iIII", buf, pos)
                seen.append(self.watches[wd])
                pos += 16 + length

    def close(self) -> None:
        os.close(self.fd)


@contextmanager
def witnessed(baits: list[Path]) -> Iterator[dict[str, Any]]:
    global _recording
    notify = _Inotify(baits)
    assert notify.events() == []
    _events.clear()
    out: dict[str, Any] = {}
    _recording = True
    try:
        yield out
    finally:
        _recording = False
        out["inotify"] = notify.events()
        notify.close()
        out["opens"] = [str(a[0]) for e, a in _events if e == "open" and a and isinstance(a[0], str | bytes)]
        out["sockets"] = [e for e, _ in _events if e.startswith("socket.")]


def _assert_untouched(w: dict[str, Any], baits: list[Path]) -> None:
    assert w["inotify"] == [], f"bait file opened: {w['inotify']}"
    for b in baits:
        assert not any(os.path.basename(str(b)) in o for o in w["opens"]), w["opens"]
    assert w["sockets"] == []


def _one_problem(result: Any, path: Path) -> Any:
    assert not result.documents
    (p,) = result.problems
    assert p.file == str(path) and p.reason and "\n" not in p.reason
    return p


@pytest.mark.parametrize("name", ["NUnit-sec1752-file.xml", "NUnit-sec1752-https.xml"])
@pytest.mark.parametrize("fmt", ["auto", "junit"])
def test_corpus_xxe_samples(name: str, fmt: str, tmp_path: Path) -> None:
    path = NUNIT / name
    with witnessed(BAITS) as w:
        result = ingest_files([path], fmt=fmt, workdir=tmp_path, timestamp=TIMESTAMP)
    p = _one_problem(result, path)
    if fmt == "junit" or "DTD" in p.reason:  # a parser ran: it must be the DTD guard that stopped it
        assert "DTD/ENTITY" in p.reason and p.line == 2
    _assert_untouched(w, BAITS)


def test_path_traversal_sample_reads_nothing(tmp_path: Path) -> None:
    # allure's sample names a classname "../secret-file": report text, never a path we open.
    path = ALLURE / "path-traversal.xml"
    with witnessed(BAITS) as w:
        result = ingest_files([path], workdir=tmp_path, timestamp=TIMESTAMP)
    assert not result.problems
    _assert_untouched(w, BAITS)


def test_xml_entities_sample_is_plain_escaping(tmp_path: Path) -> None:
    path = CORPUS / "publish-unit-test-result-action/python/test/files/junit-xml/with-xml-entities.xml"
    result = ingest_files([path], workdir=tmp_path, timestamp=TIMESTAMP)
    assert not result.problems
    import json

    names = [t["name"] for t in json.loads(result.documents["test_results"].path.read_text())["data"]["tests"]]
    assert 'Test with "quotes" in the test name' in names


def _listener() -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    s.setblocking(False)
    return s


def _connections(s: socket.socket) -> int:
    n = 0
    while True:
        try:
            conn, _ = s.accept()
        except BlockingIOError:
            return n
        conn.close()
        n += 1


@pytest.mark.parametrize("kind", ["external-dtd", "external-entity", "parameter-entity", "xinclude"])
def test_generated_network_xxe_never_connects(kind: str, tmp_path: Path) -> None:
    srv = _listener()
    url = f"http://127.0.0.1:{srv.getsockname()[1]}/x"
    bait = tmp_path / "bait.txt"
    bait.write_text("secret")
    body = {
        "external-dtd": f'<!DOCTYPE testsuite SYSTEM "{url}">\n<testsuite name="s"/>',
        "external-entity": f'<!DOCTYPE t [<!ENTITY x SYSTEM "{url}"><!ENTITY y SYSTEM "file://{bait}">]>\n'
                           '<testsuite name="&x;&y;"/>',
        "parameter-entity": f'<!DOCTYPE t [<!ENTITY % p SYSTEM "{url}"> %p;]>\n<testsuite name="s"/>',
        "xinclude": f'<testsuite xmlns:xi="http://www.w3.org/2001/XInclude" name="s"><testcase name="a">'
                    f'<system-out><xi:include href="{url}" parse="text"/><xi:include href="{bait}" '
                    'parse="text"/></system-out></testcase></testsuite>',
    }[kind]
    path = tmp_path / f"{kind}.xml"
    path.write_text('<?xml version="1.0"?>\n' + body)
    with witnessed([bait]) as w:
        result = ingest_files([path], workdir=tmp_path / "w", timestamp=TIMESTAMP)
    try:
        assert _connections(srv) == 0
    finally:
        srv.close()
    _assert_untouched(w, [bait])
    if kind == "xinclude":  # well-formed, no DTD: accepted, but the include is not processed
        import json

        doc = json.loads(result.documents["test_results"].path.read_text())
        assert "secret" not in json.dumps(doc)
    else:
        assert "DTD/ENTITY" in _one_problem(result, path).reason


def test_billion_laughs(tmp_path: Path) -> None:
    ents = ['<!ENTITY lol "lol">'] + [f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">'
                                       for i in range(1, 10)]
    path = tmp_path / "lol.xml"
    path.write_text('<?xml version="1.0"?>\n<!DOCTYPE lolz [\n' + "\n".join(ents)
                    + ']>\n<testsuite name="&lol9;"><testcase name="&lol9;"/></testsuite>')
    result = ingest_files([path], workdir=tmp_path / "w", timestamp=TIMESTAMP)
    assert "DTD/ENTITY" in _one_problem(result, path).reason


def test_truncated_binary_wrong_encoding_and_oversize(tmp_path: Path) -> None:
    good = (CORPUS / "junitparser/tests/data/normal.xml").read_bytes()
    cases = {
        "truncated.xml": good[: len(good) // 2],
        "garbage.xml": bytes(range(256)) * 2,
        "gzip.xml": b"\x1f\x8b\x08\x00" + os.urandom(64),
        "latin1.xml": '<?xml version="1.0" encoding="UTF-8"?><testsuite name="caf\xe9"/>'.encode("latin-1"),
        # UTF-16 is read (transcoded): tests/ingest/test_encodings.py
        "two-roots.xml": b'<testsuite name="a"/><testsuite name="b"/>',
        "empty.xml": b"",
        "blank.xml": b"  \n\n ",
    }
    paths = []
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        paths.append(tmp_path / name)
    big = tmp_path / "big.xml"
    big.write_bytes(good)
    paths.append(big)
    limits = Limits(max_input_bytes=len(good) - 1)
    result = ingest_files(paths, workdir=tmp_path / "w", limits=limits, timestamp=TIMESTAMP)
    assert not result.documents
    by_file = {Path(p.file).name: p for p in result.problems}
    assert set(by_file) == {p.name for p in paths}
    for p in result.problems:
        assert p.reason and "\n" not in p.reason and "internal parser error" not in p.reason
    assert by_file["truncated.xml"].line is not None and "malformed XML" in by_file["truncated.xml"].reason
    assert "binary data" in by_file["garbage.xml"].reason
    assert "compressed" in by_file["gzip.xml"].reason
    assert "malformed XML" in by_file["latin1.xml"].reason
    assert "over the" in by_file["big.xml"].reason
    assert "empty" in by_file["empty.xml"].reason


def test_fifo_directory_and_missing(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.xml"
    os.mkfifo(fifo)
    d = tmp_path / "dir.xml"
    d.mkdir()
    result = ingest_files([fifo, d, tmp_path / "missing.xml"], workdir=tmp_path / "w", timestamp=TIMESTAMP)
    reasons = {Path(p.file).name: p.reason for p in result.problems}
    assert reasons == {"fifo.xml": "not a regular file", "dir.xml": "not a regular file",
                       "missing.xml": "no such file"}


def test_a_bad_file_adds_nothing_and_the_rest_carry_on(tmp_path: Path) -> None:
    good = CORPUS / "junitparser/tests/data/normal.xml"
    bad = tmp_path / "bad.xml"
    # well-formed at first, so the parser writes tests before it meets the error
    bad.write_text('<testsuites><testsuite name="x"><testcase classname="c" name="t1"/>'
                   '<testcase classname="c" name="t2"><system-out>' + "x" * 10000 + "</system-out></testcase>"
                   "<testcase name=</testsuite></testsuites>")
    alone = ingest_files([good], workdir=tmp_path / "a", timestamp=TIMESTAMP)
    both = ingest_files([bad, good, bad], workdir=tmp_path / "b", timestamp=TIMESTAMP)
    assert [Path(p.file).name for p in both.problems] == ["bad.xml", "bad.xml"]
    a = alone.documents["test_results"]
    b = both.documents["test_results"]
    assert a.summary == b.summary and b.blobs == {}
    assert a.path.read_text().replace(str(tmp_path / "a"), "") == b.path.read_text().replace(
        str(tmp_path / "b"), "")


def test_parser_bug_becomes_a_visible_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from aqe_ci.ingest.tests import junit

    def boom(self: Any, path: Path) -> None:
        raise KeyError("kaboom")

    monkeypatch.setattr(junit._JUnitRun, "run", boom)
    path = CORPUS / "junitparser/tests/data/normal.xml"
    (p,) = ingest_files([path], workdir=tmp_path, timestamp=TIMESTAMP).problems
    assert p.reason == "internal parser error: KeyError: 'kaboom'"
