"""The three administrators' start pages: each sees its own duty, none sees another's."""

from __future__ import annotations

import pytest
from django.test import Client

from dualcontrol.accounts.models import Role
from dualcontrol.audit.services import record
from tests.auth import login

pytestmark = pytest.mark.django_db

HEADINGS = {
    Role.SYSTEM_ADMIN: "系统管理员工作台",
    Role.SECURITY_ADMIN: "安全管理员工作台",
    Role.AUDITOR: "审计员工作台",
}


@pytest.mark.parametrize("role", list(HEADINGS))
def test_each_administrator_has_its_own_start_page(world, role):
    record(actor=None, action="login.failed", object_type="user", object_repr="city1")
    page = login(Client(), world.users[role]).get("/")
    assert page.status_code == 200
    html = page.content.decode()
    assert HEADINGS[role] in html
    assert all(h not in html for r, h in HEADINGS.items() if r != role)
    assert "待审核" not in html  # no officer's work queue
    if role == Role.AUDITOR:
        assert 'id="chain-state"' in html and "登录失败" in html
    else:
        assert "chain-state" not in html and "最新记录" not in html  # no audit content


def test_the_security_administrator_sees_who_has_not_enrolled(world):
    html = login(Client(), world.users[Role.SECURITY_ADMIN]).get("/").content.decode()
    # the officers of the test world have not enrolled a second factor yet (login() enrols the
    # security administrator itself)
    assert "city1" in html and "officer1" in html
