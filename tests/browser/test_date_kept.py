"""A date survives saving a form untouched in the Chinese interface (issue 14), in headless Chromium.

The outlet form's 联网日期 used to render as ``2026/11/29``, which ``<input type="date">`` shows
as empty; saving the outlet without touching anything then wiped the date.
"""

from __future__ import annotations

import datetime as dt
import os

import pytest

from tests.browser.test_smoke import CHROMIUM, login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]


@pytest.fixture
def outlet_world(transactional_db):
    from tests.factories import world
    from tests.monitoring.helpers import make_outlet

    w = world()
    return w, make_outlet(w.unit, connected_on=dt.date(2026, 11, 29))


def test_outlet_date_survives_an_untouched_save(live_server, outlet_world, browser):
    from tests.factories import PASSWORD

    _world, outlet = outlet_world
    ctx, page = login(browser, live_server.url, "admin1", PASSWORD)
    page.goto(f"{live_server.url}/monitoring/outlets/{outlet.pk}/edit/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    # what the officer sees in the date picker before saving
    assert page.input_value("#id_connected_on") == "2026-11-29"
    page.click("form.cfg button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.url.rstrip("/").endswith(f"/monitoring/outlets/{outlet.pk}")
    # the stored date, read back through the form (no ORM in this thread: Playwright's event
    # loop would give it a connection of its own that outlives the test database)
    page.goto(f"{live_server.url}/monitoring/outlets/{outlet.pk}/edit/")
    assert page.input_value("#id_connected_on") == "2026-11-29"
    ctx.close()
