"""The demo extension registers items for a handful of monitored units and generates synthetic
readings whose built-in faults (gaps, a stuck meter, out-of-range values, a day/month mismatch,
a unit that stopped uploading, an overdue calibration) come out of the real checks."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from dualcontrol.accounts.models import User
from dualcontrol.demo.builder import build
from dualcontrol.metering import storage
from dualcontrol.metering.models import Alert, AlertKind, DataItem, FaultReport
from tests.auth import login

pytestmark = pytest.mark.django_db


def test_demo_extension():
    build(dt.date(2026, 11, 4), units=24, months_limit=2)
    units = {i.entity for i in DataItem.objects.select_related("entity")}
    assert 3 <= len(units) <= 6
    assert all(u.is_synthetic and u.online_monitoring for u in units)
    assert storage.count() > 20_000
    kinds = set(Alert.objects.values_list("kind", flat=True))
    assert {
        AlertKind.STUCK_METER,
        AlertKind.INCOMPLETE_DAY,
        AlertKind.CALIBRATION_DUE,
        AlertKind.INCONSISTENT,
    } <= kinds
    assert FaultReport.objects.filter(status=FaultReport.Status.CLOSED).count() == 1
    c = Client()
    login(c, User.objects.get(username="demo-province"))
    unit = sorted(units, key=lambda u: u.uscc)[0]
    for path in (
        "/metering/",
        f"/metering/units/{unit.uscc}/",
        f"/metering/units/{unit.uscc}/reconciliation/",
    ):
        r = c.get(path)
        assert r.status_code == 200
        assert "演示" in r.content.decode()
