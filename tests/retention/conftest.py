from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from .history import Doc, make_docs, write_store

RUNS = 1000
SPAN_DAYS = 400


def _fast_dir() -> str | None:
    """tmpfs when the machine has one: the local backend fsyncs every object, slow on some disks."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


@pytest.fixture
def fast_tmp(tmp_path: Path) -> Iterator[Path]:
    base = _fast_dir()
    if base is None:
        yield tmp_path
        return
    d = Path(tempfile.mkdtemp(prefix="aqe-ret-", dir=base))
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


class History:
    def __init__(self, root: Path, docs: list[Doc], now: datetime) -> None:
        self.root = root
        self.docs = docs
        self.now = now
        self.now_ms = int(now.timestamp() * 1000)

    def copy_to(self, dest: Path) -> Path:
        # hard links: stored objects are never modified in place (writes publish a new name), so
        # a copy that shares inodes is independent and much faster to make than a byte copy
        shutil.copytree(self.root, dest, symlinks=True, copy_function=os.link)
        return dest


def _history(tmp_path_factory: pytest.TempPathFactory, runs: int) -> Iterator[History]:
    base = _fast_dir()
    work = Path(tempfile.mkdtemp(prefix="aqe-ret-hist-", dir=base)) if base else tmp_path_factory.mktemp("hist")
    now = datetime.now(UTC).replace(microsecond=0)
    docs = make_docs(runs=runs, days=SPAN_DAYS, now=now)
    write_store(work / "store", docs, work / "payloads")
    try:
        yield History(work / "store", docs, now)
    finally:
        if base:
            shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="session")
def history_1000(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    """1,000 runs over 400 days, three types, several branches and PRs, written once per session."""
    yield from _history(tmp_path_factory, RUNS)


@pytest.fixture(scope="session")
def history_250(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    """The same shape with 250 runs, for the many filter scenarios."""
    yield from _history(tmp_path_factory, 250)


def tree_digest(root: Path) -> dict[str, str]:
    """relative path → sha256 of every file under ``root`` (hidden temp files included)."""
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            p = Path(dirpath) / f
            out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out
