"""The import graph of aqe_ci, read with ast: no cycle between modules or packages, and every import
points down the layers of docs/architecture.md.

Every ``import`` counts — at module level, inside functions (lazy imports) and under
``TYPE_CHECKING`` — because each is a dependency a reader has to follow.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "aqe_ci"

#: lowest first; a module may import its own layer's units and lower layers' (docs/architecture.md)
LAYERS: tuple[tuple[str, ...], ...] = (
    ("aqe_ci",),  # the root package: __version__ only
    ("aqe_ci.errors", "aqe_ci.secrets", "aqe_ci.accel", "aqe_ci.git", "aqe_ci.model", "aqe_ci.config"),
    ("aqe_ci.storage", "aqe_ci.context", "aqe_ci.render", "aqe_ci.publish"),
    ("aqe_ci.ingest", "aqe_ci.compare", "aqe_ci.retention"),
    ("aqe_ci.app",),
    ("aqe_ci.cli", "aqe_ci.__main__", "aqe_ci.api"),  # the three faces: command line, module, Python API
)
#: units of one layer that may use each other (lower first); any other same-layer import is a finding
SAME_LAYER = {
    ("aqe_ci.model", "aqe_ci.errors"), ("aqe_ci.model", "aqe_ci.secrets"), ("aqe_ci.model", "aqe_ci.accel"),
    ("aqe_ci.config", "aqe_ci.model"), ("aqe_ci.config", "aqe_ci.errors"), ("aqe_ci.config", "aqe_ci.secrets"),
    ("aqe_ci.errors", "aqe_ci.secrets"), ("aqe_ci.__main__", "aqe_ci.cli"),
}


def modules() -> dict[str, Path]:
    out = {}
    for f in PACKAGE.rglob("*.py"):
        parts = list(f.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = f
    return out


MODULES = modules()


def resolve(name: str) -> str | None:
    """The module a dotted name lives in (``aqe_ci.model.keys.DOC_TYPES`` → ``aqe_ci.model.keys``)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imported_names(module: str, path: Path) -> Iterator[str]:
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = module.split(".") if is_package else module.split(".")[:-1]
                here = here[:len(here) - node.level + 1]
                base = ".".join(here + ([node.module] if node.module else []))
            yield base
            yield from (f"{base}.{a.name}" for a in node.names)


def import_graph() -> dict[str, set[str]]:
    """Module → the aqe_ci modules it imports (plus, from outside a package, that package's __init__)."""
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module, path in MODULES.items():
        for name in imported_names(module, path):
            if not (name == "aqe_ci" or name.startswith("aqe_ci.")):
                continue
            target = resolve(name)
            if target is None or target == module:
                continue
            graph[module].add(target)
            # importing a.b.c runs a/__init__ and a/b/__init__ first, unless the importer lives inside them
            parts = target.split(".")
            for i in range(2, len(parts)):
                parent = ".".join(parts[:i])
                if not module.startswith(parent + ".") and parent in MODULES:
                    graph[module].add(parent)
    return graph


GRAPH = import_graph()


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1:
                found.append(sorted(scc))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def collapsed(depth: int) -> dict[str, set[str]]:
    """The graph with every module named by its first ``depth`` components (its package at that depth)."""
    def name(m: str) -> str:
        return ".".join(m.split(".")[:depth])

    out: dict[str, set[str]] = defaultdict(set)
    for a, targets in GRAPH.items():
        for b in targets:
            if name(a) != name(b) and not name(b).startswith(name(a) + ".") and not name(a).startswith(name(b) + "."):
                out[name(a)].add(name(b))
    return out


def unit(module: str) -> str:
    """The layer unit of a module: ``aqe_ci.<first component>`` (or the root package itself)."""
    return ".".join(module.split(".")[:2])


def layer_of(u: str) -> int:
    for i, units in enumerate(LAYERS):
        if u in units:
            return i
    raise AssertionError(f"{u} has no layer: add it to LAYERS here and to docs/architecture.md")


def edges() -> Iterable[tuple[str, str]]:
    for a, targets in sorted(GRAPH.items()):
        for b in sorted(targets):
            yield a, b


def test_the_graph_is_read() -> None:
    assert len(MODULES) > 80 and sum(len(t) for t in GRAPH.values()) > 150
    assert "aqe_ci.model.keys" in GRAPH["aqe_ci.storage.store"]
    assert "aqe_ci.app.compare" in GRAPH["aqe_ci.cli.commands.compare"]  # a lazy import inside the command
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_cycle_between_modules() -> None:
    assert cycles(GRAPH) == []


def test_no_cycle_between_packages() -> None:
    deepest = max(len(m.split(".")) for m in MODULES)
    for depth in range(2, deepest):
        assert cycles(collapsed(depth)) == [], f"packages at depth {depth}"


def test_every_unit_has_a_layer() -> None:
    for module in MODULES:
        layer_of(unit(module))


def test_imports_point_down_the_layers() -> None:
    wrong = []
    for a, b in edges():
        ua, ub = unit(a), unit(b)
        if ua == ub:
            continue
        la, lb = layer_of(ua), layer_of(ub)
        if la < lb or (la == lb and (ua, ub) not in SAME_LAYER):
            wrong.append(f"{a} (layer {la}) imports {b} (layer {lb})")
    assert wrong == []


def test_compare_is_pure_and_click_stays_in_the_cli() -> None:
    """compare/ takes documents, never the store; no use case or lower layer knows click."""
    for a, b in edges():
        if unit(a) == "aqe_ci.compare" and unit(b) == "aqe_ci.storage":
            # the Entry value type only (and so the package's __init__)
            assert b in ("aqe_ci.storage", "aqe_ci.storage.layout"), f"{a} imports {b}"
    for module, path in MODULES.items():
        if unit(module) not in ("aqe_ci.cli", "aqe_ci.__main__"):
            names = set(imported_names(module, path))
            assert "click" not in names, f"{module} imports click"
