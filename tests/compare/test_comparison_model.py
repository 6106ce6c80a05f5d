"""The typed Comparison: its JSON is the CLI's, and a saved report reads back into the same value."""

from __future__ import annotations

import json

import pytest
from compare_builders import compare, cov_doc, cov_file, finding, put, results_doc, sec_doc

from aqe_ci.compare.gates import parse_gates
from aqe_ci.model.comparison import Comparison
from aqe_ci.render.json import render_json
from aqe_ci.storage.store import Store


@pytest.fixture
def runs(store: Store) -> Store:
    put(store, "base", results_doc([{"name": "a", "status": "passed"}, {"name": "b", "status": "failed"},
                                    {"name": "gone", "status": "passed"}]), commit="a" * 40, branch="main")
    put(store, "base", cov_doc({"x.py": cov_file({1: 1, 2: 1}, {1: (1, 2)}), "old.py": cov_file({1: 1})}),
        commit="a" * 40, branch="main")
    put(store, "base", sec_doc([finding("f1", "low"), finding("f2", "high")]), commit="a" * 40, branch="main")
    put(store, "head", results_doc([{"name": "a", "status": "failed", "message": "boom"},
                                    {"name": "b", "status": "passed"}, {"name": "new", "status": "skipped"}]),
        minutes=2, commit="b" * 40, branch="feature", base_branch="main")
    put(store, "head", cov_doc({"x.py": cov_file({1: 1, 2: 0}, {1: (2, 2)}), "new.py": cov_file({1: 0})}),
        minutes=2, commit="b" * 40, branch="feature", base_branch="main")
    put(store, "head", sec_doc([finding("f2", "critical"), finding("f3", "medium")]), minutes=2, commit="b" * 40,
        branch="feature", base_branch="main")
    put(store, "lonely", cov_doc({"x.py": cov_file({1: 1})}), minutes=3, commit="c" * 40, branch="other")
    return store


@pytest.mark.parametrize("kwargs", [
    {"base_key": "base"},
    {"base_key": "base", "diff_only": True},
    {"base_key": "base", "types": ["security"]},
    {"base_key": "lonely"},
    {},
])
def test_json_round_trips_through_the_typed_value(runs: Store, kwargs: dict[str, object]) -> None:
    gates = tuple(parse_gates("coverage_drop>0,new_failures>0,new_security>=high,flaky>0"))
    c = compare(runs, "head", gates=gates, **kwargs)
    text = c.to_json()
    assert text == render_json(c) == render_json(json.loads(text)) == "".join(c.iter_json(chunk_chars=40))
    back = Comparison.from_json(json.loads(text))
    assert back.to_json() == text
    assert back.tests == c.tests and back.coverage == c.coverage and back.security == c.security
    assert back.gates == c.gates and back.baseline.reason == c.baseline.reason


def test_sections_read_as_attributes(runs: Store) -> None:
    c = compare(runs, "head", base_key="base")
    assert c.tests is not None and c.coverage is not None and c.security is not None
    assert [t["name"] for t in c.tests.new_failures or ()] == ["a"]
    assert c.tests.failed.change == 0 and c.tests.skipped.after == 1
    assert c.coverage.files is not None and [r["file"] for r in c.coverage.files.added] == ["new.py"]
    assert c.security.new_by_severity == {"critical": 0, "high": 0, "medium": 1, "low": 0, "info": 0}
    assert c.security.severity_changed and c.security.severity_changed[0]["before_severity"] == "high"
    assert [name for name, _ in c.sections()] == ["tests", "coverage", "security"]
    assert c.has_baseline and c.baseline.age_seconds(c.head) == 120
