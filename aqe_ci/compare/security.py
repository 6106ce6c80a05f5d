"""Security deltas: counts by severity, new / fixed / unchanged findings by fingerprint."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from aqe_ci.model.comparison import Delta, FindingItem, SecurityComparison
from aqe_ci.model.keys import SEVERITIES, SEVERITY_RANK


def _active(vulns: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    out: dict[str, Mapping[str, Any]] = {}
    for v in vulns:
        if v.get("suppressed"):
            continue
        old = out.get(v["fingerprint"])
        if old is None or SEVERITY_RANK[v["severity"]] > SEVERITY_RANK[old["severity"]]:
            out[v["fingerprint"]] = v
    return out


def finding_item(v: Mapping[str, Any]) -> FindingItem:
    item: FindingItem = {"fingerprint": v["fingerprint"], "severity": v["severity"], "tool": v.get("tool"),
                         "rule_id": v.get("rule_id"), "title": v.get("title")}
    loc = v.get("location") or {}
    if loc.get("path"):
        item["path"] = loc["path"]
        if loc.get("start_line") is not None:
            item["line"] = loc["start_line"]
    pkg = v.get("package") or {}
    if pkg.get("name"):
        item["package"] = pkg["name"] + (f"@{pkg['installed_version']}" if pkg.get("installed_version") else "")
    if v.get("ids"):
        item["ids"] = list(v["ids"])
    return item


def _by_severity(items: list[FindingItem]) -> tuple[FindingItem, ...]:
    return tuple(sorted(items, key=lambda i: (-SEVERITY_RANK[i["severity"]], i.get("rule_id") or "",
                                              i.get("path") or "", i["fingerprint"])))


def _total(s: Mapping[str, Any]) -> int:
    return int(s.get("total", sum(int(s.get(k) or 0) for k in SEVERITIES)))


def _counts_delta(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> SecurityComparison:
    """The totals and per-severity counts alone."""
    bs = (before or {}).get("summary") or {}
    as_ = (after or {}).get("summary") or {}
    b_total = _total(bs) if before is not None else None
    a_total = _total(as_) if after is not None else None
    by_severity = {
        s: Delta(int(bs.get(s) or 0) if before is not None else None,
                 int(as_.get(s) or 0) if after is not None else None,
                 (int(as_.get(s) or 0) - int(bs.get(s) or 0)) if before is not None and after is not None else None)
        for s in SEVERITIES
    }
    return SecurityComparison(
        total=Delta(b_total, a_total, None if b_total is None or a_total is None else a_total - b_total),
        by_severity=by_severity)


def compare_security(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, *,
                     diff_only: bool = False) -> SecurityComparison:
    """``before``/``after`` are the ``data`` of two security documents (either may be None)."""
    counts = _counts_delta(before, after)
    if after is None:
        return replace(counts, note="the head run has no security document")
    a = _active(after.get("vulnerabilities") or [])
    if before is None:
        new = _by_severity([finding_item(v) for v in a.values()])
        return replace(counts, note="the baseline has no security document", new=new, new_by_severity=_count(new))
    b = _active(before.get("vulnerabilities") or [])
    new = _by_severity([finding_item(v) for fp, v in a.items() if fp not in b])
    fixed = _by_severity([finding_item(v) for fp, v in b.items() if fp not in a])
    unchanged = _by_severity([finding_item(v) for fp, v in a.items() if fp in b])
    severity_changed = []
    for fp, v in a.items():
        if fp in b and b[fp]["severity"] != v["severity"]:
            item = finding_item(v)
            item["before_severity"] = b[fp]["severity"]
            severity_changed.append(item)
    return replace(counts, new=new, new_by_severity=_count(new), fixed=fixed, fixed_by_severity=_count(fixed),
                   unchanged=len(unchanged) if diff_only else unchanged,
                   severity_changed=_by_severity(severity_changed))


def _count(items: tuple[FindingItem, ...]) -> dict[str, int]:
    counts = dict.fromkeys(SEVERITIES, 0)
    for i in items:
        counts[i["severity"]] += 1
    return counts
