"""Differential fuzzing of the C accelerators against their pure-Python twins.

Seeds are corpus files (JUnit, Cobertura, SARIF results) and a few inputs written here; each mutant
gets 1-4 mutations (byte flips, deleted or repeated spans, tokens from a per-format dictionary,
odd numbers, truncation, splices of another seed) and goes through both paths. The outcome — the
document's bytes, blobs and summary, or the problem (reason and line) — must be identical.

Targets (``TARGETS``):

- ``junit``: whole files through the driver (``aqe_ci.ingest.tests._junit_c``: the expat scanner
  and the writer's JSON encoder);
- ``cobertura``: whole files through the Cobertura parser (``aqe_ci.ingest.coverage._cobertura_c``);
- ``sarif-scan``: one result's JSON text through ``scan_result`` and through json + ``_fast_extract``;
- ``sarif``: whole SARIF logs with and without the scanner;
- ``surrogates``: JSON text through the lone-surrogate filter with the C ``find_escape``
  (``aqe_ci.ingest.stream._stream_c``) and with its Python twin, and both finders at every start.

``make test`` runs a bounded number (tests/ingest/test_fuzz_accel.py); ``make fuzz`` runs this file
as a script for longer, with the extensions built under AddressSanitizer and UBSan::

    python tests/ingest/fuzz_accel.py --seconds 600 [--sanitized build/fuzz] [--seed N]

``--sanitized DIR`` loads the extensions from DIR instead of the installed ones (``--build`` compiles
them there first, with ``$CC`` and ``$CFLAGS``). A mismatch is written to ``--out`` and reported with its seed and mutant number.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parents[1] / ".." / "shared" / "corpus"
TIMESTAMP = "2024-05-17T09:30:00Z"
MAX_SEED_BYTES = 16 << 10

XML_TOKENS = [
    b'<testcase name="x"/>', b'<testcase classname="c" name="y" time="0.1">', b"</testcase>", b"</testsuite>",
    b'<testsuite name="n">', b'<failure message="m">t</failure>', b"<skipped/>", b'<skipped message="s"/>',
    b"<system-out>o</system-out>", b"<system-err>", b"<properties>", b'<property name="k" value="v"/>',
    b"<![CDATA[c]]>", b"<!-- c -->", b"<?pi x?>", b"&amp;", b"&#233;", b"&#x10FFFF;", b"&#0;", b"&lt;", b"&bogus;",
    b' xmlns="urn:x"', b' xmlns:y="urn:y"', b"y:", b' status="skipped"', b' result="failed"', b' status="run"',
    b' outcome="skipped"', b' executed="False"', b' line="2147483648"', b' line="007"', b' time="1e400"',
    b' time="-0.0"', b' time="1,5"', b' file=""', b' hostname="h"', b"\xef\xbb\xbf", b"\x00", b"\xed\xa0\x80",
    b"\xc3\xa9", b"\xff", b"<!DOCTYPE x>", b"A" * 5000, b"\n" * 50, b" " * 300, b"\t", b"\r\n", b"'", b'"', b"<", b">",
    b"<flakyFailure message='f'><stackTrace>s</stackTrace></flakyFailure>", b"<rerunError/>",
    b'<line number="1" hits="1"/>', b' condition-coverage="50% (1/2)"', b' branch="true"',
    b'<class name="c" filename="f.py"><lines>', b"</lines></class>", b"<methods/>", b' hits="18446744073709551616"',
    b' number="0"', b' number="-1"', b' hits="1.5"', b"<conditions><condition/></conditions>",
    b'<package name="p">', b"</packages>", b' line-rate="0.5"', b' branches-valid="4"',
]
JSON_TOKENS = [
    b'"startLine": 2147483648', b'"startLine": 2147483647', b"-1", b"1.0", b"1e3", b"-0", b"1" * 19, b"9" * 400,
    b'"\\ud800"', b'"\\ud83d\\ude00"', b'"\\u0000"', b'"\\u00e9"', b"{}", b"[]", b"null", b"true", b"NaN",
    b'"ruleId": "x", ', b'"kind": "fail", ', b'"suppressions": [{}], ', b'"level": "error", ',
    b'"partialFingerprints": {"primaryLocationLineHash": "h"}, ', b'"ruleIndex": 0, ', b'"rule": {"index": 1}, ',
    b'"properties": {"tags": ["security", 1, {}]}, ', b'"uri": "%41.py"', b'"uri": "file:///a.py"', b"[" * 70,
    b"]" * 70, b" " * 40, b"\n", b",", b":", b'"', b"\\", b"\xc3\xa9", b"\xff", b"\x00",
    b'"message": {"text": "m", "arguments": ["a"]}, ', b'"locations": [], ',
]
ODD_NUMBERS = [b"0", b"-1", b"2147483647", b"2147483648", b"999999999999999999", b"9" * 25, b"1e400", b"0.30000000000000004",
               b"007", b"+3", b"1_0", b"", b" 4", b"nan", b"inf", b"18446744073709551615"]


# -- mutation ------------------------------------------------------------------------------------------
def mutate(data: bytes, rng: random.Random, tokens: list[bytes], seeds: list[bytes]) -> bytes:
    """1-3 random mutations of ``data``; most keep an XML/JSON text well-formed (values, numbers,
    tokens at element boundaries, repeated or removed elements), a few break it (bytes, cuts)."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        r = rng.random()
        if r < 0.25:
            _odd_value(buf, rng)
        elif r < 0.40:
            _odd_number(buf, rng)
        elif r < 0.60:
            at = _boundary(buf, rng)
            buf[at:at] = rng.choice(tokens)
        elif r < 0.72:
            _element_op(buf, rng)
        elif r < 0.80 and seeds:
            other = rng.choice(seeds)
            j = rng.randrange(len(other) + 1)
            at = _boundary(buf, rng)
            buf[at:at] = other[j:j + rng.randint(1, 400)]
        else:
            _byte_op(buf, rng)
    return bytes(buf)


def _boundary(buf: bytearray, rng: random.Random) -> int:
    """A position right after a '>' (between elements) when there is one, else anywhere."""
    for _ in range(8):
        i = rng.randrange(len(buf) + 1) if buf else 0
        j = buf.find(b">", i)
        if j >= 0:
            return j + 1
    return rng.randrange(len(buf) + 1) if buf else 0


def _element_op(buf: bytearray, rng: random.Random) -> None:
    """Repeat or remove a span from a '<' to a later '>' (often a whole element)."""
    i = buf.find(b"<", rng.randrange(len(buf) + 1)) if buf else -1
    if i < 0:
        return
    j = buf.find(b">", i + rng.randint(1, 300))
    if j < 0:
        return
    span = bytes(buf[i:j + 1])
    if rng.random() < 0.5:
        buf[j + 1:j + 1] = span
    else:
        del buf[i:j + 1]


def _byte_op(buf: bytearray, rng: random.Random) -> None:
    n = len(buf)
    if not n:
        return
    i = rng.randrange(n)
    op = rng.randrange(3)
    if op == 0:
        buf[i] ^= 1 << rng.randrange(8)
    elif op == 1:
        del buf[i:i + rng.randint(1, 16)]
    else:
        del buf[i:]


def _odd_number(buf: bytearray, rng: random.Random) -> None:
    digits = [k for k in range(len(buf)) if 48 <= buf[k] <= 57]
    if not digits:
        return
    k = rng.choice(digits)
    end = k
    while end < len(buf) and 48 <= buf[end] <= 57:
        end += 1
    buf[k:end] = rng.choice(ODD_NUMBERS)


def _odd_value(buf: bytearray, rng: random.Random) -> None:
    quotes = [k for k in range(len(buf)) if buf[k] == 34]
    if len(quotes) < 2:
        return
    a = rng.randrange(len(quotes) - 1)
    start, end = quotes[a] + 1, quotes[a + 1]
    buf[start:end] = rng.choice([b"", b"x" * 3000, b"\xc3\xa9\xe2\x82\xac", b"&amp;&#65;", b"skipped", b"failed",
                                 b"  ", b"\t\n", b"[x] y", b"2147483648", b"-0", b"../../etc/passwd", b"run",
                                 b"0.5", b"1e3", b"\xf0\x9f\x98\x80", b"a&#10;b", b"T: chrome"])


ODD_JSON: list[Any] = [0, -1, 2147483647, 2147483648, 10**18, 10**30, 1.5, -0.0, 1e300, "", "x", "\ud800",
                       "\U0001F600", "\u00e9\u0000", "a/b.py", "%41.py", "file:///x.py", {}, [], None, True, False,
                       [[[[[[[[[[1]]]]]]]]]], {"text": "t"}, ["security", 1, {}], "error", "note", "fail", "pass"]
def _odd_json(rng: random.Random) -> Any:
    return copy.deepcopy(rng.choice(ODD_JSON))


SARIF_KEYS = ["ruleId", "ruleIndex", "rule", "level", "kind", "message", "locations", "partialFingerprints",
              "fingerprints", "properties", "suppressions", "baselineState", "relatedLocations", "codeFlows"]


def mutate_result(data: bytes, rng: random.Random) -> bytes:
    """A SARIF result's JSON: values replaced, keys added or dropped, re-serialised in a random style;
    sometimes a text-level change (duplicate key, escapes, a cut) on top."""
    try:
        obj = json.loads(data)
    except ValueError:
        return mutate(data, rng, JSON_TOKENS, [])
    for _ in range(rng.randint(1, 3)):
        if rng.random() < 0.6:
            _mutate_leaf(obj, rng)  # the shape stays: the scanner's fast path is exercised
        else:
            _mutate_value(obj, rng)
    text = json.dumps(obj, ensure_ascii=rng.random() < 0.5, indent=rng.choice([None, None, 1, "\t"]),
                      separators=rng.choice([(",", ":"), (", ", ": "), (" ,", " : ")]))
    raw = text.encode("utf-8", "surrogatepass")
    if rng.random() < 0.3:
        raw = mutate(raw, rng, JSON_TOKENS, [])
    return raw


ODD_STRINGS = ["", "x", "\ud800", "\U0001F600", "\u00e9\u0000", "\u2028", "a\"b\\c", "%41.py", "file:///x.py",
               "/abs.py", "http://h/p", "x" * 5000, "error", "warning", "note", "none", "security", "9" * 30]
ODD_INTS = [0, -1, 1, 2147483647, 2147483648, 10**18 - 1, 10**18, 10**30, True, 1.0, -0.0]


def _mutate_leaf(obj: Any, rng: random.Random) -> None:
    """Replace one scalar somewhere in ``obj`` with an odd value of the same kind."""
    leaves: list[tuple[Any, Any]] = []
    stack = [obj]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for k, v in items:
            if isinstance(v, dict | list):
                stack.append(v)
            else:
                leaves.append((node, k))
    if not leaves:
        return
    node, k = rng.choice(leaves)
    value = node[k]
    node[k] = rng.choice(ODD_STRINGS) if isinstance(value, str) else rng.choice(ODD_INTS)


def _mutate_value(obj: Any, rng: random.Random) -> None:
    containers = [obj]
    node = obj
    for _ in range(rng.randint(0, 5)):  # walk down to a random container
        kids = [v for v in (node.values() if isinstance(node, dict) else node) if isinstance(v, dict | list)]
        if not kids:
            break
        node = rng.choice(kids)
        containers.append(node)
    node = rng.choice(containers)
    if isinstance(node, dict):
        r = rng.random()
        if node and r < 0.5:
            node[rng.choice(list(node))] = _odd_json(rng)
        elif node and r < 0.65:
            del node[rng.choice(list(node))]
        else:
            node[rng.choice(SARIF_KEYS)] = _odd_json(rng)
    elif node:
        node[rng.randrange(len(node))] = _odd_json(rng)
    else:
        node.append(_odd_json(rng))


# -- seeds -----------------------------------------------------------------------------------------------
def _inventory() -> list[dict[str, Any]]:
    path = CORPUS / "INVENTORY.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []


def _corpus_files(formats: set[str]) -> list[bytes]:
    out = []
    for e in sorted(_inventory(), key=lambda e: e["path"]):
        p = CORPUS / e["path"]
        if e["role"] == "input" and e["format"] in formats and p.is_file() and p.stat().st_size <= MAX_SEED_BYTES:
            out.append(p.read_bytes())
    return out


def junit_seeds() -> list[bytes]:
    own = [b'<?xml version="1.0"?><testsuites><testsuite name="a"><testsuite name="b"><testcase classname="c" '
           b'name="t" time="0.5" line="3" file="f.py"/><testcase name="u"><system-out>out</system-out></testcase>'
           b'<testcase name="v"><skipped message="m"/></testcase></testsuite></testsuite></testsuites>',
           b'<testsuite name="gtest"><testcase name="x" status="run" result="skipped" time="0"/>'
           b'<testcase name="x" status="run" time="0.1"><failure message="f">body</failure></testcase></testsuite>']
    return own + _corpus_files({"junit-xml"})


def cobertura_seeds() -> list[bytes]:
    own = [b'<?xml version="1.0"?><coverage line-rate="0.5" branch-rate="0.5" lines-valid="2" branches-valid="2" '
           b'version="1" timestamp="1"><packages><package name="p"><classes><class name="c" filename="a.py" '
           b'line-rate="0.5"><methods/><lines><line number="1" hits="1" branch="true" condition-coverage="50% (1/2)"/>'
           b'<line number="2" hits="0"/></lines></class></classes></package></packages></coverage>']
    return own + _corpus_files({"cobertura-xml"})


def sarif_result_seeds(limit: int = 400) -> list[bytes]:
    """Result objects of corpus SARIF logs (as JSON text) and a few written here; those of the fast
    path's shape first (three in four seeds)."""
    out = [json.dumps({"ruleId": "r", "ruleIndex": 0, "level": "warning", "message": {"text": "t \u00e9"},
                       "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a/b.py"},
                                                           "region": {"startLine": 3, "startColumn": 1}}}],
                       "partialFingerprints": {"primaryLocationLineHash": "abc:1"},
                       "properties": {"tags": ["security"]}}).encode()]
    for e in sorted(_inventory(), key=lambda e: e["path"]):
        if e["format"] != "sarif" or e["role"] != "input" or len(out) >= limit:
            continue
        try:
            log = json.loads((CORPUS / e["path"]).read_text(encoding="utf-8"))
            for run in log.get("runs") or []:
                for r in (run.get("results") or [])[:5]:
                    out.append(json.dumps(r, ensure_ascii=bool(len(out) % 2)).encode())
        except (ValueError, OSError, AttributeError, TypeError):
            continue
    from aqe_ci.ingest.security.sarif import _fast_extract

    fast = [x for x in (_fast_shaped(json.loads(r)) for r in out) if x is not None and _fast_extract(json.loads(x))]
    return fast * 3 + out


def _fast_shaped(r: Any) -> bytes | None:
    """A corpus result made into the fast path's shape (a line hash, a relative uri, a region, no
    kind/suppressions/security-severity), keeping everything else it has."""
    if not isinstance(r, dict) or not isinstance(r.get("ruleId"), str):
        return None
    for key in ("kind", "baselineState", "suppressions"):
        r.pop(key, None)
    if isinstance(r.get("properties"), dict):
        r["properties"].pop("security-severity", None)
    msg = r.get("message") if isinstance(r.get("message"), dict) else {}
    msg.pop("arguments", None)
    r["message"] = {**msg, "text": msg.get("text") if isinstance(msg.get("text"), str) else "m"}
    pf = r.get("partialFingerprints") if isinstance(r.get("partialFingerprints"), dict) else {}
    r["partialFingerprints"] = {**pf, "primaryLocationLineHash": pf.get("primaryLocationLineHash") or "h:1"}
    locs = r.get("locations") if isinstance(r.get("locations"), list) and r["locations"] else [{}]
    loc = locs[0] if isinstance(locs[0], dict) else {}
    phys = loc.get("physicalLocation") if isinstance(loc.get("physicalLocation"), dict) else {}
    art = phys.get("artifactLocation") if isinstance(phys.get("artifactLocation"), dict) else {}
    uri = art.get("uri") if isinstance(art.get("uri"), str) else "src/a.py"
    art["uri"] = uri.lstrip("/").replace("%", "").split("://")[-1].removeprefix("file:")
    phys["artifactLocation"] = art
    phys["region"] = phys.get("region") if isinstance(phys.get("region"), dict) else {"startLine": 1}
    loc["physicalLocation"] = phys
    r["locations"] = [loc, *locs[1:]]
    return json.dumps(r, ensure_ascii=False).encode()


def sarif_log_seeds() -> list[bytes]:
    return _corpus_files({"sarif"})[:60]


# -- outcomes on both paths --------------------------------------------------------------------------------
class Paths:
    """Switch between the accelerated and the pure-Python path (``AQE_PURE_PYTHON``)."""

    def __init__(self) -> None:
        from aqe_ci import accel

        self.env = accel.DISABLE_ENV

    def run(self, fn: Callable[[], Any], *, pure: bool) -> Any:
        old = os.environ.get(self.env)
        os.environ[self.env] = "1" if pure else "0"
        try:
            return fn()
        finally:
            if old is None:
                os.environ.pop(self.env, None)
            else:
                os.environ[self.env] = old


def junit_outcome(path: Path, work: Path) -> Any:
    """The JUnit parser into a fresh writer (both use the accelerator: the scanner, the encoder)."""
    from aqe_ci.ingest.base import ReportError, SourceInfo
    from aqe_ci.ingest.tests.junit import JUnitParser
    from aqe_ci.ingest.tests.writer import TestResultsWriter
    from aqe_ci.model.limits import Limits

    writer = TestResultsWriter(workdir=work, limits=Limits(inline_text_bytes=64, max_blob_bytes=512))
    src = SourceInfo(file="f.xml", format="junit", bytes=path.stat().st_size)
    writer.begin_source(src)
    try:
        JUnitParser().parse(path, writer, src)
    except ReportError as exc:
        writer.abort()
        return ("error", str(exc), exc.line)
    except Exception as exc:  # a bug on this path: the fuzz report names it
        writer.abort()
        return ("internal", f"{type(exc).__name__}: {exc}")
    writer.commit_source()
    doc = writer.finish(timestamp=TIMESTAMP)
    try:
        return ("ok", doc.path.read_bytes(), {k: v.read_bytes() for k, v in doc.blobs.items()}, doc.summary)
    finally:
        doc.cleanup()


def cobertura_outcome(path: Path, work: Path) -> Any:
    from aqe_ci.ingest.base import ReportError, SourceInfo
    from aqe_ci.ingest.coverage.cobertura import CoberturaParser
    from aqe_ci.ingest.coverage.writer import CoverageWriter
    from aqe_ci.model.limits import Limits

    writer = CoverageWriter(workdir=work, limits=Limits())
    src = SourceInfo(file="f.xml", format="cobertura", bytes=path.stat().st_size)
    writer.begin_source(src)
    try:
        CoberturaParser().parse(path, writer, src)
    except ReportError as exc:
        writer.abort()
        return ("error", str(exc), exc.line)
    except Exception as exc:  # a bug on this path: the fuzz report names it
        writer.abort()
        return ("internal", f"{type(exc).__name__}: {exc}")
    writer.commit_source()
    doc = writer.finish(timestamp=TIMESTAMP)
    try:
        return ("ok", doc.path.read_bytes())
    finally:
        doc.cleanup()


def sarif_outcome(path: Path, work: Path) -> Any:
    from aqe_ci.ingest.base import ReportError, SourceInfo
    from aqe_ci.ingest.security.sarif import SarifParser
    from aqe_ci.ingest.security.writer import SecurityWriter
    from aqe_ci.model.limits import Limits

    writer = SecurityWriter(workdir=work, limits=Limits())
    src = SourceInfo(file="f.sarif", format="sarif", bytes=path.stat().st_size)
    writer.begin_source(src)
    try:
        SarifParser().parse(path, writer, src)
    except ReportError as exc:
        writer.abort()
        return ("error", str(exc), exc.line)
    except Exception as exc:  # a bug on this path: the fuzz report names it
        writer.abort()
        return ("internal", f"{type(exc).__name__}: {exc}")
    writer.commit_source()
    doc = writer.finish(timestamp=TIMESTAMP)
    try:
        return ("ok", doc.path.read_bytes())
    finally:
        doc.cleanup()


def sarif_scan_pair(text: str) -> tuple[Any, Any]:
    """(C scanner's answer, Python twin's answer) for one element; the C one may decline (None)
    where the twin accepts only if json cannot decode it the same way (never: compared exactly)."""
    from aqe_ci import accel
    from aqe_ci.ingest.security.sarif import _fast_extract
    from aqe_ci.ingest.stream.jsonstream import _DECODER

    scanner = accel.load("aqe_ci.ingest.security._sarif_c")
    assert scanner is not None, "the SARIF accelerator is not built"
    buf = " [" + text + ", 1]"
    got = scanner.scan_result(buf, 2)
    try:
        obj, end = _DECODER.scan_once(buf, 2)
    except (StopIteration, ValueError, RecursionError):
        return got, None
    fields = _fast_extract(obj) if type(obj) is dict else None
    return got, None if fields is None else (fields, end)


# -- the loop ----------------------------------------------------------------------------------------------
@dataclass
class Report:
    target: str
    mutants: int = 0
    accepted: int = 0  # mutants both paths read into a document (the rest: the same problem)
    mismatches: list[str] = field(default_factory=list)


def _whole_file(outcome: Callable[[Path, Path], Any], paths: Paths, data: bytes, work: Path, n: int) -> tuple[
        bool, bool]:
    path = work / f"m{n}.bin"
    path.write_bytes(data)
    for side in ("a", "p"):
        (work / f"{side}{n}").mkdir()
    fast = paths.run(lambda: outcome(path, work / f"a{n}"), pure=False)
    pure = paths.run(lambda: outcome(path, work / f"p{n}"), pure=True)
    path.unlink()
    for side in ("a", "p"):
        shutil.rmtree(work / f"{side}{n}", ignore_errors=True)
    ok = fast == pure and fast[0] != "internal" and pure[0] != "internal"
    return ok, fast[0] == "ok"


def _same_filtering(data: bytes) -> tuple[bool, bool]:
    from aqe_ci import accel
    from aqe_ci.ingest.stream import surrogates

    fast = accel.load(surrogates.ACCEL)
    assert fast is not None, "the stream accelerator is not built"
    for start in range(0, len(data) + 2, max(1, len(data) // 16)):
        if fast.find_escape(data, start) != surrogates.find_escape(data, start):
            return False, False
    got = surrogates.replace_lone(data, final=False, find=fast.find_escape)
    want = surrogates.replace_lone(data, final=False)
    return got == want and surrogates.replace_lone(data, find=fast.find_escape) == surrogates.replace_lone(data), \
        bool(got[1])


def surrogate_seeds() -> list[bytes]:
    return [b'{"a": "x\\ud800y", "b": "\\ud83d\\ude00", "c": "\\\\ud800", "d": "\\uDC00\\uD800"}',
            *sarif_result_seeds(60)]


def _same_scan(text: str) -> tuple[bool, bool]:
    got, want = sarif_scan_pair(text)
    if got is None:
        return True, False  # the scanner may always decline: json decodes it then
    return got == want, True


def fuzz(target: str, count: int, deadline: float, seed: int, out: Path | None = None,
         minimum: int = 0) -> Report:
    """Run up to ``count`` mutants of ``target``: at least ``minimum``, then until
    ``time.monotonic() > deadline``."""
    seeds, tokens = {"junit": (junit_seeds, XML_TOKENS), "cobertura": (cobertura_seeds, XML_TOKENS),
                     "sarif": (sarif_log_seeds, JSON_TOKENS), "sarif-scan": (sarif_result_seeds, JSON_TOKENS),
                     "surrogates": (surrogate_seeds, JSON_TOKENS)}[target]
    pool = seeds()
    rng = random.Random(f"{target}:{seed}")
    report = Report(target)
    paths = Paths()
    outcome = {"junit": junit_outcome, "cobertura": cobertura_outcome, "sarif": sarif_outcome}.get(target)
    with tempfile.TemporaryDirectory(prefix=f"fuzz-{target}-") as tmp:
        work = Path(tmp)
        for n in range(count):
            if n >= minimum and time.monotonic() > deadline:
                break
            seed_data = rng.choice(pool)
            data = mutate_result(seed_data, rng) if target == "sarif-scan" else mutate(seed_data, rng, tokens, pool)
            if target == "surrogates":
                ok, accepted = _same_filtering(data)
            elif outcome is None:
                ok, accepted = _same_scan(data.decode("utf-8", "replace"))
            else:
                ok, accepted = _whole_file(outcome, paths, data, work, n)
            report.mutants += 1
            report.accepted += accepted
            if not ok:
                report.mismatches.append(_keep(out, target, seed, n, data))
    return report


def _keep(out: Path | None, target: str, seed: int, n: int, data: bytes) -> str:
    where = f"{target} seed {seed} mutant {n}"
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"{target}-{seed}-{n}.bin"
        path.write_bytes(data)
        where += f" (kept in {path})"
    return where + ": " + repr(data[:300])


TARGETS = ("junit", "cobertura", "sarif-scan", "sarif", "surrogates")


def build_sanitized(build: Path, cc: str, flags: list[str]) -> None:
    """Compile every accelerator of ``aqe_ci.accel.EXTENSIONS`` with ``flags`` (the sanitizers) into
    ``build``, laid out like the package (setup.py's settings otherwise: -Wall -Wextra -Werror=vla)."""
    import subprocess
    import sysconfig

    from aqe_ci import accel

    root = HERE.parents[1]
    include = sysconfig.get_paths()["include"]
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    for name, source in accel.EXTENSIONS.items():
        target = build.joinpath(*name.split(".")).with_name(name.rsplit(".", 1)[1] + suffix)
        target.parent.mkdir(parents=True, exist_ok=True)
        cmd = [cc, "-shared", "-fPIC", "-Wall", "-Wextra", "-Werror=vla", *flags, f"-I{include}",
               str(root / source), "-o", str(target)]
        print(" ".join(cmd), flush=True)
        subprocess.run(cmd, check=True)


def load_sanitized(build: Path) -> list[str]:
    """Load the accelerators from ``build`` (a ``build_ext --build-lib`` tree) into ``sys.modules``."""
    from aqe_ci import accel

    loaded = []
    for name in accel.EXTENSIONS:
        found = sorted(build.joinpath(*name.split(".")[:-1]).glob(name.rsplit(".", 1)[1] + ".*.so"))
        if not found:
            raise SystemExit(f"{name} is not built in {build}")
        spec = importlib.util.spec_from_file_location(name, found[0])
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[name] = module
        loaded.append(str(found[0]))
    return loaded


def _main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=600.0)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--sanitized", type=Path, help="load the extensions from this directory")
    ap.add_argument("--build", action="store_true", help="first compile them there with $CC and $CFLAGS")
    ap.add_argument("--out", type=Path, default=Path("fuzz-mismatches"))
    ap.add_argument("--targets", default=",".join(TARGETS))
    args = ap.parse_args(argv)
    sys.path.insert(0, str(HERE.parents[1]))
    if args.sanitized and args.build:
        build_sanitized(args.sanitized, os.environ.get("CC", "gcc"), os.environ.get("CFLAGS", "").split())
    if args.sanitized:
        for path in load_sanitized(args.sanitized):
            print(f"sanitized: {path}")
    targets = [t for t in args.targets.split(",") if t]
    failed = False
    for i, target in enumerate(targets):
        share = args.seconds / len(targets)
        report = fuzz(target, 10**9, time.monotonic() + share, args.seed + i, args.out)
        print(f"{target}: {report.mutants} mutants ({report.accepted} read by both paths), seed {args.seed + i}, "
              f"{len(report.mismatches)} mismatches", flush=True)
        for m in report.mismatches[:10]:
            print("  " + m)
        failed = failed or bool(report.mismatches)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(_main())
