"""Fast Cobertura reading: a hardened libxml2 well-formedness pass plus a byte-level tokenizer.

Reading 1,000,000 ``<line>`` elements through lxml elements/XPath costs far more than parsing; this
path never builds elements. One chunk loop (1 MiB chunks) does two things with every chunk:

1. :class:`aqe_ci.ingest.stream.safexml.WellFormed` feeds it to a libxml2 push parser that has no callbacks
   (same hardening as :func:`safexml.iterparse`: prolog checked for DTD/ENTITY first, then
   ``resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False``). Any syntax error
   rejects the file with its line; nothing is committed then (the driver rolls the writer back).
2. the tokenizer below extracts what the lxml parser reads — ``<coverage>`` attributes, per
   ``<class>`` its ``filename``, ``lines/line/@number|@hits|@condition-coverage`` and
   ``methods/method`` — with compiled regexes over the same bytes. Comments, CDATA sections and
   processing instructions are cut out first (text inside them is never taken as markup; an
   unfinished one is carried to the next chunk, as is everything after the last complete
   ``</class>``). Attribute values are decoded as XML does (the five predefined entities, character
   references, whitespace normalisation); other entities cannot occur without a DTD.

When the C accelerator ``aqe_ci.ingest.coverage._cobertura_c`` is built (see :mod:`aqe_ci.accel`),
a class's single ``<lines>`` span goes to its ``lines_span`` first: one pass over the bytes that
returns the finished ``line_hits``/``branch_hits`` strings and counts, or None for any shape it
does not vouch for (then the Python code below reads the span). This Python code is the reference;
the tests run every Cobertura test on both paths and compare generated variants byte for byte.

The common shape (``<line number=".." hits=".." ...>`` in double quotes) is read in bulk by one
regex per ``<lines>``; any other shape (attribute order, single quotes, nested elements) is read
by a careful per-tag path with the same result. Whatever the tokenizer cannot vouch for —
namespaces, a non-UTF-8 encoding, nested ``<class>``/``<coverage>``, an undecodable entity, a
``<line>``/``<conditions>`` outside a ``<lines>``, values lxml's path would reject — raises
:class:`Decline`, and the caller re-reads the file with the lxml parser (the reference
implementation) after rolling back what was written, so results and error messages stay
exactly the lxml ones.
"""

from __future__ import annotations

import re
from itertools import compress, islice, repeat
from operator import and_, contains, eq, sub
from pathlib import Path
from typing import Any

from aqe_ci import accel
from aqe_ci.ingest.base import ReportError
from aqe_ci.ingest.coverage.cobertura_common import (
    class_branches,
    emit_class,
    int_value,
    method_covered,
    root_details,
)
from aqe_ci.ingest.coverage.writer import MAX_LINE, CoverageWriter
from aqe_ci.ingest.stream import safexml
from aqe_ci.ingest.stream.opener import open_report

CHUNK = 1 << 20
ACCEL = "aqe_ci.ingest.coverage._cobertura_c"


class Decline(Exception):
    """The fast path cannot vouch for a result identical to the lxml parser's: use that one."""


_ATTRS = rb"((?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)"
#: any start/end/empty tag (well-formed input: ``<`` never occurs inside attribute values)
_TAG = re.compile(rb"<(/?)([^\s/>!?]+)" + _ATTRS + rb"\s*(/?)>")
#: every tag except line/condition/conditions (the class skeleton: few per class)
_SKELETON = re.compile(rb"<(/?)(?!(?:line|conditions?)[\s/>])([^\s/>!?]+)" + _ATTRS + rb"\s*(/?)>")
_ATTR = re.compile(rb"([^\s=/>]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
#: the common <line>: number and hits first, double quotes; optional branch / condition-coverage
#: next; an optional <conditions> child. ``(\S)`` catches anything else in the span (-> careful).
_LINE_FAST = re.compile(
    rb"<line\s+number=\"(\d+)\"\s+hits=\"(\d+)\"(?:\s+branch=\"[^\"]*\")?(?:\s+condition-coverage=(\"[^\"]*\"))?"
    rb"((?:\s+[^\s=/>]+\s*=\s*\"[^\"]*\")*)\s*"
    rb"(?:/>|>\s*(?:<conditions>\s*(?:<condition(?:\s+[^\s=/>]+\s*=\s*\"[^\"]*\")*\s*/>\s*)*</conditions>\s*)?</line>)"
    rb"|(\S)")
#: the bulk reader for spans of self-closing canonical <line>s (verified by counting '<' and '>')
_LINE_NH = re.compile(rb"<line\s+number=\"(\d+)\"\s+hits=\"(\d+)\""
                      rb"(?:(?:\s+branch=\"[^\"]*\")?\s+condition-coverage=\"([^\"]*)\")?")
#: the encoded route: ``<line number="N" hits="H"`` exactly (one space), captured as ``N" hits="H``
_LINE_RAW = re.compile(rb"<line number=\"((?:0|[1-9]\d*)\" hits=\"(?:0|[1-9]\d*))\"(?: branch=\"[^\"]*\")?"
                       rb"(?: condition-coverage=\"([^\"]*)\")?")
_RAW_SEP = b'" hits="'
_LINE_CC = re.compile(rb"<line\s+number=\"(\d+)\"\s+hits=\"\d+\"(?:\s+branch=\"[^\"]*\")?\s+condition-coverage=\"([^\"]*)\"")
_LINEISH = re.compile(rb"<(?:line|conditions?)[\s/>]")
#: elements the lxml reader acts on (its iterparse tag filter) where a <lines> span may hide them
_FOREIGN = re.compile(rb"<(?:class|coverage|package)[\s/>]")
_SPECIAL = re.compile(rb"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<!DOCTYPE[^\[>]*>", re.DOTALL)
_SPECIAL_START = re.compile(rb"<[!?]")
_BAD_ENTITY = re.compile(rb"&(?!amp;|lt;|gt;|quot;|apos;|#[0-9]+;|#x[0-9A-Fa-f]+;)")
_ENTITY = re.compile(r"&(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9A-Fa-f]+);")
_PREDEFINED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_XMLDECL_ENCODING = re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"']([^\"']*)[\"']")
_NEEDS_DECODE = re.compile(rb"[&\t\n\r]")


def _entity(m: re.Match[str]) -> str:
    name = m.group(1)
    if name[0] != "#":
        return _PREDEFINED[name]
    code = int(name[2:], 16) if name[1] == "x" and len(name) < 12 else int(name[1:]) if len(name) < 12 else -1
    if not 0 < code <= 0x10FFFF:
        raise ReportError(f"malformed XML: character reference &{name[:12]}; out of range")
    return chr(code)


def attr_value(raw: bytes) -> str:
    """An attribute value as XML hands it over: line ends and tabs → spaces, then references decoded."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Decline("not UTF-8") from None
    if "\r" in text or "\n" in text or "\t" in text:
        text = text.replace("\r\n", "\n").replace("\r", " ").replace("\n", " ").replace("\t", " ")
    if "&" in text:
        text = _ENTITY.sub(_entity, text)
    return text


def cc_texts(values: list[bytes]) -> list[str]:
    """Raw ``condition-coverage`` values → text (one scan decides whether any needs XML decoding)."""
    if _NEEDS_DECODE.search(b"".join(values)):
        return list(map(attr_value, values))
    return [x.decode("utf-8") for x in values]


def attrs_of(text: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, dq, sq in _ATTR.findall(text):
        if b":" in name or name == b"xmlns":
            raise Decline("namespaces")
        out[name.decode("ascii", "replace")] = attr_value(dq if dq or not sq else sq)
    return out


def _careful_lines(span: bytes) -> tuple[list[dict[str, str]], int]:
    """Attributes of the depth-0 ``<line>`` elements in a ``<lines>`` content span, and the count.

    The skeleton walk skips ``<lines>`` spans, so a ``<class>``/``<coverage>``/``<package>`` inside
    one is only seen here (the bulk readers accept no such element): the lxml reader acts on
    those (a nested class of its own, "not the root", a package's end dropping earlier siblings).
    """
    if _FOREIGN.search(span):
        raise Decline("<class>, <coverage> or <package> inside <lines>")
    out: list[dict[str, str]] = []
    depth = 0
    for close, name, attrs, empty in _TAG.findall(span):
        if b":" in name:
            raise Decline("namespaces")
        if close:
            depth -= 1
            continue
        if depth == 0 and name == b"line":
            out.append(attrs_of(attrs))
        if not empty:
            depth += 1
    return out, len(out)


class FastCobertura:
    """One file's fast read; :meth:`run` raises :class:`Decline` or ReportError (syntax only)."""

    def __init__(self, writer: CoverageWriter) -> None:
        self.writer = writer
        self.stack: list[bytes] = []
        self.saw_root = False
        self.branch_mode = False
        self.cls: dict[str, Any] | None = None
        self.cls_depth = -1
        #: the C twin of the per-<line> loop (None: pure Python, e.g. AQE_PURE_PYTHON=1)
        self._accel = accel.load(ACCEL)

    # -- the chunk loop -----------------------------------------------------------------------
    def run(self, path: Path) -> None:
        with open_report(path, "xml") as f:
            head = f.read(1024)
            f.seek(0)
            self._check_encoding(head)
            checker = safexml.WellFormed(path, allow_external_doctype=True)
            carry = b""
            while True:
                chunk = f.read(CHUNK)
                if chunk:
                    checker.feed(chunk)
                else:
                    checker.close()
                buf = carry + chunk if carry else chunk
                carry = self._take(buf, final=not chunk)
                if not chunk:
                    break
        if not self.saw_root:
            raise Decline("no <coverage> root")

    @staticmethod
    def _check_encoding(head: bytes) -> None:
        if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00", b"\x4c\x6f\xa7\x94")) or head[1:2] == b"\x00":
            raise Decline("not UTF-8")
        m = _XMLDECL_ENCODING.match(head[3:] if head.startswith(b"\xef\xbb\xbf") else head)
        if m and m.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8", b"us-ascii", b"ascii"):
            raise Decline("not UTF-8")

    def _take(self, buf: bytes, *, final: bool) -> bytes:
        """Process every complete ``<class>`` (and what precedes it) in ``buf``; return the rest."""
        pending = b""
        if b"<!" in buf or b"<?" in buf:
            buf = _SPECIAL.sub(b"", buf)
            m = _SPECIAL_START.search(buf)
            if m is not None:  # an unfinished comment/CDATA/PI: wait for its end
                if final:
                    raise Decline("unfinished markup")
                buf, pending = buf[:m.start()], buf[m.start():]
        if final and not pending:
            cut = len(buf)
        else:
            cut = buf.rfind(b"</class>")
            if cut < 0:
                return buf + pending
            cut += 8
        self._walk(buf, cut)
        return buf[cut:] + pending

    # -- the skeleton walk --------------------------------------------------------------------
    def _walk(self, buf: bytes, end: int) -> None:
        stack = self.stack
        if buf.find(b"xmlns", 0, end) >= 0 or _BAD_ENTITY.search(buf, 0, end):
            raise Decline("namespaces or entities")
        search = _SKELETON.search
        pos = 0
        while (m := search(buf, pos, end)) is not None:
            pos = m.end()
            close, name, attrs, empty = m.groups()
            if b":" in name:
                raise Decline("namespaces")
            if close:
                if not stack or stack[-1] != name:
                    raise Decline("unbalanced")  # malformed: the checker reports it (or lxml does)
                stack.pop()
                if name == b"class" and self.cls is not None and len(stack) == self.cls_depth:
                    self._class_end(buf, m.start())
                elif self.cls is not None:
                    self._class_close(name, m.start())
                continue
            if name == b"coverage":
                if self.saw_root or stack:
                    raise Decline("<coverage> not the root")
                self.branch_mode = root_details(self.writer, attrs_of(attrs).get)
                self.saw_root = True
            elif not self.saw_root:
                raise Decline("root is not <coverage>")
            elif name == b"package" and self.cls is not None:
                raise Decline("<package> inside <class>")  # its end drops earlier siblings in lxml
            elif name == b"class":
                if self.cls is not None:
                    raise Decline("nested <class>")
                self.cls = {"attrs": attrs_of(attrs), "body": m.end(), "spans": [], "mspans": [], "methods": []}
                self.cls_depth = len(stack)
                if empty:
                    self._class_end(buf, m.end())
                    continue
            elif self.cls is not None and self._class_open(name, attrs, bool(empty), pos, len(stack) - self.cls_depth):
                # a <lines> of interest: skip to its end tag unless another <lines> nests inside
                close_at = buf.find(b"</lines>", pos, end)
                if close_at >= 0 and buf.find(b"<lines", pos, close_at) < 0:
                    pos = close_at
            if not empty:
                stack.append(name)

    def _path(self, rel: int) -> tuple[bytes, ...]:
        return tuple(self.stack[len(self.stack) - rel:]) if rel else ()

    def _class_open(self, name: bytes, attrs: bytes, empty: bool, pos: int, rel: int) -> bool:
        """A tag inside the current class; ``rel``: how many open elements lie between it and the class."""
        cls = self.cls
        assert cls is not None
        path = self._path(rel - 1) + (name,)
        if path == (b"methods", b"method"):
            a = attrs_of(attrs)
            cls["methods"].append([a.get("hits"), a.get("line-rate"), []])
        if not empty and (path == (b"lines",) or path == (b"methods", b"method", b"lines")):
            cls["open"] = (path, pos)
            return True
        return False

    def _class_close(self, name: bytes, pos: int) -> None:
        cls = self.cls
        assert cls is not None
        if name != b"lines" or "open" not in cls:
            return
        rel = len(self.stack) - self.cls_depth
        if cls["open"][0] != self._path(rel - 1) + (b"lines",):
            return
        path, start = cls.pop("open")
        if path == (b"lines",):
            cls["spans"].append((start, pos))
        else:
            cls["mspans"].append((start, pos, len(cls["methods"]) - 1))

    def _class_end(self, buf: bytes, pos: int) -> None:
        cls = self.cls
        assert cls is not None
        self.cls = None
        filename = cls["attrs"].get("filename")
        if not filename:
            raise Decline("<class> without filename")
        # every line/condition(s) tag must sit inside a recorded <lines> span, else lxml's paths differ
        spans = sorted([(a, b) for a, b in cls["spans"]] + [(a, b) for a, b, _ in cls["mspans"]])
        at = cls["body"]
        for a, b in spans:
            if _LINEISH.search(buf, at, a):
                raise Decline("<line> outside <lines>")
            at = b
        if at < pos and _LINEISH.search(buf, at, pos):
            raise Decline("<line> outside <lines>")
        methods = cls["methods"]
        for a, b, idx in cls["mspans"]:
            found, _ = _careful_lines(buf[a:b])
            methods[idx][2].extend(d.get("hits") for d in found)
        functions = None
        if methods:
            covered = sum(1 for h, lr, lh in methods if method_covered(h, lr, [x for x in lh if x is not None]))
            functions = (len(methods), covered)
        try:
            if len(cls["spans"]) == 1:
                a, b = cls["spans"][0]
                if self._accel is not None:
                    found = self._accel.lines_span(buf, a, b, self.branch_mode)
                    if found is not None:
                        text, n, covered, branches = found
                        self.writer.add_file_encoded(filename, text, lines_valid=n, lines_covered=covered,
                                                     encoded_branches=branches, functions=functions, split=True)
                        return
                if self._encoded(filename, buf[a:b], functions):
                    return
            lines: list[int] = []
            hits: list[int] = []
            cc_numbers: list[str] = []
            cc: list[str] = []
            for a, b in cls["spans"]:
                self._lines(buf[a:b], lines, hits, cc_numbers, cc)
            emit_class(self.writer, filename, lines, hits, cc_numbers, cc, functions, self.branch_mode, None)
        except ReportError as exc:
            raise Decline(str(exc)) from None

    def _encoded(self, filename: str, span: bytes, functions: tuple[int, int] | None) -> bool:
        """The common case without an int per hit: ``line_hits`` made from the report's digits.

        Only for a span of canonical self-closing ``<line number="N" hits="H" .../>`` (every '<'
        starts one, every '>' ends one), numbers without leading zeros, strictly ascending lines
        within range, hits below 10**19: then the text equals ``encode_line_runs(lines, hits)``.
        Returns False (nothing written) for anything else.
        """
        found = _LINE_RAW.findall(span)
        n = len(found)
        if not n or span.count(b"<") != n or span.count(b">") != n:
            return False
        raw, ccs = zip(*found, strict=True)
        text = b",".join(raw).replace(_RAW_SEP, b":")
        parts = text.replace(b":", b",").split(b",")
        hits = parts[1::2]
        if max(map(len, parts[0::2])) > 10:
            return False  # out of range: the general route says so
        lines = list(map(int, parts[0::2]))
        steps = list(map(sub, islice(lines, 1, None), lines))
        if lines[-1] > MAX_LINE or max(map(len, hits)) > 19 or (steps and min(steps) <= 0):
            return False  # out of range, clamped hits or not strictly ascending: the general route
        # runs: consecutive line numbers with equal hits become START-END:HITS
        idx = list(compress(range(n - 1), map(and_, map((1).__eq__, steps), map(eq, islice(hits, 1, None), hits))))
        if idx:
            entries = text.split(b",")
            m = len(idx)
            i = 0
            while i < m:
                start = j = idx[i]
                k = i
                while k + 1 < m and idx[k + 1] == j + 1:
                    k += 1
                    j += 1
                last = j + 1
                entries[start] = b"%d-%d:%b" % (lines[start], lines[last], hits[start])
                entries[start + 1:last + 1] = [b""] * (last - start)
                i = k + 1
            text = b",".join(filter(None, entries))
        cc_numbers: list[str] = []
        cc: list[str] = []
        if b"condition-coverage" in span:
            values = list(filter(None, ccs))
            if len(values) != span.count(b"condition-coverage"):
                return False  # an empty value or another attribute order: the general route reads it
            cc_numbers = [x.split(b'"', 1)[0].decode("ascii") for x in compress(raw, ccs)]
            cc = cc_texts(values)
        branches = class_branches(filename, cc_numbers, cc, self.branch_mode, None)
        self.writer.add_file_encoded(filename, text.decode("ascii"), lines_valid=n, lines_covered=n - hits.count(b"0"),
                                     branches=branches, functions=functions, split=True)
        return True

    @staticmethod
    def _lines(span: bytes, lines: list[int], hits: list[int], cc_numbers: list[str], cc: list[str]) -> None:
        found = _LINE_NH.findall(span)
        n = len(found)
        if n and span.count(b"<") == n and span.count(b">") == n:
            # only canonical self-closing <line>s: every '<' starts one, every '>' ends one
            nums, hts, ccs = zip(*found, strict=True)
            if b"condition-coverage" in span:
                values = list(filter(None, ccs))
                if len(values) != span.count(b"condition-coverage"):
                    FastCobertura._lines_full(span, lines, hits, cc_numbers, cc)
                    return
                cc_numbers.extend(x.decode("ascii") for x in compress(nums, ccs))
                cc.extend(cc_texts(values))
            lines.extend(map(int, nums))
            hits.extend(map(int, hts))
            return
        FastCobertura._lines_full(span, lines, hits, cc_numbers, cc)

    @staticmethod
    def _lines_full(span: bytes, lines: list[int], hits: list[int], cc_numbers: list[str], cc: list[str]) -> None:
        found = _LINE_FAST.findall(span)
        if found:
            nums, hts, ccs, rests, bads = zip(*found, strict=True)
            if not any(bads) and not any(map(contains, rests, repeat(b"condition-coverage"))):
                lines.extend(map(int, nums))
                hits.extend(map(int, hts))
                if any(ccs):
                    for num, value in zip(nums, ccs, strict=True):
                        if value:
                            if _NEEDS_DECODE.search(value):
                                cc.append(attr_value(value[1:-1]))
                            else:
                                cc.append(value[1:-1].decode("utf-8"))
                            cc_numbers.append(num.decode("ascii"))
                return
        for a in _careful_lines(span)[0]:
            try:
                lines.append(int_value(a.get("number"), "number", None))
                hits.append(int_value(a.get("hits"), "hits", None))
            except ReportError as exc:
                raise Decline(str(exc)) from None
            value = a.get("condition-coverage")
            if value is not None:
                num = a.get("number")
                assert num is not None
                cc_numbers.append(num)
                cc.append(value)
