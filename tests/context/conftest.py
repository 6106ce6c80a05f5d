"""Real git repositories and a git runner that sees no repository, for context detection tests."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from aqe_ci.git import Git


def git_env(ceiling: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({
        "GIT_CEILING_DIRECTORIES": str(ceiling),  # never discover a repository above the test dir
        "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
        "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.invalid",
    })
    return env


class Repo:
    """A real repository on branch ``main`` with two commits and an ``origin`` remote URL."""

    def __init__(self, path: Path, env: dict[str, str]) -> None:
        self.path, self.env = path, env
        path.mkdir()
        self.git("init", "-q", "-b", "main")
        for n in (1, 2):
            (path / "file.txt").write_text(f"version {n}\n")
            self.git("add", "file.txt")
            self.git("commit", "-q", "-m", f"commit {n}")
        self.git("remote", "add", "origin", "https://x-access-token:s3cr3t@github.com/acme/widgets.git")
        self.head = self.git("rev-parse", "HEAD")

    def git(self, *args: str) -> str:
        return subprocess.run(["git", *args], cwd=self.path, env=self.env, check=True,
                              capture_output=True, text=True).stdout.strip()

    def runner(self) -> Git:
        return Git(self.path, env=self.env)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "repo", git_env(tmp_path))


@pytest.fixture
def nogit(tmp_path: Path) -> Git:
    empty = tmp_path / "empty"
    empty.mkdir()
    return Git(empty, env=git_env(tmp_path))
