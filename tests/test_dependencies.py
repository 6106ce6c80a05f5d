"""The README's dependency table, pyproject's runtime dependencies and aqe_ci's imports agree.

Every third-party module the package imports (outside ``if TYPE_CHECKING:``) belongs to a package
listed in both; every listed package is imported somewhere, except the few declared ahead of the
code that will use them (PENDING, empty now).
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: top-level module -> the distribution that provides it
PROVIDER = {
    "click": "click",
    "jsonschema": "jsonschema",
    "jsonschema_rs": "jsonschema-rs",
    "boto3": "boto3",
    "botocore": "boto3",  # installed with boto3, which the S3 backend builds its client from
    "zstandard": "zstandard",
    "lxml": "lxml",
    "ijson": "ijson",
    "requests": "requests",
    "urllib3": "urllib3",
    "github": "pygithub",
    "gitlab": "python-gitlab",
}

#: declared in pyproject and the README ahead of the code that imports it (none now); an entry is
#: removed by the branch whose code imports it (the test fails on an entry that is imported)
PENDING: set[str] = set()


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(node: ast.AST) -> set[str]:
    found: set[str] = set()
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child):
            for other in child.orelse:  # the body only types; an else branch runs
                found |= _imports(ast.Module(body=[other], type_ignores=[]))
            continue
        if isinstance(child, ast.Import):
            found |= {alias.name.split(".")[0] for alias in child.names}
        elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
            found.add(child.module.split(".")[0])
        found |= _imports(child)
    return found


def third_party_imports() -> set[str]:
    modules: set[str] = set()
    for path in sorted((ROOT / "aqe_ci").rglob("*.py")):
        modules |= _imports(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return {m for m in modules if m not in sys.stdlib_module_names and m not in ("aqe_ci", "__future__")}


def readme_packages() -> set[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Dependencies"):]
    table = section[section.index("| package | why |"):]
    rows = [line for line in table.splitlines()[2:] if line.startswith("|")]
    names: set[str] = set()
    for row in rows[: next((i for i, r in enumerate(rows) if not r.strip()), len(rows))]:
        names |= {_norm(n) for n in re.findall(r"`([^`]+)`", row.split("|")[1])}
    return names


def pyproject_packages() -> set[str]:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    return {_norm(re.split(r"[^A-Za-z0-9_.-]", d, maxsplit=1)[0]) for d in deps}


def test_readme_table_lists_exactly_the_runtime_dependencies() -> None:
    assert readme_packages() == pyproject_packages()


def test_every_third_party_import_is_a_listed_dependency() -> None:
    imported = third_party_imports()
    unknown = sorted(imported - set(PROVIDER))
    assert not unknown, f"imported but not in PROVIDER (add it to pyproject, the README table and here): {unknown}"
    unlisted = sorted({_norm(PROVIDER[m]) for m in imported} - pyproject_packages())
    assert not unlisted, f"imported but not a runtime dependency: {unlisted}"


def test_every_listed_dependency_is_imported_unless_pending() -> None:
    used = {_norm(PROVIDER[m]) for m in third_party_imports() if m in PROVIDER}
    unused = sorted(pyproject_packages() - used - PENDING)
    assert not unused, f"declared but never imported (drop it from pyproject and the README): {unused}"
    stale = sorted(PENDING & used)
    assert not stale, f"imported now: remove from PENDING and from the README's 'not imported yet': {stale}"


def test_no_dropped_library_is_imported() -> None:
    assert "fastjsonschema" not in third_party_imports()
