"""The hardened expat path (aqe_ci.ingest.stream.safeexpat) on its own and through the JUnit parser, on both
paths: the C accelerator's parser (create_fast_parser) and pyexpat (create_parser), the reference.

The byte-level prolog check (safexml.check_prolog) is the first layer; these tests also feed the
hostile samples straight to the expat parser, bypassing it, to prove the handler-level refusal
holds by itself: nothing read, no connection opened, one clear error.
"""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest
from ingest_helpers import CORPUS, TIMESTAMP, load_doc  # type: ignore[import-not-found]
from junit_paths import both_paths, parser  # type: ignore[import-not-found]  # noqa: F401
from test_hostile import (  # type: ignore[import-not-found]
    BAITS,
    NUNIT,
    _assert_untouched,
    _connections,
    _listener,
    _one_problem,
    witnessed,
)

from aqe_ci.ingest.base import ReportError
from aqe_ci.ingest.driver import ingest_files
from aqe_ci.ingest.stream import safeexpat
from aqe_ci.model.limits import Limits


def _feed(data: bytes) -> None:
    """Parse ``data`` with the hardened parser and no prolog check; handlers record nothing."""
    p = parser()
    p.StartElementHandler = lambda name, attrs: None
    p.CharacterDataHandler = lambda text: None
    try:
        p.Parse(data, True)
    except safeexpat.expat.ExpatError as exc:
        raise ReportError(f"malformed XML: {exc}", line=exc.lineno) from None


def _hostile(url: str, bait: Path) -> dict[str, bytes]:
    ents = ['<!ENTITY lol "lol">'] + [f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">'
                                       for i in range(1, 10)]
    return {
        "external-dtd": f'<!DOCTYPE testsuite SYSTEM "{url}">\n<testsuite name="s"/>'.encode(),
        "external-entity": (f'<!DOCTYPE t [<!ENTITY x SYSTEM "{url}"><!ENTITY y SYSTEM "file://{bait}">]>\n'
                            '<testsuite name="&x;&y;"/>').encode(),
        "parameter-entity": f'<!DOCTYPE t [<!ENTITY % p SYSTEM "{url}"> %p;]>\n<testsuite name="s"/>'.encode(),
        "billion-laughs": ('<!DOCTYPE lolz [' + "".join(ents) + ']><testsuite name="&lol9;"/>').encode(),
        "public-dtd": f'<!DOCTYPE testsuite PUBLIC "-//x//y" "{url}"><testsuite name="s"/>'.encode(),
    }


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("kind", ["external-dtd", "external-entity", "parameter-entity", "billion-laughs",
                                  "public-dtd"])
def test_handlers_refuse_every_dtd_without_the_prolog_check(kind: str, tmp_path: Path) -> None:
    srv = _listener()
    bait = tmp_path / "bait.txt"
    bait.write_text("secret")
    data = _hostile(f"http://127.0.0.1:{srv.getsockname()[1]}/x", bait)[kind]
    with witnessed([bait]) as w, pytest.raises(ReportError) as info:
        _feed(b'<?xml version="1.0"?>\n' + data)
    try:
        assert _connections(srv) == 0
    finally:
        srv.close()
    _assert_untouched(w, [bait])
    assert str(info.value) == safeexpat.DTD_REFUSED and info.value.line == 2


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("name", ["NUnit-sec1752-file.xml", "NUnit-sec1752-https.xml"])
def test_corpus_xxe_samples_refused_by_the_handlers_alone(name: str) -> None:
    with witnessed(BAITS) as w, pytest.raises(ReportError) as info:
        _feed((NUNIT / name).read_bytes())
    _assert_untouched(w, BAITS)
    assert str(info.value) == safeexpat.DTD_REFUSED


def test_doctype_hidden_after_a_megabyte_of_comments(tmp_path: Path) -> None:
    # the byte-level check only scans the first MiB; the handlers catch what comes after
    bait = tmp_path / "bait.txt"
    bait.write_text("secret")
    path = tmp_path / "late-dtd.xml"
    path.write_text('<?xml version="1.0"?>\n' + "<!-- padding -->\n" * 70_000
                    + f'<!DOCTYPE t [<!ENTITY y SYSTEM "file://{bait}">]>\n<testsuite name="&y;"/>')
    assert path.stat().st_size > (1 << 20)
    p = safeexpat.create_parser()
    with witnessed([bait]) as w, pytest.raises(ReportError) as info:
        safeexpat.parse_file(p, path)
    _assert_untouched(w, [bait])
    assert str(info.value) == safeexpat.DTD_REFUSED and info.value.line == 70_002
    # through the driver the file is refused too (no root element in the head: not JUnit)
    result = ingest_files([path], fmt="junit", workdir=tmp_path / "w", timestamp=TIMESTAMP)
    assert _one_problem(result, path).reason.startswith("not JUnit XML")


@pytest.mark.usefixtures("both_paths")
def test_xinclude_is_an_ordinary_element(tmp_path: Path) -> None:
    bait = tmp_path / "bait.txt"
    bait.write_text("secret")
    path = tmp_path / "xi.xml"
    path.write_text(f'<testsuite xmlns:xi="http://www.w3.org/2001/XInclude" name="s"><testcase name="a">'
                    f'<system-out>before<xi:include href="{bait}" parse="text"/>after</system-out></testcase>'
                    '</testsuite>')
    with witnessed([bait]) as w:
        doc = load_doc(ingest_files([path], workdir=tmp_path / "w", timestamp=TIMESTAMP))
    _assert_untouched(w, [bait])
    assert doc["data"]["tests"][0]["stdout"] == {"text": "before"}  # text before the first child
    assert "secret" not in json.dumps(doc)


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize(("data", "line"), [
    (b'<testsuite name="s"><testcase name="a">', 1),  # truncated
    (b'<testsuite name="s">\n<testcase name="a"></testsuite>', 2),  # mismatched tag
    (b'<testsuite name="&undefined;"/>', 1),  # undeclared entity: an error, never a lookup
    (b'<testsuite name="s"/><testsuite name="t"/>', 1),  # two roots
    (b'<x:testsuite name="s"/>', 1),  # unbound namespace prefix
    (bytes(range(256)), 1),  # binary garbage
])
def test_malformed_input_is_a_report_error_with_the_line(data: bytes, line: int, tmp_path: Path) -> None:
    path = tmp_path / "bad.xml"
    path.write_bytes(data)
    p = parser()
    with pytest.raises(ReportError) as info:
        safeexpat.parse_file(p, path)
    assert str(info.value).startswith("malformed XML: ") and info.value.line == line


@pytest.mark.usefixtures("both_paths")
def test_huge_captured_text_is_counted_not_kept(tmp_path: Path) -> None:
    # 24 MB of output in one <system-out>: only the cap is kept in memory, sizes stay exact
    chunk = "0123456789abcdef é\n" * 1000
    n = 1200
    path = tmp_path / "huge.xml"
    with open(path, "w", encoding="utf-8") as f:
        f.write('<testsuites><testsuite name="s"><testcase classname="c" name="t"><failure message="m">'
                + "\n" * 50_000 + "first real line\n" + "</failure><system-out>")
        for _ in range(n):
            f.write(chunk)
        f.write("</system-out></testcase></testsuite></testsuites>")
    limits = Limits(inline_text_bytes=100, max_blob_bytes=20_000)
    tracemalloc.start()
    try:
        result = ingest_files([path], workdir=tmp_path / "w", limits=limits, timestamp=TIMESTAMP)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8_000_000, peak  # the text alone is 24 MB as UTF-8
    doc = load_doc(result)
    out = doc["data"]["tests"][0]["stdout"]
    assert out["bytes"] == len(chunk.encode()) * n and out["truncated"] is True and out["length"] <= 20_000
    blob = result.documents["test_results"].blobs[out["blob"]].read_bytes()
    assert (chunk * 2).encode().startswith(blob[out["offset"]:out["offset"] + out["length"]])
    failure = doc["data"]["failures"][0]
    assert failure["message"] == "m" and failure["details"]["bytes"] == 50_000 + len("first real line\n")


@pytest.mark.usefixtures("both_paths")
def test_capped_texts_join_with_exact_sizes(tmp_path: Path) -> None:
    # several <system-out> pieces and failures, each over the cap: sizes are those of the joined text
    piece = "x" * 30_000
    path = tmp_path / "pieces.xml"
    path.write_text('<testsuite name="s"><testcase name="t"><error>' + "\n" * 40_000 + "late message\n"
                    + piece + "</error><failure>" + piece + "</failure><system-out>" + piece
                    + "</system-out><system-out>" + piece + "</system-out></testcase></testsuite>")
    limits = Limits(inline_text_bytes=100, max_blob_bytes=5_000)
    doc = load_doc(ingest_files([path], workdir=tmp_path / "w", limits=limits, timestamp=TIMESTAMP))
    test = doc["data"]["tests"][0]
    assert test["status"] == "error" and test["message"] == "late message"
    assert test["stdout"]["bytes"] == 2 * len(piece) + 1 and test["stdout"]["truncated"]
    details = doc["data"]["failures"][0]["details"]
    assert details["bytes"] == 40_000 + len("late message\n") + len(piece) + 2 + len(piece)


@pytest.mark.usefixtures("both_paths")
def test_namespaced_and_prefixed_test_elements(tmp_path: Path) -> None:
    # a default namespace on the root: test elements in any namespace count (like lxml's {*});
    # without one, only un-namespaced test elements do
    ns = tmp_path / "ns.xml"
    ns.write_text('<testsuites xmlns="urn:x" xmlns:y="urn:y"><testsuite name="s"><testcase name="a"/>'
                  '<y:testcase name="b"/></testsuite></testsuites>')
    plain = tmp_path / "plain.xml"
    plain.write_text('<testsuites xmlns:y="urn:y"><testsuite name="s"><testcase name="a"/><y:testcase name="b"/>'
                     '</testsuite></testsuites>')
    both = ingest_files([ns, plain], workdir=tmp_path / "w", timestamp=TIMESTAMP)
    tests = load_doc(both)["data"]["tests"]
    assert [(t["suite"], t["name"]) for t in tests] == [("s", "a"), ("s", "b"), ("s", "a")]


@pytest.mark.usefixtures("both_paths")
def test_corpus_junit_file_same_through_both_schema_backends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from aqe_ci.model import schema as itemschema

    path = CORPUS / "junitparser/tests/data/normal.xml"
    docs = []
    for name in ("jsonschema-rs", "fastjsonschema"):
        monkeypatch.setenv(itemschema.BACKEND_ENV, name)
        itemschema.backend.cache_clear()
        itemschema.item_validator.cache_clear()
        assert itemschema.backend() == name
        docs.append(load_doc(ingest_files([path], workdir=tmp_path / name, timestamp=TIMESTAMP)))
    itemschema.backend.cache_clear()
    itemschema.item_validator.cache_clear()
    assert docs[0] == docs[1]
