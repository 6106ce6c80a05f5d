"""Publishing a comparison to where people read it: PR/MR comments, job summaries, step outputs.

One :class:`~aqe_ci.publish.base.Forge` interface; GitHub, GitLab and file implementations live
beside it. ``app.publish_run`` is the only caller.
"""
