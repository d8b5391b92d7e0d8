"""Headless Chromium smoke run of the main pages (skipped when Debian's chromium is absent).

Logs in as each demo role on a live server, opens the role's pages, checks that the page
renders in Chinese with no server error, files a report through the web form and saves
screenshots under the pytest tmp dir (``docs/screenshots/`` holds the committed set).
"""

from __future__ import annotations

import base64
import os
import shutil
import time
from urllib.parse import urlparse

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


# second factor of each account this browser session enrolled: (server, username) → secret and
# the last time step used (a TOTP code works once; a second login within 30 s takes the next step)
_OTP: dict[tuple[str, str], dict] = {}


def _next_code(state):
    from django_otp.oath import totp

    now_t = int(time.time()) // 30
    t = max(now_t + state["drift"], state["last_t"] + 1)
    state["last_t"], state["drift"] = t, t - now_t
    return str(totp(base64.b32decode(state["secret"]), 30, 0, 6, t - now_t)).zfill(6)


def pass_second_factor(page, base, username):
    """Fill the setup page (first login: read the secret it shows) or the verify page."""
    path = urlparse(page.url).path
    if path == "/accounts/2fa/setup/":
        secret = page.locator("#otp-secret").inner_text().replace(" ", "")
        state = _OTP[(base, username)] = {"secret": secret, "last_t": -1, "drift": 0}
        page.fill("#id_code", _next_code(state))
        page.click("form:has(#id_code) button[type=submit]")
        page.wait_for_load_state("networkidle")
        assert page.locator("#recovery-codes li").count() == 10, page.content()[:2000]
        page.click(".otp a.btn")
        page.wait_for_load_state("networkidle")
    elif path == "/accounts/2fa/verify/":
        page.fill("#id_code", _next_code(_OTP[(base, username)]))
        page.click("form:has(#id_code) button[type=submit]")
        page.wait_for_load_state("networkidle")
    assert not urlparse(page.url).path.startswith("/accounts/2fa/"), page.content()[:2000]


def login(browser, base, username, password):
    """Log in through the form: password, then the second factor where the account needs it."""
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
    page = ctx.new_page()
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    pass_second_factor(page, base, username)
    return ctx, page


@pytest.fixture
def smoke_world(transactional_db):
    # built before the browser starts: Playwright's sync API runs an event loop in this thread
    from tests.factories import world

    return world()


def test_roles_see_their_pages_and_file_a_report(live_server, smoke_world, browser, tmp_path):
    from tests.factories import PASSWORD

    base = live_server.url
    pages = {
        "admin1": ["/", "/reports/", "/reports/review/", "/entities/"],
        # separated duties: the auditor alone reads the audit log
        "aud1": ["/audit/"],
        "city1": ["/", "/reports/review/", "/entities/"],
        "ent1": ["/", "/reports/", "/reports/new/", "/reports/upload/"],
        "ver1": ["/"],
    }
    for username, paths in pages.items():
        ctx, page = login(browser, base, username, PASSWORD)
        for path in paths:
            response = page.goto(f"{base}{path}")
            assert response is not None and response.status == 200, (username, path)
            assert page.locator("html").get_attribute("lang") == "zh-hans"
            assert "节能减排目标责任管理平台" in page.title()
            page.screenshot(
                path=str(tmp_path / f"{username}{path.replace('/', '_')}.png"), full_page=True
            )
        if username == "ent1":
            page.goto(f"{base}/reports/new/")
            page.fill("#id_year", "2026")
            page.fill("#id_month", "9")
            for field, value in {
                "opening_stock": "200",
                "purchases_qty": "1000",
                "consumption_total": "1000",
                "industrial_production": "990",
                "non_industrial": "10",
                "closing_stock": "200",
            }.items():
                page.fill(f"#id_p01-{field}", value)
            page.click("button[name=submit]")
            page.wait_for_load_state("networkidle")
            assert "已提交" in page.content()
            assert "714.3" in page.content()
            # a bad row is refused with the reason shown, nothing saved
            page.goto(f"{base}/reports/new/")
            page.fill("#id_month", "8")
            page.fill("#id_p01-consumption_total", "1000")
            page.fill("#id_p01-industrial_production", "1000")
            page.click("button[name=submit]")
            page.wait_for_load_state("networkidle")
            assert "库存不平衡" in page.content()
        ctx.close()
