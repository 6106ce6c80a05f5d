"""Use cases and the composition root: config in, real clients built once, passed down (DESIGN "Layers").

No click here: the CLI (``aqe_ci.cli``), the GitHub action and the GitLab component call these.
"""
