"""What both Cobertura readers share (the lxml reader in cobertura.py and the fast byte reader in
cobertura_fast.py): number parsing, the root's details, method coverage and one ``<class>``'s
values turned into the writer's ``add_file`` call."""

from __future__ import annotations

import re
from collections.abc import Callable

from aqe_ci.ingest.base import ReportError, too_many_digits
from aqe_ci.ingest.coverage.writer import MAX_HITS, CoverageWriter, percent_or_none

_CONDITION = re.compile(r"\(\s*(\d{1,30})\s*/\s*(\d{1,30})\s*\)")
#: one "(c/v)" per NUL-separated value, and only one: more or fewer sends us to the careful path
_CONDITION_ALL = re.compile(r"(?:^|\x00)[^\x00(]*\(\s*(\d+)\s*/\s*(\d+)\s*\)[^\x00(]*(?=\x00|$)")



def int_value(text: str | None, what: str, line: int | None) -> int:
    if text is None:
        raise ReportError(f"<line> without a {what} attribute", line=line)
    try:
        return int(text)
    except ValueError as exc:
        if too_many_digits(exc):
            raise ReportError(f"<line> {what}: {'line number' if what == 'number' else what} is out of range",
                              line=line) from None
        try:
            f = float(text)
        except ValueError:
            raise ReportError(f"<line> {what}={text[:40]!r} is not a number", line=line) from None
        if f != f or f in (float("inf"), float("-inf")) or f != int(f):
            raise ReportError(f"<line> {what}={text[:40]!r} is not a whole number", line=line) from None
        return int(f)


def _is_positive(text: str | None) -> bool:
    if not text:
        return False
    try:
        return float(text) > 0
    except ValueError:
        return False


def root_details(writer: CoverageWriter, get: Callable[[str], str | None]) -> bool:
    """``<coverage>``'s attributes (``get``) → the writer's source details; True in branch mode
    (``branches-valid`` > 0: classes without condition-coverage then report 0 branches, not none).
    """
    bv = get("branches-valid")
    branch_mode = bool(bv and bv.isdigit() and bv.strip("0"))
    version = (get("version") or "").strip()
    producer = None
    if version:
        producer = version if re.search(r"[A-Za-z]", version) else f"Cobertura writer version {version}"
    writer.set_source_details(
        producer=producer,
        reported_line_rate=percent_or_none(get("line-rate"), fraction=True),
        reported_branch_rate=percent_or_none(get("branch-rate"), fraction=True) if branch_mode else None)
    return branch_mode


def method_covered(hits: str | None, line_rate: str | None, line_hits: list[str]) -> bool:
    """A ``<method>`` counts as covered when its hits, any of its lines' hits or its line-rate is > 0."""
    return _is_positive(hits) or any(map(_is_positive, line_hits)) or _is_positive(line_rate)


def _branch(branches: dict[int, tuple[int, int]], ln: int, c: int, v: int, filename: str, line: int | None) -> None:
    if c > v:
        raise ReportError(f"{filename}: condition-coverage of line {ln} covers {c} of {v} branches", line=line)
    old = branches.get(ln)
    branches[ln] = (c, v) if old is None else (max(c, old[0]), max(v, old[1]))


def emit_class(writer: CoverageWriter, filename: str, lines: list[int], hits: list[int], cc_numbers: list[str], cc: list[str],
               functions: tuple[int, int] | None, branch_mode: bool, line: int | None) -> None:
    """One ``<class>``'s extracted values → ``writer.add_file`` (shared by the lxml and the fast parser).

    ``lines``/``hits``: ``lines/line/@number``/``@hits`` as ints; ``cc``: the
    ``lines/line/@condition-coverage`` values and ``cc_numbers`` the numbers of those lines (strings,
    as XML gives them); ``functions``: ``(methods, covered methods)`` or None; ``line``: the class's
    source line for error messages.
    """
    if lines and min(lines) < 0:
        raise ReportError(f"{filename}: negative line number", line=line)
    if hits and (min(hits) < 0 or max(hits) > MAX_HITS):
        hits = [0 if h < 0 else min(h, MAX_HITS) for h in hits]
    branches = class_branches(filename, cc_numbers, cc, branch_mode, line)
    writer.add_file(filename, lines, hits, branches=branches, functions=functions, split=True, exact_ints=True)


def class_branches(filename: str, cc_numbers: list[str], cc: list[str], branch_mode: bool,
                   line: int | None) -> dict[int, tuple[int, int]] | None:
    """``{line: (covered, valid)}`` from the condition-coverage values (None: no branch data)."""
    branches: dict[int, tuple[int, int]] | None = {} if branch_mode else None
    if cc:
        if branches is None:
            branches = {}
        # fast path: every value has its "(c/v)", found by one regex pass over them all
        pairs = _CONDITION_ALL.findall("\x00".join(cc))
        if len(pairs) == len(cc) and all(map(str.isdigit, cc_numbers)) and max(map(len, cc_numbers)) <= 10 \
                and all(len(c) <= 30 and len(v) <= 30 for c, v in pairs):
            for num, (c_text, v_text) in zip(cc_numbers, pairs, strict=True):
                _branch(branches, int(num), int(c_text), int(v_text), filename, line)
        else:
            for num, text in zip(cc_numbers, cc, strict=True):
                m = _CONDITION.search(text)
                if m is None:
                    continue  # no "(covered/valid)": no usable branch figure
                _branch(branches, int_value(num, "number", line), int(m.group(1)), int(m.group(2)), filename, line)
    return branches
