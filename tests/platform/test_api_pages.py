"""Every paginated API list refuses a page number it cannot hold (422), never answers 500."""

from __future__ import annotations

import pytest
from django.test import Client

from dualcontrol.accounts.models import Role
from tests.auth import api_token
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _paginated_lists() -> list[str]:
    from dualcontrol.api import api

    spec = api.get_openapi_schema()
    return [
        path
        for path, ops in spec["paths"].items()
        if "get" in ops and any(p["name"] == "page" for p in ops["get"].get("parameters", []))
    ]


def test_page_numbers_past_the_bound_are_refused(world):
    c = Client()
    auth = {
        "HTTP_AUTHORIZATION": f"Bearer {api_token(c, world.users[Role.PROVINCE_ADMIN], PASSWORD)}"
    }
    lists = [p for p in _paginated_lists() if "{" not in p]
    assert len(lists) >= 5
    wrong = []
    for path in lists:
        for page, expected in (
            ("99999999999999999999999", 422),
            ("9223372036854775808", 422),
            ("0", 422),
            ("-1", 422),
            ("x", 422),
            ("1", 200),
            ("10000000", 200),  # the last page allowed: empty, not an error
        ):
            r = c.get(path, {"page": page}, **auth)
            if r.status_code != expected:
                wrong.append((path, page, r.status_code))
        r = c.get(path, {"page": "1", "page_size": "99999999999999999999"}, **auth)
        if r.status_code != 422:
            wrong.append((path, "page_size", r.status_code))
    assert not wrong, wrong
