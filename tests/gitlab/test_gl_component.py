"""The GitLab CI/CD component and templates: GitLab's own schema (check-jsonschema's vendored
gitlab-ci schema) judges every YAML document, and gitlab-ci-local (pinned in tools/node) runs a
pipeline that includes the component from a checkout, with the shell executor and the venv's ``aqe``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from aqe_ci import __version__
from aqe_ci.storage.local import LocalBackend
from aqe_ci.storage.store import Query, Store
from tests.conftest import ROOT
from tests.servers.fake_gitlab import FakeGitLab

GCL = ROOT / "tools" / "node" / "node_modules" / ".bin" / "gitlab-ci-local"
CHECK_JSONSCHEMA = Path(sys.executable).with_name("check-jsonschema")
COMPONENT = ROOT / "templates" / "aqe-artifacts.yml"
LEGACY = ROOT / ".gitlab-ci-template.yml"
INPUT_RE = re.compile(r"\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*\]\]")


def documents(path: Path) -> list[dict[str, Any]]:
    return list(yaml.safe_load_all(path.read_text()))


def validate(tmp_path: Path, name: str, document: Any) -> subprocess.CompletedProcess[str]:
    path = tmp_path / f"{name}.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return subprocess.run([str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.gitlab-ci", str(path)],
                          capture_output=True, text=True, timeout=120, check=False)


# -- the YAML against GitLab's schema -------------------------------------------------------------------
@pytest.mark.parametrize("path", sorted((ROOT / "templates").glob("*.yml")) + [LEGACY, ROOT / ".gitlab-ci.yml"],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_every_yaml_document_validates_against_the_gitlab_ci_schema(path: Path, tmp_path: Path) -> None:
    docs = documents(path)
    if path.parent.name == "templates":
        assert len(docs) == 2 and set(docs[0]) == {"spec"}, "a component: the spec header, then the jobs"
    for n, doc in enumerate(docs):
        proc = validate(tmp_path, f"doc{n}", doc)
        assert proc.returncode == 0, f"{path.name} document {n}: {proc.stdout}{proc.stderr}"


def test_the_schema_check_can_fail(tmp_path: Path) -> None:
    job = documents(COMPONENT)[1]
    broken = json.loads(json.dumps(job))
    next(iter(broken.values()))["rules"][0]["when"] = "sometimes"
    assert validate(tmp_path, "broken", broken).returncode == 1
    spec = documents(COMPONENT)[0]
    spec["spec"]["inputs"]["stage"]["type"] = "text"
    assert validate(tmp_path, "broken-spec", spec).returncode == 1


def test_inputs_are_typed_documented_and_all_used() -> None:
    spec, job = documents(COMPONENT)
    inputs = spec["spec"]["inputs"]
    used = set(INPUT_RE.findall(COMPONENT.read_text().split("\n---\n", 1)[1]))
    assert used == set(inputs), (sorted(set(inputs) - used), sorted(used - set(inputs)))
    for name, definition in inputs.items():
        assert len(definition.get("description", "")) > 20, name
        if "options" in definition:
            assert definition["default"] in definition["options"], name
    assert "default" not in inputs["files"]  # the one thing only the user knows: mandatory
    assert inputs["comment-mode"]["options"] == ["update", "recreate", "new", "off"]
    assert inputs["comment-on"]["options"] == ["always", "changes", "failures", "regressions"]
    assert all(inputs[n]["type"] == "boolean" for n in ("merge-requests", "default-branch", "branches", "tags",
                                                        "badge-publish"))
    assert inputs["badge-on"]["options"] == ["default-branch", "branches"]
    badges = re.compile(inputs["badges"]["regex"])
    assert all(badges.match(v) for v in ("none", "all", "coverage", "tests,security", "coverage,tests,security"))
    assert not any(badges.match(v) for v in ("", "lines", "coverage,", "all,tests", "coverage tests"))
    assert len(spec["spec"]["description"]) <= 256


def test_the_image_is_this_release_and_both_templates_run_the_same_job() -> None:
    spec, job_doc = documents(COMPONENT)
    assert spec["spec"]["inputs"]["image"]["default"].endswith(f":{__version__}")
    legacy = documents(LEGACY)[0]
    assert legacy["variables"]["AQE_IMAGE"] == spec["spec"]["inputs"]["image"]["default"]
    component_job = next(iter(job_doc.values()))
    legacy_job = legacy[".aqe-report"]
    assert legacy_job["script"] == component_job["script"] == ["aqe ci gitlab"]
    assert legacy_job["artifacts"]["reports"] == component_job["artifacts"]["reports"]
    assert set(legacy_job["variables"]) == set(component_job["variables"])
    assert legacy["aqe-report"] == {"extends": ".aqe-report"}


# -- gitlab-ci-local runs the component --------------------------------------------------------------------
@pytest.fixture(scope="module")
def gcl() -> Path:
    if not GCL.exists():
        pytest.fail(f"{GCL} is missing: run `make node-tools`")
    if shutil.which("rsync") is None:
        pytest.fail("gitlab-ci-local needs rsync: `make test` installs it (apt-get install rsync)")
    return GCL


def component_checkout(tmp_path: Path, include_inputs: dict[str, Any]) -> Path:
    """A git checkout of a component project (remote acme/aqe-artifacts) whose pipeline includes
    the component at its own commit, as GitLab's docs test a component."""
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copytree(ROOT / "templates", repo / "templates")
    for name in ("junit.xml", "coverage.xml"):
        shutil.copyfile(ROOT / "examples" / "reports" / "pr" / name, repo / name)
    pipeline = {
        "stages": ["test", "report"],
        "tests": {"stage": "test", "script": ["echo tests wrote junit.xml and coverage.xml"],
                  "artifacts": {"paths": ["junit.xml", "coverage.xml"]}},
        "include": [{"component": "$CI_SERVER_FQDN/$CI_PROJECT_PATH/aqe-artifacts@$CI_COMMIT_SHA",
                     "inputs": include_inputs}],
    }
    (repo / ".gitlab-ci.yml").write_text(yaml.safe_dump(pipeline, sort_keys=False))
    for args in (["init", "-q", "-b", "main"], ["remote", "add", "origin", "https://gitlab.example.com/acme/aqe-artifacts.git"],
                 ["add", "-A"], ["-c", "user.email=ci@example.com", "-c", "user.name=ci", "commit", "-qm", "component"]):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
    return repo


def run_pipeline(gcl: Path, repo: Path, *args: str, variables: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CI_", "GITLAB_", "AQE_", "GITHUB_"))}
    env.update(PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}", HOME=str(repo.parent),
               NO_PROXY="127.0.0.1,localhost")
    cmd = [str(gcl), "--force-shell-executor", "--no-color", "--variable", "GITLAB_CI=true", *args]
    for k, v in (variables or {}).items():
        cmd += ["--variable", f"{k}={v}"]
    return subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL, check=False)


INPUTS = {"stage": "report", "files": "junit.xml coverage.xml", "backend": "local", "job-prefix": "qe",
          "comment-id": "ci-local", "branches": True, "fail-on": "coverage_drop>90", "badges": "coverage,tests",
          "badge-publish": True}


def test_gitlab_ci_local_runs_the_component_from_this_checkout(gcl: Path, tmp_path: Path) -> None:
    repo = component_checkout(tmp_path, INPUTS)
    proc = run_pipeline(gcl, repo)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    assert re.search(r"PASS\s+qe-report", log), log[-2000:]  # job-prefix interpolated into the job name
    assert "qe-report starting shell (report)" in log  # stage input
    assert "$ aqe ci gitlab" in log
    note = (repo / ".aqe" / "note.md").read_text()
    assert note.startswith("<!-- aqe-artifacts:comment id=ci-local -->")  # comment-id input
    out = dict(line.split("=", 1) for line in (repo / ".aqe" / "aqe.env").read_text().splitlines())
    assert out["AQE_GATES"] == "passed" and out["AQE_COMMENT_FILE"] == ".aqe/note.md"  # fail-on input
    stored = list(Store(LocalBackend(repo / ".qe-artifacts")).list(Query()))
    assert {(e.key, e.type, e.branch) for e in stored} == {(out["AQE_KEY"], t, "main") for t in ("test_results", "coverage")}
    assert out["AQE_KEY"].startswith("gl-")
    assert sorted(p.parent.name for p in (repo / ".aqe" / "reports").rglob("*.xml")) == ["coverage", "junit"]
    # badges input: the default branch's pipeline writes them into the artifacts and, badge-publish, the store
    names = ["coverage.json", "coverage.svg", "tests.json", "tests.svg"]
    assert sorted(p.name for p in (repo / ".aqe" / "badges").iterdir()) == names
    assert sorted(p.name for p in (repo / ".qe-artifacts" / "badges" / "main").iterdir()) == names
    assert out["AQE_BADGES"] == "coverage,tests" and out["AQE_BADGE_DIR"] == ".aqe/badges"


def test_gitlab_ci_local_merge_request_pipeline_posts_the_note(gcl: Path, tmp_path: Path, fake_gitlab: FakeGitLab,
                                                              gl: dict[str, Any]) -> None:
    repo = component_checkout(tmp_path, {**INPUTS, "branches": False})
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, text=True, capture_output=True, check=True).stdout.strip()
    project = gl["project"]
    iid = max(project.mrs) + 1
    fake_gitlab.add_mr(project, iid)
    base = run_pipeline(gcl, repo, "--input", "branches=true")
    assert base.returncode == 0, base.stdout[-3000:]
    mr_vars = {"CI_MERGE_REQUEST_IID": str(iid), "CI_MERGE_REQUEST_PROJECT_ID": str(project.id),
               "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": str(project.id), "CI_API_V4_URL": fake_gitlab.api_url,
               "CI_MERGE_REQUEST_PROJECT_URL": f"{fake_gitlab.url}/{project.path}",
               "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
               "CI_MERGE_REQUEST_DIFF_BASE_SHA": head, "CI_MERGE_REQUEST_EVENT_TYPE": "detached",
               "CI_PIPELINE_SOURCE": "merge_request_event", "AQE_GITLAB_TOKEN": gl["bot_token"]}
    proc = run_pipeline(gcl, repo, variables=mr_vars)
    assert proc.returncode == 0, proc.stdout[-4000:]
    notes = [n for n in project.mrs[iid].notes if n.author.id == gl["bot"].id]
    assert len(notes) == 1 and "id=ci-local" in notes[0].body
    assert f"MR note created: {fake_gitlab.url}/{project.path}/-/merge_requests/{iid}#note_{notes[0].id}" in proc.stdout
    assert gl["bot_token"] not in proc.stdout + proc.stderr
    assert "badges: none made, this run belongs to pull/merge request" in proc.stdout  # badges show a branch
    # rules: with merge-requests false the job is not part of an MR pipeline
    skipped = run_pipeline(gcl, repo, "--input", "merge-requests=false", variables=mr_vars)
    assert skipped.returncode == 0 and "qe-report" not in skipped.stdout, skipped.stdout[-2000:]
