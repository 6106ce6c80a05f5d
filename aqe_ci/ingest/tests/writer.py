"""The ``test_results`` document writer: streams tests and failures to disk, blobs for big texts.

Layout while writing (all under a private temp directory in ``workdir``):

- ``document.json``: the final document, written front to back. It starts with
  ``{"data":{"tests":[`` and every test item is one line (``,`` prefixed after the first), so a
  source can be rolled back by truncating and a source with repeated test identities can be
  rewritten line by line;
- ``failures.jsonl`` and ``suite_outputs.jsonl``: spools in the same one-item-per-line form, copied
  into the document by :meth:`finish` together with the counters, ``sources`` and the envelope
  (``type``, ``timestamp``) — JSON key order is free;
- ``blobs/``: captured texts (``system-out``/``system-err``, stack traces) bigger than
  ``limits.inline_text_bytes``, capped at ``limits.max_blob_bytes``; the document keeps a preview.

Every item is validated against ``$defs/test`` / ``$defs/failure`` / ``$defs/suite_output`` with a
compiled validator (:mod:`aqe_ci.model.schema`); the envelope (counters, sources, timestamp) against the whole
schema with empty arrays. Together that is the full document's validation, in constant memory.

Repeated identities ``(suite, classname, name, file)`` within one source are merged at
:meth:`commit_source`: the attempts become ``retries`` of one test, the last attempt decides the
status, and passed-after-failing is ``flaky``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from aqe_ci.errors import InvalidInputError
from aqe_ci.ingest.base import DocumentWriter, ReportError, SourceInfo, WrittenDocument
from aqe_ci.model.limits import Limits

DOC_TYPE = "test_results"
PREVIEW_CHARS = 1024
PACK_NAME = "texts.txt"
STATUSES = ("passed", "failed", "error", "skipped", "flaky")
_COUNTER_OF = {"passed": "passed", "failed": "failed", "error": "errors", "skipped": "skipped", "flaky": "flaky"}
_BUFFER = 1 << 18
#: a ``sources[]`` entry's keys in the order the document writes them (only these are ever set)
_SOURCE_KEYS = ("file", "format", "dialect", "producer", "sha256", "bytes", "warnings")


class CappedText(str):
    """A captured text cut by a streaming parser: the string is a prefix of the real text (long
    enough for everything :meth:`TestResultsWriter.text` keeps), ``dropped_bytes`` the UTF-8 size
    of the rest, so sizes and the ``truncated`` flag are those of the whole text."""

    dropped_bytes: int

    def __new__(cls, value: str, dropped_bytes: int) -> CappedText:
        self = super().__new__(cls, value)
        self.dropped_bytes = dropped_bytes
        return self


def utf8_size(value: str) -> int:
    return len(value) if value.isascii() else len(value.encode("utf-8", "surrogatepass"))


_py_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False,
                              allow_nan=False).encode


def _encoder() -> Callable[[Any], str]:
    """The item encoder: the JUnit accelerator's ``encode_json`` (same bytes as ``_py_encode``; it
    answers None for anything outside dict/list/str/int/float/bool/None, left to the json module)
    when built, else the json module's."""
    from aqe_ci import accel

    fast = accel.load("aqe_ci.ingest.tests._junit_c")
    if fast is None:
        return _py_encode
    c_encode = fast.encode_json

    def encode(obj: Any) -> str:
        out = c_encode(obj)
        return _py_encode(obj) if out is None else out

    return encode


def item_validator(name: str) -> Callable[[Any], Any]:
    """The compiled validator of ``$defs/<name>`` (or ``"document"`` for the whole schema)."""
    from aqe_ci.model.schema import item_validator as validator

    return validator(DOC_TYPE, name)


def _schema_error(what: str, exc: Exception) -> ReportError:
    from aqe_ci.model.schema import error_text

    return ReportError(f"{what} does not match the schema: {error_text(exc)}")


def _key_of(item: dict[str, Any]) -> tuple[Any, ...]:
    return (item["suite"], item["classname"], item["name"], item.get("file"))


def _read_items(f: IO[str], pos: int, dups: set[int]) -> list[tuple[str, dict[str, Any] | None]]:
    """(raw line, item if its identity may repeat) from ``pos`` of a spool; only repeats are decoded."""
    f.flush()
    with open(f.name, encoding="utf-8") as r:
        r.seek(pos)
        out = []
        for line in r:
            raw = line[1:] if line.startswith(",") else line
            item = json.loads(raw)
            out.append((raw, item if item["name"] and hash(_key_of(item)) in dups else None))
        return out


class TestResultsWriter(DocumentWriter):
    """See the module docstring. Parsers call :meth:`add_test`, :meth:`add_suite`, :meth:`text`."""

    __test__ = False  # not a pytest class
    doc_type = DOC_TYPE

    def __init__(self, *, workdir: Path, limits: Limits) -> None:
        super().__init__(workdir=workdir, limits=limits)
        self._dir = Path(tempfile.mkdtemp(prefix="test_results-", dir=workdir))
        self._blob_dir = self._dir / "blobs"
        self._blob_dir.mkdir()
        self._doc_path = self._dir / "document.json"
        self._doc: IO[str] = open(self._doc_path, "w", encoding="utf-8", buffering=_BUFFER)  # noqa: SIM115
        self._doc.write('{"data":{"tests":[\n')
        self._fail: IO[str] = open(self._dir / "failures.jsonl", "w+", encoding="utf-8",  # noqa: SIM115
                                   buffering=_BUFFER)
        self._outs: IO[str] = open(self._dir / "suite_outputs.jsonl", "w+", encoding="utf-8",  # noqa: SIM115
                                   buffering=_BUFFER)
        self.counts: dict[str, int] = dict.fromkeys(("passed", "failed", "errors", "skipped", "flaky"), 0)
        self.n_tests = 0
        self.n_failures = 0
        self.n_outputs = 0
        self.suites = 0
        self.duration = 0.0
        self.sources: list[dict[str, Any]] = []
        self.blobs: dict[str, Path] = {}
        self._pack_path = self._blob_dir / PACK_NAME
        self._pack: IO[bytes] | None = None
        self._pack_pos = 0
        self._source: dict[str, Any] | None = None
        self._mark: tuple[Any, ...] | None = None
        self._ids: set[int] = set()
        self._dups: set[int] = set()
        self._repeat_mode = "retries"
        self._v_test = item_validator("test")
        self._v_failure = item_validator("failure")
        self._v_output = item_validator("suite_output")
        self._encode = _encoder()

    # -- sources -------------------------------------------------------------------------------
    def begin_source(self, source: SourceInfo) -> None:
        for f in (self._doc, self._fail, self._outs):
            f.flush()
        self._mark = (self._doc.tell(), self._fail.tell(), self._outs.tell(), dict(self.counts),
                      self.n_tests, self.n_failures, self.n_outputs, self.suites, self.duration,
                      self._pack_pos)
        self._source = {k: v for k in _SOURCE_KEYS if (v := getattr(source, k)) is not None and v != ()}
        self._ids = set()
        self._dups = set()
        self._repeat_mode = "retries"

    def set_repeat_mode(self, mode: str) -> None:
        """How repeated identities in this source merge: ``"retries"`` (the last attempt decides,
        passed after failing is flaky) or ``"subtests"`` (pytest: the parent and its failing subtests
        share one identity, so the worst status wins)."""
        if mode not in ("retries", "subtests"):
            raise ValueError(mode)
        self._repeat_mode = mode

    def set_dialect(self, dialect: str | None, producer: str | None = None) -> None:
        """Parsers record what produced the file once they recognise it (shown in ``sources``)."""
        if self._source is None:
            return
        if dialect:
            self._source["dialect"] = dialect
        if producer:
            self._source["producer"] = producer

    def set_source_sha256(self, sha256: str) -> None:
        if self._source is None:
            return
        src = {**self._source, "sha256": sha256}
        self._source = {k: src[k] for k in _SOURCE_KEYS if k in src}  # the order begin_source writes

    def set_source_warnings(self, warnings: list[str]) -> None:
        if self._source is not None and warnings:
            self._source["warnings"] = list(warnings)

    def commit_source(self) -> None:
        if self._dups:
            self._merge_repeats()
        assert self._source is not None
        self.sources.append(self._source)
        self._source = None
        self._mark = None
        self._ids = set()
        self._dups = set()

    def rollback_source(self) -> None:
        if self._mark is None:
            return
        (doc_pos, fail_pos, out_pos, counts, self.n_tests, self.n_failures, self.n_outputs, self.suites,
         self.duration, self._pack_pos) = self._mark
        self.counts = counts
        files: list[tuple[IO[Any], int]] = [(self._doc, doc_pos), (self._fail, fail_pos), (self._outs, out_pos)]
        if self._pack is not None:
            files.append((self._pack, self._pack_pos))
        for f, pos in files:
            f.flush()
            f.seek(pos)
            f.truncate()
        if self._pack is not None and self._pack_pos == 0:
            self._pack.close()
            self._pack = None
            self.blobs.pop(PACK_NAME).unlink(missing_ok=True)
        self._source = None
        self._mark = None
        self._ids = set()
        self._dups = set()

    # -- items ---------------------------------------------------------------------------------
    def add_test(self, test: dict[str, Any], failure: dict[str, Any] | None = None,
                 encoded: str | None = None) -> None:
        """One test case (and its failure entry when its status is failed or error).

        ``encoded`` is the item's JSON when the parser already built it (hot path); it must be the
        encoding of ``test``, which is still what gets validated.
        """
        try:
            self._v_test(test)
        except Exception as exc:
            raise _schema_error(f"test {test.get('name')!r}", exc) from None
        if failure is not None:
            try:
                self._v_failure(failure)
            except Exception as exc:
                raise _schema_error(f"failure of test {test.get('name')!r}", exc) from None
        if test["name"]:  # nameless test cases have no identity to repeat: never merged
            key = hash((test["suite"], test["classname"], test["name"], test.get("file")))
            if key in self._ids:
                self._dups.add(key)
            else:
                self._ids.add(key)
        self.counts[_COUNTER_OF[test["status"]]] += 1
        self._doc.write(("," if self.n_tests else "") + (encoded or self._encode(test)) + "\n")
        self.n_tests += 1
        if failure is not None:
            self._fail.write(("," if self.n_failures else "") + self._encode(failure) + "\n")
            self.n_failures += 1

    def add_tests(self, items: list[tuple[dict[str, Any], str]]) -> None:
        """Several tests without failure entries, each with its JSON (``encoded`` of :meth:`add_test`):
        the parsers' hot path. Every test is validated, counted and checked for repeats like one
        added by :meth:`add_test`; the lines are written in one go."""
        validate = self._v_test
        ids = self._ids
        counts = self.counts
        passed = 0
        for test, _ in items:
            try:
                validate(test)
            except Exception as exc:
                raise _schema_error(f"test {test.get('name')!r}", exc) from None
            name = test["name"]
            if name:
                key = hash((test["suite"], test["classname"], name, test.get("file")))
                if key in ids:
                    self._dups.add(key)
                else:
                    ids.add(key)
            status = test["status"]
            if status == "passed":
                passed += 1
            else:
                counts[_COUNTER_OF[status]] += 1
        counts["passed"] += passed
        if items:
            self._doc.write(("," if self.n_tests else "") + "\n,".join(enc for _, enc in items) + "\n")
            self.n_tests += len(items)

    def repeat_sets(self) -> tuple[set[int], set[int]]:
        """The current source's identity hashes (seen once, seen again): an accelerated parser that
        writes tests through :meth:`add_encoded_tests` adds ``hash((suite, classname, name, file))``
        of each named test to them itself, as :meth:`add_tests` does."""
        return self._ids, self._dups

    def add_encoded_tests(self, text: str, n: int, skipped: int = 0) -> None:
        """``n`` tests without failure entries, ``skipped`` of them skipped and the rest passed, already
        encoded: ``text`` is their JSON lines joined as :meth:`add_tests` writes them (``"a\\n,b\\n"``).
        Only the JUnit accelerator calls this; it checks every item against ``$defs/test`` by
        construction and records identities through :meth:`repeat_sets`."""
        if n:
            self._doc.write(("," if self.n_tests else "") + text)
            self.n_tests += n
            self.counts["passed"] += n - skipped
            self.counts["skipped"] += skipped

    def add_suite(self, *, count: int = 1, duration: float | None = None) -> None:
        """Count test suites; ``duration`` adds to the document's duration (seconds)."""
        self.suites += count
        if duration is not None and duration > 0:
            self.duration += duration

    def add_duration(self, seconds: float | None) -> None:
        if seconds is not None and seconds > 0:
            self.duration += seconds

    def add_suite_output(self, *, suite: str, file: str | None, stdout: str | None, stderr: str | None) -> None:
        """Suite-level captured output (``<testsuite><system-out>``), kept apart from the tests."""
        item: dict[str, Any] = {"suite": suite}
        if file:
            item["file"] = file
        out = self.text(stdout, "suite-out")
        err = self.text(stderr, "suite-err")
        if out is None and err is None:
            return
        if out is not None:
            item["stdout"] = out
        if err is not None:
            item["stderr"] = err
        try:
            self._v_output(item)
        except Exception as exc:
            raise _schema_error(f"output of suite {suite!r}", exc) from None
        self._outs.write(("," if self.n_outputs else "") + self._encode(item) + "\n")
        self.n_outputs += 1

    def text(self, value: str | None, kind: str) -> dict[str, Any] | None:
        """A captured text as the schema's ``text`` object: inline when small, else preview + blob.

        Big texts of one document share one blob (``texts.txt``) at ``offset``/``length``: one
        file and one stored object instead of thousands (a surefire run has an output per class).
        ``kind`` is kept for callers; it does not change where the text goes. ``value`` may be a
        :class:`CappedText` (only a prefix was kept while parsing).
        """
        if not value or value.isspace():
            return None
        ascii_only = value.isascii()
        size = len(value) if ascii_only else len(value.encode("utf-8", "surrogatepass"))
        size += getattr(value, "dropped_bytes", 0)  # CappedText: a streaming parser kept a prefix
        if size <= self.limits.inline_text_bytes:
            return {"text": value}
        cap = self.limits.max_blob_bytes
        if ascii_only:
            data = value[:cap].encode("ascii")
        else:
            data = value.encode("utf-8", "surrogatepass")[:cap]
            if size > cap:  # do not cut a character in half
                data = data.decode("utf-8", "ignore").encode("utf-8")
        if self._pack is None:
            self._pack = open(self._pack_path, "wb", buffering=_BUFFER)  # noqa: SIM115
            self.blobs[PACK_NAME] = self._pack_path
        offset = self._pack_pos
        self._pack.write(data)
        self._pack_pos += len(data)
        return {"text": value[:PREVIEW_CHARS], "bytes": size, "blob": PACK_NAME, "offset": offset,
                "length": len(data), "truncated": size > cap}

    # -- repeated identities -------------------------------------------------------------------
    def _merge_repeats(self) -> None:
        """Fold repeated test identities of the current source into one test with retries."""
        assert self._mark is not None
        doc_pos, fail_pos = self._mark[0], self._mark[1]
        tests = _read_items(self._doc, doc_pos, self._dups)
        groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        for _, item in tests:
            if item is not None:
                groups.setdefault(_key_of(item), []).append(item)
        groups = {k: v for k, v in groups.items() if len(v) > 1}
        if not groups:
            return
        failures = _read_items(self._fail, fail_pos, self._dups)
        fail_groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        for _, item in failures:
            if item is not None and _key_of(item) in groups:
                fail_groups.setdefault(_key_of(item), []).append(item)
        merged = {key: self._merged(attempts, fail_groups.get(key, [])) for key, attempts in groups.items()}
        self._rewrite_tests(tests, merged, doc_pos)
        self._rewrite_failures(failures, merged, fail_groups, fail_pos)

    def _merged(self, attempts: list[dict[str, Any]], fails: list[dict[str, Any]]) -> dict[str, Any]:
        """One test from the attempts of an identity (in order) and their failure entries."""
        for a in attempts:
            self.counts[_COUNTER_OF[a["status"]]] -= 1
        fails = list(fails)
        retries: list[dict[str, Any]] = []
        for a in attempts[:-1]:
            retries.extend(a.get("retries", ()))
            attempt: dict[str, Any] = {"status": "failed" if a["status"] == "flaky" else a["status"]}
            if a.get("duration") is not None:
                attempt["duration"] = a["duration"]
            if a.get("message") is not None:
                attempt["message"] = a["message"]
            if a["status"] in ("failed", "error") and fails:
                t = fails.pop(0).get("type")
                if t is not None:
                    attempt["type"] = t
            retries.append(attempt)
        final = dict(attempts[-1])
        retries.extend(final.pop("retries", ()))
        if self._repeat_mode == "subtests":
            worst = next((s for s in ("error", "failed") if any(a["status"] == s for a in attempts)), None)
            if worst is not None:
                first_bad = next(a for a in attempts if a["status"] == worst)
                final["status"] = worst
                if first_bad.get("message") is not None:
                    final["message"] = first_bad["message"]
        elif final["status"] == "passed" and any(r["status"] in ("failed", "error") for r in retries):
            final["status"] = "flaky"
        final["retries"] = retries
        self._v_test(final)
        self.counts[_COUNTER_OF[final["status"]]] += 1
        return final

    def _rewrite_tests(self, tests: list[tuple[str, dict[str, Any] | None]],
                       merged: dict[tuple[Any, ...], dict[str, Any]], doc_pos: int) -> None:
        """The source's tests again, each merged test at its first attempt's place."""
        assert self._mark is not None
        self._doc.seek(doc_pos)
        self._doc.truncate()
        self.n_tests = self._mark[4]
        written: set[tuple[Any, ...]] = set()
        for raw, item in tests:
            key = _key_of(item) if item is not None else None
            if key is not None and key in merged:
                if key in written:
                    continue
                written.add(key)
                raw = self._encode(merged[key]) + "\n"
            self._doc.write(("," if self.n_tests else "") + raw)
            self.n_tests += 1

    def _rewrite_failures(self, failures: list[tuple[str, dict[str, Any] | None]],
                          merged: dict[tuple[Any, ...], dict[str, Any]],
                          fail_groups: dict[tuple[Any, ...], list[dict[str, Any]]], fail_pos: int) -> None:
        """Failures of merged tests: only the deciding attempt's, and only when still failing."""
        assert self._mark is not None
        last_failure: dict[tuple[Any, ...], dict[str, Any]] = {}
        for k, v in fail_groups.items():
            status = merged[k]["status"]
            if status not in ("failed", "error"):
                continue
            if self._repeat_mode == "subtests":
                last_failure[k] = next((f for f in v if f["status"] == status), v[0])
            else:
                last_failure[k] = v[-1]
        self._fail.seek(fail_pos)
        self._fail.truncate()
        self.n_failures = self._mark[5]
        for raw, item in failures:
            key = _key_of(item) if item is not None else None
            if key is not None and key in merged:
                if key not in last_failure or last_failure[key] is not item:
                    continue
                item["status"] = merged[key]["status"]
                raw = self._encode(item) + "\n"
            self._fail.write(("," if self.n_failures else "") + raw)
            self.n_failures += 1

    # -- finishing -----------------------------------------------------------------------------
    def data_summary(self) -> dict[str, Any]:
        c = self.counts
        return {
            "tests_run": self.n_tests, "passed": c["passed"], "failed": c["failed"], "errors": c["errors"],
            "skipped": c["skipped"], "flaky": c["flaky"], "suites": self.suites,
            "duration": round(self.duration, 6),
        }

    def finish(self, *, timestamp: str) -> WrittenDocument:
        from aqe_ci.model.summary import summarize

        numbers = self.data_summary()
        envelope: dict[str, Any] = {"type": DOC_TYPE, "timestamp": timestamp,
                                    "data": {**numbers, "tests": [], "failures": [], "sources": self.sources}}
        if self.n_outputs:
            envelope["data"]["suite_outputs"] = []
        try:
            item_validator("document")(envelope)
        except Exception as exc:
            from aqe_ci.model.schema import error_text

            raise InvalidInputError(f"test_results document: {error_text(exc)}") from None
        doc = self._doc
        doc.write('],"failures":[\n')
        self._fail.flush()
        self._fail.seek(0)
        shutil.copyfileobj(self._fail, doc, _BUFFER)
        doc.write("]")
        if self.n_outputs:
            doc.write(',"suite_outputs":[\n')
            self._outs.flush()
            self._outs.seek(0)
            shutil.copyfileobj(self._outs, doc, _BUFFER)
            doc.write("]")
        tail = {**numbers, "sources": self.sources}
        doc.write("," + self._encode(tail)[1:-1] + "},")
        doc.write(self._encode({"type": DOC_TYPE, "timestamp": timestamp})[1:] + "\n")
        doc.close()
        if self._pack is not None:
            self._pack.close()
        self._fail.close()
        self._outs.close()
        os.unlink(self._fail.name)
        os.unlink(self._outs.name)
        return WrittenDocument(doc_type=DOC_TYPE, path=self._doc_path, summary=summarize(DOC_TYPE, numbers),
                               blobs=dict(self.blobs),
                               sources=[SourceInfo(**s) for s in self.sources])

    def abort(self) -> None:
        for f in (self._doc, self._fail, self._outs, self._pack):
            if f is not None and not f.closed:
                f.close()
        shutil.rmtree(self._dir, ignore_errors=True)
