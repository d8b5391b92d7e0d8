"""Refusals and missing pages in the platform's layout and language (issue 14): the 403 page
says why and where to go instead of Django's bare English "403 Forbidden"; the same for 404 and
for a refused form submission (CSRF).  The API docs viewer is served from local files."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client

from tests.auth import login

pytestmark = pytest.mark.django_db


def _client(user=None, language=None) -> Client:
    c = Client()
    if user is not None:
        login(c, user)
    if language:
        c.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return c


def test_a_refused_page_explains_in_the_platform_layout(world):
    r = _client(world.users["enterprise"]).get("/audit/")
    assert r.status_code == 403
    page = r.content.decode()
    assert "403 Forbidden" not in page
    assert 'lang="zh-hans"' in page and "css/platform.css" in page
    assert "节能减排目标责任管理平台" in page  # the header of every page
    assert "无权访问此页面" in page
    # why: the role the user is logged in with; where to go: home, the administrator
    assert world.users["enterprise"].get_role_display() in page
    assert 'href="/"' in page and "省级平台管理员" in page


def test_a_refusal_for_a_record_outside_the_scope_uses_the_same_page(world):
    from tests.monitoring.helpers import make_outlet

    outlet = make_outlet(world.other_unit)
    r = _client(world.users["city_officer"]).get(f"/monitoring/outlets/{outlet.pk}/edit/")
    assert r.status_code in (403, 404)
    assert "css/platform.css" in r.content.decode()


def test_the_refused_page_follows_the_interface_language(world):
    r = _client(world.users["enterprise"], "en").get("/audit/")
    assert r.status_code == 403
    assert 'lang="en"' in r.content.decode()


@pytest.mark.parametrize("who", [None, "enterprise"])
def test_a_missing_page_explains_in_the_platform_layout(world, who):
    user = world.users[who] if who else None
    r = _client(user).get("/no-such-page/")
    assert r.status_code == 404
    page = r.content.decode()
    assert "Not Found" not in page
    assert 'lang="zh-hans"' in page and "css/platform.css" in page
    assert "页面不存在" in page and 'href="/"' in page and "/no-such-page/" in page


def test_a_refused_form_submission_explains(world):
    c = Client(enforce_csrf_checks=True)
    r = c.post("/accounts/login/", {"username": "ent1", "password": "x"})
    assert r.status_code == 403
    page = r.content.decode()
    assert "CSRF verification failed" not in page
    assert 'lang="zh-hans"' in page and "页面已过期" in page and 'href="/"' in page


def test_api_docs_load_only_local_files(world):
    c = _client()
    r = c.get("/api/docs")
    assert r.status_code == 200
    page = r.content.decode()
    urls = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert urls, page
    for url in urls:
        assert not re.match(r"^(https?:)?//", url), url  # no CDN, no other host
    assert "cdn.jsdelivr" not in page and "unpkg" not in page
    assert "/static/vendor/swagger-ui-bundle.js" in urls
    assert "/static/vendor/swagger-ui.css" in urls
    for url in urls:
        if url.startswith(settings.STATIC_URL) or url.startswith("/" + settings.STATIC_URL):
            name = url.split(settings.STATIC_URL, 1)[1]
            found = finders.find(name)
            assert found, url
    # the viewer reads the platform's own OpenAPI document, and no validator badge from outside
    assert '"url": "/api/openapi.json"' in page and '"validatorUrl": null' in page
    assert c.get("/api/openapi.json").status_code == 200


def test_the_docs_viewer_ships_with_its_licence():
    for name in ("swagger-ui.LICENSE.txt", "swagger-ui-bundle.js.LICENSE.txt"):
        assert finders.find(f"vendor/{name}"), name
    bundle = finders.find("vendor/swagger-ui-bundle.js")
    with open(bundle, encoding="utf-8") as fh:
        assert "SwaggerUIBundle" in fh.read(4000)
