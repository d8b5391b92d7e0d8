"""Headless Chromium: the dashboard's tile map and charts, the workbench's live comparison
(htmx) and the drill-down from a red tile (skipped when Debian's chromium is absent)."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def targets_world(transactional_db):
    # built before the browser starts: Playwright's sync API runs an event loop in this thread
    from targets_world import build

    from dualcontrol.targets import services
    from tests.factories import world

    tw = build(world())
    services.compute_warnings(year=2026, month=6, system=True)
    return tw


@pytest.fixture
def page(live_server, targets_world):
    sync_api = pytest.importorskip("playwright.sync_api")
    from tests.factories import PASSWORD

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        ctx = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
        pg = ctx.new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        pg.goto(f"{live_server.url}/accounts/login/")
        pg.fill("#id_username", "admin1")
        pg.fill("#id_password", PASSWORD)
        pg.click("button[type=submit]")
        pg.wait_for_load_state("networkidle")
        # officers pass the second factor (first login: the setup page)
        from tests.browser.test_smoke import pass_second_factor

        pass_second_factor(pg, live_server.url, "admin1")
        pg.errors = errors
        yield pg
        browser.close()


def test_dashboard_workbench_and_drilldown(page, live_server, targets_world, tmp_path):
    tw = targets_world
    base = live_server.url
    page.goto(f"{base}/targets/")
    page.wait_for_load_state("networkidle")
    assert page.locator(".tile").count() == 2
    assert page.locator("#trend canvas").count() == 1  # ECharts rendered from static/vendor
    red = page.locator(".tile.red")
    assert red.count() == 1 and "曲靖市" in red.inner_text()
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    red.click()
    page.wait_for_load_state("networkidle")
    assert "差距下钻" in page.title() and "曲靖市" in page.content()

    page.goto(f"{base}/targets/{tw.province_target.pk}/decompose/")
    page.wait_for_load_state("networkidle")
    page.select_option("select[name=method_b]", "efficiency")
    page.click("button[name=compare]")
    page.wait_for_selector("#comparison h2:has-text('效率优先法')")
    # the chart is drawn by the swapped-in script, after the heading appears (slow under load)
    page.wait_for_selector("#cmpchart canvas")
    assert page.locator("#cmpchart canvas").count() == 1
    page.screenshot(path=str(tmp_path / "workbench.png"), full_page=True)

    page.goto(f"{base}/targets/{tw.city_target.pk}/progress/")
    page.wait_for_load_state("networkidle")
    assert page.locator("#pchart canvas").count() == 1
    assert "对数口径" in page.content()
    assert page.errors == []
