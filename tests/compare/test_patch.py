"""Patch coverage units: the diff parser (git.parse_diff), path matching and the pure computation."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from compare_builders import cov_doc, cov_file

from aqe_ci.compare.patch import PathMatcher, patch_coverage
from aqe_ci.git import FileDiff, Git, parse_diff, unquote_path


def lines(text: str) -> list[bytes]:
    return [ln.encode() + b"\n" for ln in text.splitlines()]


def test_parse_diff_skips_content_that_looks_like_headers() -> None:
    diff = lines("""\
diff --git a/m.py b/m.py
index 1..2 100644
--- a/m.py
+++ b/m.py
@@ -2 +2,3 @@ x
-+++ y
+++++ y
+diff --git a/fake b/fake
+@@ -1 +1 @@
@@ -10,0 +14 @@
+tail
\\ No newline at end of file
""")
    [f] = parse_diff(diff)
    assert f == FileDiff(path="m.py", old_path="m.py", status="modified", added=(2, 3, 4, 14))


def test_parse_diff_statuses_and_quoted_paths() -> None:
    diff = lines("""\
diff --git a/old.py b/new.py
similarity index 100%
rename from old.py
rename to new.py
diff --git "a/t\\tab.py" "b/t\\tab.py"
new file mode 100644
--- /dev/null
+++ "b/t\\tab.py"
@@ -0,0 +1,2 @@
+a
+b
diff --git a/sp ace.py b/sp ace.py
--- a/sp ace.py\t
+++ b/sp ace.py\t
@@ -1,0 +2 @@
+r
diff --git a/gone.py b/gone.py
deleted file mode 100644
--- a/gone.py
+++ /dev/null
@@ -1,2 +0,0 @@
-x
-y
diff --git a/img.png b/img.png
Binary files a/img.png and b/img.png differ
diff --git "a/\\303\\274.py" "b/\\303\\274.py"
--- "a/\\303\\274.py"
+++ "b/\\303\\274.py"
@@ -1 +1 @@
-a
+b
""")
    files = {f.path: f for f in parse_diff(diff)}
    assert files["new.py"] == FileDiff(path="new.py", old_path="old.py", status="renamed")
    assert files["t\tab.py"].status == "added" and files["t\tab.py"].added == (1, 2)
    assert files["sp ace.py"].added == (2,)
    assert files["gone.py"].status == "deleted" and files["gone.py"].added == ()
    assert files["img.png"].binary
    assert files["ü.py"].added == (1,)


def test_unquote_path() -> None:
    assert unquote_path('"a\\"b\\\\c"') == 'a"b\\c'
    assert unquote_path("plain name") == "plain name"
    assert unquote_path('"\\303\\251"') == "é"


def test_path_matching() -> None:
    m = PathMatcher(["src/a.py", "/home/runner/work/app/app/lib/b.py", "pkg/c.py", "x/dup.py", "y/dup.py",
                     ".\\win\\d.py"])
    assert m.find("src/a.py") == ("src/a.py", [])
    assert m.find("lib/b.py") == ("/home/runner/work/app/app/lib/b.py", [])  # absolute in the report
    assert m.find("src/pkg/c.py") == ("pkg/c.py", [])  # report relative to a source root
    assert m.find("other/a.py") == (None, [])  # same name, another directory: not the same file
    assert m.find("dup.py") == (None, ["x/dup.py", "y/dup.py"])  # ambiguous
    assert m.find("win/d.py") == (".\\win\\d.py", [])


def test_patch_coverage_counts_executable_changed_lines_only() -> None:
    doc = cov_doc({"a.py": cov_file({1: 1, 2: 0, 3: 1, 5: 0}), "b.py": cov_file({1: 1}),
                   "x/dup.py": cov_file({1: 0}), "y/dup.py": cov_file({1: 0})})["data"]
    diffs = [FileDiff(path="a.py", old_path="a.py", status="modified", added=(2, 3, 4)),  # 4 is not executable
             FileDiff(path="b.py", old_path="b.py", status="modified", added=(7,)),  # nothing executable
             FileDiff(path="README.md", old_path=None, status="added", added=(1, 2)),
             FileDiff(path="dup.py", old_path=None, status="added", added=(1,)),
             FileDiff(path="gone.py", old_path="gone.py", status="deleted"),
             FileDiff(path="moved.py", old_path="was.py", status="renamed")]
    pc = patch_coverage(diffs, doc, base="b" * 40, head="h" * 40)
    assert (pc.executable, pc.covered, pc.rate) == (2, 1, 50.0)
    assert [(f.file, f.executable, f.uncovered) for f in pc.files] == [("a.py", 2, (2,)), ("b.py", 0, ())]
    reasons = {n.file: n.reason for n in pc.not_measured}
    assert reasons["README.md"] == "not in the coverage report"
    assert reasons["dup.py"].startswith("ambiguous: the report names x/dup.py, y/dup.py")
    assert "gone.py" not in reasons and "moved.py" not in reasons
    js = pc.as_json()
    assert js["rate"] == 50.0 and js["files"][0]["uncovered_lines"] == [2] and js["changed_lines"] == 7


def test_patch_coverage_with_nothing_executable_has_no_rate() -> None:
    doc = cov_doc({"a.py": cov_file({1: 1})})["data"]
    pc = patch_coverage([FileDiff(path="docs.md", old_path=None, status="added", added=(1,))], doc)
    assert pc.rate is None and pc.note == "no changed line is executable code the coverage report measures"
    assert patch_coverage([], doc).note == "the change adds or edits no lines"


def test_changed_files_answers_none_without_the_commits(tmp_path: Path) -> None:
    assert Git(tmp_path).changed_files("HEAD~1", "HEAD") is None
    repo = tmp_path / "r"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    assert Git(repo).changed_files("0" * 40, "HEAD") is None


@pytest.mark.parametrize("config", [["diff.noprefix=true"], ["diff.mnemonicPrefix=true"], ["diff.relative=true"],
                                    ["color.diff=always", "color.ui=always"], ["diff.renames=false"]])
def test_user_git_config_does_not_change_the_result(tmp_path: Path, config: list[str]) -> None:
    repo = tmp_path / "r"
    (repo / "sub").mkdir(parents=True)

    def g(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@e", *args], cwd=repo, check=True,
                       capture_output=True)

    g("init", "-q")
    (repo / "sub" / "a.py").write_text("".join(f"line{i}\n" for i in range(20)))
    g("add", "-A")
    g("commit", "-q", "-m", "1")
    g("mv", "sub/a.py", "sub/b.py")
    text = (repo / "sub" / "b.py").read_text().replace("line3\n", "LINE3\n")
    (repo / "sub" / "b.py").write_text(text)
    g("commit", "-q", "-am", "2")
    for item in config:
        g("config", *item.split("=", 1))
    files = Git(repo / "sub").changed_files("HEAD~1", "HEAD")
    assert files == [FileDiff(path="sub/b.py", old_path="sub/a.py", status="renamed", added=(4,))]


def test_patch_renderings_neutralise_hostile_paths() -> None:
    from aqe_ci.render.markdown import render_markdown
    from aqe_ci.render.table import render_table

    evil = "src/\x1b[31mred\x1b[0m|<b>@here.py"
    doc = cov_doc({evil: cov_file({1: 0, 2: 1}), "ok.py": cov_file({1: 1})})["data"]
    pc = patch_coverage([FileDiff(path=evil, old_path=None, status="added", added=(1, 2)),
                         FileDiff(path="notes\x07.md", old_path=None, status="added", added=(1,))], doc)
    from aqe_ci.model.comparison import Baseline, Comparison, CoverageComparison, Delta, RunRef

    cov = CoverageComparison(line_rate=Delta(None, 50.0, None), branch_rate=Delta(None, None, None), patch=pc)
    result = Comparison(head=RunRef(key="h", created_ms=0), baseline=Baseline(method="none", reason="none"),
                        coverage=cov)
    assert Comparison.from_json(result.as_json()).coverage.patch == pc  # the JSON round trip keeps it
    table = render_table(result)
    assert "\x1b" not in table and "\x07" not in table and "src/[31mred[0m|<b>@here.py" in table
    md = render_markdown(result)
    assert "\x1b" not in md and "<b>" not in md and "\\|" in md and "@\u200dhere" in md
    assert "| Patch coverage | — | 50.00% (1/2 lines) | — |" in md


def test_patch_json_round_trips() -> None:
    from aqe_ci.model.patch import PatchCoverage

    doc = cov_doc({"a.py": cov_file({1: 1, 2: 0}), "src/b.py": cov_file({3: 0})})["data"]
    pc = patch_coverage([FileDiff(path="a.py", old_path="old.py", status="renamed", added=(1, 2)),
                         FileDiff(path="lib/src/b.py", old_path=None, status="added", added=(3,)),
                         FileDiff(path="x.md", old_path=None, status="added", added=(1,))], doc, base="b", head="h",
                        base_method="merge-base")
    again = PatchCoverage.from_json(pc.as_json())
    assert again == pc and again.as_json() == pc.as_json()
    off = PatchCoverage.unavailable("no git checkout")
    assert PatchCoverage.from_json(off.as_json()) == off
