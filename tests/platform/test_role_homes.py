"""Issue 14, role homes: each officer's home says what that role must do next — the counts come from
the same visibility rules as the lists they link to, and every link opens."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from dualcontrol.accounts import todo
from dualcontrol.accounts.models import User
from dualcontrol.assessment.models import RecordStatus
from dualcontrol.reporting.queries import review_queue
from tests.auth import login

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 21)


def test_each_officer_home_lists_what_to_do_next(db):
    from dualcontrol.access.assessment import visible_records
    from dualcontrol.demo.builder import build

    build(TODAY, units=20, months_limit=2)
    for username in ("demo-province", "demo-city", "demo-dept", "demo-guizhou"):
        user = User.objects.get(username=username)
        items = todo.for_user(user, TODAY)
        by_label = {t.label: t for t in items}
        # the review queue line is the review queue's own count
        queue = review_queue(user).count()
        if queue:
            assert by_label["205-1 报表待审核"].count == queue
        c = Client()
        login(c, user)
        home = c.get("/")
        assert home.status_code == 200
        text = home.content.decode()
        assert "待办事项" in text
        for t in items:
            assert t.count > 0
            assert t.label in text and f'href="{t.url}"' in text.replace("&amp;", "&")
            assert c.get(t.url).status_code == 200, (username, t)
    city = User.objects.get(username="demo-city")
    own = visible_records(city).filter(
        division_id=city.division_id, status=RecordStatus.SELF_ASSESSMENT
    )
    lines = {t.label: t for t in todo.for_user(city, TODAY)}
    assert own.exists() and lines["年度考核自评待提交"].count == own.count()
    province = {
        t.label: t for t in todo.for_user(User.objects.get(username="demo-province"), TODAY)
    }
    assert province["方案任务已逾期"].urgent and province["方案任务已逾期"].count > 0
    assert "年度考核自评待提交" not in province  # the province files no self-assessment
    # the demo's story of the current period (issue 14): the 2025 carbon round is finished and its
    # results are published; the 2025 pollutant round waits for the cities' self-assessment
    from dualcontrol.assessment.models import AssessmentRound, RoundStatus
    from dualcontrol.publishing.models import Publication

    carbon = AssessmentRound.objects.get(year=2025, sheet_name="co2-2014")
    assert carbon.status == RoundStatus.SIGNED_OFF and carbon.announced_on == dt.date(2026, 6, 30)
    assert Publication.objects.filter(round=carbon, kind="grades").exists()
    assert AssessmentRound.objects.get(year=2025, sheet_name="pollutants-key-projects").status == (
        RoundStatus.OPEN
    )


def test_the_demo_reports_cover_2025_in_full():
    """A full year of 2025 reports for every unit (the reviewer's same month of last year)."""
    from dualcontrol.demo.builder import _periods
    from dualcontrol.reference import load_yaml

    _v, cfg = load_yaml("demo_yunnan.yaml")
    periods = _periods(cfg["synthetic"]["periods"], TODAY, None)
    assert all((2025, m) in periods for m in range(1, 13))
    assert (2026, 10) in periods and (2026, 11) not in periods  # the latest complete month
