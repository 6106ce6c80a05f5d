"""A store with a history worth a report: 8 runs on main and a PR, all three types, a flaky test, hostile text."""

from __future__ import annotations

from aqe_ci.storage.store import Store
from tests.compare.compare_builders import cov_doc, cov_file, finding, put, results_doc, sec_doc

HOSTILE = '<img src=x onerror=alert(1)>"</script><script>alert(2)</script>'


def fill_report_store(store: Store, runs: int = 8) -> list[str]:
    """Returns the run keys, oldest first."""
    keys = []
    for i in range(runs):
        key = f"main-{i:02d}"
        keys.append(key)
        commit = f"{i + 1:x}" * 40
        commit = commit[:40]
        tests = [{"name": "test_net", "status": "failed" if i in (1, 4, 6) else "passed",
                  "message": "timeout talking to 127.0.0.1"},
                 {"name": "test_solid", "status": "passed"},
                 {"name": HOSTILE, "status": "failed" if i == runs - 1 else "passed", "message": HOSTILE}]
        put(store, key, results_doc(tests), minutes=30 * i, commit=commit, branch="main")
        files = {"src/app.py": cov_file({ln: (1 if ln <= 60 + 3 * i else 0) for ln in range(1, 101)}),
                 "src/util.py": cov_file(dict.fromkeys(range(1, 21), 1))}
        if i >= 3:
            files[f"src/{HOSTILE}.py"] = cov_file({1: 0, 2: 1})
        put(store, key, cov_doc(files), minutes=30 * i, commit=commit, branch="main")
        findings = [finding("f1", "high")] + ([finding("f2", "medium", path=HOSTILE)] if i % 2 else [])
        put(store, key, sec_doc(findings), minutes=30 * i, commit=commit, branch="main")
    put(store, "pr-7", results_doc([{"name": "test_net", "status": "passed"}]), minutes=30 * runs, commit="c" * 40,
        branch="feature/x")
    keys.append("pr-7")
    return keys
