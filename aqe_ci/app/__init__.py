"""Use cases and the composition root: what the CLI, the action entrypoint and the GitLab job call."""
