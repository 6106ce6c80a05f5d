"""Build of the optional C accelerators (everything else is in pyproject.toml).

The list lives in ``aqe_ci/accel.py`` (``EXTENSIONS``); it is read here without importing the
package. ``optional=True``: without a compiler the install succeeds and the pure-Python paths run.
"""

import ast
from pathlib import Path

from setuptools import Extension, setup


def _extensions() -> dict[str, str]:
    tree = ast.parse(Path(__file__).with_name("aqe_ci").joinpath("accel.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == "EXTENSIONS":
            return ast.literal_eval(node.value)
    raise SystemExit("aqe_ci/accel.py has no EXTENSIONS table")


setup(ext_modules=[
    Extension(name, [source], optional=True, extra_compile_args=["-O2", "-Wall", "-Wextra", "-Werror=vla"])
    for name, source in _extensions().items()
])
