"""Comparison of two runs: tests, coverage and security deltas — pure functions, no store, no git.

Documents in, :class:`~aqe_ci.model.comparison.Comparison` out: :func:`aqe_ci.compare.engine.compare_section`
(one document type of two runs) and :func:`~aqe_ci.compare.engine.build_comparison` (the sections
together), :mod:`aqe_ci.compare.baseline` (the choice among candidate baseline runs),
:func:`aqe_ci.compare.gates.parse_gates` / :func:`~aqe_ci.compare.gates.check_gates`. Multi-part documents
are merged on read by :func:`aqe_ci.model.merge.merge_documents`. The use case that finds the
baseline and loads the documents is :func:`aqe_ci.app.compare.compare_run`.
"""
