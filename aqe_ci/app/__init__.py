"""The application layer: the composition root and the use cases — no click inside.

Everything that runs ``aqe`` work from outside (the CLI, the GitHub action entrypoint, the GitLab
component's job, ``aqe ci gitlab``) builds one :class:`aqe_ci.app.root.App` per process — config in, real clients
built once, passed down (DESIGN "Layers") — and calls the use cases with what it built. The seams:

* ``root.App``: config, store (its backend client), CI context and git, each built once on first use;
  ``root.store_for(config)`` for a store of another config.
* ``store.store_run(store, StoreRequest, ctx=, limits=)``: validate or ingest reports and store them
  under one run key, all or nothing → ``StoreResult`` (key, manifests).
* ``compare.compare_run(store, CompareRequest, git=, ci=)``: find the baseline and compare → the typed
  ``Comparison`` (``model/comparison.py``); ``compare.check_outcome`` raises the gate or
  required-baseline failure (exit 6) once the report is out.
* ``cleanup.cleanup_run(store, CleanupRequest, policy=)``: apply the retention policy → ``CleanupReport``.
* ``copy.copy_history(source, target)``: migrate stored history between two stores → ``CopyReport``.
* ``trend.trend(store, doc_type=, branch=, last=)``: a type's last runs from the index's summaries →
  ``Trend``; ``trend.comparison_trend`` is the chart a comparison carries.
* ``flaky.find_flaky(store, last=, branch=)``: flaky tests from stored runs → ``FlakyReport`` (the
  quarantine file); ``flaky.known_flaky_tests`` is what ``compare`` marks.
* ``report.write_report(store, outdir)``: the static HTML history site.
* ``patch.patch_for(git, head, baseline, coverage)``: patch coverage of a compared run (git diff).

Requests and results are frozen dataclasses; errors are :class:`aqe_ci.errors.AqeError` with the
documented exit codes. The layers below (compare, retention, ingest, storage, context, render,
publish, model) never import this package; only ``cli/`` and the entrypoint do (docs/architecture.md).
"""
