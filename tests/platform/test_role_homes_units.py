"""Issue 14, role homes: a unit's home says which monthly report is due and when (a platform rule,
labelled), its alarms to explain and its annual status report; a verifier's home its verification
work — and neither is shown an officer's lines."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from dualcontrol.accounts import todo
from dualcontrol.accounts.models import Role
from dualcontrol.reference.report_filing import filing_rule
from dualcontrol.reporting import services as reporting
from tests.auth import login
from tests.factories import coal_row

pytestmark = pytest.mark.django_db


def _labels(user, today):
    return {t.label: t for t in todo.for_user(user, today)}


def test_the_monthly_report_due_and_its_date(world):
    unit_user = world.users[Role.ENTERPRISE]
    rule = filing_rule()
    assert rule.monthly_due(2026, 11) == dt.date(2026, 12, rule.monthly_due_day)
    assert rule.monthly_due(2026, 12) == dt.date(2027, 1, rule.monthly_due_day)
    before, after = dt.date(2026, 12, 2), dt.date(2026, 12, 28)
    line = _labels(unit_user, before)["2026年11月 205-1 月报待报送"]
    assert line.count == 1 and not line.urgent
    assert f"截止 2026-12-{rule.monthly_due_day:02d}" in line.note and "平台规则" in line.note
    assert _labels(unit_user, after)["2026年11月 205-1 月报待报送"].urgent  # past the day
    reporting.save_report(
        entity=world.unit,
        period_type="monthly",
        year=2026,
        month=11,
        rows=[coal_row()],
        user=unit_user,
        submit=True,
    )
    assert "2026年11月 205-1 月报待报送" not in _labels(unit_user, after)  # filed: nothing to do
    c = login(Client(), unit_user)
    with_page = c.get("/").content.decode()
    assert "待办事项" in with_page


def test_officer_lines_stay_on_officer_homes(world):
    unit_lines = _labels(world.users[Role.ENTERPRISE], dt.date(2026, 12, 2))
    verifier_lines = _labels(world.users[Role.VERIFIER], dt.date(2026, 12, 2))
    for officer_only in ("205-1 报表待审核", "自动监测报警待企业说明", "已说明的报警待核实办结"):
        assert officer_only not in unit_lines and officer_only not in verifier_lines
    assert not any("月报待报送" in label for label in verifier_lines)
    c = login(Client(), world.users[Role.VERIFIER])
    assert "待办事项" in c.get("/").content.decode()
