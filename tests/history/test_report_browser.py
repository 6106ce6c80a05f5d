"""The HTML report in a real headless Chromium (Debian's chromium, driven by Playwright): it loads from
disk with no console error and no request outside its own files, the trend chart has one point per run,
a run opens its detail, the compare view compares two runs. Screenshots go to .test-artifacts/."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aqe_ci.app.report import build_report
from aqe_ci.render.html import write_site
from aqe_ci.storage.local import LocalBackend
from aqe_ci.storage.store import Store
from tests.history.report_store import HOSTILE, fill_report_store

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / ".test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# without the background-networking flags Chromium phones home at start-up (refused on a closed network)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("report")
    store = Store(LocalBackend(root / "store"))
    fill_report_store(store)
    out = root / "site"
    write_site(out, build_report(store))
    return out


class Browser:
    def __init__(self, page: Any, site: Path) -> None:
        self.page = page
        self.site = site
        self.console: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}") if m.type in ("error", "warning")
                else None)
        page.on("pageerror", lambda exc: self.console.append(f"pageerror: {exc}"))
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def open(self, name: str, fragment: str = "") -> None:
        self.page.goto((self.site / name).as_uri() + fragment)
        self.page.wait_for_load_state("load")

    def outside(self) -> list[str]:
        base = self.site.as_uri() + "/"
        return [u for u in self.requests if not u.startswith(base)]


@pytest.fixture(scope="module")
def browser(site: Path) -> Iterator[Browser]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the [test] extra")
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed (make test installs it: apt-get install chromium chromium-driver)")
    profile = tempfile.mkdtemp(prefix="aqe-chromium-")
    try:
        with sync_api.sync_playwright() as p:
            ctx = p.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, headless=True, args=FLAGS,
                                                       viewport={"width": 1280, "height": 900}, offline=True)
            try:
                yield Browser(ctx.pages[0] if ctx.pages else ctx.new_page(), site)
            finally:
                ctx.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def shot(b: Browser, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    b.page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_index_loads_offline_with_one_point_per_run(browser: Browser) -> None:
    b = browser
    b.requests.clear()
    b.open("index.html")
    assert b.console == []
    assert b.requests == [(b.site / "index.html").as_uri()]  # the page itself, nothing else
    rows = b.page.locator("table.runs tr").count() - 1
    assert rows == 9
    # one point per run that has the type: 8 main runs have coverage, all 9 have tests
    assert b.page.locator("#chart-coverage circle.s0").count() == 8
    assert b.page.locator("#chart-test_results circle.s0").count() == 9
    keys = b.page.locator("#chart-coverage circle.s0").evaluate_all("els => els.map(e => e.dataset.key)")
    assert keys == [f"main-{i:02d}" for i in range(8)]  # oldest left
    shot(b, "report-index.png")


def test_clicking_a_run_opens_its_detail(browser: Browser) -> None:
    b = browser
    b.open("index.html")
    b.requests.clear()
    b.page.locator("table.runs a.run", has_text="main-07").click()
    b.page.wait_for_load_state("load")
    assert b.page.url.endswith("/runs/main-07.html")
    assert b.page.locator("h1").inner_text() == "Run main-07"
    assert HOSTILE in b.page.locator("main").inner_text()  # shown as text
    assert b.page.locator("main img").count() == 0 and b.dialogs == []
    assert b.console == [] and b.outside() == []
    shot(b, "report-run.png")
    b.open("index.html")
    b.page.locator("#chart-coverage a", has=b.page.locator('circle[data-key="main-03"]')).first.click()
    b.page.wait_for_load_state("load")
    assert b.page.url.endswith("/runs/main-03.html")


def test_compare_any_two_runs(browser: Browser) -> None:
    b = browser
    b.requests.clear()
    b.open("compare.html", "#a=main-06&b=main-07")
    assert b.page.locator("#run-a").input_value() == "main-06"
    assert b.page.locator("#run-b").input_value() == "main-07"
    text = b.page.locator("#result").inner_text()
    assert "New failures in B (1)" in text and HOSTILE in text
    assert "Fixed in B (1)" in text and "c::test_net" in text
    b.page.locator("#run-a").select_option("main-00")
    assert "#a=main-00&b=main-07" in b.page.url
    text = b.page.locator("#result").inner_text()
    assert "Files added (1)" in text and "New security findings in B (1)" in text
    b.page.locator("#swap").click()
    assert b.page.locator("#run-a").input_value() == "main-07"
    assert b.dialogs == [] and b.console == [] and b.outside() == []
    shot(b, "report-compare.png")


def test_flaky_page(browser: Browser) -> None:
    b = browser
    b.open("flaky.html")
    row = b.page.locator("table.flaky tr", has_text="c::test_net")
    assert row.count() == 1 and "flip-rate" in row.inner_text()
    row.locator("a").first.click()
    b.page.wait_for_load_state("load")
    assert "/runs/main-0" in b.page.url
    assert b.console == [] and b.outside() == []
