"""CI context: infer platform, repository, commit, branch, PR and base from the environment."""

from aqe_ci.context.detect import detect
from aqe_ci.context.keys import default_key
from aqe_ci.git import Git
from aqe_ci.model.context import CiContext

__all__ = ["CiContext", "Git", "default_key", "detect"]
