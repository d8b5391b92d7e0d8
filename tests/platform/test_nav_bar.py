"""Issue 14: the menu no longer wraps onto two lines — the first links sit in the bar, the rest
open from 更多 (every link still there)."""

from __future__ import annotations

import re

import pytest

from dualcontrol.accounts.models import Role
from dualcontrol.accounts.navigation import NAV_IN_BAR, nav_for
from tests.auth import login

pytestmark = pytest.mark.django_db


def test_the_bar_holds_the_first_links_and_more_holds_the_rest(world, client):
    admin = world.users[Role.PROVINCE_ADMIN]
    items = nav_for(admin)
    assert len(items) > NAV_IN_BAR + 1
    login(client, admin)
    html = client.get("/reports/").content.decode()
    nav = html.split("<nav>", 1)[1].split("</nav>", 1)[0]
    bar, _, more = nav.partition('<details class="more">')
    assert len(re.findall(r"<a href=", bar)) == NAV_IN_BAR
    assert len(re.findall(r"<a href=", more)) == len(items) - NAV_IN_BAR
    for _label, url in items:
        assert f'href="{url}"' in nav


def test_a_short_menu_has_no_more(db, client):
    from django.contrib.auth.models import AnonymousUser

    assert len(nav_for(AnonymousUser())) <= NAV_IN_BAR + 1
    html = client.get("/public/").content.decode()
    assert 'class="more"' not in html
