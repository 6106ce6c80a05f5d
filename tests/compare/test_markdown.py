"""The markdown report, rendered by a real GFM renderer (markdown-it-py with its table extension)."""

from __future__ import annotations

import re

from compare_builders import compare, cov_doc, cov_file, finding, put, results_doc, sec_doc
from markdown_it import MarkdownIt

from aqe_ci.model.comparison import Comparison
from aqe_ci.render.escape import ZWJ, md_text
from aqe_ci.render.markdown import render_markdown
from aqe_ci.storage.store import Store

HOSTILE = "evil | name <script>alert(1)</script> @octocat **bold** [x](http://e.vil) `tick` #12\n# heading _u_ ~s~"


def gfm() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).enable("table")


def tables(html: str) -> list[str]:
    return re.findall(r"<table>.*?</table>", html, flags=re.S)


def cells_per_row(table_html: str) -> set[int]:
    rows = re.findall(r"<tr>(.*?)</tr>", table_html, flags=re.S)
    return {len(re.findall(r"<t[dh][ >]", r)) for r in rows}


def hostile_comparison(store: Store, n: int = 3) -> Comparison:
    put(store, "base", results_doc([{"name": f"{HOSTILE} {i}", "status": "passed"} for i in range(n)]
                                   + [{"name": "fixed one", "status": "failed"}]),
        commit="a" * 40, branch="main")
    put(store, "base", cov_doc({f"src/{HOSTILE}{i}.py": cov_file({1: 1, 2: 1}) for i in range(n)}),
        commit="a" * 40, branch="main")
    put(store, "base", sec_doc([]), commit="a" * 40, branch="main")
    put(store, "head", results_doc([{"name": f"{HOSTILE} {i}", "status": "failed", "message": HOSTILE * 2}
                                    for i in range(n)] + [{"name": "fixed one", "status": "passed"}]),
        minutes=90, commit="b" * 40, branch="feature")
    put(store, "head", cov_doc({f"src/{HOSTILE}{i}.py": cov_file({1: 1, 2: 0}) for i in range(n)}),
        minutes=90, commit="b" * 40, branch="feature")
    put(store, "head", sec_doc([finding(f"fp{i}", "high", rule=HOSTILE[:40], path=HOSTILE) for i in range(n)]),
        minutes=90, commit="b" * 40, branch="feature")
    return compare(store, "head", base_key="base")


def test_tables_render_as_tables_and_untrusted_text_is_inert(store: Store) -> None:
    result = hostile_comparison(store)
    md = render_markdown(result, comment_id="pr-7")
    assert md.startswith("<!-- aqe-artifacts:comment id=pr-7 -->\n")
    html = gfm().render(md)
    found = tables(html)
    # numbers table + new failures + new findings + coverage by file + fixed tests
    assert len(found) == 5
    assert [cells_per_row(t) for t in found] == [{4}, {3}, {4}, {6}, {2}]
    assert "<script" not in html and "&lt;script&gt;" in html
    assert 'href="http://e.vil"' not in html
    assert "<strong>bold" not in html and "<code>tick" not in html and "<h1>" not in html
    assert "@octocat" not in html and f"@{ZWJ}octocat" in html
    # four collapsed sections and the open trend chart of main's runs (``<details open>``)
    assert html.count("<details>") == 4 and html.count("<details open>") == 1 and html.count("</details>") == 5
    # headline and baseline line
    assert "<strong>Coverage</strong> 50.00% (-50.00 pp)" in html
    assert "<strong>Tests</strong> 4 (+0): 1 passed, 3 failed, 3 new failures" in html
    assert "<strong>Security</strong> new: 3 high" in html
    assert "<strong>Baseline:</strong> <code>base</code> · commit <code>aaaaaaaaaaaa</code> · branch main · " \
           "90 min older than the head run" in html


def test_escape_keeps_the_visible_text() -> None:
    html = gfm().render("| a |\n|---|\n| " + md_text("x | y *z* <b> [l](u) 1\\2") + " |\n")
    assert "<td>x | y *z* &lt;b&gt; [l](u) 1\\2</td>" in html


def test_budget_keeps_marker_headline_baseline_and_whole_rows(store: Store) -> None:
    result = hostile_comparison(store, n=250)
    unbounded = render_markdown(result, max_chars=10_000_000, max_rows=None)
    assert len(unbounded) >= 200_000
    md = render_markdown(result, max_rows=None)  # default 65,536
    assert len(md) <= 65_536
    assert md.startswith("<!-- aqe-artifacts:comment id=default -->")
    html = gfm().render(md)
    assert "<strong>Coverage</strong> 50.00% (-50.00 pp)" in html and "<strong>Baseline:</strong>" in html
    for t in tables(html):
        assert len(cells_per_row(t)) == 1  # every row whole
    assert html.count("<details>") == html.count("</details>")
    # what was cut is said: either "… N more" lines or the omitted note
    assert re.search(r"… \d+ more not shown", md) or "Omitted to fit" in md
    # the highest-priority section (new failures) is still there
    assert "New failures (250)" in md
    assert len(render_markdown(result)) <= 65_536  # default row cap too
    small = render_markdown(result, max_chars=5_000)
    assert len(small) <= 5_000 and "Omitted to fit the 5,000-character comment limit" in small
    assert "<strong>Baseline:</strong>" in gfm().render(small)


def test_no_baseline_is_said_plainly(store: Store) -> None:
    put(store, "solo", results_doc([{"name": "t", "status": "passed"}]), commit="b" * 40)
    md = render_markdown(compare(store, "solo"))
    assert "**Baseline:** none — no baseline" in md
