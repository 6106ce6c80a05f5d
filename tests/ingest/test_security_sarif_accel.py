"""The SARIF C scanner (``aqe_ci/ingest/security/_sarif_c.c``) agrees with its Python twin, everywhere.

``scan_result(buf, pos)`` must return exactly what ``_fast_extract`` makes of json's decoding of the
same element (plus the end index), or None; it must never accept what json refuses (the Python path
then reports the error). Checked on thousands of generated and mutated results, on every corpus
SARIF file (whole documents, scanner on and off) and on damaged logs (same error, same line). The
security test files also run once more in a subprocess with ``AQE_PURE_PYTHON=1`` (pure path).
"""

from __future__ import annotations

import copy
import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sec_support import CORPUS, inventory, sarif_document

from aqe_ci import accel
from aqe_ci.ingest.security.sarif import SarifParser, _fast_extract
from aqe_ci.ingest.stream.jsonstream import _DECODER

MODULE = "aqe_ci.ingest.security._sarif_c"
GEN_SARIF = CORPUS / ".." / "bench" / "gen_sarif.py"
HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def scan() -> Any:
    mod = accel.load(MODULE)
    if mod is None:  # pragma: no cover - test_accel.py fails loudly when it is not built
        pytest.fail(f"{MODULE} is not built (or {accel.DISABLE_ENV} is set)")
    return mod.scan_result


def reference(buf: str, pos: int) -> tuple[tuple[Any, ...], int] | None:
    """What the Python path makes of the element at ``buf[pos]`` (JsonStream's decoder)."""
    try:
        obj, end = _DECODER.scan_once(buf, pos)
    except (StopIteration, ValueError, RecursionError):
        return None
    if type(obj) is not dict:
        return None
    fields = _fast_extract(obj)
    return None if fields is None else (fields, end)


def same(a: Any, b: Any) -> bool:
    """Equal with the same types all the way down (1 == True == 1.0 for ==)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


# -- generated results ------------------------------------------------------------------------

ODD_VALUES: list[Any] = [None, True, False, 0, -1, 7, 1.0, 2.5, -0.0, 1e300, 10**18 - 1, 10**18,
                         10**25, -10**25, -10**18 + 1, "", "x", "ünï", "☃", "😀", "\ud800", "a\"b\\c/\n\t\x7f\u2028", [], {},
                         [1, "a"], {"k": [None]}]
URIS = ["src/a.py", "src/ünï/☃.py", "😀/x.py", "file:///b/x.py", "FiLe:x.py", "a%20b.py", "/abs.py",
        "http://h/x.py", "x://y", "aaaaaaaaaaaaa://x", "aaaaaaaaaaaaaa://x", "ab", "file", "fİle:x",
        "", "C:\\x.py", "src/a.py?x=1"]
TAGS = [[], ["security"], ["security", "external/cwe/cwe-079", "high"], ["CVE-2024-1", 3, None, True],
        ["a", {"x": 1}], ["b", [1]], "security", None, ["critical", "😀"]]
EXTRA_KEYS = ["kind", "suppressions", "baselineState", "codeFlows", "fingerprints", "guid",
              "relatedLocations", "unknown", "rank", "provenance"]


def base_result(rng: random.Random) -> dict[str, Any]:
    line = rng.randint(0, 3000)
    r: dict[str, Any] = {
        "ruleId": f"py/rule-{rng.randint(0, 9)}",
        "ruleIndex": rng.randint(0, 9),
        "rule": {"id": "py/x", "index": rng.randint(0, 9)},
        "level": rng.choice(["error", "warning", "note", "none"]),
        "message": {"text": rng.choice(["This depends on [input](1).", "é ☃ 😀", "tab\there \"q\" \\",
                                        "x" * rng.randint(0, 50), "mail a@b https://u:p@h/x"])},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": rng.choice(URIS[:3]), "uriBaseId": "%SRCROOT%", "index": 1},
            "region": {"startLine": line, "startColumn": rng.randint(1, 40), "endLine": line + 1,
                       "endColumn": rng.randint(41, 99), "snippet": {"text": "x = 1\n"}}},
            "id": 0}],
        "partialFingerprints": {"primaryLocationLineHash": f"{rng.getrandbits(64):016x}:1",
                                "primaryLocationStartColumnFingerprint": "4"},
        "properties": {"tags": rng.choice(TAGS[:3]), "github/alertNumber": 3},
    }
    if rng.random() < 0.3:
        r["codeFlows"] = [{"threadFlows": [{"locations": [{"location": copy.deepcopy(r["locations"][0])}]}]}]
    return r


def _containers(node: Any, out: list[Any]) -> list[Any]:
    if isinstance(node, dict | list):
        out.append(node)
        for v in (node.values() if isinstance(node, dict) else node):
            _containers(v, out)
    return out


def mutate(rng: random.Random, r: dict[str, Any]) -> None:
    """One structural change: a key removed or added, a value replaced by an odd one."""
    choice = rng.randrange(9)
    if choice == 0:  # remove a key somewhere
        dicts = [c for c in _containers(r, []) if isinstance(c, dict) and c]
        d = rng.choice(dicts)
        del d[rng.choice(list(d))]
    elif choice == 1:  # replace a value somewhere by an odd one
        dicts = [c for c in _containers(r, []) if isinstance(c, dict) and c]
        d = rng.choice(dicts)
        d[rng.choice(list(d))] = copy.deepcopy(rng.choice(ODD_VALUES))
    elif choice == 2:
        r[rng.choice(EXTRA_KEYS)] = copy.deepcopy(rng.choice(ODD_VALUES))
    elif choice == 3 and isinstance(r.get("message"), dict):
        r["message"][rng.choice(["arguments", "markdown", "id"])] = ["a"]
    elif choice == 4 and isinstance(r.get("properties"), dict):
        if rng.random() < 0.3:
            r["properties"]["security-severity"] = "7.5"
        else:
            r["properties"]["tags"] = copy.deepcopy(rng.choice(TAGS))
    elif choice == 5 and isinstance(r.get("rule"), dict):
        r["rule"][rng.choice(["toolComponent", "guid", "index"])] = rng.choice([{"index": 0}, 3, -2, None])
    elif choice == 6:
        try:
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = rng.choice(URIS)
        except (KeyError, IndexError, TypeError):
            pass
    elif choice == 7:
        r["locations"] = rng.choice([[], [1], [{}], [{"physicalLocation": {}}], r.get("locations"),
                                     [{"physicalLocation": {"region": {}}}] + [{"x": 1}]])
    else:
        r["level"] = rng.choice(ODD_VALUES + ["error", "note"])


def shuffled(rng: random.Random, node: Any) -> Any:
    """The same value with the keys of every object in a random order."""
    if isinstance(node, dict):
        keys = list(node)
        rng.shuffle(keys)
        return {k: shuffled(rng, node[k]) for k in keys}
    if isinstance(node, list):
        return [shuffled(rng, v) for v in node]
    return node


def render(rng: random.Random, r: dict[str, Any]) -> str:
    indent = rng.choice([None, None, 0, 1, 2, "\t", " \r\n"[: rng.randint(1, 3)]])
    seps = rng.choice([(",", ":"), (", ", ": "), (" ,\t", " :\n")])
    return json.dumps(shuffled(rng, r), indent=indent, separators=seps,
                      ensure_ascii=rng.random() < 0.5, sort_keys=rng.random() < 0.2)


#: damage() kinds the scanner may decline although json reads them: a duplicate key (json keeps
#: the last), keys written with escapes, nesting deeper than 64
MAY_DECLINE = {3, 4, 5}


def damage(rng: random.Random, text: str) -> str:
    """A text-level change: truncation, a stray character, non-JSON numbers, duplicate or escaped
    keys, deep nesting, trailing commas, a lone surrogate escape..."""
    return damage_kind(rng, text)[0]


def damage_kind(rng: random.Random, text: str) -> tuple[str, int]:
    choice = rng.randrange(12)
    return _damage(rng, text, choice), choice


def _damage(rng: random.Random, text: str, choice: int) -> str:
    at = rng.randrange(len(text) + 1)
    if choice == 0:
        return text[:at]
    if choice == 1:
        return text[:at] + rng.choice('",}]\x00\x01\x1f N x\\:{[-0.e') + text[at:]
    if choice == 2:
        return text.replace("3000", rng.choice(["NaN", "Infinity", "-Infinity", "01", "-0", "1e3",
                                                 "1.", "1.5E+2", "-", "9" * 30, "1" * 5000]), 1)
    if choice == 3:  # a duplicate key (json keeps the last value)
        key = rng.choice(["ruleId", "ruleIndex", "level", "message", "locations", "properties",
                          "partialFingerprints", "rule", "text", "uri", "startLine", "endLine",
                          "startColumn", "endColumn", "tags", "index", "physicalLocation",
                          "artifactLocation", "region", "primaryLocationLineHash", "guid"])
        val = json.dumps(rng.choice(ODD_VALUES + ["py/dup", 5, {"text": "dup"}]))
        spots = [i for i, c in enumerate(text) if c == "{"]
        i = rng.choice(spots) + 1 if spots else 0
        return text[:i] + f'"{key}": {val},' + text[i:]
    if choice == 4:
        return text.replace('"ruleId"', '"rule\\u0049d"').replace('"text"', '"t\\u0065xt"')
    if choice == 5:
        depth = rng.choice([5, 63, 64, 65, 70, 1200])
        return text.replace("{", '{"codeFlows": ' + "[" * depth + "]" * depth + ",", 1)
    if choice == 6:
        return text.replace("}", ",}", 1) if rng.random() < 0.5 else text.replace("]", ",]", 1)
    if choice == 7:
        return text.replace("This", "\\ud83d\\ude00 \\ud800 \\udc00x \\u00e9 \\/", 1)
    if choice == 8:
        return text.replace('"', "'", 1)
    if choice == 9:
        return text.replace("\\", "\\x", 1)
    if choice == 10:
        return text.replace("true", "True", 1).replace("null", "nul", 1).replace("false", "falsy", 1)
    return "\u00a0" + text if rng.random() < 0.5 else text + "\u00a0"


def test_scanner_agrees_with_the_python_twin_on_generated_and_damaged_results(scan: Any) -> None:
    rng = random.Random(20240611)
    handled = agreed = declined_valid = 0
    for case in range(6000):
        r = base_result(rng)
        for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
            mutate(rng, r)
        text = render(rng, r)
        kind = -1
        if case % 3 == 0:
            text, kind = damage_kind(rng, text)
        prefix = rng.choice(["", "[", "[\n  ", '{"results": [ ', "  "])
        suffix = rng.choice(["", ",", ",\n  {", "]", "\n]}" + " " * 10])
        buf = prefix + text + suffix
        pos = len(prefix)
        if prefix.endswith(" ") and rng.random() < 0.5:
            pos -= 1  # at a blank: json's scanner refuses, so must the C one
        got = scan(buf, pos)
        want = reference(buf, pos)
        if got is not None:
            handled += 1
            assert want is not None and same(got, want), (buf, got, want)
        elif want is not None:
            declined_valid += 1
            # a key it reads holding an integer of more than 18 digits is declined too
            assert kind in MAY_DECLINE or re.search(r"[0-9]{19}", buf), buf
        else:
            agreed += 1
    # the scanner handles almost every fast-shape element (it declines only the unusual: keys with
    # escapes, integers over 18 digits, nesting deeper than 64)
    assert handled > 2000, (handled, declined_valid)
    assert agreed > 1000


PLAIN = ('{"ruleId":"r","message":{"text":"t"},"locations":[{"physicalLocation":{"artifactLocation":'
         '{"uri":"u"},"region":{}}}],"partialFingerprints":{"primaryLocationLineHash":"h"}}')
# UCS-2 and UCS-4 buffers, escapes and surrogate pairs decoded as json does, odd integers
UNICODE = ('{"ruleId":"ünï","message":{"text":"\\u00e9\\ud83d\\ude00\\ud800 😀 \\"q\\" \\\\ \\/"},'
           '"locations":[{"physicalLocation":{"artifactLocation":{"uri":"☃/\\u0041.py"},"region":'
           '{"startLine":-0,"endLine":1.0,"startColumn":2147483647,"endColumn":-3}}}],'
           '"partialFingerprints":{"primaryLocationLineHash":"\\u2028"},'
           '"properties":{"tags":["\\u0073ecurity",1,null,true,"😀"]},"rule":{"index":4},"level":null}')


@pytest.mark.parametrize("text", [PLAIN, UNICODE])
def test_scanner_handles_common_and_unicode_results(scan: Any, text: str) -> None:
    for buf, pos in ((text, 0), (" [" + text + ", 1]", 2)):
        got = scan(buf, pos)
        assert got is not None
        assert same(got, reference(buf, pos))


@pytest.mark.parametrize("key", ["startLine", "endLine", "startColumn", "endColumn"])
def test_a_line_or_column_over_max_line_is_declined_by_both_twins(scan: Any, key: str) -> None:
    """The general path refuses such a report ("line number is out of range"): neither twin of the
    fast path may take it (an 18-digit number still fits the C scanner's integers)."""
    for value in ("2147483648", "999999999999999999"):
        text = PLAIN.replace("{}", f'{{"{key}": {value}}}')
        assert scan(text, 0) is None
        assert reference(text, 0) is None
    assert scan(PLAIN.replace("{}", f'{{"{key}": 2147483647}}'), 0) is not None


def test_scanner_declines_what_json_refuses_or_does_not_read(scan: Any) -> None:
    text = PLAIN
    assert scan(text, 0) is not None
    bad = [text[:-1], text.replace("{}", "{\"startLine\": NaN}"), text.replace('"h"', '"h\x01"'),
           text.replace('"t"', '"t\\x"'), text.replace('{"ruleId"', '{"kind": "fail", "ruleId"'),
           text.replace('{"ruleId"', '{"ruleId": "a", "ruleId"'), text.replace('"u"', '"/u"'),
           text.replace("}}}]", "}}},]"), " " + text, "[" + text + "]"]
    for b in bad:  # refused by json, another shape, or (duplicate key) declined
        assert scan(b, 0) is None, b


# -- whole documents ----------------------------------------------------------------------------

SCANNED = [0]  # results the C scanner handed over in _document


def _document(path: Path, workdir: Path, *, accelerated: bool) -> bytes | str:
    parser = SarifParser()
    scanner = parser.scanner
    assert scanner is not None
    if accelerated:
        def counting(buf: str, pos: int) -> Any:
            got = scanner(buf, pos)
            SCANNED[0] += got is not None
            return got

        parser.scanner = counting
    else:
        parser.scanner = None
    return sarif_document(path, workdir, parser)


def test_corpus_documents_are_identical_with_and_without_the_scanner(tmp_path: Path, scan: Any) -> None:
    files = [CORPUS / e["path"] for e in inventory() if e["format"] == "sarif"]
    assert len(files) > 400
    before = SCANNED[0]
    for path in files:
        assert _document(path, tmp_path, accelerated=True) == _document(path, tmp_path, accelerated=False), path
    assert SCANNED[0] - before >= 10  # corpus logs of the common shape went through it


def test_damaged_logs_give_the_same_document_or_the_same_error(tmp_path: Path, scan: Any) -> None:
    src = tmp_path / "gen.sarif"
    subprocess.run([sys.executable, str(GEN_SARIF), str(src), "--results", "60"], check=True,
                   stdout=subprocess.DEVNULL)
    text = src.read_text(encoding="utf-8")
    start = text.index('"results"')
    end = text.index('"automationDetails"')
    rng = random.Random(7)
    outcomes = set()
    before = SCANNED[0]
    for _ in range(100):
        i = rng.randrange(start, end)
        variant = damage(rng, text[i:end])
        path = tmp_path / "v.sarif"
        path.write_text(text[:i] + variant + text[end:], encoding="utf-8", errors="surrogatepass")
        fast = _document(path, tmp_path, accelerated=True)
        assert fast == _document(path, tmp_path, accelerated=False)
        outcomes.add(type(fast))
    assert outcomes == {bytes, str}  # both documents and errors were compared
    assert SCANNED[0] - before > 1000


def test_security_tests_pass_on_the_pure_python_path() -> None:
    """The corpus, golden and fast-path tests once more with every accelerator off."""
    files = ["test_security_corpus.py", "test_security_sarif_fastpath.py", "test_security_units.py",
             "test_security_driver.py"]
    env = {**os.environ, accel.DISABLE_ENV: "1"}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                           *(str(HERE / f) for f in files)], env=env, cwd=HERE.parents[1],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]


def test_scanner_accepts_exactly_the_result_keys_of_the_python_twin(scan: Any) -> None:
    from aqe_ci.ingest.security.sarif import _FAST_KEYS

    read = {"ruleId", "ruleIndex", "rule", "level", "message", "locations", "partialFingerprints",
            "properties"}
    for key in sorted(_FAST_KEYS - read) + ["kind", "suppressions", "baselineState", "ruleid", "x"]:
        text = PLAIN[:-1] + f',"{key}":[1,{{"a":null}}]}}'
        assert same(scan(text, 0), reference(text, 0)), key
        assert (scan(text, 0) is not None) == (key in _FAST_KEYS), key
