"""The projects part of the demo province: 40 synthetic projects over the 16 prefectures, some
verified, some 不予认可 with reasons, some late; their verified reductions in the 2025 statistics."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.test import Client

from dualcontrol.accounts.models import User
from dualcontrol.demo.builder import build
from dualcontrol.projects import queries
from dualcontrol.projects.ledger import build_ledger
from dualcontrol.projects.models import Project, ProjectAlert, Status
from dualcontrol.projects.rules import project_rules
from dualcontrol.projects.services import missing_evidence
from dualcontrol.regions.models import Division
from dualcontrol.targets.models import RegionalStatistic
from tests.auth import login

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 21)


def test_demo_projects():
    build(TODAY, units=30, months_limit=1)
    projects = list(Project.objects.exclude(kind="investment").select_related("division"))
    assert len(projects) == 40 and all(p.is_synthetic for p in projects)
    prefectures = {p.division.path.split("/")[1] for p in projects}
    assert len(prefectures) == 16
    status = Counter(p.status for p in projects)
    assert status[Status.VERIFIED] == 19 and status[Status.REJECTED] == 5
    assert status[Status.COMPLETED] == 4
    rules = project_rules()
    for p in projects:
        if p.status == Status.VERIFIED:
            assert missing_evidence(p, rules) == [] and p.accounting_year == 2025
        if p.status == Status.REJECTED:
            assert p.rejection_reason
    automatic = Project.objects.filter(verifications__automatic=True).distinct().count()
    assert automatic == 4  # three still rejected, one re-submitted and then verified
    late = queries.with_late(Project.objects.all(), TODAY).filter(is_late=True).count()
    assert late >= 6
    # every pollutant has verified projects; the statistics carry the ledger's figures
    province = Division.objects.get(code="530000")
    row = RegionalStatistic.objects.get(
        division=province,
        year=2025,
        month__isnull=True,
        quarter__isnull=True,
        industry__isnull=True,
    )
    for code in ("cod", "nh3n", "nox", "vocs"):
        measure = rules.measures[code]
        ledger = build_ledger(top=province, measure=measure, year=2025, today=TODAY)
        assert ledger.total > 0
        assert row.factors[measure.statistics_column] == pytest.approx(float(ledger.total))
    assert row.is_synthetic
    # the demo city officer and the demo enterprise are told about their late projects
    assert ProjectAlert.objects.filter(recipient__username="demo-city").exists()
    assert ProjectAlert.objects.filter(recipient__username="demo-enterprise").exists()
    c = Client()
    login(c, User.objects.get(username="demo-city"))
    page = c.get("/projects/ledger/530100/?pollutant=cod&year=2025").content.decode()
    assert "建设滞后的项目" in page and "（演示）" in page
