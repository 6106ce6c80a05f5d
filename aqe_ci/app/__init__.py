"""Use cases and the composition root: builds the real clients once and passes them down.

Nothing here imports click; the CLI (``aqe_ci.cli``) and the action (``entrypoint.py``) call in.
"""
