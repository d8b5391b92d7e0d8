"""Issue 14: the public home shows the latest publications, the latest bulletin's table and the
public lists — published documents only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from dualcontrol.publishing.models import Publication

pytestmark = pytest.mark.django_db


def _pub(kind: str, year: int, title: str, status: str = "published", **kw) -> Publication:
    content = {
        "title": title,
        "header": ["地区", "能耗降低率（%）"],
        "rows": [{"cells": ["甲市", "3.21"], "level": ""}],
        "columns": True,
    }
    return Publication.objects.create(
        kind=kind,
        year=year,
        title=title,
        content=content,
        status=status,
        published_on=dt.date(year + 1, 6, 30),
        **kw,
    )


def test_the_public_home_shows_what_is_published(db):
    _pub("bulletin", 2024, "2024年各州（市）能耗指标公报")
    grades = _pub("grades", 2024, "2024年度考核结果")
    _pub("exceedances", 2025, "2025年第2季度超标名单", quarter=2)
    _pub("grades", 2023, "已撤回的考核结果", status="withdrawn")
    html = Client().get("/public/").content.decode()
    assert "2024年各州（市）能耗指标公报" in html and "/public/bulletins/2024/" in html
    assert f"/public/results/{grades.pk}/" in html
    assert "/public/exceedances/2025/q2/" in html
    assert "已撤回的考核结果" not in html
    assert "3.21" in html  # the latest bulletin's table
    for link in ("/carbon-market/public/", "/rights/public/", "/public/results/"):
        assert link in html, link


def test_the_public_home_says_when_nothing_is_published(db):
    html = Client().get("/public/").content.decode()
    assert "尚未发布任何文件" in html and "尚未发布公报" in html
