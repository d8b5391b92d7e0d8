"""Under the Content-Security-Policy (issue 23), in headless Chromium on a small demo province:
the barometer and progress charts (ECharts), the workbench's htmx comparison, an htmx list filter,
a select that submits its form, a confirm button, the API docs (Swagger UI) and the admin all work
— and the browser reports no CSP violation. The detector itself is shown to catch one."""

from __future__ import annotations

import base64
import datetime as dt
import os

import pytest

from tests.browser.test_smoke import _OTP, CHROMIUM, login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]

# every violation reaches the page as a securitypolicyviolation event: log it where we listen
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"}`
    + ` at ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture
def demo(transactional_db, live_server):
    """A small demo province; the demo officers' TOTP secrets (read before the browser starts:
    Playwright's sync API runs an event loop in this thread, where the ORM may not be used)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from dualcontrol.demo.builder import build
    from dualcontrol.monitoring.models import Outlet
    from dualcontrol.targets.models import Target

    build(dt.date(2026, 11, 21), units=1, months_limit=2)
    for device in TOTPDevice.objects.filter(confirmed=True, user__is_demo=True):
        _OTP[(live_server.url, device.user.username)] = {
            "secret": base64.b32encode(device.bin_key).decode(),
            "last_t": device.last_t,
            "drift": device.drift,
        }
    target = Target.objects.filter(division__level="province").order_by("pk").first()
    outlet = Outlet.objects.order_by("pk").first()
    return {"target": target.pk, "outlet": outlet.pk if outlet else None}


def _watch(page) -> list[str]:
    messages: list[str] = []
    page.on(
        "console",
        lambda m: (
            messages.append(m.text)
            if "Content Security Policy" in m.text or "CSP violation" in m.text
            else None
        ),
    )
    page.on("pageerror", lambda e: messages.append(f"page error: {e}"))
    page.add_init_script(REPORT_VIOLATIONS)
    return messages


def _open(page, base, path):
    response = page.goto(f"{base}{path}")
    assert response is not None and response.status == 200, (path, response and response.status)
    page.wait_for_load_state("networkidle")


def test_pages_work_under_the_policy(live_server, demo, browser):
    from dualcontrol.demo.builder import DEMO_PASSWORD

    base = live_server.url
    ctx, page = login(browser, base, "demo-province", DEMO_PASSWORD)
    page.set_default_timeout(60_000)
    violations = _watch(page)

    # the barometer: trend chart drawn, a select submits its form (data-autosubmit)
    _open(page, base, "/targets/")
    assert page.locator("#trend canvas").count() == 1
    period = page.locator("select[name=period]")
    options = period.locator("option")
    assert options.count() > 1
    other = next(
        options.nth(i).get_attribute("value")
        for i in range(options.count())
        if options.nth(i).get_attribute("value") != period.input_value()
    )
    period.select_option(other)
    page.wait_for_url(f"**period={other}**")

    _open(page, base, f"/targets/{demo['target']}/progress/")
    assert page.locator("#pchart canvas").count() == 1

    # the workbench: htmx swaps the comparison in, its chart is drawn by a static script
    _open(page, base, f"/targets/{demo['target']}/decompose/")
    page.click("button[name=compare]")
    page.wait_for_selector("#cmpchart canvas")
    asked: list[str] = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    page.locator("button[data-confirm]").first.click()
    assert asked and "采用该方案" in asked[0]
    assert page.url.endswith("/decompose/")  # dismissed: nothing submitted

    # an htmx list filter
    _open(page, base, "/projects/")
    page.locator("form.filters select").first.select_option(index=1)
    page.wait_for_url("**/projects/?**")

    if demo["outlet"]:
        _open(page, base, f"/monitoring/outlets/{demo['outlet']}/")
        page.wait_for_selector("#hourly-charts canvas")
        page.locator("#hourly-charts a[hx-get]").first.click()
        page.wait_for_load_state("networkidle")
        page.wait_for_selector("#hourly-charts canvas")

    # the API docs viewer
    _open(page, base, "/api/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    page.wait_for_selector(".opblock-tag")
    ctx.close()

    # the admin (system administrator)
    ctx, page = login(browser, base, "demo-sysadmin", DEMO_PASSWORD)
    page.set_default_timeout(60_000)
    admin_violations = _watch(page)
    for path in ("/admin/", "/admin/accounts/user/", "/admin/accounts/user/add/"):
        _open(page, base, path)
    page.fill("#id_username", "new-officer")  # the admin's own scripts run (password widgets)
    assert violations == [] and admin_violations == []

    # and the detector catches a violation: an inline script without the nonce is refused
    page.evaluate(
        """() => { const s = document.createElement("script");
                   s.textContent = "window.__ran = true"; document.body.append(s); }"""
    )
    page.wait_for_timeout(500)
    assert page.evaluate("() => window.__ran === undefined")
    assert any("script-src" in v for v in admin_violations), admin_violations
    ctx.close()
