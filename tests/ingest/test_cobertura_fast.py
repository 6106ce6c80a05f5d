"""The fast Cobertura reader against the lxml reference: byte-identical documents, same rejections.

``CoberturaParser.parse_lxml`` (lxml iterparse + XPath, the parser the goldens were written for) is
the reference. Every Cobertura file of the corpus and a set of generated edge cases (attribute
order, quotes, whitespace, comments/CDATA/PIs holding markup, entities, nesting, chunk
boundaries at every position) go through both; documents must be byte-identical, a file the
reference rejects must be rejected too.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from aqe_ci.ingest.base import ReportError, SourceInfo
from aqe_ci.ingest.coverage import cobertura_fast
from aqe_ci.ingest.coverage.cobertura_fast import Decline, FastCobertura
from aqe_ci.ingest.coverage.writer import CoverageWriter
from aqe_ci.model.limits import Limits
from aqe_ci.model.linehits import encode_line_runs as encode_line_hits
from tests.ingest.cobertura_accel import (
    cobertura_path,  # noqa: F401  (fixture, used by pytestmark)
    read_with,
)

#: every test here runs on the C accelerator and on the pure-Python reference path
pytestmark = pytest.mark.usefixtures("cobertura_path")

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"
INVENTORY = json.loads((CORPUS / "INVENTORY.json").read_text())
COBERTURA = sorted(e["path"] for e in INVENTORY if e["format"].startswith("cobertura-xml"))


def _run(path: Path, work: Path, how: str) -> tuple[str, bytes | str]:
    """("ok", document bytes) or ("error", reason) through one reader; "fast" also reports declines."""
    return read_with(path, work, how)


def _same(path: Path, tmp: Path) -> str:
    """Assert the production parser (fast, lxml on decline) matches the reference; return the fast verdict."""
    ref = _run(path, tmp / "ref", "lxml")
    prod = _run(path, tmp / "prod", "parse")
    fast = _run(path, tmp / "fast", "fast")
    if ref[0] == "ok":
        assert prod == ref, f"{path}: production output differs from the lxml reference"
        assert fast[0] in ("ok", "declined", "error"), fast
        if fast[0] == "ok":
            assert fast == ref, f"{path}: fast output differs from the lxml reference"
        else:
            assert fast[0] == "declined", f"{path}: the fast reader rejected a file lxml accepts: {fast[1]}"
    else:
        assert prod[0] == "error", f"{path}: lxml rejects ({ref[1]}) but production accepted"
        assert fast[0] != "ok", f"{path}: lxml rejects ({ref[1]}) but the fast reader accepted"
    return fast[0]


@pytest.mark.parametrize("rel", COBERTURA)
def test_corpus_file_identical(rel: str, tmp_path: Path) -> None:
    _same(CORPUS / rel, tmp_path)


def test_fast_path_takes_most_of_the_corpus(tmp_path: Path) -> None:
    """The fast reader is not silently declining everything (which would make it pointless)."""
    verdicts = [_same(CORPUS / rel, tmp_path / str(i)) for i, rel in enumerate(COBERTURA)]
    ok, declined = verdicts.count("ok"), verdicts.count("declined")
    assert ok >= 0.8 * (ok + declined), verdicts


# --------------------------------------------------------------------------- generated edge cases

HEAD = '<?xml version="1.0" ?>\n<coverage version="7.4" line-rate="0.5" branch-rate="0.5" branches-valid="4">\n'
PKG = '<packages><package name="p"><classes>\n'
TAIL = "</classes></package></packages>\n</coverage>\n"


def _doc(*classes: str, head: str = HEAD) -> str:
    return head + PKG + "\n".join(classes) + TAIL


def _cls(lines: str, filename: str = "src/a.py", methods: str = "<methods/>") -> str:
    return f'<class name="a" filename="{filename}" line-rate="1">{methods}<lines>{lines}</lines></class>'


CANON = ('<line number="1" hits="1"/><line number="2" hits="1"/><line number="3" hits="0"/>'
         '<line number="5" hits="2" branch="true" condition-coverage="50% (1/2)"/><line number="6" hits="2"/>')

EDGE = {
    "canonical": _doc(_cls(CANON)),
    "reordered": _doc(_cls('<line hits="4" number="1"/><line branch="true" condition-coverage="100% (2/2)" '
                           'hits="1" number="2"/>')),
    "single-quotes": _doc(_cls("<line number='1' hits='3'/><line number='2' hits='0' "
                               "condition-coverage='0% (0/2)'/>")),
    "whitespace-in-tags": _doc(_cls('<line\n  number = "1"\n\thits="2"  />\n<line number="2"\r\n hits="2"\n/>')),
    "comment-with-markup": _doc(_cls('<!-- <line number="9" hits="9"/> --><line number="1" hits="1"/>'
                                     '<!--</lines></class><class filename="evil.py"><lines>-->')),
    "cdata-with-markup": _doc(_cls('<line number="1" hits="1"/>') + '<![CDATA[<class filename="evil.py">'
                              '<lines><line number="9" hits="9"/></lines></class>]]>'),
    "pi-with-markup": _doc(_cls('<?pi <line number="9" hits="9"/> ?><line number="1" hits="1"/>')),
    "entity-filename": _doc(_cls('<line number="1" hits="1"/>', filename="src/a&amp;b&#x2F;&lt;c&gt;&#233;.py")),
    "entity-in-cc": _doc(_cls('<line number="1" hits="1" branch="true" condition-coverage="50&#37; (1/2)"/>')),
    "tab-in-filename": _doc(_cls('<line number="1" hits="1"/>', filename="src/a\tb.py")),
    "leading-zeros": _doc(_cls('<line number="01" hits="007"/><line number="2" hits="0"/>')),
    "unsorted-duplicates": _doc(_cls('<line number="5" hits="1"/><line number="2" hits="3"/>'
                                     '<line number="5" hits="4"/>')),
    "java-conditions": _doc(_cls('<line number="1" hits="1" branch="true" condition-coverage="50% (1/2)">'
                                 '<conditions><condition number="0" type="jump" coverage="50%"/></conditions>'
                                 '</line><line number="2" hits="0" branch="false"/>')),
    "methods": _doc(_cls('<line number="1" hits="1"/><line number="2" hits="0"/>',
                         methods='<methods><method name="f" signature="()" line-rate="0"><lines>'
                                 '<line number="1" hits="1"/></lines></method><method name="g" hits="0">'
                                 '<lines><line number="2" hits="0"/></lines></method></methods>')),
    "nested-line-lines": _doc('<class filename="a.py"><line number="1" hits="1"><lines><line number="2" hits="3"/>'
                              '</lines></line><lines><line number="3" hits="1"/></lines></class>'),
    "unknown-child": _doc(_cls('<line number="1" hits="1"/><foo><line number="7" hits="7"/></foo>')),
    "two-lines-elements": _doc('<class filename="a.py"><lines><line number="1" hits="1"/></lines>'
                               '<lines><line number="2" hits="0"/></lines></class>'),
    "self-closing-class": _doc('<class name="x" filename="x.py"/>', _cls('<line number="1" hits="1"/>')),
    "same-file-twice": _doc(_cls('<line number="1" hits="1"/>'), _cls('<line number="1" hits="5"/>'
                                                                         '<line number="2" hits="0"/>')),
    "empty-cc": _doc(_cls('<line number="1" hits="1" condition-coverage=""/>')),
    "cc-without-fraction": _doc(_cls('<line number="1" hits="1" branch="true" condition-coverage="50%"/>')),
    "float-hits": _doc(_cls('<line number="1" hits="1.0"/>')),
    "huge-hits": _doc(_cls('<line number="1" hits="99999999999999999999999"/>')),
    "negative-hits": _doc(_cls('<line number="1" hits="-1"/>')),
    "gt-in-attribute": _doc(_cls('<line number="1" hits="1" note="a>b"/>')),
    "doctype": '<?xml version="1.0"?>\n<!DOCTYPE coverage SYSTEM "http://cobertura.sourceforge.net/xml/coverage-04.dtd">\n'
               + _doc(_cls(CANON), head='<coverage line-rate="0.5" branches-valid="0">\n'),
    "namespaced": _doc(_cls('<line number="1" hits="1"/>'),
                       head='<coverage xmlns="urn:x" line-rate="1">\n'),
    "no-filename": _doc('<class name="x"><lines><line number="1" hits="1"/></lines></class>'),
    "c-over-v": _doc(_cls('<line number="1" hits="1" condition-coverage="300% (3/1)"/>')),
    "missing-hits": _doc(_cls('<line number="1"/>')),
    "truncated": _doc(_cls(CANON))[:-40],
    "mismatched": _doc(_cls(CANON)).replace("</lines>", "</line>", 1),
    "not-coverage-root": '<report><class filename="a.py"><lines><line number="1" hits="1"/></lines></class></report>',
    "nested-coverage": _doc(_cls(CANON) + "<coverage/>"),
    "latin1": '<?xml version="1.0" encoding="ISO-8859-1"?>\n'
              + _doc(_cls('<line number="1" hits="1"/>', filename="caf\xe9.py"), head="<coverage line-rate='1'>"),
    # elements the lxml reader acts on, hidden where the skeleton walk skips (inside <lines>)
    "class-in-line": _doc(_cls('<line number="1" hits="1"><class filename="z.py"/></line>')),
    "class-in-lines": _doc(_cls('<line number="1" hits="1"/><class filename="y.py"/><line number="2" hits="1"/>')),
    "package-in-lines": _doc(_cls('<line number="1" hits="1"/><package/><line number="2" hits="1"/>')),
    "package-in-class": _doc('<class filename="a.py"><lines><line number="1" hits="1"/></lines><package/></class>'),
    "coverage-in-line": _doc(_cls('<line number="1" hits="1"><coverage/></line>')),
    "coverage-in-lines": _doc(_cls('<line number="1" hits="1"/><coverage/>')),
    "undeclared-entity": _doc(_cls('<line number="1" hits="1"/>', filename="a&foo;.py")),
}


@pytest.mark.parametrize("name", sorted(EDGE))
def test_edge_case_identical(name: str, tmp_path: Path) -> None:
    text = EDGE[name]
    path = tmp_path / "c.xml"
    path.write_bytes(text.encode("latin-1") if name == "latin1" else text.encode())
    _same(path, tmp_path)


def test_markup_in_comments_is_never_data(tmp_path: Path) -> None:
    for name in ("comment-with-markup", "cdata-with-markup", "pi-with-markup"):
        path = tmp_path / f"{name}.xml"
        path.write_text(EDGE[name])
        verdict, data = _run(path, tmp_path / name, "fast")
        assert verdict == "ok"
        files = json.loads(data)["data"]["files"]
        assert list(files) == ["src/a.py"] and "9" not in files["src/a.py"]["line_hits"], files


def test_chunk_boundary_at_every_position(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A small file read in chunks of every size: same document as the reference each time."""
    text = _doc(_cls(CANON), _cls('<!-- c --><line number="1" hits="2"/><![CDATA[x]]>'
                                  '<line number="2" hits="0" branch="true" condition-coverage="0% (0/2)"/>',
                                  filename="b&amp;c.py"),
                _cls('<line number="3" hits="1">\n<conditions><condition number="0" type="jump" coverage="0%"/>'
                     '</conditions></line>', filename="d.py"))
    path = tmp_path / "c.xml"
    path.write_text(text)
    ref = _run(path, tmp_path / "ref", "lxml")
    assert ref[0] == "ok"
    for size in range(1, len(text) + 2):
        monkeypatch.setattr(cobertura_fast, "CHUNK", size)
        assert _run(path, tmp_path / "fast", "fast") == ref, f"chunk size {size}"


def test_random_canonical_reports(tmp_path: Path) -> None:
    """Random coverage.py-shaped reports (runs, gaps, branches, repeated files) read identically."""
    rnd = random.Random(7)
    for i in range(20):
        classes = []
        for _ in range(rnd.randint(1, 6)):
            ln = 0
            parts = []
            for _ in range(rnd.randint(0, 60)):
                ln += rnd.choice((1, 1, 1, 2, 5))
                extra = ""
                if rnd.random() < 0.2:
                    v = rnd.choice((2, 4))
                    extra = f' branch="true" condition-coverage="{rnd.randint(0, 100)}% ({rnd.randint(0, v)}/{v})"'
                parts.append(f'<line number="{ln}" hits="{rnd.choice((0, 0, 1, 1, 2, 17))}"{extra}/>')
            classes.append(_cls("\n".join(parts), filename=f"src/f{rnd.randint(0, 3)}.py"))
        path = tmp_path / f"r{i}.xml"
        path.write_text(_doc(*classes))
        assert _same(path, tmp_path / str(i)) == "ok"


def test_encoded_route_equals_add_file(tmp_path: Path) -> None:
    """add_file_encoded with the fast reader's text == add_file with ints (the writer's own encoding)."""
    rnd = random.Random(3)
    for _ in range(200):
        lines = sorted(rnd.sample(range(1, 400), rnd.randint(1, 120)))
        hits = [rnd.choice((0, 1, 1, 2, 3)) for _ in lines]
        body = "".join(f'<line number="{a}" hits="{b}"/>' for a, b in zip(lines, hits, strict=True))
        path = tmp_path / "e.xml"
        path.write_text(_doc(_cls(body)))
        verdict, data = _run(path, tmp_path / "e", "fast")
        assert verdict == "ok"
        assert json.loads(data)["data"]["files"]["src/a.py"]["line_hits"] == encode_line_hits(lines, hits)


def _hostile(name: str) -> Any:
    return {
        "billion-laughs": '<?xml version="1.0"?><!DOCTYPE coverage [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
                          '<coverage line-rate="1"><packages/></coverage>',
        "external-entity": '<?xml version="1.0"?><!DOCTYPE coverage [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                           '<coverage line-rate="1"><sources><source>&x;</source></sources></coverage>',
        "binary": "\x00\x01\x02garbage",
    }[name]


@pytest.mark.parametrize("name", ["billion-laughs", "external-entity", "binary"])
def test_hostile_rejected_by_fast_reader(name: str, tmp_path: Path) -> None:
    path = tmp_path / "h.xml"
    path.write_text(_hostile(name))
    writer = CoverageWriter(workdir=tmp_path, limits=Limits())
    writer.begin_source(SourceInfo(file="h.xml", format="cobertura", bytes=1))
    try:
        with pytest.raises((ReportError, Decline)):
            FastCobertura(writer).run(path)
    finally:
        writer.abort()
    verdict, reason = _run(path, tmp_path / "p", "parse")
    assert verdict == "error", reason
