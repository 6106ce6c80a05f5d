"""Untrusted text (test names, messages, branches) is inert in table output, as it is in markdown:
no escape sequences, no bidirectional overrides, no line breaks that forge rows."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from compare_builders import put, results_doc

from aqe_ci.cli import main
from aqe_ci.render.escape import md_text, term_text
from aqe_ci.render.text import table
from aqe_ci.storage.local import LocalBackend
from aqe_ci.storage.store import Store

#: everything that must never reach a terminal raw
HOSTILE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
EVIL_NAME = "test_\u202eexe.txt\u202c_ok\u2066x\u2069"
EVIL_MESSAGE = "assert 1\x1b[2J\x1b[31m == 2\nFORGED ROW  passed\r\u2028also\x9b31m"
EVIL_BRANCH = "feat/\u202egnirts\u2067\x1b]0;pwned\x07\nforged"


@pytest.mark.parametrize("text", [EVIL_NAME, EVIL_MESSAGE, EVIL_BRANCH, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"])
def test_term_text_is_inert_like_md_text(text: str) -> None:
    out = term_text(text)
    assert not HOSTILE.search(out) and "\n" not in out and "\r" not in out
    assert not HOSTILE.search(md_text(text))
    # the same characters go in both renderings: what is left reads the same
    assert term_text(text).replace(" ⏎ ", "") == re.sub(r"\\(.)", r"\1", md_text(text, limit=None)).replace(" ⏎ ", "") \
        .replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def test_table_cells_stay_on_one_row() -> None:
    out = table(["TEST", "MESSAGE"], [[EVIL_NAME, EVIL_MESSAGE], ["plain", "fine"]])
    lines = out.split("\n")
    assert len(lines) == 4  # header, rule, two rows: no forged row
    assert not HOSTILE.search(out)
    assert "⏎ FORGED ROW" in lines[2]


@pytest.fixture
def cfg(tmp_path: Path) -> str:
    root = tmp_path / "store"
    s = Store(LocalBackend(root))
    # documents an older writer (or a hostile report) left with hostile text in branch, names and messages
    put(s, "base", results_doc([{"name": EVIL_NAME, "status": "passed"}]), commit="a" * 40, branch="main")
    put(s, "head", results_doc([{"name": EVIL_NAME, "status": "failed", "message": EVIL_MESSAGE}]), minutes=3,
        commit="b" * 40, branch=EVIL_BRANCH, base_branch="main")
    path = tmp_path / "storage.json"
    path.write_text(json.dumps({"backend": "local", "local": {"base_path": str(root)}}))
    return str(path)


def test_compare_table_neutralises_names_messages_and_branches(cfg: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", cfg, "artifacts", "compare", "base", "head", "--format", "table"]) == 0
    out = capsys.readouterr().out
    assert not HOSTILE.search(out), repr(out)
    head = next(line for line in out.splitlines() if line.startswith("head:"))
    assert "branch feat/gnirts]0;pwned ⏎ forged" in head  # one line, readable, inert
    failure = [line for line in out.splitlines() if "test_exe.txt_okx" in line and "failed" in line]
    assert len(failure) == 1 and "⏎ FORGED ROW" in failure[0]
    assert not any(line.startswith("FORGED") for line in out.splitlines())


def test_list_and_get_tables_neutralise_the_branch(cfg: str, capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["artifacts", "list"], ["artifacts", "get", "head", "--format", "table"]):
        capsys.readouterr()
        assert main(["--config", cfg, *args]) == 0, capsys.readouterr().err
        out = capsys.readouterr().out
        assert not HOSTILE.search(out), repr(out)
        assert "feat/gnirts]0;pwned ⏎ forged" in out
        assert "\nforged" not in out


def test_json_output_escapes_what_a_terminal_would_act_on(cfg: str, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["--config", cfg, "artifacts", "list", "--format", "json"]) == 0
    out = capsys.readouterr().out
    assert not HOSTILE.search(out.replace("\n", ""))
    branches = {a["branch"] for a in json.loads(out)["artifacts"]}
    assert branches == {"main", EVIL_BRANCH}  # the same data: escapes, not removal


def test_compare_json_on_the_terminal_escapes_them(cfg: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", cfg, "artifacts", "compare", "base", "head", "--format", "json"]) == 0
    out = capsys.readouterr().out
    assert not HOSTILE.search(out.replace("\n", ""))
    result = json.loads(out)
    assert result["comparison"]["head"]["branch"] == EVIL_BRANCH
    assert result["comparison"]["tests"]["new_failures"][0]["name"] == EVIL_NAME
