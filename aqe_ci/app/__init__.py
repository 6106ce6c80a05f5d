"""The composition root and the use cases: build real clients from the config once, pass them down.

No click here: the CLI (``aqe_ci.cli``), the GitHub action and the GitLab component call these.
"""
