"""Key-unit services: designation thresholds at their boundaries, the status-report workflow
(each transition and the refused ones), grades, surcharges, audits, reminders, publication,
the Excel upload (a bad file lists every problem and writes nothing) and the exports.

Sources: 节约能源法 第五十二条 / 《重点用能单位节能管理办法》(令第15号, 2018) 第二条 — “一万吨标准煤及以上”,
“五千吨及以上不满一万吨”; 发改价格〔2021〕1239号 — 2025 分档标准 13300 kWh/t, +0.01 元/kWh per started
20 kWh; GB 21346-2022 铝液综合交流电耗 1/2/3级 13250/13350/13700; GB 16780-2021 熟料综合能耗
100/107/117 with 标杆 100 / 基准 117 (values as in the reference data files).
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from dualcontrol.accounts.models import Role
from dualcontrol.audit.models import AuditEntry
from dualcontrol.keyunits import queries, services
from dualcontrol.keyunits.models import (
    AuditOrder,
    Designation,
    ProductGrade,
    PublishedList,
    Reminder,
    StatusReport,
    Surcharge,
)
from dualcontrol.keyunits.rules import load_rules
from dualcontrol.keyunits.workbook import template_bytes
from dualcontrol.reporting.models import Status

pytestmark = pytest.mark.django_db
YEAR = 2025
TODAY = dt.date(2026, 5, 1)


def content(*lines: services.ProductRow, tce: str = "12000") -> services.StatusContent:
    return services.StatusContent(
        energy_uses=[services.EnergyUseRow("原煤", "吨", "10000", tce)],
        product_lines=list(lines),
        savings_tce="120",
        measures="余热发电",
        manager_name="王明",
    )


def clinker(value: str, output: str = "1000000") -> services.ProductRow:
    return services.ProductRow("cement_clinker", "comprehensive_energy", output, value)


def aluminium(value: str, kwh: str | None = "1000000") -> services.ProductRow:
    return services.ProductRow(
        "电解铝", "铝液综合交流电耗", "100000", value, unit="kWh/t", electricity_kwh=kwh
    )


def accepted(world, *lines, unit=None, user_key=Role.ENTERPRISE):
    unit = unit or world.unit
    r = services.save_status_report(
        entity=unit,
        year=YEAR,
        content=content(*lines),
        user=world.users[user_key],
        submit=True,
        today=TODAY,
    )
    return services.accept_status_report(report=r, user=world.users[Role.PROVINCE_OFFICER])


# --------------------------------------------------------------------------------------------
# designation thresholds at their boundaries (through the service)


@pytest.mark.parametrize(
    ("tce", "tier"),
    [
        ("4999.99", None),
        ("5000", "provincial"),
        ("5000.01", "provincial"),
        ("9999.99", "provincial"),
        ("10000", "national"),
        ("10000.01", "national"),
    ],
)
def test_proposals_follow_the_thresholds_at_their_boundaries(world, tce, tier):
    world.unit.annual_energy_tce = Decimal(tce)
    world.unit.save()
    world.other_unit.annual_energy_tce = None
    world.other_unit.save()
    services.propose_designations(year=YEAR, user=world.users[Role.PROVINCE_OFFICER])
    d = Designation.objects.filter(entity=world.unit, year=YEAR).first()
    assert (d.tier if d else None) == tier
    if d:
        assert d.status == "proposed" and d.basis_source == "registry"
        assert d.rule_version.startswith("national_2018 key_unit_thresholds.yaml@")


def test_an_accepted_annual_report_is_the_basis_before_the_registry(world):
    from dualcontrol.reporting.models import EnergyReport

    world.unit.annual_energy_tce = Decimal("4000")
    world.unit.save()
    EnergyReport.objects.create(
        entity=world.unit, period_type="annual", year=YEAR, status="accepted", energy_tce=10000
    )
    services.propose_designations(year=YEAR, user=None)
    d = Designation.objects.get(entity=world.unit, year=YEAR)
    assert (d.tier, d.basis_source, d.basis_energy_tce) == ("national", "205-1 annual", 10000)


def test_confirm_remove_publish_and_who_may(world):
    world.unit.annual_energy_tce = Decimal("6000")
    world.unit.save()
    officer = world.users[Role.PROVINCE_OFFICER]
    with pytest.raises(services.PermissionDenied):
        services.propose_designations(year=YEAR, user=world.users[Role.CITY_OFFICER])
    services.propose_designations(year=YEAR, user=officer)
    d = Designation.objects.get(entity=world.unit, year=YEAR)
    with pytest.raises(services.PermissionDenied):
        services.confirm_designation(designation=d, user=world.users[Role.CITY_OFFICER])
    with pytest.raises(services.WorkflowError):
        services.remove_designation(designation=d, user=officer, reason=" ")
    services.confirm_designation(designation=d, user=officer)
    assert d.status == "confirmed" and d.decided_by == officer
    with pytest.raises(services.WorkflowError):
        services.confirm_designation(designation=d, user=officer)
    published = services.publish_list(kind="designations", year=YEAR, user=officer)
    assert [r["单位名称"] for r in published.rows] == [world.unit.name]
    d.refresh_from_db()
    assert d.published
    services.remove_designation(designation=d, user=officer, reason="关停")
    assert d.status == "removed" and not d.published
    assert AuditEntry.objects.filter(action__startswith="keyunits.").count() >= 4


# --------------------------------------------------------------------------------------------
# status-report workflow


def test_status_report_workflow_each_transition_and_refusals(world):
    ent, officer = world.users[Role.ENTERPRISE], world.users[Role.PROVINCE_OFFICER]
    with pytest.raises(services.PermissionDenied):
        services.save_status_report(
            entity=world.other_unit, year=YEAR, content=content(), user=ent, today=TODAY
        )
    with pytest.raises(services.ReportRejected):
        services.save_status_report(
            entity=world.unit, year=2026, content=content(), user=ent, today=TODAY
        )
    r = services.save_status_report(
        entity=world.unit, year=YEAR, content=content(clinker("110")), user=ent, today=TODAY
    )
    assert (r.status, r.revision, r.energy_tce) == (Status.DRAFT, 1, Decimal("12000"))
    assert r.deadline == dt.date(2026, 3, 31)  # keyunit_rules.yaml: 3月31日 of the next year
    with pytest.raises(services.WorkflowError):
        services.accept_status_report(report=r, user=officer)  # a draft is not accepted
    with pytest.raises(services.WorkflowError):
        services.return_status_report(report=r, user=officer, reason="x")
    r = services.submit_status_report(report=r, user=ent)
    assert r.status == Status.SUBMITTED
    with pytest.raises(services.WorkflowError):
        services.submit_status_report(report=r, user=ent)
    with pytest.raises(services.WorkflowError):
        services.save_status_report(
            entity=world.unit, year=YEAR, content=content(), user=ent, today=TODAY
        )
    with pytest.raises(services.PermissionDenied):
        services.accept_status_report(report=r, user=world.users["other_city"])
    with pytest.raises(services.WorkflowError):
        services.return_status_report(report=r, user=officer, reason="  ")
    r = services.return_status_report(report=r, user=world.users[Role.CITY_OFFICER], reason="核实")
    assert r.status == Status.RETURNED
    r = services.save_status_report(
        entity=world.unit, year=YEAR, content=content(clinker("105")), user=ent, today=TODAY
    )
    assert (r.status, r.revision) == (Status.DRAFT, 2)
    r = services.submit_status_report(report=r, user=ent)
    r = services.accept_status_report(report=r, user=officer)
    assert r.status == Status.ACCEPTED
    assert r.revisions.count() == 2
    assert list(r.events.values_list("action", flat=True)) == [
        "saved",
        "submitted",
        "returned",
        "saved",
        "submitted",
        "accepted",
    ]
    with pytest.raises(services.WorkflowError):
        services.save_status_report(
            entity=world.unit, year=YEAR, content=content(), user=ent, today=TODAY
        )


def test_a_report_with_problems_lists_every_one_and_writes_nothing(world):
    bad = services.StatusContent(
        energy_uses=[services.EnergyUseRow("原煤", "吨", "abc", "-1")],
        product_lines=[
            services.ProductRow("cement_clinker", "comprehensive_energy", "0", "x"),
            services.ProductRow("电解铝", "铝液综合交流电耗", "10", "13000", unit="kgce/t"),
        ],
        savings_tce="many",
    )
    with pytest.raises(services.ReportRejected) as exc:
        services.save_status_report(
            entity=world.unit,
            year=YEAR,
            content=bad,
            user=world.users[Role.ENTERPRISE],
            today=TODAY,
        )
    fields = sorted(p.field for p in exc.value.problems)
    assert fields == ["energy_tce", "output", "quantity", "savings_tce", "unit", "value"]
    assert not StatusReport.objects.exists()


# --------------------------------------------------------------------------------------------
# grades (GB 16780-2021 clinker 100/107/117; 标杆 100, 基准 117) at their boundaries


@pytest.mark.parametrize(
    ("value", "grade", "position"),
    [
        ("99.9", "1", "benchmark"),
        ("100", "1", "benchmark"),
        ("100.1", "2", "between"),
        ("107", "2", "between"),
        ("107.1", "3", "between"),
        ("117", "3", "between"),
        ("117.1", "over", "below_baseline"),
    ],
)
def test_grades_at_each_boundary_through_the_service(world, value, grade, position):
    accepted(world, clinker(value))
    result = services.compute_grades(year=YEAR, user=world.users[Role.PROVINCE_OFFICER])
    assert result.graded == 1 and not result.skipped
    g = ProductGrade.objects.get()
    assert (g.grade, g.benchmark_position, g.standard_code) == (grade, position, "GB 16780-2021")
    assert g.standard_version.startswith("efficiency_limits.csv@")
    assert g.benchmark_version.startswith("efficiency_benchmarks.csv@")
    over = list(queries.over_limit(YEAR))
    below = list(queries.below_baseline(YEAR))
    assert (len(over), len(below)) == ((1, 1) if grade == "over" else (0, 0))


def test_a_line_without_a_limit_standard_is_listed_not_graded(world):
    accepted(world, services.ProductRow("黄磷", "综合能耗", "1000", "2500"))
    result = services.compute_grades(year=YEAR, user=None)
    assert result.graded == 0
    assert result.skipped[0][1:3] == ("黄磷", "综合能耗")
    with pytest.raises(services.PermissionDenied):
        services.compute_grades(year=YEAR, user=world.users[Role.CITY_OFFICER])


def test_frontrunners_need_grade_1_and_more_than_10000_tce(world):
    accepted(world, clinker("99"))  # 12 000 tce, grade 1
    r = services.save_status_report(
        entity=world.other_unit,
        year=YEAR,
        content=content(clinker("98"), tce="10000"),  # exactly 10 000: not “超过”
        user=world.users["other_enterprise"],
        submit=True,
        today=TODAY,
    )
    services.accept_status_report(report=r, user=world.users[Role.PROVINCE_OFFICER])
    services.compute_grades(year=YEAR, user=None)
    assert [g.entity for g in queries.frontrunners(YEAR)] == [world.unit]


def test_shares_at_benchmark_per_sector_and_region(world):
    accepted(
        world,
        clinker("100", output="300"),
        services.ProductRow("cement_clinker", "comprehensive_power", "700", "50"),
    )
    services.compute_grades(year=YEAR, user=None)
    (share,) = queries.benchmark_shares(YEAR, "industry")
    # clinker energy at 标杆 (300 t); clinker power has no 标杆/基准 level: not counted
    assert (share.output_total, share.output_benchmark, share.share_pct) == (300, 300, 100)
    (region,) = queries.benchmark_shares(YEAR, "region")
    assert region.key == "530100"


# --------------------------------------------------------------------------------------------
# surcharges: 发改价格〔2021〕1239号, 2025 分档标准 13300 kWh/t


@pytest.mark.parametrize(
    ("value", "yuan", "amount"),
    [
        ("13300", "0", "0.00"),
        ("13300.01", "0.01", "10000.00"),
        ("13320", "0.01", "10000.00"),
        ("13320.01", "0.02", "20000.00"),
    ],
)
def test_aluminium_surcharge_at_the_threshold(world, value, yuan, amount):
    accepted(world, aluminium(value))
    result = services.compute_surcharges(year=YEAR, user=None)
    s = Surcharge.objects.get()
    assert (result.computed, s.rule) == (1, "al_tiered_2022")
    assert s.surcharge_yuan_per_kwh == Decimal(yuan)
    assert s.amount_yuan == Decimal(amount)
    assert s.rule_version.startswith("electricity_surcharges.yaml@")


def test_no_surcharge_rule_is_counted_not_priced(world):
    accepted(world, clinker("130"))  # Yunnan: no punitive rule in the reference data
    result = services.compute_surcharges(year=YEAR, user=None)
    assert (result.computed, result.no_rule) == (0, 1)


def test_surcharge_list_exports_for_the_grid_company(world):
    accepted(world, aluminium("13400"))
    services.compute_surcharges(year=YEAR, user=None)
    headers, rows = queries.list_table("surcharges", YEAR)
    assert headers[8] == "加价（元/千瓦时）" and rows[0][8] == Decimal("0.05")
    # names, not keys: 产品, 指标, 档次 (5 started 20 kWh/t steps over 13300), 规则 (the document)
    assert rows[0][4:6] == ["电解铝", "铝液综合交流电耗"]
    assert rows[0][7] == "超过分档标准 5 档"
    assert rows[0][11].startswith("关于完善电解铝行业阶梯电价政策的通知")
    assert rows[0][12].startswith("electricity_surcharges.yaml@")


# --------------------------------------------------------------------------------------------
# audits


def test_audits_ordered_for_units_over_a_limit_and_tracked(world):
    accepted(world, clinker("118"))
    services.compute_grades(year=YEAR, user=None)
    (audit,) = services.order_audits_for_over_limit(
        year=YEAR, user=None, ordered_on=dt.date(2026, 5, 15)
    )
    assert audit.reason == "over_limit" and audit.due == dt.date(2026, 11, 11)  # +180 days
    assert services.order_audits_for_over_limit(year=YEAR, user=None) == []  # once per unit
    city = world.users[Role.CITY_OFFICER]
    with pytest.raises(services.WorkflowError):
        services.close_audit(audit=audit, user=city, note="x")
    with pytest.raises(services.PermissionDenied):
        services.record_audit_report(audit=audit, user=world.users["other_city"], reference="r")
    services.record_audit_report(audit=audit, user=city, reference="审计报告 2026-01")
    assert audit.status == "report_received"
    services.close_audit(audit=audit, user=city, note="已整改")
    assert audit.status == "closed"
    with pytest.raises(services.WorkflowError):
        services.order_audit(entity=world.unit, year=YEAR, reason="over_limit", user=city)
    a2 = services.order_audit(entity=world.unit, year=YEAR, reason="missed_target", user=city)
    assert AuditOrder.objects.count() == 2 and a2.status == "ordered"


# --------------------------------------------------------------------------------------------
# reminders


def test_reminders_on_the_days_of_the_rules_once(world, mailoutbox=None):
    from dualcontrol.jobs.models import OutboxMessage

    world.users[Role.ENTERPRISE].email = "ent@example.org"
    world.users[Role.ENTERPRISE].save()
    Designation.objects.create(
        entity=world.unit,
        year=YEAR,
        tier="provincial",
        status="confirmed",
        basis_energy_tce=6000,
        rule_version="t",
    )
    deadline = load_rules().status_deadline(YEAR)
    assert services.send_status_reminders(today=deadline - dt.timedelta(days=8)).units == 0
    first = services.send_status_reminders(today=deadline - dt.timedelta(days=7))
    assert (first.units, first.mails) == (1, 1)
    assert services.send_status_reminders(today=deadline - dt.timedelta(days=7)).units == 0
    assert services.send_status_reminders(today=deadline + dt.timedelta(days=1)).units == 1
    assert OutboxMessage.objects.count() == 2 and Reminder.objects.count() == 2


# --------------------------------------------------------------------------------------------
# Excel upload


def _workbook(energy_rows, product_rows, uscc="", year=YEAR, drop=()):
    wb = load_workbook(io.BytesIO(template_bytes(entity=None, year=year)))
    basic = wb["基本情况"]
    basic["B2"] = uscc
    for row in energy_rows:
        wb["能源消费"].append(row)
    for row in product_rows:
        wb["产品能耗"].append(row)
    for name in drop:
        del wb[name]
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_upload_of_a_good_workbook(world):
    data = _workbook(
        [["原煤", "吨", 10000, 7143], ["电力", "万千瓦时", 1000, 1229]],
        [["水泥熟料", "综合能耗", 500000, "t", 104.5, "kgce/t", None]],
        uscc=world.unit.uscc,
    )
    r = services.upload_status_report(
        entity=world.unit,
        year=YEAR,
        data=data,
        filename="r.xlsx",
        user=world.users[Role.ENTERPRISE],
        today=TODAY,
    )
    assert (r.source, r.energy_tce) == ("excel", Decimal("8372"))
    line = r.product_lines.get()
    assert (line.product, line.indicator, line.value) == (
        "cement_clinker",
        "comprehensive_energy",
        Decimal("104.5"),
    )


def test_a_bad_workbook_lists_every_cell_and_writes_nothing(world):
    data = _workbook(
        [["原煤", "吨", "十吨", 7143], ["原煤", "吨", 1, -5]],
        [["水泥熟料", "综合能耗", 0, "t", "abc", "kWh/t", None]],
        uscc="91530000MA0000000X",
        year=2024,
    )
    with pytest.raises(services.ReportRejected) as exc:
        services.upload_status_report(
            entity=world.unit,
            year=YEAR,
            data=data,
            filename="r.xlsx",
            user=world.users[Role.ENTERPRISE],
            today=TODAY,
        )
    where = sorted((p.sheet, p.row, p.column) for p in exc.value.problems)
    assert where == [
        ("产品能耗", 2, "C"),  # output 0
        ("产品能耗", 2, "E"),  # value not a number
        ("产品能耗", 2, "F"),  # unit kWh/t where the line's is kgce/t
        ("基本情况", 2, "B"),  # USCC of another unit
        ("基本情况", 3, "B"),  # another year
        ("能源消费", 2, "C"),  # quantity not a number
        ("能源消费", 3, "A"),  # kind repeated
        ("能源消费", 3, "D"),  # negative tce
    ]
    assert not StatusReport.objects.exists()


def test_a_workbook_without_its_sheets_is_refused(world):
    data = _workbook([], [], drop=("产品能耗",))
    with pytest.raises(services.ReportRejected) as exc:
        services.upload_status_report(
            entity=world.unit,
            year=YEAR,
            data=data,
            filename="r.xlsx",
            user=world.users[Role.ENTERPRISE],
            today=TODAY,
        )
    assert [p.sheet for p in exc.value.problems] == ["产品能耗"]
    wb = Workbook()
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(services.ReportRejected):
        services.upload_status_report(
            entity=world.unit,
            year=YEAR,
            data=b"a,b\n1,2\n",
            filename="r.csv",
            user=world.users[Role.ENTERPRISE],
            today=TODAY,
        )


def test_published_lists_freeze_their_rows(world):
    accepted(world, clinker("120"))
    services.compute_grades(year=YEAR, user=None)
    with pytest.raises(services.WorkflowError):
        services.publish_list(kind="frontrunners", year=YEAR, user=None)  # empty
    p = services.publish_list(kind="over_limit", year=YEAR, user=None)
    assert p.rows[0]["等级"] == "超限额" and p.rule_version.startswith("keyunit_rules.yaml@")
    ProductGrade.objects.all().delete()
    assert PublishedList.objects.get(kind="over_limit").rows == p.rows
