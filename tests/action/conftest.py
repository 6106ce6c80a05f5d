"""Fixtures of the action tests: the fake GitHub server and the runner's environment."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.action.runner_env import ROOT, Runner, Step, git, payload, sample_history
from tests.servers.fake_github import BOT, FakeGitHub

REPO = "acme/widgets"
TOKEN = "ghs_" + "T0kenCanary" * 3  # an installation token, like GITHUB_TOKEN


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    """A fresh fake GitHub on 127.0.0.1 that knows the installation token ``TOKEN``."""
    with FakeGitHub() as fake:
        fake.add_token(TOKEN, BOT)
        yield fake


REPORTS = ROOT / "examples" / "reports"
FILES = "reports/junit.xml\nreports/coverage.xml\nreports/bandit.json"
LIST = f"GET /repos/{REPO}/issues/42/comments?per_page=100"


@dataclass
class Job:
    runner: Runner
    github: FakeGitHub
    base_sha: str
    head_sha: str

    def _reports(self, which: str, edit: Callable[[Path], None] | None = None) -> None:
        dest = self.runner.workspace / "reports"
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(REPORTS / which, dest)
        if edit is not None:
            edit(dest)

    def push(self, **inputs: str) -> Step:
        """A push to main: stores the baseline run."""
        git(self.runner.workspace, "checkout", "-q", "main")
        self._reports("base")
        env = self.runner.environment("push", payload("push", HEAD_SHA=self.base_sha), sha=self.base_sha,
                                      ref="refs/heads/main", inputs={"files": FILES, **inputs})
        return self.runner.run(env)

    def pull_request(self, event: str = "pull_request", extra: dict[str, str] | None = None,
                     edit: Callable[[Path], None] | None = None, **inputs: str) -> Step:
        """A run of PR #42 (feature/json-storage → main); ``edit`` changes its copied reports."""
        git(self.runner.workspace, "checkout", "-q", "feature/json-storage")
        self._reports("pr", edit)
        ev = payload(event, HEAD_SHA=self.head_sha, BASE_SHA=self.base_sha)
        sha, ref = ("f" * 40, "refs/pull/42/merge") if event == "pull_request" else (self.base_sha, "refs/heads/main")
        env = self.runner.environment(event, ev, sha=sha, ref=ref, head_ref="feature/json-storage", base_ref="main",
                                      inputs={"files": FILES, **inputs}, extra=extra)
        return self.runner.run(env)


@pytest.fixture
def job(tmp_path: Path, github: FakeGitHub) -> Iterator[Job]:
    runner = Runner(tmp_path, api_url=github.url, token=TOKEN)
    base, head = sample_history(runner.workspace)
    github.add_pull(REPO, 42, head, head_ref="feature/json-storage", base_sha=base)
    yield Job(runner, github, base, head)


def assert_no_secret(step: Step, *extra: str, secrets: tuple[str, ...] = ()) -> None:
    """The tokens only ever appear in the ::add-mask:: lines, which come before anything else."""
    lines = step.stdout.splitlines()
    masks = [i for i, line in enumerate(lines) if line.startswith("::add-mask::")]
    assert masks == list(range(len(masks))), "::add-mask:: must come before anything else is printed"
    known = [TOKEN, step.env.get("ACTIONS_RUNTIME_TOKEN", TOKEN), *secrets]
    rest = "\n".join(lines[len(masks):])
    for text in (rest, step.stderr, json.dumps(step.outputs), step.summary, *extra):
        for s in known:
            assert s not in text
