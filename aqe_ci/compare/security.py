"""Security deltas: counts by severity, new / fixed / unchanged findings by fingerprint."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

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


def finding_item(v: Mapping[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {"fingerprint": v["fingerprint"], "severity": v["severity"], "tool": v.get("tool"),
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


def _by_severity(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda i: (-SEVERITY_RANK[i["severity"]], i.get("rule_id") or "", i.get("path") or "",
                                        i["fingerprint"]))


def compare_security(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, *,
                     diff_only: bool = False) -> dict[str, Any]:
    """``before``/``after`` are the ``data`` of two security documents (either may be None)."""
    bs = (before or {}).get("summary") or {}
    as_ = (after or {}).get("summary") or {}

    def total(s: Mapping[str, Any]) -> int:
        return int(s.get("total", sum(int(s.get(k) or 0) for k in SEVERITIES)))

    b_total = total(bs) if before is not None else None
    a_total = total(as_) if after is not None else None
    out: dict[str, Any] = {"before": b_total, "after": a_total,
                           "change": None if b_total is None or a_total is None else a_total - b_total}
    out["by_severity"] = {
        s: {"before": int(bs.get(s) or 0) if before is not None else None,
            "after": int(as_.get(s) or 0) if after is not None else None,
            "change": (int(as_.get(s) or 0) - int(bs.get(s) or 0)) if before is not None and after is not None
            else None}
        for s in SEVERITIES
    }
    if after is None:
        out["note"] = "the head run has no security document"
        return out
    a = _active(after.get("vulnerabilities") or [])
    if before is None:
        out["note"] = "the baseline has no security document"
        out["new"] = _by_severity([finding_item(v) for v in a.values()])
        out["new_by_severity"] = _count(out["new"])
        return out
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
    out["new"] = new
    out["new_by_severity"] = _count(new)
    out["fixed"] = fixed
    out["fixed_by_severity"] = _count(fixed)
    out["unchanged"] = len(unchanged) if diff_only else unchanged
    out["severity_changed"] = _by_severity(severity_changed)
    return out


def _count(items: list[dict[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(SEVERITIES, 0)
    for i in items:
        counts[i["severity"]] += 1
    return counts
