"""A unit's writes and the audits through the REST API: the workbook upload, the energy manager,
ordering an audit and tracking it — the pages' services, rules and audit entries; bad input 422
with every problem, refusals 403, outside the scope 404, a state that does not allow it 409."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import load_workbook

from dualcontrol.accounts.models import Role
from dualcontrol.audit.models import AuditEntry
from dualcontrol.keyunits.models import AuditOrder, EnergyManager, StatusReport
from dualcontrol.keyunits.workbook import template_bytes
from tests.auth import api_client

pytestmark = pytest.mark.django_db
YEAR = 2025


def _post(c: Client, path: str, body: dict, method: str = "post"):
    return getattr(c, method)(path, json.dumps(body), content_type="application/json")


def _workbook(energy_rows, product_rows, uscc="", year=YEAR) -> bytes:
    wb = load_workbook(io.BytesIO(template_bytes(entity=None, year=year)))
    wb["基本情况"]["B2"] = uscc
    for row in energy_rows:
        wb["能源消费"].append(row)
    for row in product_rows:
        wb["产品能耗"].append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _upload(c: Client, data: bytes, **fields):
    return c.post(
        "/api/key-units/status-reports/upload",
        {"year": YEAR, **fields, "file": SimpleUploadedFile("r.xlsx", data)},
    )


# --------------------------------------------------------------------------------------------
# 上传报告工作簿


def test_upload_a_workbook(world):
    ent = api_client(world.users[Role.ENTERPRISE])
    good = _workbook(
        [["原煤", "吨", 10000, 7143], ["电力", "万千瓦时", 1000, 1229]],
        [["水泥熟料", "综合能耗", 500000, "t", 104.5, "kgce/t", None]],
        uscc=world.unit.uscc,
    )
    r = _upload(ent, good, submit="true")
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["unit_uscc"], body["status"], Decimal(body["energy_tce"])) == (
        world.unit.uscc,
        "submitted",
        Decimal("8372"),
    )
    report = StatusReport.objects.get(entity=world.unit, year=YEAR)
    assert (report.source, report.filename, report.status) == ("excel", "r.xlsx", "submitted")
    assert report.product_lines.get().value == Decimal("104.5")
    save = AuditEntry.objects.get(action="keyunits.report.save", object_id=str(report.pk))
    assert "source=excel" in save.note
    assert report.events.filter(action="submitted").count() == 1
    # submitted: the report can no longer be replaced by an upload (409, unchanged)
    again = _upload(ent, good)
    assert again.status_code == 409, again.content
    assert again.json()["problems"][0]["reason"]
    assert StatusReport.objects.get(pk=report.pk).revision == report.revision


def test_a_bad_workbook_lists_every_cell_and_writes_nothing(world):
    ent = api_client(world.users[Role.ENTERPRISE])
    bad = _workbook(
        [["原煤", "吨", "十吨", 7143], ["原煤", "吨", 1, -5]],
        [["水泥熟料", "综合能耗", 0, "t", "abc", "kWh/t", None]],
        uscc="91530000MA0000000X",
    )
    r = _upload(ent, bad)
    assert r.status_code == 422, r.content
    where = sorted((p["sheet"], p["row"], p["column"]) for p in r.json()["problems"])
    assert where == [
        ("产品能耗", 2, "C"),
        ("产品能耗", 2, "E"),
        ("产品能耗", 2, "F"),
        ("基本情况", 2, "B"),
        ("能源消费", 2, "C"),
        ("能源消费", 3, "A"),
        ("能源消费", 3, "D"),
    ]
    assert not StatusReport.objects.exists()
    assert not AuditEntry.objects.filter(action="keyunits.report.save").exists()
    # not a workbook at all: refused by the one upload reader, nothing written
    junk = _upload(ent, b"x")
    assert junk.status_code == 422 and junk.json()["problems"]
    assert not StatusReport.objects.exists()


def test_only_a_unit_uploads_its_report(world):
    data = _workbook([["原煤", "吨", 10000, 7143]], [], uscc=world.unit.uscc)
    for role in (Role.PROVINCE_OFFICER, Role.CITY_OFFICER, Role.VERIFIER):
        r = _upload(api_client(world.users[role]), data)
        assert r.status_code == 403, (role, r.status_code)
    assert not StatusReport.objects.exists()


# --------------------------------------------------------------------------------------------
# 能源管理负责人


def test_the_unit_names_its_energy_manager(world):
    ent = api_client(world.users[Role.ENTERPRISE])
    body = {
        "name": "王明",
        "certificate_no": "NM-2025-001",
        "valid_until": "2028-12-31",
        "phone": "0871-1234567",
    }
    r = _post(ent, "/api/key-units/manager", body, "put")
    assert r.status_code == 200, r.content
    assert r.json()["unit_uscc"] == world.unit.uscc and r.json()["name"] == "王明"
    m = EnergyManager.objects.get(entity=world.unit)
    assert (m.name, m.certificate_no, m.valid_until) == (
        "王明",
        "NM-2025-001",
        dt.date(2028, 12, 31),
    )
    assert AuditEntry.objects.filter(action="keyunits.manager", object_id=str(m.pk)).count() == 1
    # again: the same record is replaced, audited again
    r = _post(ent, "/api/key-units/manager", {**body, "name": "李华"}, "put")
    assert r.status_code == 200 and EnergyManager.objects.get(entity=world.unit).name == "李华"
    assert AuditEntry.objects.filter(action="keyunits.manager").count() == 2


def test_a_bad_manager_lists_every_field_and_writes_nothing(world):
    ent = api_client(world.users[Role.ENTERPRISE])
    r = _post(
        ent,
        "/api/key-units/manager",
        {"name": " ", "certificate_no": "x" * 65, "phone": "1" * 33},
        "put",
    )
    assert r.status_code == 422, r.content
    assert sorted(p["field"] for p in r.json()["problems"]) == ["certificate_no", "name", "phone"]
    assert not EnergyManager.objects.exists()
    assert not AuditEntry.objects.filter(action="keyunits.manager").exists()


def test_only_the_unit_names_its_manager_through_the_api(world):
    for role in (Role.PROVINCE_OFFICER, Role.CITY_OFFICER):
        c = api_client(world.users[role])
        assert _post(c, "/api/key-units/manager", {"name": "王明"}, "put").status_code == 403
    assert not EnergyManager.objects.exists()


# --------------------------------------------------------------------------------------------
# 责令能源审计


def test_order_an_audit(world):
    city = api_client(world.users[Role.CITY_OFFICER])
    path = f"/api/key-units/units/{world.unit.uscc}/audits"
    body = {"year": YEAR, "reason": "missed_target", "detail": "未完成年度节能目标"}
    r = _post(city, path, body)
    assert r.status_code == 201, r.content
    a = AuditOrder.objects.get(entity=world.unit)
    assert r.json()["id"] == a.pk
    assert (a.year, a.reason, a.status, a.ordered_by) == (
        YEAR,
        "missed_target",
        "ordered",
        world.users[Role.CITY_OFFICER],
    )
    assert AuditEntry.objects.filter(action="keyunits.audit.order", object_id=str(a.pk)).exists()
    # once per unit, year and reason: the second order is refused by the state (409)
    again = _post(city, path, body)
    assert again.status_code == 409 and again.json()["problems"][0]["reason"]
    assert AuditOrder.objects.count() == 1


def test_ordering_an_audit_refused(world):
    path = f"/api/key-units/units/{world.unit.uscc}/audits"
    body = {"year": YEAR, "reason": "over_limit"}
    officer = api_client(world.users[Role.PROVINCE_OFFICER])
    bad = _post(officer, path, {"year": YEAR, "reason": "nope"})
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "reason"
    # the unit itself has no keyunits.manage
    ent = api_client(world.users[Role.ENTERPRISE])
    assert _post(ent, path, body).status_code == 403
    # a city officer of another prefecture: the unit is outside its scope
    other = api_client(world.users["other_city"])
    assert _post(other, path, body).status_code == 404
    assert not AuditOrder.objects.exists()
    assert not AuditEntry.objects.filter(action="keyunits.audit.order").exists()


# --------------------------------------------------------------------------------------------
# 审计跟踪


def test_track_an_audit_to_its_close(world):
    officer = api_client(world.users[Role.PROVINCE_OFFICER])
    r = _post(
        officer,
        f"/api/key-units/units/{world.unit.uscc}/audits",
        {"year": YEAR, "reason": "over_limit"},
    )
    audit_id = r.json()["id"]
    report, close = (f"/api/key-units/audits/{audit_id}/{x}" for x in ("report", "close"))
    # closing before the report is received: wrong state
    early = _post(officer, close, {"note": "已整改"})
    assert early.status_code == 409, early.content
    assert AuditOrder.objects.get(pk=audit_id).status == "ordered"
    blank = _post(officer, report, {"reference": " "})
    assert blank.status_code == 422 and blank.json()["problems"][0]["field"] == "reference"
    too_long = _post(officer, report, {"reference": "x" * 256})
    assert too_long.status_code == 422 and too_long.json()["problems"][0]["field"] == "reference"
    ent = api_client(world.users[Role.ENTERPRISE])
    assert _post(ent, report, {"reference": "审计报告 2026-01"}).status_code == 403
    other = api_client(world.users["other_city"])
    assert _post(other, report, {"reference": "审计报告 2026-01"}).status_code == 404
    assert not AuditEntry.objects.filter(action="keyunits.audit.report").exists()

    r = _post(officer, report, {"reference": "审计报告 2026-01"})
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "report_received"
    a = AuditOrder.objects.get(pk=audit_id)
    assert (a.status, a.report_reference) == ("report_received", "审计报告 2026-01")
    assert AuditEntry.objects.filter(
        action="keyunits.audit.report", object_id=str(audit_id)
    ).exists()
    # a second report on the same audit: wrong state
    assert _post(officer, report, {"reference": "again"}).status_code == 409

    assert _post(officer, close, {"note": ""}).json()["problems"][0]["field"] == "note"
    r = _post(officer, close, {"note": "已整改"})
    assert r.status_code == 200 and r.json()["status"] == "closed"
    a.refresh_from_db()
    assert (a.status, a.closing_note) == ("closed", "已整改")
    assert AuditEntry.objects.filter(
        action="keyunits.audit.close", object_id=str(audit_id)
    ).exists()
    assert _post(officer, close, {"note": "again"}).status_code == 409
