"""Flaky-test renderings: a terminal table and markdown (the JSON is the quarantine file itself)."""

from __future__ import annotations

from aqe_ci.model.history import FlakyReport, FlakyTest
from aqe_ci.render.common import test_label
from aqe_ci.render.escape import md_text, term_text
from aqe_ci.render.text import table


def _rate(t: FlakyTest) -> str:
    return "—" if t.flip_rate is None else f"{t.flip_rate:.0%}"


def _label(t: FlakyTest) -> str:
    return test_label({"suite": t.suite, "classname": t.classname, "name": t.name})


def _window(r: FlakyReport) -> str:
    where = f"flip rate on {r.branch}" if r.branch else "no default branch: same-commit and retries only"
    return (f"{len(r.tests)} flaky test{'s' if len(r.tests) != 1 else ''} in {r.runs_read} stored documents "
            f"(last {r.last} runs; {where}, threshold {r.threshold:.0%}, at least {r.min_runs} runs)")


def render_table(r: FlakyReport) -> str:
    head = term_text(_window(r), limit=None)
    if not r.tests:
        return head
    rows = [[term_text(_label(t), limit=80), ",".join(t.reasons), t.runs, t.failed, _rate(t),
             (t.last_failed_at or "")[:16].replace("T", " "), term_text(t.describe(), limit=90)] for t in r.tests]
    return "\n".join([head, table(["TEST", "WHY", "RUNS", "FAILED", "FLIP RATE", "LAST FAILED", "EVIDENCE"], rows)])


def render_markdown(r: FlakyReport) -> str:
    lines = ["### Flaky tests", "", md_text(_window(r), limit=None), ""]
    if not r.tests:
        return "\n".join(lines)
    lines += ["| Test | Why | Runs | Failed | Flip rate | Evidence |", "|---|---|---:|---:|---:|---|"]
    for t in r.tests:
        lines.append(f"| {md_text(_label(t), limit=200)} | {', '.join(t.reasons)} | {t.runs} | {t.failed} | "
                     f"{_rate(t)} | {md_text(t.describe(), limit=300)} |")
    return "\n".join(lines)
