"""CI context: infer platform, repository, commit, branch, PR and base from the environment."""

from aqe_ci.context.model import CiContext

__all__ = ["CiContext"]
