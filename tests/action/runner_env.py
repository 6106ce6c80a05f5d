"""The exact environment the GitHub runner gives a Docker action's container (platform reference §1.3–1.5).

:class:`Runner` lays out the host directories the runner mounts (workspace, ``_github_workflow`` with
``event.json``, ``_runner_file_commands`` with the per-step ``set_output_<uuid>`` /
``step_summary_<uuid>`` files, home, temp) under a temporary directory and builds the container's
environment from them: the ``GITHUB_*`` allowlist (no ``GITHUB_TOKEN``), ``RUNNER_*``, the Actions
runtime variables, ``HOME``, ``GITHUB_ACTIONS``/``CI``, and one ``INPUT_<NAME>`` (hyphens kept) for
**every** input declared in action.yml, with its default when the step's ``with:`` does not give it.
:meth:`Runner.run` then starts ``entrypoint.py`` as a plain process with that environment and
nothing else, in the workspace, like ``docker run --workdir /github/workspace``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.action.runner_files import parse_file_command

ROOT = Path(__file__).resolve().parents[2]
EVENTS = Path(__file__).resolve().parent / "events"
ENTRYPOINT = ROOT / "entrypoint.py"


def declared_inputs(action_yml: Path = ROOT / "action.yml") -> dict[str, str]:
    """Input name → its default (as text) from an action.yml."""
    text = action_yml.read_text(encoding="utf-8")
    try:
        import yaml
    except ImportError:  # `make demo` installs the package without the test extra: read our own layout
        return _inputs_without_yaml(text)
    meta = yaml.safe_load(text)
    return {name: str(spec.get("default", "")) for name, spec in (meta.get("inputs") or {}).items()}


def _inputs_without_yaml(text: str) -> dict[str, str]:
    """Our action.yml's inputs: ``  name:`` lines under ``inputs:``, each with a one-line ``    default:``."""
    block = text.split("\ninputs:\n", 1)[1].split("\n\n", 1)[0]
    out: dict[str, str] = {}
    name = None
    for line in block.splitlines():
        if line.startswith("  ") and not line.startswith("   ") and line.rstrip().endswith(":"):
            name = line.strip()[:-1]
            out[name] = ""
        elif name and line.startswith("    default:"):
            value = line.split(":", 1)[1].strip()
            out[name] = value[1:-1] if value[:1] in "'\"" and len(value) > 1 else value
    return out


def runs_env(action_yml: Path) -> dict[str, str]:
    """``runs.env`` of an action.yml (what a Docker action adds to its container's environment)."""
    try:
        import yaml
    except ImportError:  # our action.yml: "  env:" under runs, then "    NAME: value" lines
        block = action_yml.read_text(encoding="utf-8").split("\nruns:\n", 1)[1]
        if "\n  env:\n" not in block:
            return {}
        lines = block.split("\n  env:\n", 1)[1].splitlines()
        return dict(line.strip().split(": ", 1) for line in lines
                    if line.startswith("    ") and not line.strip().startswith("#") and ": " in line)
    meta = yaml.safe_load(action_yml.read_text(encoding="utf-8"))
    return {k: str(v) for k, v in ((meta.get("runs") or {}).get("env") or {}).items()}


def _expand_inputs(value: str, inputs: Mapping[str, str]) -> str:
    import re

    return re.sub(r"\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}", lambda m: inputs.get(m.group(1), ""), value)


def payload(event: str, **values: Any) -> dict[str, Any]:
    """The webhook payload ``events/<event>.json`` with its ``{{NAME}}`` placeholders filled in."""
    repo = values.setdefault("REPO", "acme/widgets")
    values.setdefault("OWNER", repo.split("/")[0])
    values.setdefault("HEAD_REPO", repo)
    values.setdefault("HEAD_OWNER", values["HEAD_REPO"].split("/")[0])
    values.setdefault("FORK", json.dumps(values["HEAD_REPO"] != repo))
    values.setdefault("HEAD_REF", "feature/json-storage")
    values.setdefault("BASE_REF", "main")
    values.setdefault("MERGE_SHA", "f" * 40)
    values.setdefault("PR", 42)
    values.setdefault("PULL_REQUESTS", [])
    text = (EVENTS / f"{event}.json").read_text(encoding="utf-8")
    text = text.replace("{{REPOSITORY}}", (EVENTS / "_repository.json").read_text(encoding="utf-8"))
    for name, value in values.items():
        rendered = value if isinstance(value, str) else json.dumps(value)
        text = text.replace("{{" + name + "}}", rendered)
    assert "{{" not in text, f"unfilled placeholder in {event}.json: {text[text.index('{{'):][:40]}"
    return json.loads(text)  # type: ignore[no-any-return]


@dataclass
class Step:
    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str
    env: dict[str, str]

    @property
    def log(self) -> str:
        return self.stdout + self.stderr


class Runner:
    """One job's runner directories; each :meth:`run` is one step with fresh file-command files."""

    def __init__(self, root: Path, *, api_url: str, repo: str = "acme/widgets", run_id: int = 9876543210,
                 job: str = "test", token: str | None = None) -> None:
        self.root = root
        self.workspace = root / "work" / "widgets" / "widgets"
        self.temp = root / "work" / "_temp"
        for d in (self.workspace, self.temp / "_github_workflow", self.temp / "_runner_file_commands",
                  self.temp / "_github_home"):
            d.mkdir(parents=True, exist_ok=True)
        self.api_url, self.repo, self.run_id, self.job, self.token = api_url, repo, run_id, job, token
        self.attempt = 0

    def environment(self, event: str, event_payload: Mapping[str, Any], *, sha: str, ref: str,
                    inputs: Mapping[str, str], head_ref: str = "", base_ref: str = "",
                    extra: Mapping[str, str] | None = None, action_yml: Path = ROOT / "action.yml") -> dict[str, str]:
        self.attempt += 1
        commands = self.temp / "_runner_file_commands"
        step = uuid.uuid4()
        files = {name: commands / f"{prefix}_{step}" for name, prefix in (
            ("GITHUB_OUTPUT", "set_output"), ("GITHUB_ENV", "set_env"), ("GITHUB_PATH", "add_path"),
            ("GITHUB_STATE", "save_state"), ("GITHUB_STEP_SUMMARY", "step_summary"))}
        for f in files.values():
            f.write_text("")
        event_file = self.temp / "_github_workflow" / "event.json"
        event_file.write_text(json.dumps(event_payload), encoding="utf-8")
        kind = "tag" if ref.startswith("refs/tags/") else "branch"
        ref_name = ref.split("/", 2)[2] if ref.startswith(("refs/heads/", "refs/tags/", "refs/pull/")) else ref
        env = {
            "GITHUB_ACTION": "aqe", "GITHUB_ACTION_PATH": "", "GITHUB_ACTION_REF": "", "GITHUB_ACTION_REPOSITORY": "",
            "GITHUB_ACTOR": "contributor", "GITHUB_ACTOR_ID": "5001", "GITHUB_API_URL": self.api_url,
            "GITHUB_BASE_REF": base_ref, "GITHUB_ENV": str(files["GITHUB_ENV"]), "GITHUB_EVENT_NAME": event,
            "GITHUB_EVENT_PATH": str(event_file), "GITHUB_GRAPHQL_URL": self.api_url + "/graphql",
            "GITHUB_HEAD_REF": head_ref, "GITHUB_JOB": self.job, "GITHUB_OUTPUT": str(files["GITHUB_OUTPUT"]),
            "GITHUB_PATH": str(files["GITHUB_PATH"]), "GITHUB_REF": ref, "GITHUB_REF_NAME": ref_name,
            "GITHUB_REF_PROTECTED": "false", "GITHUB_REF_TYPE": kind, "GITHUB_REPOSITORY": self.repo,
            "GITHUB_REPOSITORY_ID": "123456789", "GITHUB_REPOSITORY_OWNER": self.repo.split("/")[0],
            "GITHUB_REPOSITORY_OWNER_ID": "9919", "GITHUB_RETENTION_DAYS": "90",
            "GITHUB_RUN_ATTEMPT": str(self.attempt), "GITHUB_RUN_ID": str(self.run_id), "GITHUB_RUN_NUMBER": "311",
            "GITHUB_SERVER_URL": "https://github.com", "GITHUB_SHA": sha, "GITHUB_STATE": str(files["GITHUB_STATE"]),
            "GITHUB_STEP_SUMMARY": str(files["GITHUB_STEP_SUMMARY"]), "GITHUB_TRIGGERING_ACTOR": "contributor",
            "GITHUB_WORKFLOW": "CI", "GITHUB_WORKFLOW_REF": f"{self.repo}/.github/workflows/ci.yml@{ref}",
            "GITHUB_WORKFLOW_SHA": sha, "GITHUB_WORKSPACE": str(self.workspace),
            "RUNNER_OS": "Linux", "RUNNER_ARCH": "X64", "RUNNER_NAME": "GitHub Actions 7",
            "RUNNER_ENVIRONMENT": "github-hosted", "RUNNER_TOOL_CACHE": "/opt/hostedtoolcache",
            "RUNNER_TEMP": str(self.temp), "RUNNER_WORKSPACE": str(self.workspace.parent),
            "ACTIONS_RUNTIME_URL": "https://pipelines.actions.githubusercontent.com/abc/",
            "ACTIONS_RUNTIME_TOKEN": "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.runtime-canary.sig",
            "ACTIONS_RESULTS_URL": "https://results-receiver.actions.githubusercontent.com/",
            "ACTIONS_CACHE_URL": "https://artifactcache.actions.githubusercontent.com/abc/",
            "HOME": str(self.temp / "_github_home"), "GITHUB_ACTIONS": "true", "CI": "true",
            # the image's own environment (Dockerfile ENV)
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1",
        }
        defaults = declared_inputs(action_yml)
        unknown = set(inputs) - set(defaults)
        assert not unknown, f"inputs not declared in action.yml: {sorted(unknown)}"
        for name, default in defaults.items():
            value = inputs.get(name, default)
            if value == "${{ github.token }}":
                value = self.token or ""
            env["INPUT_" + name.replace(" ", "_").upper()] = value
        env.update(extra or {})
        # runs.env: evaluated with the inputs context, added only where the step has no such variable
        for name, value in runs_env(action_yml).items():
            if name not in env:
                env[name] = _expand_inputs(value, {n: env["INPUT_" + n.replace(" ", "_").upper()] for n in defaults})
        return env

    def run(self, env: Mapping[str, str], *, timeout: float = 120, argv: list[str] | None = None) -> Step:
        cmd = argv or [sys.executable, str(ENTRYPOINT)]
        proc = subprocess.run(cmd, cwd=self.workspace, env=dict(env), capture_output=True, text=True,
                              timeout=timeout, check=False)
        summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
        return Step(proc.returncode, proc.stdout, proc.stderr, parse_file_command(Path(env["GITHUB_OUTPUT"])),
                    summary, dict(env))


def git(repo: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "Dev",
                "GIT_AUTHOR_EMAIL": "dev@example.invalid", "GIT_COMMITTER_NAME": "Dev",
                "GIT_COMMITTER_EMAIL": "dev@example.invalid"})
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True,
                          text=True).stdout.strip()


def sample_history(ws: Path) -> tuple[str, str]:
    """The sample project's history in ``ws``: ``main`` with the base version, then the
    ``feature/json-storage`` branch with the pull request's version checked out. Returns (base, head) shas."""
    import shutil

    sample = ROOT / "examples" / "sample-project"
    git(ws, "init", "-q", "-b", "main")
    shutil.copytree(sample / "base", ws, dirs_exist_ok=True)
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "invoice: base")
    base = git(ws, "rev-parse", "HEAD")
    git(ws, "checkout", "-qb", "feature/json-storage")
    shutil.copytree(sample / "pr", ws, dirs_exist_ok=True)
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "invoice: store JSON, print")
    (ws / ".git" / "info" / "exclude").write_text("reports/\n.qe-artifacts/\n.aqe/\n")
    return base, git(ws, "rev-parse", "HEAD")
