"""The ledger (台账) by hand, its Excel form, and ``dualcontrol projects ledger|sync-statistics|late``.

Projects (verified unless said):
  A  五华区 530102 (Kunming)   rural sewage    COD 100.5  NH3-N 10   2025
  B  五华区 530102 (Kunming)   urban sewage    COD 250    NH3-N 30   2025
  C  昆明市 530100 (city level) rural sewage   COD 49.5              2025
  D  麒麟区 530302 (Qujing)    rural sewage    COD 300    NH3-N 25   2025
  E  麒麟区 530302             rural sewage    COD 999               2024 (another year)
  F  麒麟区 530302             ultra-low NOx   NOx 800               2025 (another pollutant)
  R  五华区 530102             rural sewage    COD 400 claimed, 不予认可 (missing evidence) — nowhere
  L  麒麟区 530302             rural sewage    COD 60 planned, under construction, late
COD 2025: Kunming 100.5 + 250 + 49.5 = 400; Qujing 300; province 700.
NH3-N 2025: Kunming 10 + 30 = 40; Qujing 25; province 65.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from dualcontrol.cli import main
from dualcontrol.projects import services
from dualcontrol.projects.ledger import build_ledger, region_detail, workbook_bytes
from dualcontrol.projects.models import ProjectAlert
from dualcontrol.projects.rules import project_rules
from tests.projects.helpers import (
    NOW,
    SEWAGE,
    ULTRA_LOW,
    annual_rows,
    completed,
    division,
    project,
    stat,
    verified,
)

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 3, 10)


@pytest.fixture
def ledger_world(world):
    annual_rows()
    p = {}
    p["A"] = verified(figures={"cod": "100.5", "nh3n": "10"}, name="A 五华区农村污水")
    p["B"] = verified(type_code=SEWAGE, figures={"cod": "250", "nh3n": "30"}, name="B 五华区污水厂")
    p["C"] = verified(figures={"cod": "49.5"}, division_code="530100", name="C 昆明市本级")
    p["D"] = verified(figures={"cod": "300", "nh3n": "25"}, division_code="530302", name="D 麒麟区")
    p["E"] = verified(
        figures={"cod": "999"},
        division_code="530302",
        name="E 2024",
        start=dt.date(2024, 1, 1),
        finish=dt.date(2024, 10, 1),
        completed_on=dt.date(2024, 10, 1),
    )
    p["F"] = verified(
        type_code=ULTRA_LOW,
        planned={"nox": "900"},
        figures={"nox": "800"},
        division_code="530302",
        name="F NOx",
    )
    r = completed(evidence=("acceptance",), name="R 缺材料")
    services.verify_project(user=None, project=r, figures={"cod": "400"}, now=NOW)
    p["R"] = r
    late = project(
        division_code="530302",
        planned={"cod": "60"},
        name="L 滞后",
        start=dt.date(2025, 6, 1),
        finish=dt.date(2026, 12, 1),
        milestones=[("主体工程完工", dt.date(2026, 1, 31))],
    )
    services.start_construction(user=None, project=late, started_on=dt.date(2025, 6, 1), now=NOW)
    p["L"] = late
    return world, p


def test_ledger_by_hand(ledger_world):
    rules = project_rules()
    ledger = build_ledger(
        top=division("530000"), measure=rules.measures["cod"], year=2025, today=TODAY
    )
    by_code = {r.code: r for r in ledger.regions}
    assert ledger.total == Decimal("700.000")
    assert by_code["530100"].amount == Decimal("400.000") and by_code["530100"].projects == 3
    assert by_code["530300"].amount == Decimal("300.000") and by_code["530300"].projects == 1
    assert by_code["530300"].late == 1 and by_code["530100"].rejected == 1
    assert sorted(line.name for line in ledger.lines) == [
        "A 五华区农村污水",
        "B 五华区污水厂",
        "C 昆明市本级",
        "D 麒麟区",
    ]
    nh3n = build_ledger(
        top=division("530000"), measure=rules.measures["nh3n"], year=2025, today=TODAY
    )
    assert nh3n.total == Decimal("65.000")
    assert {r.code: r.amount for r in nh3n.regions} == {
        "530100": Decimal("40.000"),
        "530300": Decimal("25.000"),
    }
    y2024 = build_ledger(
        top=division("530000"), measure=rules.measures["cod"], year=2024, today=TODAY
    )
    assert y2024.total == Decimal("999.000")
    nox = build_ledger(
        top=division("530000"), measure=rules.measures["nox"], year=2025, today=TODAY
    )
    assert nox.total == Decimal("800.000")
    # the city's ledger: its counties plus the city's own level
    km = build_ledger(top=division("530100"), measure=rules.measures["cod"], year=2025, today=TODAY)
    assert [(r.name, r.amount) for r in km.regions] == [
        ("昆明市本级", Decimal("49.500")),
        ("五华区", Decimal("350.500")),
    ]
    # the statistics hold the same figures (synced on each verification)
    assert stat("530000")["cod_project_reduction_t"] == 700.0
    assert stat("530100")["cod_project_reduction_t"] == 400.0
    assert stat("530102")["cod_project_reduction_t"] == 350.5
    assert stat("530300")["nox_project_reduction_t"] == 800.0
    assert stat("530000")["nh3n_project_reduction_t"] == 65.0


def test_region_detail_lists_makeup_late_and_rejected(ledger_world):
    _world, p = ledger_world
    detail = region_detail(
        division=division("530300"), measure=project_rules().measures["cod"], year=2025, today=TODAY
    )
    assert [line.project_id for line in detail.ledger.lines] == [p["D"].pk]
    assert [(x.pk, why.days) for x, why, _a in detail.late] == [(p["L"].pk, 38)]
    assert detail.late[0][2] == Decimal("60.000")
    km = region_detail(
        division=division("530100"), measure=project_rules().measures["cod"], year=2025, today=TODAY
    )
    assert [x.pk for x, _a in km.rejected] == [p["R"].pk]


def test_workbook(ledger_world):
    rules = project_rules()
    ledger = build_ledger(
        top=division("530000"), measure=rules.measures["cod"], year=2025, today=TODAY
    )
    wb = load_workbook(io.BytesIO(workbook_bytes(ledger)))
    regions, lines = wb.worksheets
    assert regions["A1"].value == "云南省2025年化学需氧量重点工程减排量台账"
    rows = list(regions.iter_rows(min_row=4, values_only=True))
    assert rows[-1][:4] == ("530000", "合计", 700.0, 4)
    assert ("530100", "昆明市", 400.0, 3, 0, 1, 0) in rows
    amounts = sorted(r[9] for r in lines.iter_rows(min_row=4, values_only=True))
    assert amounts == [49.5, 100.5, 250.0, 300.0]


def test_cli_ledger(ledger_world, capsys, tmp_path):
    xlsx = tmp_path / "ledger.xlsx"
    assert (
        main(
            [
                "projects",
                "ledger",
                "--pollutant",
                "COD",
                "--year",
                "2025",
                "--format",
                "json",
                "--xlsx",
                str(xlsx),
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["total"] == 700.0 and data["measure"] == "cod" and data["projects"] == 4
    assert data["rejected_not_counted"] == 1 and data["late"] == 1
    assert {r["code"]: r["amount"] for r in data["regions"]} == {"530100": 400.0, "530300": 300.0}
    assert load_workbook(xlsx).sheetnames == ["按地区", "按项目"]
    assert (
        main(["projects", "ledger", "--pollutant", "NH3-N", "--year", "2025", "--format", "csv"])
        == 0
    )
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert sorted(float(r["amount"]) for r in rows) == [10.0, 25.0, 30.0]
    assert {r["amount_unit"] for r in rows} == {"t"}
    assert (
        main(
            [
                "projects",
                "ledger",
                "--pollutant",
                "化学需氧量",
                "--year",
                "2025",
                "--format",
                "csv",
                "--by",
                "region",
            ]
        )
        == 0
    )
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[-1][:3] == ["530000", "TOTAL", "700"]
    assert (
        main(["projects", "ledger", "--pollutant", "cod", "--year", "2025", "--region", "530100"])
        == 0
    )
    table = capsys.readouterr().out
    assert (
        "昆明市2025年化学需氧量重点工程减排量台账" in table and "350.5" in table and "合计" in table
    )
    assert main(["projects", "ledger", "--pollutant", "SO3", "--year", "2025"]) == 2
    assert "unknown pollutant" in capsys.readouterr().err


def test_cli_sync_and_late(ledger_world, capsys):
    assert main(["projects", "sync-statistics", "--year", "2025"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["written"] == 4 and out["skipped_no_annual_row"] == [
        {"code": "530302", "name": "麒麟区"}
    ]
    assert out["totals"]["530000"]["cod_project_reduction_t"] == "700.000"
    assert main(["projects", "late", "--today", "2026-03-10", "--alert", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["project"] for r in out["late"]] == ["L 滞后"] and out["alerts_created"] == 1
    assert ProjectAlert.objects.get().recipient.username == "city2"
    assert main(["projects", "late", "--today", "bad"]) == 2


def test_rejected_projects_stay_out_whatever_they_claim(ledger_world):
    """R claimed 400 t and was rejected: no total anywhere includes it."""
    _world, p = ledger_world
    r = p["R"]
    r.refresh_from_db()
    assert r.status == "rejected" and all(f.verified_amount is None for f in r.figures.all())
    result = services.sync_statistics(year=2025)
    assert result.totals["530102"]["cod_project_reduction_t"] == "350.500"
