"""`make demo`, last part: the GitHub action's step as a runner runs it, against a local fake GitHub.

A runner's directories and environment are laid out under a temporary directory (the workspace,
``event.json``, the file-command files; ``INPUT_*`` for every input of action.yml) and
``entrypoint.py`` runs twice as a plain process, like ``docker run`` would start it: a push to main
stores the baseline, then a pull request run stores, compares against the merge-base run and posts
the sticky comment on PR #42 of the fake GitHub (127.0.0.1, spoken to by the real PyGithub). The
step's log, its outputs and the posted comment are printed.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.action.runner_env import Runner, git, payload, sample_history  # noqa: E402
from tests.servers.fake_github import BOT, FakeGitHub  # noqa: E402

TOKEN = "ghs_demo0000000000000000000000000000000"
FILES = "reports/junit.xml\nreports/coverage.xml\nreports/bandit.json"


def heading(text: str) -> None:
    print(f"\n\033[1m== {text}\033[0m", flush=True)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="aqe-action-demo-") as tmp, FakeGitHub() as gh:
        gh.add_token(TOKEN, BOT)
        runner = Runner(Path(tmp), api_url=gh.url, token=TOKEN)
        ws = runner.workspace
        base, head = sample_history(ws)
        gh.add_pull("acme/widgets", 42, head, head_ref="feature/json-storage", base_sha=base)

        heading("the action on a push to main (stores the baseline run)")
        git(ws, "checkout", "-q", "main")
        shutil.copytree(ROOT / "examples" / "reports" / "base", ws / "reports")
        env = runner.environment("push", payload("push", HEAD_SHA=base), sha=base, ref="refs/heads/main",
                                 inputs={"files": FILES})
        step = runner.run(env)
        print(step.stdout + step.stderr, end="")
        if step.code:
            return step.code

        heading("the action on pull request #42 (stores, compares with the merge-base run, comments)")
        git(ws, "checkout", "-q", "feature/json-storage")
        shutil.rmtree(ws / "reports")
        shutil.copytree(ROOT / "examples" / "reports" / "pr", ws / "reports")
        ev = payload("pull_request", HEAD_SHA=head, BASE_SHA=base)
        env = runner.environment("pull_request", ev, sha="f" * 40, ref="refs/pull/42/merge",
                                 head_ref="feature/json-storage", base_ref="main", inputs={"files": FILES})
        step = runner.run(env)
        print(step.stdout + step.stderr, end="")
        heading("step outputs (GITHUB_OUTPUT)")
        for name, value in step.outputs.items():
            print(f"{name}={value}")
        heading("GitHub API requests made by the pull request step")
        for request in gh.requests:
            if request.token == TOKEN and request.at:
                print(request.line())
        comments = gh.comments("acme/widgets", 42)
        heading(f"the comment posted on PR #42 ({len(comments)} on the PR)")
        for c in comments:
            print(c.body)
        return step.code


if __name__ == "__main__":
    raise SystemExit(main())
