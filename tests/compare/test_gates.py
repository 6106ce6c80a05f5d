from __future__ import annotations

import pytest
from compare_builders import compare, cov_doc, cov_file, finding, put, results_doc, sec_doc

from aqe_ci.compare.gates import check_gates, parse_gates, raise_if_failed
from aqe_ci.errors import EXIT_GATE, EXIT_USAGE, GateFailed, UsageError
from aqe_ci.model.comparison import Comparison
from aqe_ci.storage.store import Store


def test_parse_gates_grammar() -> None:
    gates = parse_gates(" coverage_drop > 0.5 , new_failures>0,new_security>=HIGH,coverage<80,security_high>=2")
    assert [(g.metric, g.op, g.value, g.severity) for g in gates] == [
        ("coverage_drop", ">", 0.5, None), ("new_failures", ">", 0.0, None), ("new_security", ">=", 3.0, "high"),
        ("coverage", "<", 80.0, None), ("security_high", ">=", 2.0, None)]
    assert parse_gates("") == [] and parse_gates(None) == []


@pytest.mark.parametrize("expr, bad", [
    ("coverage_drop>>0.5", "coverage_drop>>0.5"),
    ("bogus>1", "bogus"),
    ("new_failures>high", "high"),
    ("new_security>=severe", "severe"),
    ("coverage_drop>0.5,,new_failures>0", "empty gate"),
    ("coverage_drop", "coverage_drop"),
])
def test_malformed_gate_names_the_bad_token(expr: str, bad: str) -> None:
    with pytest.raises(UsageError) as err:
        parse_gates(expr)
    assert bad in str(err.value) and err.value.exit_code == EXIT_USAGE


def _comparison(store: Store) -> Comparison:
    put(store, "base", cov_doc({"x.py": cov_file(dict.fromkeys(range(1, 101), 1))}), commit="a" * 40, branch="main")
    put(store, "base", results_doc([{"name": "a", "status": "passed"}, {"name": "b", "status": "passed"}]),
        commit="a" * 40, branch="main")
    put(store, "base", sec_doc([finding("f1", "low")]), commit="a" * 40, branch="main")
    hits = {i: (0 if i <= 2 else 1) for i in range(1, 101)}
    put(store, "head", cov_doc({"x.py": cov_file(hits)}), minutes=1, commit="b" * 40, branch="f")
    put(store, "head", results_doc([{"name": "a", "status": "failed"}, {"name": "b", "status": "passed"}]),
        minutes=1, commit="b" * 40, branch="f")
    put(store, "head", sec_doc([finding("f1", "low"), finding("f2", "high")]), minutes=1, commit="b" * 40, branch="f")
    return compare(store, "head", base_key="base")


def test_gates_fail_and_pass_with_reasons(store: Store) -> None:
    result = _comparison(store)
    gates = parse_gates("coverage_drop>0.5,new_failures>0,new_security>=high,new_security>=critical,"
                        "coverage<90,flaky>0,security_low>=1,newly_uncovered>=2")
    results = check_gates(result, gates)
    res = {r.gate: r.as_json() for r in results}
    assert res["coverage_drop>0.5"]["status"] == "failed" and res["coverage_drop>0.5"]["actual"] == 2.0
    assert res["new_failures>0"]["status"] == "failed" and res["new_failures>0"]["actual"] == 1
    assert res["new_security>=high"]["status"] == "failed" and res["new_security>=high"]["actual"] == "high"
    assert res["new_security>=critical"]["status"] == "passed"
    assert res["coverage<90"]["status"] == "passed"
    assert res["flaky>0"]["status"] == "passed"
    assert res["security_low>=1"]["status"] == "failed"
    assert res["newly_uncovered>=2"]["status"] == "failed"
    with pytest.raises(GateFailed) as err:
        raise_if_failed(results)
    msg = str(err.value)
    assert err.value.exit_code == EXIT_GATE
    for name in ("coverage_drop>0.5", "new_failures>0", "new_security>=high", "security_low>=1",
                 "newly_uncovered>=2"):
        assert name in msg
    assert "coverage<90" not in msg and "5 quality gates failed" in msg


def test_delta_gates_are_skipped_without_baseline(store: Store) -> None:
    put(store, "head", cov_doc({"x.py": cov_file({1: 0, 2: 1})}), commit="b" * 40, branch="f")
    comparison = compare(store, "head")
    result = comparison.as_json()
    assert result["comparison"]["baseline"]["key"] is None
    res = [r.as_json() for r in check_gates(comparison, parse_gates("coverage_drop>0,coverage<80"))]
    assert res[0]["status"] == "skipped" and "no baseline" in res[0]["message"]
    assert res[1]["status"] == "failed"
