"""Comparison of two runs: tests, coverage and security deltas against a chosen baseline.

Public entry points: :func:`aqe_ci.compare.engine.compare_runs` (two stored runs),
:func:`aqe_ci.compare.baseline.resolve_baseline` (which run to compare against and why),
:func:`aqe_ci.model.merge.merge_documents` (multi-part documents merged on read) and
:func:`aqe_ci.compare.gates.parse_gates` / :func:`~aqe_ci.compare.gates.check_gates`.
"""
