"""zh-Hans by default, English when chosen (Django i18n, compiled catalogue shipped in the package)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db


def test_chinese_by_default_english_when_chosen(world):
    c = Client()
    page = c.get("/accounts/login/").content.decode()
    assert 'lang="zh-hans"' in page and "登录" in page
    c.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    page = c.get("/accounts/login/").content.decode()
    assert 'lang="en"' in page and "Log in" in page and "Energy Conservation" in page


def test_english_pages_for_a_logged_in_user(world):
    c = Client()
    c.force_login(world.users["enterprise"])
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = c.get("/reports/new/").content.decode()
    assert "Save and submit for review" in page and "Opening stock" in page
