"""Issue 22 "Done when": two provinces live side by side in the demo without seeing each other."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from dualcontrol.access import scope
from dualcontrol.accounts.models import User
from dualcontrol.entities.models import Entity
from dualcontrol.reporting.models import EnergyReport
from tests.auth import login

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 21)


@pytest.fixture
def demo(db):
    from dualcontrol.demo.builder import build

    steps: list[str] = []
    build(TODAY, units=20, months_limit=2, progress=steps.append)
    return steps


def test_the_demo_build_says_each_step(demo):
    """Issue 14: ``make demo`` is no longer silent while it builds."""
    assert demo[0] == "catalogue and divisions"
    for step in ("targets", "reporting", "carbonmarket", "a second province (issue 22)"):
        assert step in demo, (step, demo)
    assert demo[-1] == "roll-ups and database statistics"


def test_the_demo_holds_two_provinces_that_do_not_see_each_other(demo):
    yunnan = User.objects.get(username="demo-province")
    guizhou = User.objects.get(username="demo-guizhou")
    assert scope.province_of(yunnan).code == "530000"
    assert scope.province_of(guizhou).code == "520000"
    gz_units = Entity.objects.filter(division__path__startswith="520000/")
    yn_units = Entity.objects.filter(division__path__startswith="530000/")
    assert gz_units.count() == 12 and yn_units.count() == 20
    assert EnergyReport.objects.filter(entity__in=gz_units).exists()
    assert set(scope.visible_entities(guizhou)) == set(gz_units)
    assert set(scope.visible_entities(yunnan)) == set(yn_units)
    # the pages: each administrator's unit list names only its own province's units
    for user, own, other in ((yunnan, yn_units, gz_units), (guizhou, gz_units, yn_units)):
        c = Client()
        login(c, user)
        body = c.get("/reports/?page_size=200").content.decode()
        assert any(u.name in body for u in own)
        assert not any(u.name in body for u in other)
        assert not any(u.uscc in body for u in other)
