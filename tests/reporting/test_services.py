"""205-1 filing by form rows, Excel, CSV and API; whole-file rejection; review workflow; audit."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from dualcontrol.accounts.models import Role
from dualcontrol.audit.models import AppendOnlyError, AuditEntry
from dualcontrol.formats.report205 import TemplateProduct, write_workbook
from dualcontrol.reporting import services
from dualcontrol.reporting.models import EnergyProduct, EnergyReport, ReportLine, Status
from tests.factories import coal_row, power_row

pytestmark = pytest.mark.django_db


def template(world, fill):
    products = [
        TemplateProduct(p.code, p.name_zh, p.unit, p.coefficient_tce_per_unit)
        for p in EnergyProduct.objects.all()
    ]
    data = write_workbook(
        products, unit_name=world.unit.name, uscc=world.unit.uscc, period="2026-10"
    )
    wb = load_workbook(io.BytesIO(data))
    ws = wb["205-1"]
    fill(ws)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def fill_coal(ws, consumption=1000):
    # row 7 is 原煤 in the template: D opening, E purchases, G total, H industrial, J non-industrial, L closing
    for col, v in {
        "D": 200,
        "E": consumption,
        "F": 650,
        "G": consumption,
        "H": consumption - 10,
        "J": 10,
        "L": 200,
    }.items():
        ws[f"{col}7"] = v


def save(world, rows, **kw):
    return services.save_report(
        entity=world.unit,
        period_type="monthly",
        year=2026,
        month=10,
        rows=rows,
        user=world.users[Role.ENTERPRISE],
        **kw,
    )


def test_form_rows_are_stored_with_totals_and_audit(world):
    report = save(world, [coal_row(), power_row()])
    assert report.status == Status.DRAFT
    assert report.current_revision == 1
    # 1000 t × 0.7143 + 100 万kWh × 1.2290 (当量值) = 714.3 + 122.9
    assert report.energy_tce == Decimal("837.2000")
    entry = AuditEntry.objects.get(action="report.save")
    assert entry.actor_name == "ent1" and entry.after["status"] == "draft" and entry.before is None


def test_excel_upload_round_trip(world):
    data = template(world, fill_coal)
    report = services.upload_report(
        entity=world.unit,
        period_type="monthly",
        year=2026,
        month=10,
        data=data,
        filename="205-1.xlsx",
        user=world.users[Role.ENTERPRISE],
    )
    rows = services.rows_of(report)
    assert [(r.product_code, r.consumption_total, r.closing_stock) for r in rows] == [
        ("01", Decimal(1000), Decimal(200))
    ]
    assert report.revisions.get().source == "excel"


def test_bad_upload_is_rejected_whole_with_cell_references(world):
    def fill(ws):
        fill_coal(ws)
        ws["G8"] = "abc"  # 洗精煤 consumption not a number
        ws["D9"] = 5  # 其他洗煤: opening 5, nothing else → stock does not balance

    data = template(world, fill)
    with pytest.raises(services.ReportRejected) as exc:
        services.upload_report(
            entity=world.unit,
            period_type="monthly",
            year=2026,
            month=10,
            data=data,
            filename="bad.xlsx",
            user=world.users[Role.ENTERPRISE],
        )
    # the text cell hides no other problem (issue 14): row 9's stock balance is listed too
    cells = [(p.sheet, p.column, p.row) for p in exc.value.problems]
    assert cells == [("205-1", "G", 8), ("205-1", "L", 9)]
    assert "不是数字" in exc.value.problems[0].reason
    assert "库存不平衡" in exc.value.problems[1].reason
    assert not EnergyReport.objects.exists() and not ReportLine.objects.exists()


def test_validation_errors_of_an_upload_point_at_cells(world):
    def fill(ws):
        fill_coal(ws)
        ws["L7"] = 300  # closing stock off by 100
        ws["M7"] = 2.5  # implausible coefficient for raw coal

    data = template(world, fill)
    with pytest.raises(services.ReportRejected) as exc:
        services.upload_report(
            entity=world.unit,
            period_type="monthly",
            year=2026,
            month=10,
            data=data,
            filename="bad.xlsx",
            user=world.users[Role.ENTERPRISE],
        )
    assert [(p.column, p.row) for p in exc.value.problems] == [("L", 7), ("M", 7)]
    assert "库存不平衡" in exc.value.problems[0].reason
    assert not EnergyReport.objects.exists()


def test_upload_for_another_unit_is_refused(world):
    data = template(world, fill_coal)
    with pytest.raises(services.PermissionDenied):
        services.upload_report(
            entity=world.other_unit,
            period_type="monthly",
            year=2026,
            month=10,
            data=data,
            filename="x.xlsx",
            user=world.users[Role.ENTERPRISE],
        )


def test_upload_with_another_units_uscc_is_refused(world):
    def fill(ws):
        fill_coal(ws)
        ws["F3"] = world.other_unit.uscc

    with pytest.raises(services.ReportRejected, match="不一致"):
        services.upload_report(
            entity=world.unit,
            period_type="monthly",
            year=2026,
            month=10,
            data=template(world, fill),
            filename="x.xlsx",
            user=world.users[Role.ENTERPRISE],
        )


def test_csv_upload(world):
    data = (
        "product_code,unit,opening_stock,purchases_qty,consumption_total,industrial_production,non_industrial,closing_stock\n"
        "01,吨,200,1000,1000,990,10,200\n"
    ).encode()
    report = services.upload_report(
        entity=world.unit,
        period_type="monthly",
        year=2026,
        month=10,
        data=data,
        filename="r.csv",
        user=world.users[Role.ENTERPRISE],
    )
    assert report.energy_tce == Decimal("714.3000")


def test_future_period_is_refused(world):
    with pytest.raises(services.ReportRejected, match="不在可填报范围"):
        services.save_report(
            entity=world.unit,
            period_type="monthly",
            year=2099,
            month=1,
            rows=[coal_row()],
            user=world.users[Role.ENTERPRISE],
        )


def test_review_flow_return_resubmit_accept(world):
    ent, city = world.users[Role.ENTERPRISE], world.users[Role.CITY_OFFICER]
    report = save(world, [coal_row()], submit=True)
    assert report.status == Status.SUBMITTED
    with pytest.raises(services.WorkflowError, match="原因"):
        services.return_report(report=report, user=city, reason="  ")
    services.return_report(report=report, user=city, reason="电力消费量与结算单不一致")
    report.refresh_from_db()
    assert report.status == Status.RETURNED
    # the unit corrects: a new revision, the returned one is kept
    report = save(world, [coal_row("1100", closing_stock=Decimal(200))])
    assert report.current_revision == 2 and report.status == Status.DRAFT
    services.submit_report(report=report, user=ent)
    services.accept_report(report=report, user=city)
    report.refresh_from_db()
    assert report.status == Status.ACCEPTED
    assert [r.number for r in report.revisions.all()] == [1, 2]
    assert services.rows_of(report, 1)[0].consumption_total == Decimal(1000)
    assert services.rows_of(report, 2)[0].consumption_total == Decimal(1100)
    assert [e.action for e in report.events.all()] == [
        "saved",
        "submitted",
        "returned",
        "saved",
        "submitted",
        "accepted",
    ]
    assert report.events.get(action="returned").reason == "电力消费量与结算单不一致"
    with pytest.raises(services.WorkflowError):
        save(world, [coal_row()])
    # (the world's verifier assignment is an m2m.add entry of its own)
    actions = list(
        AuditEntry.objects.exclude(action__startswith="m2m.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "catalogue.seed",
        "report.save",
        "report.return",
        "report.save",
        "report.submit",
        "report.accept",
    ]


def test_resubmitting_a_returned_report_without_edits_makes_a_new_revision(world):
    report = save(world, [coal_row()], submit=True)
    services.return_report(report=report, user=world.users[Role.CITY_OFFICER], reason="请补充说明")
    services.submit_report(report=report, user=world.users[Role.ENTERPRISE])
    report.refresh_from_db()
    assert report.current_revision == 2 and report.status == Status.SUBMITTED


def test_reviewers_outside_the_region_cannot_act(world):
    report = save(world, [coal_row()], submit=True)
    with pytest.raises(services.PermissionDenied):
        services.accept_report(report=report, user=world.users["other_city"])
    with pytest.raises(services.PermissionDenied):
        services.accept_report(report=report, user=world.users[Role.VERIFIER])
    with pytest.raises(services.PermissionDenied):
        services.accept_report(report=report, user=world.users[Role.ENTERPRISE])


def test_audit_log_is_append_only(world):
    save(world, [coal_row()])
    entry = AuditEntry.objects.first()
    entry.note = "tampered"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.update(note="x")


def test_refusals_in_english(world):
    """Needs the English catalogue with locale/en/LC_MESSAGES/additions-labels.po merged."""
    import re

    from django.utils import translation

    cjk = re.compile(r"[\u4e00-\u9fff（）：，。；]")
    city = world.users[Role.CITY_OFFICER]
    report = save(world, [coal_row()], submit=True)
    with translation.override("en"):
        with pytest.raises(services.ReportRejected) as future:
            services.save_report(
                entity=world.unit,
                period_type="monthly",
                year=2099,
                month=1,
                rows=[coal_row()],
                user=world.users[Role.ENTERPRISE],
            )
        with pytest.raises(services.WorkflowError) as no_reason:
            services.return_report(report=report, user=city, reason="  ")
        services.accept_report(report=report, user=city)
        with pytest.raises(services.WorkflowError) as accepted:
            services.accept_report(report=report, user=city)
        messages = [str(future.value), str(no_reason.value), str(accepted.value)]
    assert messages[1] == "A reason is required to return it"
    assert not [m for m in messages[:2] if cjk.search(m)], messages
    assert messages[2].startswith("A report with status “")  # the status name is the model's
