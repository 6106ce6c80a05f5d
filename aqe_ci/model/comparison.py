"""The typed comparison of a head run with its baseline (shape documented in docs/compare.md).

:func:`aqe_ci.compare.engine.build_comparison` makes one, ``aqe_ci.app.compare.compare_run`` is the
use case, and every reader — the renderers (json, table, markdown), the gates, publishing — reads
these attributes, never string keys of a dict.

* One frozen dataclass per part: :class:`RunRef` (the head, and the baseline's run), :class:`Baseline`
  (which run and why), :class:`TestsComparison`, :class:`CoverageComparison`,
  :class:`SecurityComparison`, :class:`GateResult`, and :class:`Comparison` holding them.
* The list items (tests, files, findings) are :class:`~typing.TypedDict` s — :class:`TestItem`,
  :class:`FileRow`, :class:`FindingItem` — not dataclasses: two 50,000-test runs give 100,000 of
  them, a frozen dataclass costs about four times a dict to build (+0.5 s on the compare benchmark),
  and mypy checks TypedDict keys just the same. They are the JSON objects :meth:`Comparison.as_json`
  writes, shared, never copied.
* :meth:`Comparison.to_json` writes exactly the bytes ``aqe artifacts compare --format json`` prints
  (the layout of :mod:`aqe_ci.model.jsonlayout`); :meth:`Comparison.from_json` reads them back.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Required, TypeAlias, TypedDict, cast

from aqe_ci.model.history import ComparisonTrend
from aqe_ci.model.jsonlayout import dumps, iter_dumps
from aqe_ci.model.jsontypes import JsonObject, JsonValue
from aqe_ci.model.patch import PatchCoverage

Number: TypeAlias = "int | float"
GateStatus = Literal["passed", "failed", "skipped"]
#: comparison section name of each document type (the guide's names: "tests", "coverage")
SECTION = {"test_results": "tests", "coverage": "coverage", "security": "security"}


class DeltaJson(TypedDict):
    before: Number | None
    after: Number | None
    change: Number | None


class TestItem(TypedDict, total=False):
    """A test in a list: new failures, still failing, fixed, added, removed, newly skipped, flaky."""

    suite: Required[str]
    classname: Required[str]
    name: Required[str]
    file: str
    status: Required[str]
    before_status: str
    duration: float
    message: str | None  # failure items: always present
    type: str
    details: str
    reason: str  # flaky items: why
    known_flaky: str  # new failures of a test known to be flaky: why (aqe_ci.compare.flaky)


class FileRow(TypedDict, total=False):
    """A file in ``coverage.files.changed`` / ``added`` / ``removed``."""

    file: Required[str]
    line_rate: Required[DeltaJson]
    lines_valid: Required[DeltaJson]
    lines_covered: Required[DeltaJson]
    lines_missed: Required[DeltaJson]
    branch_rate: DeltaJson
    newly_uncovered_count: int
    newly_uncovered: list[int]  # the first 200 line numbers


class FindingItem(TypedDict, total=False):
    """A security finding in ``new`` / ``fixed`` / ``unchanged`` / ``severity_changed``."""

    fingerprint: Required[str]
    severity: Required[str]
    tool: Required[str | None]
    rule_id: Required[str | None]
    title: Required[str | None]
    path: str
    line: int
    package: str
    ids: list[str]
    before_severity: str


@dataclass(frozen=True, slots=True)
class Delta:
    """A number in both runs: ``before`` (baseline), ``after`` (head), ``change``; None where unknown."""

    before: Number | None
    after: Number | None
    change: Number | None

    def as_json(self) -> JsonObject:
        return {"before": self.before, "after": self.after, "change": self.change}

    @classmethod
    def from_json(cls, d: Mapping[str, JsonValue]) -> Delta:
        return cls(cast("Number | None", d["before"]), cast("Number | None", d["after"]),
                   cast("Number | None", d["change"]))


@dataclass(frozen=True, kw_only=True)
class RunRef:
    """A stored run as the comparison names it (the facts of its first document)."""

    key: str
    created_ms: int
    commit: str | None = None
    branch: str | None = None
    pr: int | None = None
    base_branch: str | None = None
    base_sha: str | None = None
    platform: str | None = None
    types: tuple[str, ...] = ()
    created_at: str | None = None

    def as_json(self) -> JsonObject:
        return {"key": self.key, "commit": self.commit, "branch": self.branch, "pr": self.pr,
                "created_at": self.created_at, "types": list(self.types)}


@dataclass(frozen=True, kw_only=True)
class BaseTip:
    """The newest run on the base branch when it is not the baseline's commit (drift is disclosed)."""

    key: str
    commit: str | None
    created_at: str | None
    note: str

    def as_json(self) -> JsonObject:
        return {"key": self.key, "commit": self.commit, "created_at": self.created_at, "note": self.note}


@dataclass(frozen=True, kw_only=True)
class Baseline:
    """Which run the head is compared against, and why (DESIGN "Comparison and baseline")."""

    method: str  # explicit | merge-base | ancestor | latest-on-branch | previous-on-branch | none
    reason: str
    run: RunRef | None = None
    base_branch: str | None = None
    merge_base: str | None = None
    distance: int | None = None
    notes: tuple[str, ...] = ()
    base_tip: BaseTip | None = None

    @property
    def key(self) -> str | None:
        return self.run.key if self.run else None

    def age_seconds(self, head: RunRef) -> int | None:
        return round((head.created_ms - self.run.created_ms) / 1000) if self.run else None

    def as_json(self, head: RunRef) -> JsonObject:
        r = self.run
        out: JsonObject = {
            "key": r.key if r else None, "commit": r.commit if r else None, "branch": r.branch if r else None,
            "created_at": r.created_at if r else None, "age_seconds": self.age_seconds(head),
            "method": self.method, "reason": self.reason, "base_branch": self.base_branch,
            "merge_base": self.merge_base, "distance": self.distance,
        }
        if self.notes:
            out["notes"] = list(self.notes)
        if self.base_tip:
            out["base_tip"] = self.base_tip.as_json()
        return out


@dataclass(frozen=True, kw_only=True)
class TestsComparison:
    """Test results. ``new_failures`` is None when the head has no test_results; ``still_failing`` and
    what follows it are None when the baseline has none (``added`` / ``removed`` / ``newly_skipped``
    are also None for summary-only documents, ``identity_detail == "failures-only"``)."""

    __test__ = False  # not a pytest class

    total: Delta  # tests_run
    passed: Delta
    failed: Delta
    errors: Delta
    skipped: Delta
    flaky: Delta
    duration: Delta
    note: str | None = None
    identity_detail: str | None = None
    new_failures: tuple[TestItem, ...] | None = None
    still_failing: tuple[TestItem, ...] | int | None = None  # a count with --diff-only
    fixed: tuple[TestItem, ...] | None = None
    added: tuple[TestItem, ...] | None = None
    removed: tuple[TestItem, ...] | None = None
    newly_skipped: tuple[TestItem, ...] | None = None
    flaky_tests: tuple[TestItem, ...] | None = None
    new_failures_flaky: int | None = None  # of the new failures, those marked known_flaky

    COUNTS = ("passed", "failed", "errors", "skipped", "flaky")

    def count(self, name: str) -> Delta:
        """One of :attr:`COUNTS`, or ``duration``."""
        return cast(Delta, getattr(self, name))

    def has_changes(self) -> bool:
        """Anything changed (``--diff-only`` drops the section otherwise)."""
        return bool(self.note or self.total.change or any(self.count(n).change for n in self.COUNTS)
                    or self.new_failures or self.fixed or self.added or self.removed or self.newly_skipped
                    or self.flaky_tests)

    def as_json(self) -> JsonObject:
        out: JsonObject = self.total.as_json()
        for name in (*self.COUNTS, "duration"):
            out[name] = self.count(name).as_json()
        if self.note:
            out["note"] = self.note
        if self.identity_detail:
            out["identity_detail"] = self.identity_detail
        if self.new_failures is None:
            return out
        out["new_failures"] = _items(self.new_failures)
        if self.new_failures_flaky is not None:
            out["new_failures_flaky"] = self.new_failures_flaky
        if self.still_failing is not None:
            sf = self.still_failing
            out["still_failing"] = sf if isinstance(sf, int) else _items(sf)
            for name in ("fixed", "added", "removed", "newly_skipped"):
                value = getattr(self, name)
                out[name] = None if value is None else _items(value)
        out["flaky_tests"] = _items(self.flaky_tests or ())
        return out

    @classmethod
    def from_json(cls, d: Mapping[str, JsonValue]) -> TestsComparison:
        def items(name: str) -> tuple[TestItem, ...] | None:
            v = d.get(name)
            return None if v is None else tuple(cast(list[TestItem], v))

        def delta(name: str) -> Delta:
            return Delta.from_json(_obj(d[name]))

        sf = d.get("still_failing")
        nff = d.get("new_failures_flaky")
        return cls(total=Delta.from_json(d), passed=delta("passed"), failed=delta("failed"), errors=delta("errors"),
                   skipped=delta("skipped"), flaky=delta("flaky"), duration=delta("duration"),
                   note=_opt_str(d.get("note")), identity_detail=_opt_str(d.get("identity_detail")),
                   new_failures=items("new_failures"), still_failing=sf if isinstance(sf, int) else items("still_failing"),
                   fixed=items("fixed"), added=items("added"), removed=items("removed"),
                   newly_skipped=items("newly_skipped"), flaky_tests=items("flaky_tests"),
                   new_failures_flaky=nff if isinstance(nff, int) else None)


@dataclass(frozen=True, kw_only=True)
class FileChanges:
    changed: tuple[FileRow, ...]  # ordered by impact
    added: tuple[FileRow, ...]
    removed: tuple[FileRow, ...]
    unchanged: int

    def as_json(self) -> JsonObject:
        return {"changed": _items(self.changed), "added": _items(self.added), "removed": _items(self.removed),
                "unchanged": self.unchanged}


@dataclass(frozen=True, kw_only=True)
class CoverageComparison:
    """Coverage. ``files`` and ``newly_uncovered_lines`` are None when one run has no coverage (``note``)."""

    line_rate: Delta
    branch_rate: Delta
    lines_valid: Delta | None = None  # None when neither run has the number
    lines_covered: Delta | None = None
    branches_valid: Delta | None = None
    branches_covered: Delta | None = None
    note: str | None = None
    files: FileChanges | None = None
    newly_uncovered_lines: int | None = None
    patch: PatchCoverage | None = None  # the changed lines' coverage (needs a checkout): docs/history.md

    COUNTS = ("lines_valid", "lines_covered", "branches_valid", "branches_covered")

    def has_changes(self) -> bool:
        f = self.files
        return bool(self.note or self.line_rate.change or self.branch_rate.change
                    or (f is not None and (f.changed or f.added or f.removed))
                    or (self.patch is not None and bool(self.patch.executable or self.patch.not_measured)))

    def as_json(self) -> JsonObject:
        out: JsonObject = self.line_rate.as_json()  # the guide's coverage.{before, after, change}
        out["line_rate"] = self.line_rate.as_json()
        out["branch_rate"] = self.branch_rate.as_json()
        for name in self.COUNTS:
            d: Delta | None = getattr(self, name)
            if d is not None:
                out[name] = d.as_json()
        if self.note:
            out["note"] = self.note
        if self.files is not None:
            out["files"] = self.files.as_json()
        if self.newly_uncovered_lines is not None:
            out["newly_uncovered_lines"] = self.newly_uncovered_lines
        if self.patch is not None:
            out["patch"] = cast(JsonObject, self.patch.as_json())
        return out

    @classmethod
    def from_json(cls, d: Mapping[str, JsonValue]) -> CoverageComparison:
        def count(name: str) -> Delta | None:
            return Delta.from_json(_obj(d[name])) if name in d else None

        f = d.get("files")
        files = None
        if isinstance(f, dict):
            files = FileChanges(changed=tuple(cast(list[FileRow], f["changed"])),
                                added=tuple(cast(list[FileRow], f["added"])),
                                removed=tuple(cast(list[FileRow], f["removed"])), unchanged=cast(int, f["unchanged"]))
        nl = d.get("newly_uncovered_lines")
        return cls(line_rate=Delta.from_json(_obj(d["line_rate"])), branch_rate=Delta.from_json(_obj(d["branch_rate"])),
                   lines_valid=count("lines_valid"), lines_covered=count("lines_covered"),
                   branches_valid=count("branches_valid"), branches_covered=count("branches_covered"),
                   note=_opt_str(d.get("note")), files=files,
                   newly_uncovered_lines=nl if isinstance(nl, int) else None,
                   patch=PatchCoverage.from_json(_obj(d["patch"])) if isinstance(d.get("patch"), dict) else None)


@dataclass(frozen=True, kw_only=True)
class SecurityComparison:
    """Security findings by fingerprint. ``new`` is None when the head has no security document;
    ``fixed`` and what follows it are None when the baseline has none."""

    total: Delta
    by_severity: Mapping[str, Delta]  # every severity, critical first
    note: str | None = None
    new: tuple[FindingItem, ...] | None = None
    new_by_severity: Mapping[str, int] | None = None
    fixed: tuple[FindingItem, ...] | None = None
    fixed_by_severity: Mapping[str, int] | None = None
    unchanged: tuple[FindingItem, ...] | int | None = None  # a count with --diff-only
    severity_changed: tuple[FindingItem, ...] | None = None

    def has_changes(self) -> bool:
        return bool(self.note or self.total.change or self.new or self.fixed or self.severity_changed)

    def as_json(self) -> JsonObject:
        out: JsonObject = self.total.as_json()
        out["by_severity"] = {s: d.as_json() for s, d in self.by_severity.items()}
        if self.note:
            out["note"] = self.note
        if self.new is not None:
            out["new"] = _items(self.new)
            out["new_by_severity"] = dict(self.new_by_severity or {})
        if self.fixed is not None:
            out["fixed"] = _items(self.fixed)
            out["fixed_by_severity"] = dict(self.fixed_by_severity or {})
            u = self.unchanged
            out["unchanged"] = u if isinstance(u, int) or u is None else _items(u)
            out["severity_changed"] = _items(self.severity_changed or ())
        return out

    @classmethod
    def from_json(cls, d: Mapping[str, JsonValue]) -> SecurityComparison:
        def items(name: str) -> tuple[FindingItem, ...] | None:
            v = d.get(name)
            return None if v is None else tuple(cast(list[FindingItem], v))

        def counts(name: str) -> dict[str, int] | None:
            v = d.get(name)
            return None if v is None else cast(dict[str, int], v)

        u = d.get("unchanged")
        return cls(total=Delta.from_json(d),
                   by_severity={s: Delta.from_json(_obj(v)) for s, v in _obj(d["by_severity"]).items()},
                   note=_opt_str(d.get("note")), new=items("new"), new_by_severity=counts("new_by_severity"),
                   fixed=items("fixed"), fixed_by_severity=counts("fixed_by_severity"),
                   unchanged=u if isinstance(u, int) else items("unchanged"), severity_changed=items("severity_changed"))


Section: TypeAlias = "TestsComparison | CoverageComparison | SecurityComparison"


@dataclass(frozen=True, kw_only=True)
class GateResult:
    """One ``--fail-on`` gate: ``actual`` is the metric's value (a severity name for severity gates)."""

    gate: str
    status: GateStatus
    actual: Number | str | None
    message: str

    def as_json(self) -> JsonObject:
        return {"gate": self.gate, "status": self.status, "actual": self.actual, "message": self.message}

    @classmethod
    def from_json(cls, d: Mapping[str, JsonValue]) -> GateResult:
        return cls(gate=str(d["gate"]), status=cast(GateStatus, d["status"]),
                   actual=cast("Number | str | None", d.get("actual")), message=str(d["message"]))


@dataclass(frozen=True, kw_only=True)
class Comparison:
    """A head run compared with its baseline; sections are None when neither run has the type (or
    ``--diff-only`` found no change, or ``--type`` left it out). ``gates`` only with ``--fail-on``."""

    head: RunRef
    baseline: Baseline
    tests: TestsComparison | None = None
    coverage: CoverageComparison | None = None
    security: SecurityComparison | None = None
    gates: tuple[GateResult, ...] = field(default=())
    trend: ComparisonTrend | None = None  # the base branch's last runs and the head's point (the comment's chart)

    @property
    def has_baseline(self) -> bool:
        return self.baseline.run is not None

    def sections(self) -> Iterator[tuple[str, Section]]:
        """(name, section) of the present sections, in the JSON's order."""
        for name in ("tests", "coverage", "security"):
            section: Section | None = getattr(self, name)
            if section is not None:
                yield name, section

    def comparison_json(self) -> JsonObject:
        """The ``comparison`` object of the JSON: head, baseline and the sections."""
        c: JsonObject = {"head": self.head.as_json(), "baseline": self.baseline.as_json(self.head)}
        for name, section in self.sections():
            c[name] = section.as_json()
        if self.trend is not None:
            c["trend"] = cast(JsonObject, self.trend.as_json())
        return c

    def as_json(self) -> JsonObject:
        out: JsonObject = {"comparison": self.comparison_json()}
        if self.gates:
            out["gates"] = [g.as_json() for g in self.gates]
        return out

    def to_json(self) -> str:
        """The JSON ``aqe artifacts compare --format json`` prints (without the final newline)."""
        return dumps(self.as_json())

    def iter_json(self, chunk_chars: int = 1 << 20) -> Iterator[str]:
        """:meth:`to_json` in chunks of whole lines (bounded memory for big comparisons)."""
        return iter_dumps(self.as_json(), chunk_chars)

    @classmethod
    def from_json(cls, data: Mapping[str, JsonValue]) -> Comparison:
        """The inverse of :meth:`as_json` (a saved ``--format json`` report, parsed)."""
        c = _obj(data["comparison"]) if "comparison" in data else data
        h, b = _obj(c["head"]), _obj(c["baseline"])
        head = RunRef(key=str(h["key"]), created_ms=0, commit=_opt_str(h.get("commit")),
                      branch=_opt_str(h.get("branch")), pr=cast("int | None", h.get("pr")),
                      created_at=_opt_str(h.get("created_at")), types=tuple(cast(list[str], h.get("types") or [])))
        return cls(head=head, baseline=_baseline_from_json(b, head),
                   tests=TestsComparison.from_json(_obj(c["tests"])) if "tests" in c else None,
                   coverage=CoverageComparison.from_json(_obj(c["coverage"])) if "coverage" in c else None,
                   security=SecurityComparison.from_json(_obj(c["security"])) if "security" in c else None,
                   gates=tuple(GateResult.from_json(_obj(g)) for g in cast(list[JsonValue], data.get("gates") or [])),
                   trend=ComparisonTrend.from_json(_obj(c["trend"])) if isinstance(c.get("trend"), dict) else None)


def _baseline_from_json(b: Mapping[str, JsonValue], head: RunRef) -> Baseline:
    run = None
    if b.get("key") is not None:
        age = cast("int | None", b.get("age_seconds"))
        run = RunRef(key=str(b["key"]), created_ms=head.created_ms - (age or 0) * 1000,
                     commit=_opt_str(b.get("commit")), branch=_opt_str(b.get("branch")),
                     created_at=_opt_str(b.get("created_at")))
    tip = b.get("base_tip")
    base_tip = None
    if isinstance(tip, dict):
        base_tip = BaseTip(key=str(tip["key"]), commit=_opt_str(tip.get("commit")),
                           created_at=_opt_str(tip.get("created_at")), note=str(tip["note"]))
    return Baseline(method=str(b["method"]), reason=str(b["reason"]), run=run,
                    base_branch=_opt_str(b.get("base_branch")), merge_base=_opt_str(b.get("merge_base")),
                    distance=cast("int | None", b.get("distance")),
                    notes=tuple(cast(list[str], b.get("notes") or [])), base_tip=base_tip)


def _items(items: Sequence[TestItem] | Sequence[FileRow] | Sequence[FindingItem]) -> list[JsonValue]:
    return cast(list[JsonValue], list(items))


def _obj(value: JsonValue) -> Mapping[str, JsonValue]:
    if not isinstance(value, dict):
        raise ValueError(f"expected a JSON object, got {type(value).__name__}")
    return value


def _opt_str(value: JsonValue) -> str | None:
    return value if isinstance(value, str) else None
