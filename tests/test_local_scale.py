"""Queries cost what they return: on 10,000 stored runs, list/get read a bounded number of files."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from aqe_ci.cli import main
from aqe_ci.storage.local import LocalBackend
from bench.populate import commit_for, populate

RUNS = 10_000


@pytest.fixture(scope="session")
def big_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scale") / ".qe-artifacts"
    assert populate(functools.partial(LocalBackend, root, fsync=False), RUNS, days=400) == RUNS
    return root


@pytest.fixture(scope="session")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("small") / ".qe-artifacts"
    populate(functools.partial(LocalBackend, root, fsync=False), 100, days=400, processes=1)
    return root


@contextmanager
def count_io(root: Path) -> Iterator[dict[str, list[str]]]:
    """Record every file open and directory listing under ``root`` (Python audit events)."""
    seen: dict[str, list[str]] = {"open": [], "scandir": []}
    prefix = str(root)
    active = True

    def hook(event: str, args: tuple) -> None:  # type: ignore[type-arg]
        if not active:
            return
        if event == "open" and isinstance(args[0], str | Path) and str(args[0]).startswith(prefix):
            seen["open"].append(str(args[0]))
        elif event in ("os.scandir", "os.listdir") and args and str(args[0]).startswith(prefix):
            seen["scandir"].append(str(args[0]))

    sys.addaudithook(hook)
    try:
        yield seen
    finally:
        active = False  # audit hooks cannot be removed; this one goes quiet


def run_counted(root: Path, args: list[str], monkeypatch: pytest.MonkeyPatch, capsys) -> tuple[dict, str]:  # type: ignore[no-untyped-def]
    cfg = root.parent / "storage.json"
    cfg.write_text(json.dumps({"local": {"base_path": str(root), "create_dirs": False}}))
    monkeypatch.setenv("AQE_CONFIG", str(cfg))
    capsys.readouterr()
    with count_io(root) as seen:
        assert main(args) == 0
    return seen, capsys.readouterr().out


QUERIES = {
    "list --limit 10": ["artifacts", "list", "--limit", "10", "--format", "json"],
    "get --branch main --latest": ["artifacts", "get", "--branch", "main", "--latest", "--type", "test_results"],
    "get --commit": ["artifacts", "get", "--commit", commit_for(42)[:10], "--type", "test_results"],
    "list --type --limit 5": ["artifacts", "list", "--type", "test_results", "--limit", "5", "--format", "json"],
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(QUERIES))
def test_query_cost_independent_of_store_size(name: str, big_store: Path, small_store: Path,
                                              monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    big, big_out = run_counted(big_store, QUERIES[name], monkeypatch, capsys)
    small, _ = run_counted(small_store, QUERIES[name], monkeypatch, capsys)
    # list reads no file at all (the index names carry what it shows); get reads a manifest and a payload
    assert len(big["open"]) <= 3, big["open"]
    assert len(big["open"]) == len(small["open"])
    # a handful of directory listings, the same on 100 and on 10,000 runs (+1 for the day shard)
    assert len(big["scandir"]) <= 6, big["scandir"]
    assert len(big["scandir"]) <= len(small["scandir"]) + 1
    if name.startswith("list --limit 10"):
        assert len(json.loads(big_out)["artifacts"]) == 10
    if name == "get --commit":
        assert json.loads(big_out)["type"] == "test_results"


@pytest.mark.slow
def test_list_returns_newest_first(big_store: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    _, out = run_counted(big_store, ["artifacts", "list", "--limit", "10", "--format", "json"], monkeypatch, capsys)
    keys = [a["key"] for a in json.loads(out)["artifacts"]]
    assert keys == [f"build-{i:06d}" for i in range(RUNS - 1, RUNS - 11, -1)]
    _, out = run_counted(big_store, ["artifacts", "list", "--branch", "release/1.x", "--limit", "3", "--format",
                                     "json"], monkeypatch, capsys)
    rows = json.loads(out)["artifacts"]
    assert [r["branch"] for r in rows] == ["release/1.x"] * 3
    assert rows[0]["created_at"] > rows[1]["created_at"] > rows[2]["created_at"]
