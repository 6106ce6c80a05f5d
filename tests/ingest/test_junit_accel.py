"""The JUnit accelerator (aqe_ci/ingest/tests/_junit_c.c) against its pure-Python reference.

Differential tests: the same inputs through both paths must give byte-identical documents and
blobs, or the same problems (file, line, reason). Inputs: every corpus XML file (auto-detected and
forced as junit) and a few hundred generated JUnit variants (random attribute order and quoting,
entities and character references, unicode, odd numbers, huge values, missing attributes, status
attributes, children, nested suites, properties hiding test cases, namespaces, legacy encodings,
repeated identities, truncation), under default and tiny text caps. Plus the C parser on its own:
its DTD gate, error reporting, handler errors, and the JSON encoder against the json module.
"""

from __future__ import annotations

import gc
import json
import math
import random
import weakref
from pathlib import Path
from typing import Any

import pytest
from ingest_helpers import CORPUS, TIMESTAMP, inventory  # type: ignore[import-not-found]
from junit_paths import NullRun  # type: ignore[import-not-found]

from aqe_ci import accel
from aqe_ci.ingest.base import MAX_LINE, ReportError
from aqe_ci.ingest.driver import ingest_files
from aqe_ci.ingest.stream import safeexpat
from aqe_ci.ingest.tests import junit
from aqe_ci.ingest.tests import writer as tests_writer
from aqe_ci.model.limits import Limits
from aqe_ci.model.schema import validate_document

FAST = accel.load(junit.ACCEL)
pytestmark = pytest.mark.skipif(FAST is None and not accel.disabled(),
                                reason="the JUnit accelerator is not built here (tests/test_accel.py fails for that)")
SMALL = Limits(inline_text_bytes=40, max_blob_bytes=150)


def _outcome(paths: list[Path], workdir: Path, mode: str, monkeypatch: pytest.MonkeyPatch,
             **kwargs: Any) -> dict[str, Any]:
    if mode == "pure":
        monkeypatch.setenv(accel.DISABLE_ENV, "1")
    else:
        monkeypatch.delenv(accel.DISABLE_ENV, raising=False)
    result = ingest_files(paths, workdir=workdir / mode, timestamp=TIMESTAMP, **kwargs)
    try:
        out: dict[str, Any] = {"problems": [(p.file, p.line, p.reason, p.format) for p in result.problems]}
        for doc_type, doc in result.documents.items():
            raw = doc.path.read_bytes()
            validate_document(json.loads(raw), source=doc_type)
            out[doc_type] = (raw, {k: v.read_bytes() for k, v in doc.blobs.items()}, doc.summary)
        return out
    finally:
        result.cleanup()


def _same_on_both_paths(paths: list[Path], workdir: Path, monkeypatch: pytest.MonkeyPatch,
                        **kwargs: Any) -> dict[str, Any]:
    fast = _outcome(paths, workdir, "accel", monkeypatch, **kwargs)
    pure = _outcome(paths, workdir, "pure", monkeypatch, **kwargs)
    assert fast == pure
    return fast


# -- the corpus -----------------------------------------------------------------------------------
def _corpus_xml() -> list[str]:
    return sorted(e["path"] for e in inventory() if e["role"] == "input" and e["path"].endswith(".xml"))


@pytest.mark.parametrize("fmt", ["auto", "junit"])
def test_every_corpus_xml_file_is_the_same_on_both_paths(fmt: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    files = [CORPUS / rel for rel in _corpus_xml()]
    assert len(files) > 100
    for i, path in enumerate(files):
        _same_on_both_paths([path], tmp_path / str(i), monkeypatch, fmt=fmt)


# -- generated variants -----------------------------------------------------------------------------
ODD_TIMES = ["0.05", "1", "1.", ".5", "007.250", "0", "0.0", "-1", "+2", " 3.5", "3.5 ", "1e3", "1E-7", "inf",
             "nan", "1,5", "1,000", "1_000.5", "12345678901234567890123456789012345678.5", "0." + "0" * 45 + "1",
             "", "abc", "٣.٥", "1.2.3", "0x10", "0.1", "123456789.123456789", "9" * 41]
ODD_LINES = ["12", "0", "007", "-1", "+3", " 4", "", "x", "2147483647", "999999999999999999",
             "1_0", "٣", "1.0"]
STATUSES = ["passed", "failed", "skipped", "error", "run", "notrun", " FAIL ", "flaky", ""]
NAMES = ["t", "test_a", "testé", "中文", "emoji \U0001F600", "a\"b", "a&b<c>", "tab&#9;in", "nl&#10;cr&#13;",
         "'q'", "", "x" * 3000, "test[1] input='user'"]
TEXTS = ["", "   \n  ", "\u00a0\u2003 ", "\u00a0x", "é", "plain output", "o" * 39, "o" * 40, "é" * 20, "o" * 41,
         "p" * 4095, "p" * 4096, "q" * 4097, "r" * 70_000 + "\n", "line1\nline2\n", "Traceback:\n  boom\nError: bad", "é" * 60,
         "<![CDATA[raw <xml> & stuff]]>", "a &amp; b &lt; c", "\n" * 5 + "late first line\n" + "y" * 300,
         "z" * 500 + "\n" + "w" * 500, "&#x41;&#66;"]


def _q(rng: random.Random, value: str) -> str:
    quote = rng.choice(['"', "'"])
    value = value.replace("&#", "\0")  # keep character references, escape the rest
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(quote, "&quot;" if quote == '"' else "&apos;")
    return quote + value.replace("\0", "&#") + quote


def _attrs(rng: random.Random, pairs: list[tuple[str, str]]) -> str:
    rng.shuffle(pairs)
    return "".join(f" {k}={_q(rng, v)}" for k, v in pairs)


def _text(rng: random.Random) -> str:
    t = rng.choice(TEXTS)
    if t.startswith("<![CDATA[") or "&" in t:
        return t
    return t.replace("&", "&amp;").replace("<", "&lt;")


def _case(rng: random.Random, depth: int, ns: str) -> str:
    pairs: list[tuple[str, str]] = []
    if rng.random() < 0.9:
        pairs.append(("name", rng.choice(NAMES[:6]) if rng.random() < 0.7 else rng.choice(NAMES)))
    if rng.random() < 0.8:
        pairs.append(("classname", rng.choice(["pkg.Cls", "", "ü.Kls", "A"])))
    if rng.random() < 0.1:
        pairs.append(("class", rng.choice(["Other", ""])))
    if rng.random() < 0.85:
        pairs.append(("time", rng.choice(ODD_TIMES[:3]) if rng.random() < 0.6 else rng.choice(ODD_TIMES)))
    if rng.random() < 0.2:
        pairs.append(("file", rng.choice(["src/a.py", "", "ñ/b.ts"])))
    if rng.random() < 0.2:
        pairs.append(("line", rng.choice(ODD_LINES)))
    if rng.random() < 0.1:
        pairs.append((rng.choice(["status", "result"]), rng.choice(STATUSES)))
    if rng.random() < 0.1:
        pairs.append(("x:extra" if ns else "extra", "1"))
    name = "testcase" if not ns or rng.random() < 0.7 else "y:testcase"
    r = rng.random()
    if r < 0.5:
        return f"<{name}{_attrs(rng, pairs)}/>"
    if r < 0.7:  # one <system-out> or <skipped>, the accelerator's other plain shapes
        sep = rng.choice(["", "\n  "])
        if rng.random() < 0.5:
            kid = f"<system-out>{_text(rng)}</system-out>"
        else:
            msg = _attrs(rng, [("message", rng.choice(NAMES + ["é" * 2100, "m" * 1999 + "é€"]))]) if rng.random() < 0.8 else ""
            kid = rng.choice([f"<skipped{msg}/>", f"<skipped{msg}>{_text(rng)}</skipped>"])
        if rng.random() < 0.1:
            kid = kid.replace("</", "<inner/></", 1) if "</" in kid else kid
        return f"<{name}{_attrs(rng, pairs)}>{sep}{kid}{sep}</{name}>"
    kids = []
    for _ in range(rng.randint(0, 3)):
        kind = rng.choice(["failure", "error", "skipped", "system-out", "system-err", "properties",
                           "flakyFailure", "rerunError", "unknown", "testcase"])
        if kind == "properties":
            kids.append('<properties><property name="k" value="v"/><property name="t">text</property></properties>')
        elif kind in ("flakyFailure", "rerunError"):
            kids.append(f'<{kind} message="m" type="T"><stackTrace>{_text(rng)}</stackTrace></{kind}>')
        elif kind == "testcase":
            if depth < 2:
                kids.append(_case(rng, depth + 1, ns))
        else:
            msg = _attrs(rng, [("message", rng.choice(NAMES[:5]))]) if rng.random() < 0.5 else ""
            kids.append(f"<{kind}{msg}>{_text(rng)}</{kind}>")
    inner = rng.choice(["", "\n  ", "<!-- c -->", "<?pi x?>"])
    return f"<{name}{_attrs(rng, pairs)}>{inner}{''.join(kids)}</{name}>"


def _suite(rng: random.Random, depth: int, ns: str, hosts: bool) -> str:
    pairs = [("name", rng.choice(["S", "", "suité", "a&b", "[x] y"]))]
    if hosts or rng.random() < 0.2:
        pairs.append(("hostname", rng.choice(["chromium", "", "firefox"])))
    if rng.random() < 0.3:
        pairs.append(("time", rng.choice(ODD_TIMES)))
    if rng.random() < 0.2:
        pairs.append(("file", "suite.py"))
    body = []
    for _ in range(rng.randint(0, 8)):
        r = rng.random()
        if r < 0.7:
            body.append(_case(rng, 0, ns))
        elif r < 0.8:
            hidden = _case(rng, 0, ns) if rng.random() < 0.4 else ""
            body.append(f'<properties><property name="p" value="1"/><deep><deeper>{hidden}</deeper></deep>'
                        f'{hidden}</properties>')
        elif r < 0.9 and depth < 2:
            body.append(_suite(rng, depth + 1, ns, hosts))
        else:
            tag = rng.choice(["system-out", "system-err"])
            inner = rng.choice(["", "", "", "<inner/>", "<x>in</x>tail"])
            body.append(f"<{tag}{_attrs(rng, [('a', '1')]) if rng.random() < 0.2 else ''}>{_text(rng)}{inner}"
                        f"{_text(rng) if inner else ''}</{tag}>")
    sep = rng.choice(["", "\n", "\n    "])
    name = "testsuite" if not ns or rng.random() < 0.8 else "y:testsuite"
    return f"<{name}{_attrs(rng, pairs)}>{sep}{sep.join(body)}{sep}</{name}>"


def _document(rng: random.Random) -> bytes:
    ns = rng.choice(["", "", "", ' xmlns="urn:x" xmlns:y="urn:y" xmlns:x="urn:z"'])
    dialect = rng.choice(["", "", ' name="pytest tests"', ' id="" name=""'])
    hosts = dialect == ' id="" name=""'
    suites = "".join(_suite(rng, 0, ns, hosts) for _ in range(rng.randint(1, 3)))
    if rng.random() < 0.2:
        suites += _case(rng, 0, ns)  # a test case right under the root
    if rng.random() < 0.15:
        xml = f"<testsuite{ns} name='root'>{suites}</testsuite>"
    else:
        xml = f"<testsuites{ns}{dialect}>{suites}</testsuites>"
    enc = rng.choice(["utf-8", "utf-8", "iso-8859-1", "windows-1252", None])
    if enc in ("iso-8859-1", "windows-1252"):
        data = (f'<?xml version="1.0" encoding="{enc}"?>\n' + xml).encode(enc, "xmlcharrefreplace")
    else:
        data = (('<?xml version="1.0" encoding="UTF-8"?>\n' if enc else "") + xml).encode()
        if rng.random() < 0.1:
            data = b"\xef\xbb\xbf" + data
    if rng.random() < 0.12:  # truncated, or garbage inside
        cut = rng.randint(1, len(data))
        data = data[:cut] if rng.random() < 0.7 else data[:cut] + b"<<\x01>" + data[cut:]
    return data


@pytest.mark.parametrize("seed", range(20))
def test_generated_variants_are_the_same_on_both_paths(seed: int, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(seed)
    paths = []
    for i in range(24):
        p = tmp_path / f"gen-{seed}-{i}.xml"
        p.write_bytes(_document(rng))
        paths.append(p)
    for i, p in enumerate(paths):  # each file alone, forced and detected, default and tiny caps
        _same_on_both_paths([p], tmp_path / f"one{i}", monkeypatch, fmt="junit")
        _same_on_both_paths([p], tmp_path / f"small{i}", monkeypatch, limits=SMALL)
    # several files into one document: repeats across good files, rollback of bad ones
    _same_on_both_paths(paths, tmp_path / "all", monkeypatch, fmt="junit")


def test_repeated_identities_merge_the_same_across_hot_and_python_test_cases(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # attempts of one identity written by C (plain passes) and by Python (failures, status attributes)
    cases = ('<testcase classname="C" name="t" time="0.1"><failure message="first">trace</failure></testcase>'
             '<testcase classname="C" name="t" time="0.2"/>'
             '<testcase classname="C" name="u" time="1"/><testcase classname="C" name="u" status="failed"/>'
             '<testcase classname="C" name="v"/><testcase classname="C" name="v"/><testcase classname="C" name=""/>'
             '<testcase classname="C" name=""/>')
    for root in ('<testsuites>', '<testsuites name="pytest tests">'):
        path = tmp_path / f"rep{len(root)}.xml"
        path.write_text(f'{root}<testsuite name="S">{cases}</testsuite></testsuites>')
        out = _same_on_both_paths([path], tmp_path / f"w{len(root)}", monkeypatch)
        doc = json.loads(out["test_results"][0])["data"]
        by_name = {t["name"]: t for t in doc["tests"]}
        assert len(doc["tests"]) == 5 and len(by_name["t"]["retries"]) == 1
        if "pytest" not in root:
            assert by_name["t"]["status"] == "flaky" and by_name["u"]["status"] == "failed"


def test_values_outside_the_plain_grammar_are_left_to_the_reference(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # the C path writes only plain decimals and 1-18 digit lines up to MAX_LINE; everything else takes
    # the Python path and its $defs/test validation, with the same document or the same problem
    huge = "9" * 400
    path = tmp_path / "odd.xml"
    path.write_text('<testsuite name="S">'
                    f'<testcase name="a" time="{huge}" line="{MAX_LINE}"/>'
                    '<testcase name="b" time="1e400" line="x1"/>'
                    '<testcase name="c" time="nan" line="-0"/><testcase name="d" time="-0.0" line="0"/>'
                    '<testcase name="e" time="0.30000000000000004" line="000000000000000001"/>'
                    f'<testcase name="{"n" * 100_000}" classname="{"é" * 50_000}"/></testsuite>')
    out = _same_on_both_paths([path], tmp_path, monkeypatch)
    tests = json.loads(out["test_results"][0])["data"]["tests"]
    assert [t["duration"] for t in tests[:5]] == [None, None, None, 0.0, 0.30000000000000004]
    assert tests[0]["line"] == MAX_LINE and tests[4]["line"] == 1 and tests[2]["line"] == 0
    assert "line" not in tests[1]


@pytest.mark.parametrize("line", [str(MAX_LINE + 1), "999999999999999999", "1" + "0" * 30, "9" * 400, "9" * 5000])
def test_a_line_out_of_range_is_the_same_problem_on_both_paths(line: str, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big-line.xml"
    path.write_text(f'<testsuite name="S"><testcase name="ok"/><testcase name="t" line="{line}"/></testsuite>')
    out = _same_on_both_paths([path], tmp_path, monkeypatch)
    assert [p[2] for p in out["problems"]] == ["test case 't': line number is out of range"]
    assert "test_results" not in out


def test_a_refused_test_case_gives_the_same_problem_on_both_paths(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a property text over the cap is refused by the reference code; whichever path writes the
    # plain test cases around it, the file gives one identical problem and adds nothing
    path = tmp_path / "bad.xml"
    path.write_text('<testsuite name="S"><testcase name="ok" time="1"/><testcase name="p"><properties>'
                    f'<property name="k">{("v" * 1000 + "&amp;") * 200}</property></properties></testcase>'
                    '<testcase name="ok2"/></testsuite>')
    out = _same_on_both_paths([path], tmp_path, monkeypatch, limits=SMALL)
    assert len(out["problems"]) == 1 and "text over" in out["problems"][0][2]


# -- the C parser on its own -------------------------------------------------------------------------
needs_fast = pytest.mark.skipif(FAST is None, reason="accelerators disabled (AQE_PURE_PYTHON)")


def _scanner(run: Any = None) -> Any:
    assert FAST is not None
    return safeexpat.create_fast_parser(FAST, run or NullRun(), set(), set())


@needs_fast
def test_late_doctype_is_refused_at_its_line_and_nothing_after_it_is_seen(tmp_path: Path) -> None:
    # the DOCTYPE lands in the second 256 KiB chunk; the prolog check is bypassed
    bait = tmp_path / "bait.txt"
    bait.write_text("secret")
    path = tmp_path / "late.xml"
    path.write_text('<?xml version="1.0"?>\n' + "<!-- padding -->\n" * 20_000
                    + f'<!DOCTYPE t [<!ENTITY y SYSTEM "file://{bait}">]>\n<testsuite name="&y;"><testcase/></testsuite>')
    seen: list[str] = []
    for p in (_scanner(), safeexpat.create_parser()):
        p.StartElementHandler = lambda name, attrs: seen.append(name)
        with pytest.raises(ReportError) as info, open(path, "rb") as f:
            while chunk := f.read(safeexpat.CHUNK):
                p.Parse(chunk, False)
        assert str(info.value) == safeexpat.DTD_REFUSED and info.value.line == 20_002
    assert seen == []


@needs_fast
@pytest.mark.parametrize("data", [
    b'<testsuite name="s"><testcase name="a">', b'<testsuite>\n<testcase></testsuite>', b'<a b="&u;"/>',
    b"<a/><b/>", b"<x:a/>", bytes(range(256)), b"", b"<a>\xff</a>", b'<?xml version="1.0" encoding="nope"?><a/>',
    b'<a>&#0;</a>', b"<a>\n\n  <b x='1' x='2'/></a>",
])
def test_malformed_xml_raises_what_pyexpat_raises(data: bytes) -> None:
    errors = []
    for p in (_scanner(), safeexpat.create_parser()):
        with pytest.raises(Exception) as info:  # noqa: B017 - ExpatError, or LookupError for "nope"
            p.Parse(data, True)
        e = info.value
        errors.append((type(e), str(e), getattr(e, "code", None), getattr(e, "lineno", None), getattr(e, "offset", None)))
    assert errors[0] == errors[1]


@needs_fast
def test_a_handler_error_stops_the_parse_and_is_raised_as_is() -> None:
    calls = []

    def start(name: str, attrs: dict[str, str]) -> None:
        calls.append(name)
        if name == "boom":
            raise ValueError("from the handler")

    p = _scanner()
    p.StartElementHandler = start
    with pytest.raises(ValueError, match="from the handler"):
        p.Parse(b"<r><boom/><after/><testsuite><testcase/></testsuite></r>", True)
    assert calls == ["r", "boom"]
    with pytest.raises(RuntimeError):  # a failed parser stays failed
        p.Parse(b"", True)


@needs_fast
def test_text_buffering_and_line_numbers_match_pyexpat() -> None:
    data = ("<r>\n" + "".join(f"<c>{'x' * n}&amp;<![CDATA[{'é' * n}]]></c>\n" for n in (0, 1, 70_000, 5))
            + "</r>").encode()
    logs = []
    for p in (_scanner(), safeexpat.create_parser()):
        log: list[Any] = []
        p.StartElementHandler = lambda name, attrs, p=p, log=log: (log.append(("start", name, p.CurrentLineNumber)),
                                                                  setattr(p, "CharacterDataHandler", log.append))
        p.EndElementHandler = lambda name, p=p, log=log: (log.append(("end", name)),
                                                          setattr(p, "CharacterDataHandler", None))
        for i in range(0, len(data), 1000):
            p.Parse(data[i:i + 1000], False)
        p.Parse(b"", True)
        logs.append(log)
    assert logs[0] == logs[1]


@needs_fast
def test_the_parser_and_its_run_are_freed() -> None:
    class Run(NullRun):
        pass

    run = Run()
    p = _scanner(run)
    run.parser = p  # the cycle _JUnitRun makes
    ref = weakref.ref(run)
    p.Parse(b'<testsuite name="s"><testcase name="a"/></testsuite>', True)
    del p, run
    gc.collect()
    assert ref() is None


# -- the JSON encoder ------------------------------------------------------------------------------------
def _value(rng: random.Random, depth: int) -> Any:
    r = rng.random()
    if depth > 3 or r < 0.45:
        return rng.choice([
            None, True, False, 0, -1, 2 ** 63, -(2 ** 70), 10 ** 40, 0.0, -0.0, 1.5, 1e-7, 1e16, 1e300, 0.1 + 0.2,
            "", "plain", "é中\U0001F600", "".join(chr(c) for c in range(0, 0x30)), '"\\/', "\x7f\u2028\ufeff",
            tests_writer.CappedText("capped", 7), "x" * rng.randint(0, 5000),
        ])
    if r < 0.75:
        return {rng.choice(["a", "b", "é", "", "k\n"]) + str(i): _value(rng, depth + 1) for i in range(rng.randint(0, 5))}
    return [_value(rng, depth + 1) for _ in range(rng.randint(0, 5))]


@needs_fast
def test_encode_json_is_the_json_module_byte_for_byte() -> None:
    assert FAST is not None
    rng = random.Random(7)
    reference = tests_writer._py_encode
    for _ in range(3000):
        v = _value(rng, 0)
        assert FAST.encode_json(v) == reference(v)


@needs_fast
@pytest.mark.parametrize("value", [math.nan, math.inf, {1: "a"}, {"a": {(1, 2): 3}}, "\ud800", {"a": [1.5, object()]},
                                   type("Sub", (int,), {})(3), [True, type("F", (float,), {})(1.0)]])
def test_encode_json_leaves_everything_else_to_the_json_module(value: Any) -> None:
    assert FAST is not None
    assert FAST.encode_json(value) is None
    encode = tests_writer._encoder()
    try:
        expected = tests_writer._py_encode(value)
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        with pytest.raises(type(exc)):
            encode(value)
    else:
        assert encode(value) == expected


def test_durations_are_read_and_written_as_float_and_repr_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the C path reads and prints plain decimals itself (exactly, below 16 digits); any difference
    # from float()/repr() shows in the document and in the summed duration
    rng = random.Random(3)
    times = []
    for _ in range(4000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 20)))
        dot = rng.randint(0, len(digits))
        t = digits[:dot] + "." + digits[dot:] if rng.random() < 0.8 else digits
        times.append(rng.choice(["", "0", "00"]) + t + rng.choice(["", "0", "000"]))
    times += ["0.0001", "0.00001", "0.00010", "999999999999999.9", "1000000000000000", "0.1", "0.30000000000000004"]
    path = tmp_path / "times.xml"
    path.write_text('<testsuite name="S">' + "".join(f'<testcase name="t{i}" time="{t}"/>' for i, t in enumerate(times))
                    + "</testsuite>")
    out = _same_on_both_paths([path], tmp_path, monkeypatch)
    doc = json.loads(out["test_results"][0])
    assert [t["duration"] for t in doc["data"]["tests"]] == [float(t) for t in times]


def test_deep_nesting_is_the_same_on_both_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # hundreds of open elements (the C parser's stack grows several times) in every kind of frame:
    # nested suites, a quiet subtree under <properties> woken by a test case, a held test case's child
    deep = 300
    path = tmp_path / "deep.xml"
    path.write_text('<testsuites>' + '<testsuite name="s">' * deep + '<testcase name="a" time="1"/>'
                    + '<properties>' + '<p>' * deep + '<testcase name="hidden"/>' + '</p>' * deep + '</properties>'
                    + '<testcase name="b"><system-out>' + '<x>' * deep + 'text' + '</x>' * deep
                    + '</system-out></testcase>' + '</testsuite>' * deep + '</testsuites>')
    out = _same_on_both_paths([path], tmp_path, monkeypatch)
    assert json.loads(out["test_results"][0])["data"]["tests_run"] == 3
