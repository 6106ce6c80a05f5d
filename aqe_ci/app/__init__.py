"""Use cases and the composition root: config in, real clients built once, passed down (DESIGN "Layers").

Nothing here imports click; the CLI (``aqe_ci.cli``) and the action (``entrypoint.py``) call in.
"""
