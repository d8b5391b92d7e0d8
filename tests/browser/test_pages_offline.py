"""In headless Chromium (issue 14): the API docs viewer renders with every request kept on the
platform's own host (an offline intranet), and a refused page shows the platform's 403 page."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest

from tests.browser.test_smoke import CHROMIUM, login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]


@pytest.fixture
def page_world(transactional_db):
    from tests.factories import world

    return world()


def test_api_docs_render_offline(live_server, page_world, browser, tmp_path):
    host = urlsplit(live_server.url).netloc
    outside: list[str] = []

    def only_local(route):
        url = route.request.url
        if urlsplit(url).netloc == host or url.startswith("data:"):
            route.continue_()
        else:  # what an offline intranet does to a CDN request
            outside.append(url)
            route.abort()

    ctx = browser.new_context(locale="zh-CN")
    ctx.route("**/*", only_local)
    page = ctx.new_page()
    response = page.goto(f"{live_server.url}/api/docs")
    assert response is not None and response.status == 200
    page.wait_for_selector(".swagger-ui .info .title", timeout=20000)
    assert "dualcontrol API" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector(".opblock-tag", timeout=20000)  # the operations, grouped by router
    page.screenshot(path=str(tmp_path / "api-docs.png"), full_page=False)
    assert outside == []
    ctx.close()


def test_a_refused_page_is_the_platforms_403(live_server, page_world, browser, tmp_path):
    from tests.factories import PASSWORD

    ctx, page = login(browser, live_server.url, "ent1", PASSWORD)
    response = page.goto(f"{live_server.url}/audit/")
    assert response is not None and response.status == 403
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert "节能减排目标责任管理平台" in page.title()
    assert page.locator("h1").first.inner_text().startswith("无权访问此页面")
    assert "Forbidden" not in page.content()
    page.screenshot(path=str(tmp_path / "403.png"), full_page=True)
    page.click(".error-page a[href='/']")
    page.wait_for_load_state("networkidle")
    assert page.url.rstrip("/") == live_server.url.rstrip("/")
    ctx.close()
