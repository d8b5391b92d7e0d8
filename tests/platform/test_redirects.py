"""A posted ``next`` only ever leads back into the site (issue 13: no open redirects)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import RequestFactory

from dualcontrol.redirects import redirect_next, safe_next

SRC = Path(__file__).resolve().parents[2] / "src" / "dualcontrol"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/path",
        "http://testserver.evil.example/",
        "javascript:alert(1)",
        "https:/\\evil.example",
        " //evil.example",
    ],
)
def test_a_foreign_next_falls_back_to_the_default(target):
    request = RequestFactory().post("/x/", {"next": target})
    assert safe_next(request, "/targets/alerts/") == "/targets/alerts/"
    assert redirect_next(request, "/targets/alerts/")["Location"] == "/targets/alerts/"


@pytest.mark.parametrize("target", ["/targets/alerts/?unread=1", "/projects/3/"])
def test_a_path_of_this_site_is_followed(target):
    assert safe_next(RequestFactory().post("/x/", {"next": target}), "/") == target
    assert safe_next(RequestFactory().get("/x/", {"next": target}), "/") == target


def test_no_view_redirects_to_a_raw_next():
    raw = re.compile(r"redirect\(\s*request\.(POST|GET)(\.get)?[\[(]")
    offenders = [
        f"{p.relative_to(SRC)}:{n}"
        for p in SRC.rglob("*.py")
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if raw.search(line)
    ]
    assert not offenders, offenders
