"""Merge the parts of one document type stored under one run key (matrix legs, shards).

* ``test_results``: tests and failures concatenated, counters summed.
* ``coverage``: files united; a file present in several parts is united per line (max hits) and
  per branch line (max covered); totals and rates are recomputed from the merged files.
* ``security``: findings de-duplicated by fingerprint (the highest severity wins), summary recomputed.

Parts are merged in the order given; the result is a valid document of the same schema.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aqe_ci.errors import UsageError
from aqe_ci.model.keys import SEVERITIES, SEVERITY_RANK
from aqe_ci.model.linehits import encode_branch_hits, encode_line_hits, union_branch_hits, union_line_hits


def rate(covered: int, valid: int) -> float:
    """A percentage 0-100, rounded to 4 decimals; 100 when there is nothing to cover."""
    return round(100.0 * covered / valid, 4) if valid else 100.0


def merge_documents(doc_type: str, docs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Merge several documents of ``doc_type`` into one (a single document is returned as is)."""
    if not docs:
        raise UsageError(f"nothing to merge for {doc_type}")
    if len(docs) == 1:
        return docs[0]
    for d in docs:
        if d.get("type") != doc_type:
            raise UsageError(f"cannot merge a {d.get('type')!r} document into {doc_type}")
    merger = {"test_results": _merge_tests, "coverage": _merge_coverage, "security": _merge_security}.get(doc_type)
    if merger is None:
        raise UsageError(f"unknown document type {doc_type!r}")
    data = merger([d["data"] for d in docs])
    return {"type": doc_type, "timestamp": max(d["timestamp"] for d in docs), "data": data}


def _sources(datas: Sequence[dict[str, Any]]) -> list[Any]:
    out: list[Any] = []
    for d in datas:
        out.extend(d.get("sources") or [])
    return out


def _merge_tests(datas: Sequence[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("tests_run", "passed", "failed", "errors", "skipped", "flaky", "suites"):
        if name in ("tests_run", "passed", "failed") or any(name in d for d in datas):
            out[name] = sum(int(d.get(name) or 0) for d in datas)
    out["duration"] = round(sum(float(d.get("duration") or 0) for d in datas), 6)
    out["failures"] = [f for d in datas for f in d.get("failures") or []]
    if any("tests" in d for d in datas):
        out["tests"] = [t for d in datas for t in d.get("tests") or []]
    sources = _sources(datas)
    if sources:
        out["sources"] = sources
    return out


_FILE_SUMS = ("lines_valid", "lines_covered", "branches_valid", "branches_covered", "functions_valid",
              "functions_covered")


def _merge_file(parts: list[dict[str, Any]]) -> dict[str, Any]:
    if len(parts) == 1:
        return parts[0]
    out: dict[str, Any] = {}
    if all("line_hits" in p for p in parts):
        hits = union_line_hits(p["line_hits"] for p in parts)
        out["line_hits"] = encode_line_hits(sorted(hits.items()))
        out["lines_valid"] = len(hits)
        out["lines_covered"] = sum(1 for h in hits.values() if h > 0)
    else:  # summary-only parts: the best part's numbers (lines cannot be united without hits)
        best = max(parts, key=lambda p: (p.get("lines_covered", 0), p.get("lines_valid", 0)))
        out["lines_valid"] = best.get("lines_valid", 0)
        out["lines_covered"] = best.get("lines_covered", 0)
    out["line_rate"] = rate(out["lines_covered"], out["lines_valid"])
    if any("branch_hits" in p for p in parts) and all("branch_hits" in p or not p.get("branches_valid")
                                                      for p in parts):
        branches = union_branch_hits(p.get("branch_hits") for p in parts)
        out["branch_hits"] = encode_branch_hits(sorted(branches.items()))
        out["branches_valid"] = sum(v for _, v in branches.values())
        out["branches_covered"] = sum(min(c, v) for c, v in branches.values())
    elif any("branches_valid" in p for p in parts):
        best = max(parts, key=lambda p: (p.get("branches_covered", 0), p.get("branches_valid", 0)))
        out["branches_valid"] = best.get("branches_valid", 0)
        out["branches_covered"] = best.get("branches_covered", 0)
    if "branches_valid" in out:
        out["branch_rate"] = rate(out["branches_covered"], out["branches_valid"]) if out["branches_valid"] else None
    if any("functions_valid" in p for p in parts):
        best = max(parts, key=lambda p: (p.get("functions_covered", 0), p.get("functions_valid", 0)))
        out["functions_valid"] = best.get("functions_valid", 0)
        out["functions_covered"] = best.get("functions_covered", 0)
    return out


def _merge_coverage(datas: Sequence[dict[str, Any]]) -> dict[str, Any]:
    by_file: dict[str, list[dict[str, Any]]] = {}
    for d in datas:
        for path, f in (d.get("files") or {}).items():
            by_file.setdefault(path, []).append(f)
    files = {path: _merge_file(parts) for path, parts in by_file.items()}
    out: dict[str, Any] = {}
    if files:
        for name in _FILE_SUMS:
            if name in ("lines_valid", "lines_covered") or any(name in f for f in files.values()):
                out[name] = sum(int(f.get(name) or 0) for f in files.values())
    else:  # summary-only documents: add their totals
        for name in _FILE_SUMS:
            if any(name in d for d in datas):
                out[name] = sum(int(d.get(name) or 0) for d in datas)
    out["line_rate"] = rate(out.get("lines_covered", 0), out.get("lines_valid", 0))
    out["branch_rate"] = rate(out["branches_covered"], out["branches_valid"]) if out.get("branches_valid") else None
    if out.get("functions_valid"):
        out["function_rate"] = rate(out["functions_covered"], out["functions_valid"])
    out["files"] = files
    sources = _sources(datas)
    if sources:
        out["sources"] = sources
    return out


def _merge_security(datas: Sequence[dict[str, Any]]) -> dict[str, Any]:
    found: dict[str, dict[str, Any]] = {}
    for d in datas:
        for v in d.get("vulnerabilities") or []:
            old = found.get(v["fingerprint"])
            if old is None or SEVERITY_RANK[v["severity"]] > SEVERITY_RANK[old["severity"]]:
                found[v["fingerprint"]] = v
    vulns = list(found.values())
    summary = dict.fromkeys(SEVERITIES, 0)
    suppressed = 0
    for v in vulns:
        if v.get("suppressed"):
            suppressed += 1
        else:
            summary[v["severity"]] += 1
    summary["total"] = sum(summary[s] for s in SEVERITIES)
    summary["suppressed"] = suppressed
    out: dict[str, Any] = {"vulnerabilities": vulns, "summary": summary}
    tools: dict[str, dict[str, Any]] = {}
    for d in datas:
        for t in d.get("tools") or []:
            tools.setdefault(t["name"], t)
    if tools:
        out["tools"] = list(tools.values())
    sources = _sources(datas)
    if sources:
        out["sources"] = sources
    return out
