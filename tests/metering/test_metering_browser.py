"""Headless Chromium: the monitoring pages render their ECharts charts without script errors
(skipped when Debian's chromium is absent)."""

from __future__ import annotations

import datetime as dt
import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]


@pytest.fixture
def metering_world(transactional_db):
    from metering_world import ELEC, SUB, build, day_of_readings

    from dualcontrol.accounts.models import Role
    from dualcontrol.metering import services
    from tests.factories import world

    mw = build(world())
    day = dt.date(2026, 4, 14)
    services.ingest(
        entity=mw.unit,
        readings=day_of_readings(ELEC, day) + day_of_readings(SUB, day, skip={3, 4}),
        user=mw.user(Role.ENTERPRISE),
    )
    return mw


def test_monitoring_pages_draw_their_charts(live_server, metering_world, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    from tests.factories import PASSWORD

    unit = metering_world.unit.uscc
    pages = [
        "/metering/?month=2026-04",
        f"/metering/units/{unit}/?month=2026-04&day=2026-04-14",
        f"/metering/units/{unit}/reconciliation/?month=2026-04",
        f"/metering/units/{unit}/registry/",
        "/metering/alerts/",
        "/metering/faults/",
    ]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        ctx = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", "city1")
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        # officers pass the second factor (first login: the setup page)
        from tests.browser.test_smoke import pass_second_factor

        pass_second_factor(page, live_server.url, "city1")
        for path in pages:
            response = page.goto(f"{live_server.url}{path}")
            assert response is not None and response.status == 200, path
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(tmp_path / f"{path.strip('/').replace('/', '_')}.png"))
        page.goto(f"{live_server.url}{pages[1]}")
        page.wait_for_load_state("networkidle")
        assert page.locator("#curve canvas").count() == 1
        assert page.locator("#daily canvas").count() == 1
        assert errors == []
        browser.close()
