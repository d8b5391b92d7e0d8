"""``dualcontrol metering rollup|check|partitions`` — the nightly jobs."""

from __future__ import annotations

import datetime as dt

import pytest
from metering_world import ELEC, build, day_of_readings

from dualcontrol.accounts.models import Role
from dualcontrol.cli import main
from dualcontrol.metering import services
from dualcontrol.metering.models import Alert, ItemDay

pytestmark = pytest.mark.django_db


def test_rollup_check_and_partitions(world, capsys):
    mw = build(world)
    day = dt.date(2026, 5, 18)
    services.ingest(
        entity=mw.unit,
        readings=day_of_readings(ELEC, day, skip=set(range(30))),
        user=mw.user(Role.ENTERPRISE),
        roll_up=False,
    )
    assert main(["metering", "rollup", "--date", "2026-05-18"]) == 0
    assert "item-days" in capsys.readouterr().out
    assert ItemDay.objects.get(item=mw.items["elec"], day=day).received == 66
    assert main(["metering", "check", "--at", "2026-05-19T01:00"]) == 0
    out = capsys.readouterr().out
    assert "2 units" in out and "incomplete_day 2" in out and "late_upload 2" in out
    assert Alert.objects.filter(entity=mw.unit, day=day, kind="incomplete_day").exists()
    assert main(["metering", "partitions", "--ahead", "1"]) == 0
    assert main(["metering", "rollup", "--date", "18/05/2026"]) == 2
