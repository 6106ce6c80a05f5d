"""Builders for the comparison tests: hand-written normalised documents in a real local store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aqe_ci.app.compare import CompareRequest, compare_run
from aqe_ci.git import Git
from aqe_ci.model.comparison import Comparison
from aqe_ci.model.linehits import encode_line_hits
from aqe_ci.model.run import RunFacts
from aqe_ci.model.schema import validate_document
from aqe_ci.storage.store import Store

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"
T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def put(store: Store, key: str, doc: dict[str, Any], *, minutes: int = 0, commit: str | None = None,
        branch: str | None = None, base_branch: str | None = None, base_sha: str | None = None,
        platform: str | None = None, part: str = "default") -> None:
    validate_document(doc)
    ctx = RunFacts(commit=commit, branch=branch, base_branch=base_branch, base_sha=base_sha, platform=platform)
    store.put_document(doc, key=key, part=part, run=ctx, created_at=T0 + timedelta(minutes=minutes))


def results_doc(tests: list[dict[str, Any]], *, duration: float | None = None) -> dict[str, Any]:
    """A test_results document from [{"name", "status", ...}] (suite/classname default to "s"/"c")."""
    full = []
    failures = []
    for t in tests:
        t = {"suite": "s", "classname": "c", **t}
        full.append(t)
        if t["status"] in ("failed", "error"):
            failures.append({"suite": t["suite"], "classname": t["classname"], "name": t["name"],
                             "status": t["status"], "message": t.get("message", f"{t['name']} broke"),
                             "details": {"text": f"Traceback for {t['name']}"}})
    counts = {s: sum(1 for t in full if t["status"] == s) for s in ("passed", "failed", "error", "skipped", "flaky")}
    data = {"tests_run": len(full), "passed": counts["passed"], "failed": counts["failed"],
            "errors": counts["error"], "skipped": counts["skipped"], "flaky": counts["flaky"],
            "duration": duration if duration is not None else round(sum(t.get("duration", 0.5) for t in full), 3),
            "failures": failures, "tests": full}
    return {"type": "test_results", "timestamp": "2026-01-05T12:00:00Z", "data": data}


def cov_file(hits: dict[int, int], branches: dict[int, tuple[int, int]] | None = None) -> dict[str, Any]:
    valid = len(hits)
    covered = sum(1 for h in hits.values() if h)
    f: dict[str, Any] = {"lines_valid": valid, "lines_covered": covered,
                         "line_rate": round(100 * covered / valid, 4) if valid else 100.0,
                         "line_hits": encode_line_hits(sorted(hits.items()))}
    if branches is not None:
        bv = sum(v for _, v in branches.values())
        bc = sum(c for c, _ in branches.values())
        f.update(branches_valid=bv, branches_covered=bc, branch_rate=round(100 * bc / bv, 4) if bv else None,
                 branch_hits=",".join(f"{ln}:{c}/{v}" for ln, (c, v) in sorted(branches.items())))
    return f


def cov_doc(files: dict[str, dict[str, Any]]) -> dict[str, Any]:
    lv = sum(f["lines_valid"] for f in files.values())
    lc = sum(f["lines_covered"] for f in files.values())
    bv = sum(f.get("branches_valid", 0) for f in files.values())
    bc = sum(f.get("branches_covered", 0) for f in files.values())
    data = {"line_rate": round(100 * lc / lv, 4) if lv else 100.0, "branch_rate": round(100 * bc / bv, 4) if bv else None,
            "lines_valid": lv, "lines_covered": lc, "branches_valid": bv, "branches_covered": bc, "files": files}
    return {"type": "coverage", "timestamp": "2026-01-05T12:00:00Z", "data": data}


def finding(fp: str, severity: str, *, rule: str = "R1", path: str = "app.py", line: int = 3,
            suppressed: bool = False) -> dict[str, Any]:
    f = {"fingerprint": fp, "tool": "bandit", "rule_id": rule, "title": f"finding {fp}", "severity": severity,
         "location": {"path": path, "start_line": line}}
    if suppressed:
        f["suppressed"] = True
    return f


def sec_doc(findings: list[dict[str, Any]]) -> dict[str, Any]:
    summary = dict.fromkeys(("critical", "high", "medium", "low", "info"), 0)
    sup = 0
    for f in findings:
        if f.get("suppressed"):
            sup += 1
        else:
            summary[f["severity"]] += 1
    summary["total"] = sum(summary.values())
    summary["suppressed"] = sup
    return {"type": "security", "timestamp": "2026-01-05T12:00:00Z",
            "data": {"vulnerabilities": findings, "summary": summary}}


def compare(store: Store, head_key: str, *, git: Git | None = None, types: list[str] | None = None,
            **request: Any) -> Comparison:
    """The use case, as the CLI calls it (``base_key=``, ``diff_only=``, … are CompareRequest fields)."""
    return compare_run(store, CompareRequest(head_key=head_key, types=tuple(types or ()), **request), git=git)


def compare_runs(store: Store, head_key: str, **kwargs: Any) -> dict[str, Any]:
    """The comparison's JSON form (what ``aqe artifacts compare --format json`` prints)."""
    return compare(store, head_key, **kwargs).as_json()
