"""The application layer: the composition root and the use cases — no click inside.

Everything that runs ``aqe`` work from outside (the CLI, the GitHub action entrypoint, the GitLab
component's jobs) builds one :class:`aqe_ci.app.root.App` per process and calls the use cases with
what it built. The seams:

=====================================  ===========================================================
``root.App``                           config, store (its backend client), CI context and git,
                                       each built once on first use
``store.store_run(store, StoreRequest, ctx=, limits=)``
                                       validate or ingest reports, store them under one run key
                                       (all or nothing) → ``StoreResult`` (key, manifests)
``compare.compare_run(store, CompareRequest, git=, ci=)``
                                       find the baseline, compare → typed ``Comparison``
                                       (``model/comparison.py``); ``compare.check_outcome`` raises
                                       the gate / required-baseline failure (exit 6)
``cleanup.cleanup_run(store, CleanupRequest, policy=)``
                                       apply the retention policy → ``CleanupReport``
=====================================  ===========================================================

Requests and results are frozen dataclasses; errors are :class:`aqe_ci.errors.AqeError` with the
documented exit codes. Layers below (compare, retention, ingest, storage, render, publish, model)
never import this package; only ``cli/`` and the entrypoint do (docs/architecture.md).
"""
