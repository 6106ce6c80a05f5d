"""The action's files, judged by the platform's own tools (check-jsonschema with SchemaStore's
github-actions schema, actionlint, hadolint — all from PyPI in the test extra) and kept in step with
each other and the code: the composite variant has the docker action's inputs and outputs and runs
the same entrypoint, the outputs are what publish_run writes, the image lock covers every runtime
dependency, the README documents every input and output."""

from __future__ import annotations

import importlib.metadata as md
import re
import subprocess
import sys
import sysconfig
import tomllib
from importlib.util import MAGIC_NUMBER, cache_from_source
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement

from aqe_ci.app.badge import BADGE_OUTPUTS
from aqe_ci.app.publish import outputs_for
from aqe_ci.model.comparison import Baseline, Comparison, RunRef
from tests.action.conftest import FILES, REPO, TOKEN, Job
from tests.action.runner_env import ROOT, payload
from tests.action.runner_files import parse_file_command

BIN = Path(sys.executable).parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def tool(name: str, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    exe = BIN / name
    assert exe.exists(), f"{name} is installed by `make test` (pyproject [test] extra)"
    return subprocess.run([str(exe), *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


ACTION, COMPOSITE = load(ROOT / "action.yml"), load(ROOT / "composite" / "action.yml")


# -- the platform's tools ---------------------------------------------------------------------------
def test_action_manifests_validate_against_the_github_actions_schema() -> None:
    proc = tool("check-jsonschema", "--builtin-schema", "vendor.github-actions", "action.yml",
                "composite/action.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_schema_check_rejects_a_broken_manifest(tmp_path: Path) -> None:
    bad = tmp_path / "action.yml"
    bad.write_text("name: x\ndescription: y\nruns:\n  using: docker\n")  # no image
    assert tool("check-jsonschema", "--builtin-schema", "vendor.github-actions", str(bad)).returncode == 1


def test_workflows_pass_actionlint() -> None:
    assert WORKFLOWS, "expected .github/workflows/*.yml"
    proc = tool("actionlint", *[str(w.relative_to(ROOT)) for w in WORKFLOWS])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def docs_workflows() -> list[tuple[str, str]]:
    """The whole workflows the docs show: a yaml block that starts at the top level and has ``on:``
    and ``jobs:`` (fragments of steps are left out)."""
    found = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for block in re.findall(r"^```ya?ml\n(.*?)^```", page.read_text(encoding="utf-8"), re.S | re.M):
            lines = [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
            whole = bool(lines) and not lines[0].startswith(" ")  # not a fragment of steps
            if whole and re.search(r"^on:", block, re.M) and re.search(r"^jobs:", block, re.M):
                found.append((str(page.relative_to(ROOT)), block))
    return found


def test_the_workflows_the_docs_show_pass_actionlint(tmp_path: Path) -> None:
    shown = docs_workflows()
    assert any(page == "docs/badges.md" for page, _ in shown)  # the Pages recipe at least
    for i, (page, block) in enumerate(shown):
        wf = tmp_path / ".github" / "workflows" / f"doc{i}.yml"
        wf.parent.mkdir(parents=True, exist_ok=True)
        wf.write_text(block, encoding="utf-8")
        proc = tool("actionlint", str(wf.relative_to(tmp_path)), cwd=tmp_path)
        assert proc.returncode == 0, f"{page}: {proc.stdout}{proc.stderr}"


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    wf = tmp_path / ".github" / "workflows" / "bad.yml"
    wf.parent.mkdir(parents=True)
    wf.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                  "      - run: echo ${{ github.event.pull_request.title }}\n      - uses: actions/checkout@v5\n"
                  "        with: {no-such-input: 1}\n")
    proc = tool("actionlint", str(wf.relative_to(tmp_path)), cwd=tmp_path)
    assert proc.returncode == 1 and "no-such-input" in proc.stdout


def test_the_dockerfile_passes_hadolint() -> None:
    proc = tool("hadolint", "Dockerfile")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_hadolint_catches_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM debian\nRUN apt-get install gcc\nWORKDIR app\n")
    proc = tool("hadolint", str(bad))
    assert proc.returncode == 1 and "DL3006" in proc.stdout


# -- kept in step -------------------------------------------------------------------------------------
def test_the_composite_variant_has_the_same_inputs_and_outputs() -> None:
    assert COMPOSITE["inputs"] == ACTION["inputs"]
    assert {k: v["description"] for k, v in COMPOSITE["outputs"].items()} == \
        {k: v["description"] for k, v in ACTION["outputs"].items()}
    run = next(s for s in COMPOSITE["runs"]["steps"] if s.get("id") == "run")
    assert {k: v for k, v in run["env"].items() if k.startswith("INPUT_")} == \
        {f"INPUT_{name.upper()}": f"${{{{ inputs.{name} }}}}" for name in ACTION["inputs"]}
    for name, spec in COMPOSITE["outputs"].items():
        assert spec["value"] == f"${{{{ steps.run.outputs.{name} }}}}"
    assert "entrypoint.py" in run["run"]


def test_action_outputs_are_what_the_step_writes() -> None:
    result = Comparison(head=RunRef(key="k", created_ms=0), baseline=Baseline(method="none", reason="none stored"))
    assert set(ACTION["outputs"]) == set(outputs_for(result, key="k")) | {"comment-file"} | set(BADGE_OUTPUTS)


def test_main_builds_from_the_dockerfile_and_the_release_points_at_the_image() -> None:
    assert (ACTION["runs"]["using"], ACTION["runs"]["image"]) == ("docker", "Dockerfile")
    release = (ROOT / ".github" / "workflows" / "release.yml").read_text()
    # the release commit rewrites exactly this line of action.yml to docker://ghcr.io/OWNER/aqe-artifacts:VERSION
    assert 's|^  image: Dockerfile$|  image: ${ref}|' in release
    assert re.search(r"^  image: Dockerfile$", (ROOT / "action.yml").read_text(), re.M)
    assert "platforms: linux/amd64,linux/arm64" in release


def test_the_image_lock_pins_the_whole_runtime_closure() -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    closure: set[str] = set()

    def walk(req: Requirement) -> None:
        name = re.sub(r"[-_.]+", "-", req.name).lower()
        if name in closure:
            return
        closure.add(name)
        for r in md.distribution(req.name).requires or []:
            sub = Requirement(r)
            if sub.marker is None or any(sub.marker.evaluate({"extra": e}) for e in ("", *req.extras)):
                walk(sub)

    for d in deps:
        walk(Requirement(d))
    lock = ROOT / "tools" / "image" / "requirements.txt"
    pinned = {line.split("==")[0].lower() for line in lock.read_text().splitlines() if "==" in line}
    left_out = {"cryptography", "pycparser", "jsonschema-rs"}  # each with its reason in the file
    assert all(f"#   {name}" in lock.read_text() for name in left_out)
    assert pinned == closure - left_out, "tools/image/requirements.txt out of step with pyproject"


def test_the_image_ships_bytecode_of_the_listed_stdlib_modules(tmp_path: Path) -> None:
    from tools.image import stdlib_bytecode

    listing = ROOT / "tools" / "image" / "stdlib-modules.txt"
    names = [line for line in listing.read_text().splitlines() if line and not line.startswith("#")]
    assert names == sorted(set(names)), "one module a line, sorted"
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    assert {n for n in names if stdlib_bytecode.source_of(n, stdlib) is None} <= {"sitecustomize"}  # Debian's
    assert stdlib_bytecode.main([str(listing), str(tmp_path)]) == 0
    for name in ("json.decoder", "email", "concurrent.futures.thread"):
        source = stdlib_bytecode.source_of(name, stdlib)
        assert source is not None
        pyc = (tmp_path / Path(cache_from_source(str(source))).relative_to("/")).read_bytes()
        assert pyc[:4] == MAGIC_NUMBER and int.from_bytes(pyc[4:8], "little") == 0b01  # unchecked hash


def test_the_readme_documents_every_input_and_output() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [f"input {n}" for n in ACTION["inputs"] if f"| `{n}` |" not in readme]
    missing += [f"output {n}" for n in ACTION["outputs"] if f"| `{n}` |" not in readme]
    assert not missing, missing


# -- the composite step runs the same entrypoint ------------------------------------------------------------
def expand(value: str, inputs: dict[str, str], steps: dict[str, str]) -> str:
    def sub(m: re.Match[str]) -> str:
        expr = m.group(1).strip()
        if expr.startswith("inputs."):
            return inputs[expr.removeprefix("inputs.")]
        if expr.startswith("steps."):
            return steps[expr]
        raise AssertionError(f"unexpected expression {expr}")
    return re.sub(r"\$\{\{(.*?)\}\}", sub, value)


@pytest.mark.parametrize("event", ["pull_request"])
def test_the_composite_run_step_comments_like_the_docker_action(job: Job, event: str) -> None:
    job.push()
    job._reports("pr")
    from tests.action.conftest import git

    git(job.runner.workspace, "checkout", "-q", "feature/json-storage")
    ev = payload(event, HEAD_SHA=job.head_sha, BASE_SHA=job.base_sha)
    host = job.runner.environment(event, ev, sha="f" * 40, ref="refs/pull/42/merge", head_ref="feature/json-storage",
                                  base_ref="main", inputs={})
    host = {k: v for k, v in host.items() if not k.startswith("INPUT_")}  # a composite gets no INPUT_ variables
    inputs = {name: str(spec.get("default", "")) for name, spec in COMPOSITE["inputs"].items()}
    inputs.update({"files": FILES, "github-token": TOKEN})
    run = next(s for s in COMPOSITE["runs"]["steps"] if s.get("id") == "run")
    env = {**host, "GITHUB_ACTION_PATH": str(ROOT / "composite")}
    env.update({k: expand(v, inputs, {"steps.install.outputs.python": sys.executable}) for k, v in run["env"].items()})
    proc = subprocess.run(["bash", "-c", run["run"]], cwd=job.runner.workspace, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [comment] = job.github.comments(REPO, 42)
    outputs = parse_file_command(Path(env["GITHUB_OUTPUT"]))
    assert outputs["comment-id"] == str(comment.id) and outputs["baseline-key"]


def test_the_runner_env_reads_action_yml_the_same_without_yaml() -> None:
    from tests.action import runner_env

    for path in (ROOT / "action.yml", ROOT / "composite" / "action.yml"):
        assert runner_env._inputs_without_yaml(path.read_text()) == runner_env.declared_inputs(path)
    assert runner_env.runs_env(ROOT / "action.yml") == ACTION["runs"]["env"] == {
        "GITHUB_TOKEN": "${{ inputs.github-token }}"}
