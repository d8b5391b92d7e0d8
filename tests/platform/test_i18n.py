"""zh-Hans by default, English when chosen (Django i18n, compiled catalogue shipped in the package)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from tests.auth import login

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
    login(c, world.users["enterprise"])
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = c.get("/reports/new/").content.decode()
    assert "Save and submit for review" in page and "Opening stock" in page


def test_english_pages_use_their_own_punctuation(world):
    """Labels built in code come in the page's language, with its punctuation (no
    "Target（2026–2030）").  Needs the English catalogue with
    locale/en/LC_MESSAGES/additions-labels.po merged."""
    from dualcontrol.targets import services
    from tests.targets.targets_world import build

    tw = build(world)
    services.compute_warnings(year=2026, month=6, system=True)
    c = Client()
    login(c, world.users["province_admin"])
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    detail = c.get(f"/targets/{tw.city_target.pk}/").content.decode()
    assert "Reduction in energy intensity of GDP (2026–2030)" in detail
    progress = c.get(f"/targets/{tw.city_target.pk}/progress/").content.decode()
    assert "Progress (logarithmic)" in progress and "（对数口径）" not in progress
    assert "pace (linear, 1/5 years)" in c.get("/targets/warnings/").content.decode()
    for page in (detail, progress):
        assert "%）" not in page and "）<" not in page and "：<" not in page
