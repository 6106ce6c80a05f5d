"""The Cobertura C accelerator against the pure-Python reference: generated variants, exact equality.

``aqe_ci.ingest.coverage._cobertura_c.lines_span`` reads one ``<lines>`` span or declines (None);
the production reader must give byte-identical documents and identical errors with and without it.
Generated reports vary what a hand-written case list would miss: attribute order, quoting, the
whitespace inside tags, entities in filenames and values, the forms of condition-coverage,
``<conditions>`` children, huge and odd numbers, methods, comments/CDATA/PIs between lines,
repeated files, unsorted lines and chunk boundaries. The encodings are checked against
:mod:`aqe_ci.model.linehits` (the owner of the format), and the C function is fed mutated and
truncated spans to show it never reads outside its span or crashes (run this module under ASan or
valgrind for the memory side; see docs/benchmarks/ingest-coverage.md).
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest

from aqe_ci import accel
from aqe_ci.ingest.base import SourceInfo
from aqe_ci.ingest.coverage import cobertura_fast
from aqe_ci.ingest.coverage.cobertura_fast import ACCEL
from aqe_ci.ingest.coverage.writer import CoverageWriter
from aqe_ci.model.limits import Limits
from aqe_ci.model.linehits import encode_branch_hits, encode_line_runs
from tests.ingest.cobertura_accel import TS, read_with

MAX_LINE = (1 << 31) - 1
MAX_HITS = (1 << 64) - 1


@pytest.fixture
def c_module() -> Any:
    mod = accel.load(ACCEL)
    assert mod is not None, f"{ACCEL} is not built (pip install -e .)"
    return mod


class _Counting:
    """Wraps the C module: counts the spans it answered and the ones it declined."""

    def __init__(self, mod: Any) -> None:
        self.mod = mod
        self.answered = 0
        self.declined = 0

    def lines_span(self, *args: Any) -> Any:
        out = self.mod.lines_span(*args)
        if out is None:
            self.declined += 1
        else:
            self.answered += 1
        return out


def _run(path: Path, work: Path, how: str, monkeypatch: pytest.MonkeyPatch,
         counter: _Counting | None = None) -> tuple[str, bytes | str]:
    """("ok", bytes) / ("error", message) / ("declined", "") through production ("parse"), the fast
    reader alone ("fast") or the lxml reference ("lxml"); ``counter``: the C path (else pure Python)."""
    if counter is not None:
        monkeypatch.delenv(accel.DISABLE_ENV, raising=False)
        monkeypatch.setattr(cobertura_fast.accel, "load", lambda name: counter)
    else:
        monkeypatch.setenv(accel.DISABLE_ENV, "1")
    try:
        return read_with(path, work, how)
    finally:
        monkeypatch.undo()


def _compare(path: Path, tmp: Path, monkeypatch: pytest.MonkeyPatch, counter: _Counting) -> str:
    """C and Python paths identical (production and fast reader alone); production == lxml when it accepts."""
    prod_c = _run(path, tmp / "pc", "parse", monkeypatch, counter)
    prod_py = _run(path, tmp / "pp", "parse", monkeypatch)
    assert prod_c == prod_py, f"{path.read_text(errors='replace')[:3000]}"
    fast_c = _run(path, tmp / "fc", "fast", monkeypatch, counter)
    fast_py = _run(path, tmp / "fp", "fast", monkeypatch)
    assert fast_c == fast_py, f"{path.read_text(errors='replace')[:3000]}"
    ref = _run(path, tmp / "ref", "lxml", monkeypatch)
    if ref[0] == "ok":
        assert prod_c == ref
    else:
        assert prod_c[0] == "error" and ref[0] == "error"
    return prod_c[0]


# --------------------------------------------------------------------------- the generator


def _ws(rnd: random.Random) -> str:
    return rnd.choice((" ", " ", " ", "  ", "\n  ", "\t", "\r\n "))


def _q(rnd: random.Random, value: str) -> str:
    if "'" in value:
        return f'"{value}"'
    if '"' in value:
        return f"'{value}'"
    return rnd.choice(('"{}"', '"{}"', "'{}'")).format(value)


NUMBER_ODD = ("0", "01", "007", " 5", "5 ", "1.0", "-1", "", "1e3", "+3", "2147483647", "2147483648",
              "99999999999999999999", "&#49;", "1_0", "\u0661")
HITS_ODD = ("007", "1.0", "-1", "1e3", "", " 2", "18446744073709551615", "18446744073709551616",
            "9999999999999999999", "10000000000000000000", "99999999999999999999999", "&#50;", "2.5", "nan")
CC_FORMS = ("50% (1/2)", "100% (2/2)", "0% (0/4)", "50%(1/2)", "( 1 / 2 )", "(01/002)", "50%", "", "(3/1)",
            "100% (2/2) (1/1)", "50&#37; (1/2)", "50%\t(1/2)", "50%\n(1/2)", "50\u00a0% (1/2)", "(1/2",
            "(/2)", "(1/)", "x (1/2) y", "(18446744073709551615/18446744073709551615)", "(4611686018427387904/1)",
            "(1 /2)", "(1/ 2 )", "((1/2)", "&lt;(1/2)&gt;", "(\u0661/2)", "(1/2)x(", "33% (1/3)")
FILENAMES = ("src/a.py", "src/b.py", "src/a&amp;b&#x2F;&lt;c&gt;&#233;.py", "src/t\tab.py", "./src/a.py",
             "src\\win\\c.py", "src/\u00e9t\u00e9.py", "src/q&quot;&apos;.py", "src/sp ace.py")


def _line(rnd: random.Random, number: str, hits: str, cc: str | None) -> str:
    attrs = [("number", number), ("hits", hits)]
    if cc is not None:
        attrs.append(("branch", "true"))
        attrs.append(("condition-coverage", cc))
        if rnd.random() < 0.5:
            attrs.append(("missing-branches", rnd.choice(("7", "7,8", "a>b", "&amp;"))))
    if rnd.random() < 0.05:
        attrs.append(("note", rnd.choice(("a>b", "&lt;line number=&quot;9&quot;/&gt;", "x/y", "="))))
    if rnd.random() < 0.3:
        rnd.shuffle(attrs)
    text = "<line" + "".join(f"{_ws(rnd)}{k}{rnd.choice(('=', '=', ' = '))}{_q(rnd, v)}" for k, v in attrs)
    text += rnd.choice(("", "", "", " ", "\n"))
    r = rnd.random()
    if r < 0.8:
        return text + "/>"
    if r < 0.9:
        return (text + '><conditions><condition number="0" type="jump" coverage="50%"/>'
                + rnd.choice(("", '<condition number="1" type="switch" coverage="0%"></condition>'))
                + "</conditions></line>")
    return text + rnd.choice(("></line>", ">\n</line>", ">text</line>", "><x><y/></x></line >",
                              '><line number="99" hits="99"/></line>'))


def _lines(rnd: random.Random) -> str:
    parts = []
    ln = rnd.choice((0, 1, 1, 1, 100, MAX_LINE - 50))
    odd = rnd.random() < 0.3  # a class with odd values somewhere
    for _ in range(rnd.randint(0, 40)):
        step = rnd.choice((1, 1, 1, 1, 2, 3, 10))
        if odd and rnd.random() < 0.05:
            step = rnd.choice((0, -1, -5))
        ln = max(0, ln + step)
        number = str(ln)
        if odd and rnd.random() < 0.05:
            number = rnd.choice(NUMBER_ODD)
        hits = str(rnd.choice((0, 0, 1, 1, 1, 2, 3, 17, 120)))
        if odd and rnd.random() < 0.08:
            hits = rnd.choice(HITS_ODD)
        cc = None
        if rnd.random() < 0.2:
            cc = rnd.choice(CC_FORMS) if odd or rnd.random() < 0.3 else rnd.choice(CC_FORMS[:3])
        parts.append(_line(rnd, number, hits, cc))
    sep = [rnd.choice(("", "\n", "\n\t\t", " ")) for _ in parts]
    if rnd.random() < 0.15 and parts:
        i = rnd.randrange(len(parts))
        sep[i] += rnd.choice(('<!-- <line number="9" hits="9"/> -->', "<![CDATA[<line number='9' hits='9'/>]]>",
                              "<?pi <line number='9' hits='9'/> ?>", "<!---->"))
    return "".join(s + p for s, p in zip(sep, parts, strict=True)) + rnd.choice(("", "\n", "\n\t"))


def _methods(rnd: random.Random) -> str:
    r = rnd.random()
    if r < 0.5:
        return "<methods/>"
    if r < 0.6:
        return ""
    out = []
    for i in range(rnd.randint(0, 3)):
        hits = rnd.choice(('', ' hits="0"', ' hits="1"'))
        rate = rnd.choice(('', ' line-rate="0"', ' line-rate="0.5"'))
        out.append(f'<method name="m{i}" signature="()V"{hits}{rate}><lines>'
                   f'<line number="{i + 1}" hits="{rnd.choice((0, 1))}"/></lines></method>')
    return "<methods>" + "".join(out) + "</methods>"


def _class(rnd: random.Random) -> str:
    filename = rnd.choice(FILENAMES)
    attrs = [("name", "c"), ("filename", filename), ("line-rate", "0.5"), ("branch-rate", "0"), ("complexity", "0")]
    if rnd.random() < 0.3:
        rnd.shuffle(attrs)
    head = "<class" + "".join(f"{_ws(rnd)}{k}={_q(rnd, v)}" for k, v in attrs) + ">"
    lines = f"<lines>{_lines(rnd)}</lines>"
    if rnd.random() < 0.03:
        lines = "<lines/>"
    if rnd.random() < 0.03:
        lines += f"<lines>{_lines(rnd)}</lines>"
    return head + _methods(rnd) + lines + "</class>"


def _report(rnd: random.Random) -> str:
    bv = rnd.choice(("0", "4", "", None))
    root = '<coverage line-rate="0.5" branch-rate="0.25" version="7.4.4"'
    if bv is not None:
        root += f' branches-valid="{bv}"'
    root += ">"
    classes = "\n".join(_class(rnd) for _ in range(rnd.randint(1, 5)))
    text = (rnd.choice(('<?xml version="1.0" ?>\n', "", '<?xml version="1.0" encoding="UTF-8"?>\n')) + root
            + "<sources><source>/w</source></sources><packages><package name=\"p\"><classes>\n"
            + classes + "\n</classes></package></packages></coverage>\n")
    r = rnd.random()
    if r < 0.02:
        text = text[: rnd.randrange(len(text))]  # truncated
    elif r < 0.04:
        text = text.replace("</lines>", "</line>", 1)  # mismatched
    return text


def test_generated_reports_identical_on_both_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   c_module: Any) -> None:
    counter = _Counting(c_module)
    rnd = random.Random(20261124)
    verdicts = []
    for i in range(200):
        path = tmp_path / f"r{i}.xml"
        path.write_text(_report(rnd), encoding="utf-8")
        verdicts.append(_compare(path, tmp_path / str(i), monkeypatch, counter))
    # the generator reaches every outcome, and the C function really answers (not only declines)
    assert verdicts.count("ok") > 60 and verdicts.count("error") > 10, verdicts
    assert counter.answered > 200 and counter.declined > 20, (counter.answered, counter.declined)


#: elements inserted at random tag boundaries: the lxml reader acts on class/coverage/package
#: wherever they are (a package's end drops its earlier siblings), so the fast reader must see them
INSERTS = ('<package name="q"/>', '<package><classes><class filename="z.py"><lines><line number="4" hits="4"/>'
           "</lines></class></classes></package>", '<class filename="y.py"/>',
           '<class filename="y.py"><lines><line number="3" hits="1"/></lines></class>', "<coverage/>", "<lines/>",
           '<lines><line number="8" hits="8"/></lines>', '<line number="5" hits="5"/>', "<methods/>", "<foo/>",
           '<foo><line number="6" hits="6"/></foo>', "<conditions/>",
           '<method name="m"><lines><line number="2" hits="2"/></lines></method>', "<packages/>", "<classes/>")


def test_structural_insertions_identical_on_both_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       c_module: Any) -> None:
    counter = _Counting(c_module)
    rnd = random.Random(31)
    for i in range(150):
        text = _report(rnd)
        for _ in range(rnd.randint(1, 2)):
            points = [m.end() for m in re.finditer(">", text)]
            at = rnd.choice(points)
            text = text[:at] + rnd.choice(INSERTS) + text[at:]
        path = tmp_path / f"i{i}.xml"
        path.write_text(text, encoding="utf-8")
        _compare(path, tmp_path / f"i{i}", monkeypatch, counter)
    assert counter.answered > 100, counter.answered


def test_generated_reports_at_small_chunk_sizes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                c_module: Any) -> None:
    """Chunk boundaries anywhere: the carried tails and the spans the C function sees still agree."""
    rnd = random.Random(5)
    for i in range(40):
        path = tmp_path / f"s{i}.xml"
        path.write_text(_report(rnd), encoding="utf-8")
        size = rnd.choice((1, 2, 7, 31, 64, 100, 257))
        counter = _Counting(c_module)
        with monkeypatch.context() as m:
            m.setattr(cobertura_fast, "CHUNK", size)
            fast_c = _run(path, tmp_path / f"c{i}", "fast", m, counter)
        with monkeypatch.context() as m:
            fast_py = _run(path, tmp_path / f"p{i}", "fast", m)
        assert fast_c == fast_py, (size, path.read_text())


def test_chunk_boundary_at_every_position_with_odd_shapes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          c_module: Any) -> None:
    text = ('<?xml version="1.0"?>\n<coverage line-rate="1" branches-valid="3"><packages><package name="p"><classes>'
            "<class filename='a&amp;b.py'><methods><method name='f' hits='1'><lines><line number='1' hits='1'/>"
            "</lines></method></methods><lines>\n<line hits='2' number='1'/><!-- <line number='5' hits='5'/> -->"
            '<line number="2" hits="2" branch="true" condition-coverage="50% (1/2)">'
            '<conditions><condition number="0" type="jump" coverage="50%"/></conditions></line>'
            '<line\n number="3"\thits="18446744073709551615" condition-coverage="( 2 / 2 )"/>'
            '<line number="4" hits="0" condition-coverage="50%"/></lines></class>'
            '<class filename="b.py"><lines><line number="9" hits="1" note="a>b"/></lines></class>'
            "</classes></package></packages></coverage>\n")
    path = tmp_path / "c.xml"
    path.write_text(text)
    ref = _run(path, tmp_path / "ref", "lxml", monkeypatch)
    assert ref[0] == "ok"
    counter = _Counting(c_module)
    for size in range(1, len(text) + 2):
        with monkeypatch.context() as m:
            m.setattr(cobertura_fast, "CHUNK", size)
            assert _run(path, tmp_path / "fast", "fast", m, counter) == ref, f"chunk size {size}"
    assert counter.answered > 0


# --------------------------------------------------------------------------- the C function itself


def test_encodings_equal_the_linehits_encoders(c_module: Any) -> None:
    """line_hits / branch_hits from C == aqe_ci.model.linehits's encoders, over the full value ranges."""
    rnd = random.Random(11)
    for _ in range(400):
        n = rnd.randint(0, 60)
        start = rnd.choice((0, 1, 1000, MAX_LINE - 200))
        lines = sorted(rnd.sample(range(start, start + 150), n))
        pool = (0, 0, 1, 1, 2, 9, 10, 99, 2**32 - 1, 2**32, MAX_HITS - 1, MAX_HITS)
        hits = [rnd.choice(pool) for _ in lines]
        branches = {}
        parts = []
        for ln, h in zip(lines, hits, strict=True):
            cc = ""
            if rnd.random() < 0.3:
                v = rnd.choice((1, 2, 4, 10**15, 2**40))
                c = rnd.randint(0, v)
                branches[ln] = (c, v)
                cc = f' branch="true" condition-coverage="{c * 100 // v}% ({c}/{v})"'
            parts.append(f'<line number="{ln}" hits="{h}"{cc}/>')
        span = "\n".join(parts).encode()
        for mode in (False, True):
            got = c_module.lines_span(span, 0, len(span), mode)
            assert got is not None
            text, valid, covered, br = got
            assert text == encode_line_runs(lines, hits)
            assert (valid, covered) == (n, sum(1 for h in hits if h))
            if branches or mode:
                assert br == (sum(v for c, v in branches.values()), sum(c for c, v in branches.values()),
                              encode_branch_hits(sorted(branches.items())))
            else:
                assert br is None


@pytest.mark.parametrize("span,why", [
    (b'<line number="2" hits="1"/><line number="1" hits="1"/>', "descending"),
    (b'<line number="1" hits="1"/><line number="1" hits="2"/>', "repeated line"),
    (b'<line number="2147483648" hits="1"/>', "line above 2^31-1"),
    (b'<line number="1" hits="18446744073709551616"/>', "hits above 2^64-1"),
    (b'<line number="1" hits="-1"/>', "negative"),
    (b'<line number="1"/>', "no hits"),
    (b'<line hits="1"/>', "no number"),
    (b'<line number="1" hits="1" condition-coverage="(3/1)"/>', "covered > valid"),
    (b'<line number="1" hits="1" condition-coverage="(1/2) (1/2)"/>', "two fractions"),
    (b'<line number="1" hits="1" condition-coverage="(4611686018427387904/4611686018427387904)"/>', "huge counts"),
    (b'<line number="1" hits="1" condition-coverage="(0/4611686018427387903)"/>'
     b'<line number="2" hits="1" condition-coverage="(0/4611686018427387903)"/>'
     b'<line number="3" hits="1" condition-coverage="(0/4611686018427387903)"/>'
     b'<line number="4" hits="1" condition-coverage="(0/4611686018427387903)"/>'
     b'<line number="5" hits="1" condition-coverage="(0/4611686018427387903)"/>', "sum beyond 2^64"),
    (b'<line number="1" hits="1" condition-coverage="50&#37; (1/2)"/>', "character reference"),
    (b'<line number="1" hits="1"/><!-- x -->', "comment"),
    (b'<line number="1" hits="1">x<line number="2" hits="1"/></line>', "line in line"),
    (b'<foo/><line number="1" hits="1"/>', "other element"),
    (b'text<line number="1" hits="1"/>', "text"),
    (b'<line number="1" hits="1"', "unfinished tag"),
    (b'<line number="1" hits="1">', "unfinished element"),
])
def test_declines_what_it_cannot_vouch_for(c_module: Any, span: bytes, why: str) -> None:
    assert c_module.lines_span(span, 0, len(span), True) is None, why


def test_span_bounds_are_checked(c_module: Any) -> None:
    span = b'<line number="1" hits="1"/>'
    for a, b in ((-1, 5), (5, 4), (0, len(span) + 1)):
        with pytest.raises(ValueError):
            c_module.lines_span(span, a, b, False)
    # a span cut inside a tag never reads past its end
    for cut in range(len(span)):
        assert c_module.lines_span(span, 0, cut, False) in (None, ("", 0, 0, None))
    assert c_module.lines_span(memoryview(span), 0, len(span), False) == ("1:1", 1, 1, None)


def test_mutated_spans_never_crash(c_module: Any) -> None:
    """Random byte mutations, truncations and sub-spans: always None or a well-typed result."""
    rnd = random.Random(99)
    seeds = [
        b'<line number="1" hits="1"/><line number="2" hits="3" branch="true" condition-coverage="50% (1/2)"/>',
        b"<line number='4' hits='0'><conditions><condition number='0' type='jump' coverage='0%'/></conditions></line>",
        b'\n\t<line\n number="5"\r\n hits="18446744073709551615" condition-coverage="( 1 / 1 )" />\n',
    ]
    alphabet = b'<>/="\' \t\nline numbrhtscod-v()%0123456789&;!?[]\xc3\xa9\x00'
    for _ in range(6000):
        data = bytearray(rnd.choice(seeds) * rnd.randint(1, 3))
        for _ in range(rnd.randint(1, 6)):
            op = rnd.random()
            i = rnd.randrange(len(data) + 1)
            if op < 0.4 and data:
                data[min(i, len(data) - 1)] = rnd.choice(alphabet)
            elif op < 0.7:
                data[i:i] = bytes([rnd.choice(alphabet)])
            elif data:
                del data[min(i, len(data) - 1)]
        raw = bytes(data)
        a = rnd.randint(0, len(raw))
        b = rnd.randint(a, len(raw))
        got = c_module.lines_span(raw, a, b, rnd.random() < 0.5)
        if got is not None:
            text, valid, covered, br = got
            assert isinstance(text, str) and 0 <= covered <= valid
            assert br is None or (isinstance(br, tuple) and br[1] <= br[0])


def test_writer_takes_encoded_branches_as_it_takes_the_map(tmp_path: Path) -> None:
    """``add_file_encoded(encoded_branches=...)`` (the C route) == ``add_file_encoded(branches=...)``."""
    docs = []
    for i, kwargs in enumerate(({"branches": {3: (1, 2), 9: (2, 2)}}, {"encoded_branches": (4, 3, "3:1/2,9:2/2")})):
        writer = CoverageWriter(workdir=tmp_path / str(i), limits=Limits())
        writer.begin_source(SourceInfo(file="c.xml", format="cobertura", bytes=1))
        writer.add_file_encoded("a.py", "1-3:1,9:0", lines_valid=4, lines_covered=3, split=True, **kwargs)
        writer.commit_source()
        doc = writer.finish(timestamp=TS)
        docs.append(doc.path.read_bytes())
    assert docs[0] == docs[1]
    writer = CoverageWriter(workdir=tmp_path / "x", limits=Limits())
    writer.begin_source(SourceInfo(file="c.xml", format="cobertura", bytes=1))
    try:
        with pytest.raises(ValueError):
            writer.add_file_encoded("a.py", "1:1", lines_valid=1, lines_covered=1, branches={1: (1, 1)},
                                    encoded_branches=(1, 1, "1:1/1"))
    finally:
        writer.abort()
