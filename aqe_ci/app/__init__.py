"""Use cases and the composition root: config in, real clients built once, passed down (DESIGN "Layers").

Nothing here imports click; the CLI (``aqe_ci.cli``), the action (``entrypoint.py``) and the GitLab
component's job (``aqe ci gitlab``) call in.
"""
