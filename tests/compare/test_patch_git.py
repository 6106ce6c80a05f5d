"""Patch coverage on a real git history: coverage.py runs on two commits of a small project, and our
figure is checked against the changed lines the test computes itself from ``git diff -U0``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from aqe_ci.compare.patch import patch_coverage
from aqe_ci.git import Git

pytest.importorskip("coverage")

CALC_A = """\
def add(a, b):
    return a + b


def sub(a, b):
    return a - b
"""
CALC_B = """\
def add(a, b):
    return a + b


def sub(a, b):
    return a - b


# multiplication, called by the tests
def mul(a, b):
    result = a * b
    return result


def div(a, b):
    if b == 0:
        raise ZeroDivisionError("b is zero")
    return a / b
"""
UTIL_A = """\
def shout(text):
    return text.upper()


def whisper(text):
    return text.lower()


def same(text):
    return text
"""
# util.py moved to text.py with one edit (whisper's body): only that line is part of the patch
TEXT_B = UTIL_A.replace("return text.lower()", "return text.casefold()")
NEW_B = """\
def greet(name):
    if name:
        return "hello " + name
    return "hello nobody"
"""
RUN_A = "from app.calc import add\nfrom app.util import shout\nassert add(1, 2) == 3\nassert shout('a') == 'A'\n"
RUN_B = ("from app.calc import add, mul\nfrom app.text import shout\nfrom app.new import greet\n"
         "assert add(1, 2) == 3 and mul(2, 3) == 6\nassert shout('a') == 'A'\nassert greet('x') == 'hello x'\n")


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c",
                           "init.defaultBranch=main", *args], cwd=repo, check=True, capture_output=True, text=True)
    return proc.stdout.strip()


def write(repo: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        p = repo / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def run_coverage(repo: Path, out: Path, *, cwd: str = ".") -> dict[str, Any]:
    """coverage.py over run_tests.py, run in ``repo/cwd``; writes Cobertura XML to ``out`` and returns
    coverage.py's own JSON with its paths made repository-relative."""
    env = {**os.environ, "PYTHONPATH": str(repo / "src")}
    env.pop("COVERAGE_PROCESS_START", None)
    data = repo.parent / f".coverage-{out.stem}"
    where = repo / cwd
    source = os.path.relpath(repo / "src" / "app", where)
    for args in (["run", f"--data-file={data}", f"--source={source}", os.path.relpath(repo / "run_tests.py", where)],
                 ["xml", f"--data-file={data}", "-o", str(out)],
                 ["json", f"--data-file={data}", "-o", str(out.with_suffix(".json"))]):
        subprocess.run([sys.executable, "-m", "coverage", *args], cwd=where, env=env, check=True,
                       capture_output=True)
    report = json.loads(out.with_suffix(".json").read_text())
    prefix = "" if cwd == "." else cwd.rstrip("/") + "/"
    report["files"] = {prefix + k: v for k, v in report["files"].items()}
    return report


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """main: A ─ C (C touches another file after the branch); feature: A ─ B (the PR head)."""
    root = tmp_path_factory.mktemp("patch")
    repo = root / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    write(repo, {"src/app/__init__.py": "", "src/app/calc.py": CALC_A, "src/app/util.py": UTIL_A,
                 "run_tests.py": RUN_A, "README.md": "# demo\n"})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "A")
    a = git(repo, "rev-parse", "HEAD")
    base_cov = run_coverage(repo, root / "base.xml")
    git(repo, "checkout", "-q", "-b", "feature")
    git(repo, "mv", "src/app/util.py", "src/app/text.py")
    write(repo, {"src/app/calc.py": CALC_B, "src/app/text.py": TEXT_B, "src/app/new.py": NEW_B,
                 "run_tests.py": RUN_B, "README.md": "# demo\n\nMore words.\n", "docs/guide.txt": "a\nb\n"})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "B")
    b = git(repo, "rev-parse", "HEAD")
    # the head's coverage runs from src/ (as in a monorepo job): the report names app/calc.py, not src/app/calc.py
    head_cov = run_coverage(repo, root / "head.xml", cwd="src")
    git(repo, "checkout", "-q", "main")
    write(repo, {"src/app/__init__.py": "VERSION = 2\n"})
    git(repo, "commit", "-q", "-am", "C")
    c = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "feature")
    return {"repo": repo, "root": root, "A": a, "B": b, "C": c, "base_cov": base_cov, "head_cov": head_cov}


def independent_changed_lines(repo: Path, base: str, head: str) -> dict[str, set[int]]:
    """Head lines added or changed per file, read from the hunk headers of ``git diff -U0 -M``."""
    out = subprocess.run(["git", "diff", "-U0", "-M", base, head], cwd=repo, check=True, capture_output=True,
                         text=True).stdout
    changed: dict[str, set[int]] = {}
    current = None
    for line in out.splitlines():
        if line.startswith("+++ "):
            current = None if line == "+++ /dev/null" else line[6:]
            continue
        m = re.match(r"@@ -\S+ \+(\d+)(?:,(\d+))? @@", line)
        if m and current:
            start, n = int(m.group(1)), int(m.group(2) or 1)
            changed.setdefault(current, set()).update(range(start, start + n))
    return changed


def expected_patch(changed: dict[str, set[int]], cov: dict[str, Any]) -> dict[str, tuple[set[int], set[int]]]:
    """{path: (executable changed lines, uncovered changed lines)} from coverage.py's own JSON."""
    out = {}
    for path, lines in changed.items():
        f = cov["files"].get(path)
        if f is None:
            continue
        statements = set(f["executed_lines"]) | set(f["missing_lines"])
        out[path] = (lines & statements, lines & set(f["missing_lines"]))
    return out


def head_document(project: dict[str, Any]) -> dict[str, Any]:
    from aqe_ci.ingest.driver import ingest_files

    work = project["root"] / "ingest"
    work.mkdir(exist_ok=True)
    result = ingest_files([project["root"] / "head.xml"], workdir=work)
    assert result.ok, [p.one_line() for p in result.problems]
    return json.loads(result.documents["coverage"].path.read_text())["data"]


def test_patch_coverage_matches_git_diff_and_coverage_py(project: dict[str, Any]) -> None:
    repo = project["repo"]
    mb = git(repo, "merge-base", "main", "feature")
    assert mb == project["A"] != project["C"]
    changed = independent_changed_lines(repo, mb, project["B"])
    expected = expected_patch(changed, project["head_cov"])
    # the test's own view of what the change is: calc, text (only whisper's line), new; README/docs/run_tests unmeasured
    assert set(expected) == {"src/app/calc.py", "src/app/text.py", "src/app/new.py"}
    assert expected["src/app/text.py"] == ({6}, {6})

    doc = head_document(project)
    assert "app/calc.py" in doc["files"]  # relative to where coverage ran, not to the repository
    diffs = Git(repo).changed_files(mb, project["B"])
    assert diffs is not None
    pc = patch_coverage(diffs, doc, base=mb, head=project["B"])

    executable = sum(len(e) for e, _ in expected.values())
    uncovered = sum(len(u) for _, u in expected.values())
    assert pc.executable == executable
    assert pc.covered == executable - uncovered
    assert pc.rate == pytest.approx(100 * (executable - uncovered) / executable, abs=1e-4)
    got = {f.file: (f.executable, set(f.uncovered)) for f in pc.files}
    assert got == {p: (len(e), u) for p, (e, u) in expected.items()}
    by_file = {f.file: f for f in pc.files}
    assert by_file["src/app/text.py"].status == "renamed"
    assert by_file["src/app/text.py"].old_path == "src/app/util.py"
    assert by_file["src/app/calc.py"].coverage_file == "app/calc.py"
    assert by_file["src/app/new.py"].status == "added"
    assert {n.file for n in pc.not_measured} == {"README.md", "docs/guide.txt", "run_tests.py"}
    assert all(n.reason == "not in the coverage report" for n in pc.not_measured)
    # a not-measured file never counts as 0 %: the rate is over measured lines only
    assert pc.changed_lines == sum(len(v) for v in changed.values())


def test_compare_reports_patch_coverage_and_gates_on_it(aqe, project: dict[str, Any], tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The runs stored through the CLI, compared with the checkout: JSON, table, markdown and the gate."""
    repo, root = project["repo"], project["root"]
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"local": {"base_path": str(tmp_path / "store")}}))
    monkeypatch.setenv("AQE_CONFIG", str(cfg))
    r = aqe("artifacts", "store", "--file", str(root / "base.xml"), "--key", "base", "--commit", project["A"],
            "--branch", "main")
    assert r.code == 0, r.err
    r = aqe("artifacts", "store", "--file", str(root / "head.xml"), "--key", "head", "--commit", project["B"],
            "--branch", "feature", "--base-branch", "main", "--pr", "7")
    assert r.code == 0, r.err
    r = aqe("artifacts", "compare", "head", "--git-dir", str(repo), "--format", "json")
    assert r.code == 0, r.err
    c = json.loads(r.out)["comparison"]
    assert c["baseline"]["key"] == "base" and c["baseline"]["method"] == "merge-base"
    patch = c["coverage"]["patch"]
    expected = expected_patch(independent_changed_lines(repo, project["A"], project["B"]), project["head_cov"])
    executable = sum(len(e) for e, _ in expected.values())
    covered = executable - sum(len(u) for _, u in expected.values())
    assert (patch["executable"], patch["covered"]) == (executable, covered)
    assert patch["rate"] == round(100 * covered / executable, 4)
    assert patch["base"] == project["A"] and patch["head"] == project["B"] and patch["base_method"] == "merge-base"
    assert {f["file"]: f["uncovered_lines"] for f in patch["files"]} == {p: sorted(u) for p, (_, u) in expected.items()}
    assert [n["file"] for n in patch["not_measured"]] == ["README.md", "docs/guide.txt", "run_tests.py"]

    r = aqe("artifacts", "compare", "head", "--git-dir", str(repo), "--format", "markdown")
    assert f"**Patch** {patch['rate']:.2f}% ({covered}/{executable} changed lines)" in r.out
    assert f"| Patch coverage | — | {patch['rate']:.2f}% ({covered}/{executable} lines) | — |" in r.out
    assert "🩹 Patch coverage: 5 changed lines not covered in 3 files" in r.out
    assert "| src/app/calc\\.py | 12 | 7 | 4 | 57.14% | 16-18 |" in r.out
    assert "Changed files not measured (3" in r.out
    r = aqe("artifacts", "compare", "head", "--git-dir", str(repo), "--format", "table")
    assert "patch coverage" in r.out and "src/app/text.py" in r.out and "README.md" in r.out

    r = aqe("artifacts", "compare", "head", "--git-dir", str(repo), "--fail-on", "patch_coverage<80")
    assert r.code == 6 and "patch_coverage<80 (patch coverage 58.33% (7/12 changed lines))" in r.err
    r = aqe("artifacts", "compare", "head", "--git-dir", str(repo), "--fail-on", "patch_coverage<50")
    assert r.code == 0, r.err
    # explicit two-key form: the diff runs from the merge-base of the two runs' commits
    r = aqe("artifacts", "compare", "base", "head", "--git-dir", str(repo))
    assert json.loads(r.out)["comparison"]["coverage"]["patch"]["rate"] == patch["rate"]
    # no checkout: said plainly, and the gate is skipped, never failed
    r = aqe("artifacts", "compare", "head", "--git-dir", str(tmp_path), "--fail-on", "patch_coverage<80")
    assert r.code == 0
    out = json.loads(r.out)
    assert out["comparison"]["coverage"]["patch"] == {
        "available": False, "rate": None, "covered": 0, "executable": 0, "missed": 0, "changed_lines": 0,
        "base": None, "head": None, "files": [], "not_measured": [],
        "note": "no git checkout to diff the change in (--git-dir)"}
    assert out["gates"][0]["status"] == "skipped" and "no git checkout" in out["gates"][0]["message"]
