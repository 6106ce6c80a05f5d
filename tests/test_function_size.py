"""Small functions: no function or method in aqe_ci/ is longer than 60 lines (the C accelerators excepted).

A function's length is its ``def`` line to its last line (``ast``: ``end_lineno - lineno + 1``),
docstring and comments included, decorators not; a nested function counts on its own and inside
its parent. Split a long one by meaning into helpers with names.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "aqe_ci"
MAX_LINES = 60

#: Functions still over the limit in files owned by another engineer, each to be removed from this
#: list by the branch that brings it under the limit (the test fails on an entry that is no longer
#: needed). Nothing else may be added here.
ALLOWED: dict[str, str] = {}


def _functions(node: ast.AST, prefix: str = "") -> Iterator[tuple[str, int]]:
    """(qualified name, length in lines) of every function under ``node``."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            assert child.end_lineno is not None
            yield prefix + child.name, child.end_lineno - child.lineno + 1
            yield from _functions(child, f"{prefix}{child.name}.")
        elif isinstance(child, ast.ClassDef):
            yield from _functions(child, f"{prefix}{child.name}.")
        else:
            yield from _functions(child, prefix)


def long_functions() -> dict[str, int]:
    out: dict[str, int] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        for name, lines in _functions(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if lines > MAX_LINES:
                out[f"{rel}::{name}"] = lines
    return out


def test_no_function_in_the_package_is_over_60_lines() -> None:
    over = {name: n for name, n in long_functions().items() if name not in ALLOWED}
    assert not over, "split these functions (lines > 60): " + ", ".join(
        f"{name} ({n})" for name, n in sorted(over.items()))


def test_the_allow_list_holds_only_functions_still_over_the_limit() -> None:
    stale = sorted(set(ALLOWED) - set(long_functions()))
    assert not stale, f"no longer over {MAX_LINES} lines (or gone): remove from ALLOWED: {', '.join(stale)}"


def test_the_measure_counts_def_to_last_line() -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(59))
    short = f"@decorator\ndef f():\n{body}\n"  # 60 lines with its def, the decorator not counted
    assert dict(_functions(ast.parse(short))) == {"f": 60}
    method_body = "\n".join(f"        y{i} = {i}" for i in range(60))
    long = f"class C:\n    def g(self):\n        def inner():\n            pass\n{method_body}\n"
    assert dict(_functions(ast.parse(long))) == {"C.g": 63, "C.g.inner": 2}
