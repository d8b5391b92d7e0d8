"""Issue 14: the enterprise home says what to do next — each returned report with the reason."""

from __future__ import annotations

import pytest

from dualcontrol.accounts.models import Role
from dualcontrol.reporting import services
from tests.auth import login
from tests.factories import coal_row

pytestmark = pytest.mark.django_db


def test_the_enterprise_home_shows_each_returned_report_with_its_reason(world, client):
    ent = world.users[Role.ENTERPRISE]
    report = services.save_report(
        entity=world.unit,
        period_type="monthly",
        year=2026,
        month=10,
        rows=[coal_row()],
        user=ent,
        submit=True,
    )
    login(client, ent)
    assert "审核意见" not in client.get("/").content.decode()
    services.return_report(
        report=report, user=world.users[Role.CITY_OFFICER], reason="电力消费量与结算单不一致"
    )
    html = client.get("/").content.decode()
    assert "电力消费量与结算单不一致" in html
    assert f"/reports/{report.pk}/" in html
