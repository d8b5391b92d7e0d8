"""The online 205-1 form totals as the unit types and marks rows whose columns do not add up
(issue 14), in headless Chromium; the form fits a 1400 px screen (its table scrolls inside)."""

from __future__ import annotations

import os

import pytest

from tests.browser.test_smoke import CHROMIUM, login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]


@pytest.fixture
def form_world(transactional_db):
    from tests.factories import world

    return world()


def test_the_form_totals_as_you_type(live_server, form_world, browser):
    from tests.factories import PASSWORD

    ctx, page = login(browser, live_server.url, "ent1", PASSWORD)
    page.goto(f"{live_server.url}/reports/new/")
    assert page.inner_text("[data-total-tce]") == "0.00"
    # raw coal (01): 1000 t at the reference 0.7143 tce/t
    page.fill('input[name="p01-opening_stock"]', "200")
    page.fill('input[name="p01-purchases_qty"]', "1000")
    page.fill('input[name="p01-consumption_total"]', "1000")
    page.fill('input[name="p01-industrial_production"]', "990")
    page.fill('input[name="p01-non_industrial"]', "10")
    page.fill('input[name="p01-closing_stock"]', "200")
    assert page.inner_text("[data-total-tce]") == "714.30"
    assert page.locator("tr.mismatch").count() == 0
    page.fill('input[name="p01-closing_stock"]', "150")  # 200 + 1000 − 1000 ≠ 150
    assert page.locator("tr.mismatch").count() == 1
    assert page.is_visible(".mismatch-note")
    # the page itself does not scroll sideways: the table scrolls inside its frame
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1400, width
    ctx.close()
