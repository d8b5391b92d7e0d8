"""Issue 14: the reviewer sees the change against the previous month and the same month of the
previous year, with unusual changes flagged."""

from __future__ import annotations

import pytest

from dualcontrol.accounts.models import Role
from dualcontrol.reporting import services
from tests.auth import login
from tests.factories import coal_row

pytestmark = pytest.mark.django_db


def _report(world, year: int, month: int, consumption: str):
    return services.save_report(
        entity=world.unit,
        period_type="monthly",
        year=year,
        month=month,
        rows=[coal_row(consumption)],
        user=world.users[Role.ENTERPRISE],
        submit=True,
    )


def test_the_review_page_compares_with_the_month_before_and_the_year_before(world, client):
    _report(world, 2026, 9, "1000")  # previous month: +10 % (usual)
    _report(world, 2025, 10, "500")  # same month last year: +120 % (unusual)
    now = _report(world, 2026, 10, "1100")
    login(client, world.users[Role.CITY_OFFICER])
    html = client.get(f"/reports/{now.pk}/").content.decode()
    part = html.split('id="compare"', 1)[1].split("</table>", 1)[0]
    assert "10.0%" in part and "120.0%" in part
    assert part.count("异常") >= 2  # the total and the coal row, year on year only
    assert "10.0% 异常" not in part


def test_a_first_report_has_nothing_to_compare_with(world, client):
    now = _report(world, 2026, 10, "1100")
    login(client, world.users[Role.CITY_OFFICER])
    html = client.get(f"/reports/{now.pk}/").content.decode()
    assert "无上月报表" in html and "无上年同月报表" in html
