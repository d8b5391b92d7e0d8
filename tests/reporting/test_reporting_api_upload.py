"""The 205-1 upload through the REST API: the page's importer (``services.upload_report``), its rule
(``reports.file``, the unit's own reporter) and audit; a refused file lists every problem."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dualcontrol.accounts.models import Role
from dualcontrol.audit.models import AuditEntry
from dualcontrol.reporting.models import EnergyReport
from tests.auth import api_client

pytestmark = pytest.mark.django_db

HEADER = (
    "product_code,unit,opening_stock,purchases_qty,consumption_total,"
    "industrial_production,non_industrial,closing_stock\n"
)
GOOD = HEADER + "01,吨,200,1000,1000,990,10,200\n"
BAD = HEADER + "01,吨,abc,1000,-5,990,10,200\nZZ,吨,200,1000,1000,990,10,200\n"
PERIOD = {"period_type": "monthly", "year": 2026, "month": 10}


_client = api_client


def test_upload_through_the_api(world):
    ent = _client(world.users[Role.ENTERPRISE])
    r = ent.post(
        "/api/reports/upload",
        {**PERIOD, "file": SimpleUploadedFile("r.csv", GOOD.encode("gb18030"))},
    )
    assert r.status_code == 201, r.content
    report = EnergyReport.objects.get(pk=r.json()["id"])
    assert report.entity == world.unit and str(report.energy_tce) == "714.3000"
    assert AuditEntry.objects.filter(
        object_type__icontains="report", object_id=str(report.pk)
    ).exists()


def test_upload_refused_whole_with_every_problem(world):
    ent = _client(world.users[Role.ENTERPRISE])
    r = ent.post(
        "/api/reports/upload", {**PERIOD, "file": SimpleUploadedFile("r.csv", BAD.encode())}
    )
    assert r.status_code == 422
    rows = {p["row"] for p in r.json()["problems"]}
    assert {2, 3} <= rows
    assert len(r.json()["problems"]) >= 3
    assert not EnergyReport.objects.exists()
    bad = ent.post(
        "/api/reports/upload",
        {**PERIOD, "period_type": "weekly", "file": SimpleUploadedFile("r.csv", GOOD.encode())},
    )
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "period_type"


def test_upload_refused_for_officers(world):
    city = _client(world.users[Role.CITY_OFFICER])
    r = city.post(
        "/api/reports/upload", {**PERIOD, "file": SimpleUploadedFile("r.csv", GOOD.encode())}
    )
    assert r.status_code == 403
    assert not EnergyReport.objects.exists()
