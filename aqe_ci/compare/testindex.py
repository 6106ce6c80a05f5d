"""A compact, read-once view of a test_results document for comparison.

Comparing two 50,000-test runs must not hold two fully parsed documents (every test a dict with
retries and captured-text objects): :class:`TestIndex` keeps one small tuple per test and the
(few) failure entries. Stored payloads are streamed (from the verified temp copy the caller hands
over, :meth:`TestIndex.from_payloads`) with ``ijson`` (C backend) — one pass for ``data.tests``, one
for ``data.failures`` — and the counters come from the manifests' summaries, so the big arrays are
never materialised.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import IO, Any, NamedTuple

FAILING = frozenset({"failed", "error"})
PASSING = frozenset({"passed", "flaky"})
COUNTS = ("tests_run", "passed", "failed", "errors", "skipped", "flaky")
Key = tuple[Any, ...]  # a test's identity, with its occurrence number when repeated


class Rec(NamedTuple):
    suite: str
    classname: str
    name: str
    file: str | None
    status: str
    duration: float | None
    retried_flaky: bool


def retried_flaky(t: Mapping[str, Any]) -> bool:
    """Failed and passed within one run: status ``flaky``, or retries that disagree with the end."""
    status = t.get("status")
    if status == "flaky":
        return True
    retries = t.get("retries")
    if not retries:
        return False
    if status == "passed":
        return any(r.get("status") in FAILING for r in retries)
    if status in FAILING:
        return any(r.get("status") == "passed" for r in retries)
    return False


def identity(t: Mapping[str, Any]) -> tuple[str, str, str, str]:
    return (t.get("suite") or "", t.get("classname") or "", t.get("name") or "", t.get("file") or "")


class TestIndex:
    """Counters, tests keyed by identity (``None`` for summary-only documents) and failures."""

    __test__ = False  # not a pytest class

    def __init__(self) -> None:
        self.counts: dict[str, Any] = {}
        self.tests: dict[Key, Rec] | None = None
        self.failures: dict[Key, Mapping[str, Any]] = {}
        self._seen: dict[Key, int] = {}
        self._fseen: dict[Key, int] = {}
        self._strings: dict[str, str] = {}

    # -- building ---------------------------------------------------------------------------
    def _key(self, ident: Key, seen: dict[Key, int]) -> Key:
        n = seen.get(ident, 0) + 1
        seen[ident] = n
        return ident if n == 1 else (*ident, n)  # the n-th occurrence of a repeated identity

    def add_test(self, t: Mapping[str, Any]) -> None:
        if self.tests is None:
            self.tests = {}
        s = self._strings
        suite = t.get("suite") or ""
        cls = t.get("classname") or ""
        suite = s.setdefault(suite, suite)
        cls = s.setdefault(cls, cls)
        name = t.get("name") or ""
        f = t.get("file")
        dur = t.get("duration")
        rec = Rec(suite, cls, name, f, t.get("status") or "", float(dur) if dur is not None else None,
                  retried_flaky(t))
        self.tests[self._key((suite, cls, name, f or ""), self._seen)] = rec

    def add_failure(self, f: Mapping[str, Any]) -> None:
        self.failures[self._key(identity(f), self._fseen)] = f

    def add_counts(self, counts: Mapping[str, Any]) -> None:
        for name in (*COUNTS, "duration"):
            v = counts.get(name)
            if v is not None:
                self.counts[name] = self.counts.get(name, 0) + v
        if "duration" in self.counts:
            self.counts["duration"] = round(float(self.counts["duration"]), 6)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> TestIndex:
        idx = cls()
        idx.add_counts(data)
        if "tests" in data:
            idx.tests = {}
            for t in data["tests"]:
                idx.add_test(t)
        for f in data.get("failures") or []:
            idx.add_failure(f)
        return idx

    @classmethod
    def from_payloads(cls, parts: Iterable[tuple[Mapping[str, Any], IO[bytes]]]) -> TestIndex:
        """Stream the parts of one run, in order (as ``merge_documents`` concatenates them): each a
        (manifest summary, seekable binary file holding the verified document JSON)."""
        idx = cls()
        for summary, fh in parts:
            idx.add_payload(summary, fh)
        return idx

    def add_payload(self, summary: Mapping[str, Any], fh: IO[bytes]) -> None:
        import ijson

        if not all(k in summary for k in ("tests_run", "passed", "failed", "duration")):
            fh.seek(0)
            summary = {k: v for k, v in ijson.kvitems(fh, "data", use_float=True) if k in (*COUNTS, "duration")}
        self.add_counts(summary)
        fh.seek(0)
        n = 0
        for t in ijson.items(fh, "data.tests.item", use_float=True):
            self.add_test(t)
            n += 1
        if n == 0 and summary.get("tests_run"):
            fh.seek(0)  # a summary-only document has no "tests" array at all
            has_tests = any(k == "tests" for k, _ in _top_keys(fh))
            if has_tests and self.tests is None:
                self.tests = {}
        elif n == 0 and self.tests is None:
            self.tests = {}
        fh.seek(0)
        for f in ijson.items(fh, "data.failures.item", use_float=True):
            self.add_failure(f)

    # -- reading ----------------------------------------------------------------------------
    def failure_for(self, key: Key) -> Mapping[str, Any] | None:
        return self.failures.get(key) or self.failures.get(key[:4])

    def items(self) -> Iterable[tuple[Key, Rec]]:
        return (self.tests or {}).items()


def _top_keys(fh: Any) -> Iterable[tuple[str, Any]]:
    import ijson

    for prefix, event, value in ijson.parse(fh):
        if prefix == "data" and event == "map_key":
            yield value, None
        if prefix == "" and event == "end_map":
            return
