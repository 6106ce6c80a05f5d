"""Badges: figures from the store, the flat layout, escaping, and real rendering in headless Chromium."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from lxml import etree

from aqe_ci.render.badge import (
    PADDING,
    Badge,
    color_hex,
    coverage_badge,
    render_svg,
    security_badge,
    shields_endpoint,
    text_width,
)
from aqe_ci.render.badge import tests_badge as make_tests_badge
from tests.integrations.chromium import dump_dom, screenshot

REPORTS = Path(__file__).resolve().parents[2] / "examples" / "reports"
SVG_NS = "{http://www.w3.org/2000/svg}"
ARTIFACTS = Path(__file__).resolve().parents[2] / ".test-artifacts"


def parse(svg: str) -> etree._Element:
    return etree.fromstring(svg.encode(), etree.XMLParser(resolve_entities=False, no_network=True))


def boxes(root: etree._Element) -> tuple[float, float]:
    rects = root.findall(f"{SVG_NS}g/{SVG_NS}rect")
    return float(rects[0].get("width")), float(rects[1].get("width"))


@pytest.mark.parametrize(("rate", "message", "color"), [
    (95.0, "95%", "brightgreen"), (87.53, "87.5%", "green"), (70.0, "70%", "yellowgreen"),
    (100.0, "100%", "brightgreen"), (12.0, "12%", "red"), (55.55, "55.5%", "orange")])
def test_coverage_message_and_default_scale(rate: float, message: str, color: str) -> None:
    b = coverage_badge({"line_rate": rate})
    assert (b.message, b.color) == (message, color)


def test_coverage_scale_is_configurable() -> None:
    scale = [(99.0, "blue"), (0.0, "#123456")]
    assert coverage_badge({"line_rate": 99.5}, scale=scale).color == "blue"
    assert coverage_badge({"line_rate": 98.0}, scale=scale).hex_color == "#123456"
    assert coverage_badge({}).message == "unknown"


def test_tests_and_security_messages() -> None:
    assert make_tests_badge({"passed": 10, "failed": 1, "errors": 1, "skipped": 2}).message == "10 passed, 2 failed, 2 skipped"
    assert make_tests_badge({"passed": 10}).color == "brightgreen"
    assert make_tests_badge({}).message == "no tests"
    assert security_badge({"critical": 0, "high": 2, "low": 1}).message == "2 high, 1 low"
    assert security_badge({"high": 2}).color == "orange"
    assert security_badge({"info": 3}).message == "3 info"
    assert security_badge({}).message == "no findings"


def test_svg_is_valid_accessible_xml_with_the_flat_layout() -> None:
    b = Badge(label="coverage", message="87.5%", color="green")
    root = parse(render_svg(b))
    assert root.tag == f"{SVG_NS}svg" and root.get("role") == "img" and root.get("height") == "20"
    assert root.findtext(f"{SVG_NS}title") == "coverage: 87.5%" == root.get("aria-label")
    lw, mw = boxes(root)
    assert float(root.get("width")) == lw + mw
    texts = root.findall(f"{SVG_NS}g/{SVG_NS}text")
    assert [t.text for t in texts] == ["coverage", "coverage", "87.5%", "87.5%"]
    assert lw == pytest.approx(text_width("coverage") + 2 * PADDING, abs=1)
    assert float(texts[0].get("textLength")) == pytest.approx(text_width("coverage"), abs=0.1)
    assert shields_endpoint(b) == {"schemaVersion": 1, "label": "coverage", "message": "87.5%", "color": "green"}


def test_hostile_labels_are_escaped_and_stripped() -> None:
    label = 'x"><script>alert(1)</script>&\u202e\x07\nmore'
    svg = render_svg(Badge(label=label, message="1 < 2", color="red"))
    root = parse(svg)  # still well-formed
    assert "<script" not in svg and "\u202e" not in svg and "\x07" not in svg
    assert root.findtext(f"{SVG_NS}title") == 'x"><script>alert(1)</script>& more: 1 < 2'
    with pytest.raises(ValueError):
        color_hex("url(#x)")


LABELS = ["coverage", "tests", "a very long label for the nightly integration suite on main",
          "WWWWWWWWWW", "iiiiiiiiiiiiiiii", "Ünïcødé ÀÉÎ ßøå", "0123456789 %.,:;", "MixedCase With Spaces"]


def test_text_fits_its_box_in_real_chromium(tmp_path: Path) -> None:
    """Chromium measures each text's natural width (textLength removed): it fits the box with its
    padding and stays within 3% of the width the badge was laid out with."""
    svgs = [render_svg(Badge(label=label, message=label[::-1], color="blue")) for label in LABELS]
    page = tmp_path / "badges.html"
    page.write_text("<!doctype html><html><body>" + "<br>".join(svgs) + """
<pre id="out"></pre><script>
const rows = [];
for (const svg of document.querySelectorAll('svg')) {
  const rects = svg.querySelectorAll('g > rect');
  const texts = [...svg.querySelectorAll('text:not([aria-hidden])')];
  texts.forEach((t, i) => {
    const planned = parseFloat(t.getAttribute('textLength'));
    const probe = t.cloneNode(true); probe.removeAttribute('textLength'); probe.removeAttribute('lengthAdjust');
    t.parentNode.appendChild(probe);
    rows.push({text: t.textContent, planned, natural: probe.getComputedTextLength(),
               rendered: t.getBBox().width, box: parseFloat(rects[i].getAttribute('width'))});
    probe.remove();
  });
}
document.getElementById('out').textContent = JSON.stringify(rows);
</script></body></html>""", encoding="utf-8")
    dom = dump_dom(page)
    rows = json.loads(re.search(r'<pre id="out">(.*?)</pre>', dom, re.S).group(1).replace("&amp;", "&")
                      .replace("&lt;", "<").replace("&gt;", ">"))
    assert len(rows) == 2 * len(LABELS)
    for row in rows:
        assert row["natural"] <= row["box"] - 2 * PADDING + 1, row
        assert row["natural"] == pytest.approx(row["planned"], rel=0.03), row
        assert row["rendered"] <= row["box"], row
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot(page, ARTIFACTS / "badges.png", size="900,260")


def test_cli_badges_from_the_store(aqe, workdir: Path) -> None:
    cfg = workdir / "storage.json"
    cfg.write_text(json.dumps({"local": {"base_path": str(workdir / "store")},
                               "badges": {"coverage_scale": [{"min": 50, "color": "blue"}, {"min": 0, "color": "red"}],
                                          "labels": {"tests": "unit tests"}}}))
    c = ("--config", str(cfg))
    for key, side in (("b-1", "base"), ("b-2", "pr")):
        r = aqe(*c, "artifacts", "store", "--key", key, "--branch", "main", "--file", str(REPORTS / side / "junit.xml"),
                "--file", str(REPORTS / side / "coverage.xml"), "--file", str(REPORTS / side / "bandit.json"))
        assert r.code == 0, r.err
    r = aqe(*c, "artifacts", "badge", "--type", "coverage", "--branch", "main", "--format", "json")
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert data["key"] == "b-2"  # the newest run on main
    stored = json.loads(aqe(*c, "artifacts", "get", "b-2", "--type", "coverage").out)["data"]["line_rate"]
    assert data["message"] == f"{stored:.1f}".rstrip("0").rstrip(".") + "%"
    assert data["color"] == "#007ec6"
    r = aqe(*c, "artifacts", "badge", "--type", "tests", "--branch", "main", "--format", "shields")
    assert json.loads(r.out)["label"] == "unit tests"
    r = aqe(*c, "artifacts", "badge", "--type", "security", "--branch", "main", "--output", "sec.svg")
    assert r.code == 0 and parse((workdir / "sec.svg").read_text()).tag == f"{SVG_NS}svg"
    r = aqe(*c, "artifacts", "badge", "--all", "--output-dir", "public", "--branch", "main", "--publish")
    assert r.code == 0, r.err
    assert sorted(p.name for p in (workdir / "public").iterdir()) == [
        "coverage.json", "coverage.svg", "security.json", "security.svg", "tests.json", "tests.svg"]
    published = workdir / "store" / "badges" / "main" / "coverage.svg"
    assert published.read_text() == (workdir / "public" / "coverage.svg").read_text()
    # retention and repair leave published badges alone
    assert aqe(*c, "artifacts", "cleanup", "--yes", "--older-than", "1h").code == 0
    assert published.exists()


def test_cli_badge_for_a_branch_without_runs_is_not_found(aqe, workdir: Path) -> None:
    r = aqe("artifacts", "badge", "--branch", "nope")
    assert r.code == 4 and "no coverage document stored for branch nope" in r.err


def test_cli_badge_merges_parts(aqe, workdir: Path) -> None:
    for part, side in (("linux", "base"), ("mac", "pr")):
        assert aqe("artifacts", "store", "--key", "m-1", "--branch", "main", "--part", part,
                   "--file", str(REPORTS / side / "junit.xml")).code == 0
    merged = json.loads(aqe("artifacts", "get", "m-1", "--type", "test_results").out)["data"]
    r = aqe("artifacts", "badge", "--type", "tests", "--branch", "main", "--format", "json")
    summary = json.loads(r.out)["summary"]
    assert summary["passed"] == merged["passed"] and summary["failed"] == merged["failed"]
