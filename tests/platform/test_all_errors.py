"""Every import lists every problem of a file at once (issue 14, "All errors at once").

For each importer a file with five independent bad cells — text in a number cell, a negative
value on a row that has another bad cell, a missing required cell, an unknown code, a bad date —
is uploaded through its page (Django test client): the refusal lists all five (sheet, row, column),
the annotated Excel copy offered on the page has exactly those five cells filled with a comment
giving the reason and a sheet 问题清单 with five rows, and nothing of the file is written (no rows,
no audit entry).  The page shows at most the platform rule's number of problems and the count of
the rest.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import Workbook, load_workbook

from dualcontrol.accounts.models import Role
from dualcontrol.audit.models import AuditEntry
from dualcontrol.uploads_annotate import LIST_SHEET, capped, problem_rules
from tests.auth import login

pytestmark = pytest.mark.django_db


def _xlsx(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ------------------------------------------------------------------------------------------
# the importers: each builds its five-error file and says what it would write


@dataclass
class Importer:
    name: str
    role: str
    url: str
    build: Callable[[Any], tuple[bytes, str, dict[str, Any]]]  # world → bytes, filename, fields
    cells: set[tuple[str, int, str]]  # the five bad cells: (sheet, row, column)
    written: Callable[[], int]  # rows the importer would have written
    kind: str = ""


def _report205(world: Any) -> tuple[bytes, str, dict[str, Any]]:
    from dualcontrol.formats.report205 import TemplateProduct, write_workbook
    from dualcontrol.reporting.models import EnergyProduct

    products = [
        TemplateProduct(p.code, p.name_zh, p.unit, p.coefficient_tce_per_unit)
        for p in EnergyProduct.objects.all()
    ]
    data = write_workbook(
        products, unit_name=world.unit.name, uscc=world.unit.uscc, period="2026-10"
    )
    wb = load_workbook(io.BytesIO(data))
    ws = wb["205-1"]
    # row 7 原煤, balanced (D opening, E purchases, F value, G total, H industrial, J other, L closing)
    for col, v in {"D": 200, "E": 1000, "F": 650, "G": 1000, "H": 990, "J": 10, "L": 200}.items():
        ws[f"{col}7"] = v
    ws["F7"] = -650  # 1. a negative value (purchase value, no identity involved) ...
    ws["M7"] = "约0.7"  # 2. ... on a row with text in a number cell (the coefficient used)
    ws["A8"], ws["C8"], ws["D8"], ws["L8"] = "自备燃料", None, 5, 5  # 3. missing code
    last = ws.max_row + 1
    for col, v in {"A": "某燃料", "B": "吨", "C": "99", "D": 1, "L": 1}.items():
        ws[f"{col}{last}"] = v  # 4. unknown product code 99
    ws["J3"] = "2026-13"  # 5. a bad date: the report period
    _report205.last = last  # type: ignore[attr-defined]
    return _xlsx(wb), "bad-205-1.xlsx", {"period_type": "monthly", "year": 2026, "month": 10}


def _report205_written() -> int:
    from dualcontrol.reporting.models import EnergyReport, ReportLine

    return EnergyReport.objects.count() + ReportLine.objects.count()


def _statistics(world: Any) -> tuple[bytes, str, dict[str, Any]]:
    text = "\n".join(
        [
            "region,year,month,energy_tce,gdp_10k_yuan,co2_t,source",
            "# a comment row: the rows below keep their numbers in the file",
            "530100,2025,,1000,5000,abc,统计年鉴",  # 1. text in a number cell (F3)
            "530300,2025,13,-5,5000,100,统计年鉴",  # 2. a bad month (C4) on the row of 3. (D4)
            "999999,2025,,1000,5000,100,统计年鉴",  # 4. an unknown region code (A5)
            "530102,,,1000,5000,100,统计年鉴",  # 5. the year, required, missing (B6)
        ]
    )
    return text.encode("gb18030"), "bad-stats.csv", {}


def _statistics_written() -> int:
    from dualcontrol.targets.models import RegionalStatistic

    return RegionalStatistic.objects.count()


def _status_report(world: Any) -> tuple[bytes, str, dict[str, Any]]:
    from dualcontrol.keyunits.workbook import template_bytes

    wb = load_workbook(io.BytesIO(template_bytes(entity=world.unit, year=2025)))
    basic = wb["基本情况"]
    assert (basic["A2"].value, basic["A3"].value) == ("统一社会信用代码", "报告年度")
    basic["B2"] = "91530000000000000X"  # 1. a code that is not this unit's (B2)
    basic["B3"] = 2024  # 2. a report year other than the one chosen (B3)
    energy = wb["能源消费"]
    energy.append(["原煤", "吨", "约100", -5])  # 3. text (C2) and 4. a negative value (D2)
    energy.append([None, "吨", 100, 71.43])  # 5. the energy kind, required, missing (A3)
    return _xlsx(wb), "bad-status.xlsx", {"year": 2025}


def _status_report_written() -> int:
    from dualcontrol.keyunits.models import StatusReport

    return StatusReport.objects.count()


def importers() -> list[Importer]:
    return [
        Importer(
            name="report205",
            role=Role.ENTERPRISE,
            url="/reports/upload/",
            build=_report205,
            cells={
                ("205-1", 3, "J"),
                ("205-1", 7, "F"),
                ("205-1", 7, "M"),
                ("205-1", 8, "C"),
                ("205-1", -1, "C"),  # the appended row (its number known once built)
            },
            written=_report205_written,
        ),
        Importer(
            name="statistics",
            role=Role.PROVINCE_ADMIN,
            url="/targets/statistics/",
            build=_statistics,
            cells={
                ("bad-stats.csv", 3, "F"),
                ("bad-stats.csv", 4, "C"),
                ("bad-stats.csv", 4, "D"),
                ("bad-stats.csv", 5, "A"),
                ("bad-stats.csv", 6, "B"),
            },
            written=_statistics_written,
        ),
        Importer(
            name="keyunits-status-report",
            role=Role.ENTERPRISE,
            url="/key-units/upload/?year=2025",
            build=_status_report,
            cells={
                ("基本情况", 2, "B"),
                ("基本情况", 3, "B"),
                ("能源消费", 2, "C"),
                ("能源消费", 2, "D"),
                ("能源消费", 3, "A"),
            },
            written=_status_report_written,
        ),
    ]


def _expected(importer: Importer, built: Any) -> set[tuple[str, int, str]]:
    last = getattr(built, "last", None)
    return {(s, last if r == -1 else r, c) for s, r, c in importer.cells}


@pytest.mark.parametrize("importer", importers(), ids=lambda i: i.name)
def test_five_bad_cells_are_refused_at_once_with_an_annotated_copy(world, importer):
    data, filename, fields = importer.build(world)
    expected = _expected(importer, importer.build)
    assert len(expected) == 5
    client = login(Client(), world.users[importer.role])
    audit_before = AuditEntry.objects.count()
    response = client.post(
        importer.url, {**fields, "file": SimpleUploadedFile(filename, data)}, follow=False
    )
    assert response.status_code == 200, response.content[:500]
    refusal = response.context["refusal"]
    found = {(p.sheet, p.row, p.column) for p in refusal.problems}
    assert found == expected, [str(p) for p in refusal.problems]
    assert refusal.total == 5 and refusal.more == 0
    page = response.content.decode()
    for p in refusal.problems:
        assert str(p.reason).replace('"', "&quot;").replace("'", "&#x27;") in page
    # nothing written, nothing audited
    assert importer.written() == 0
    assert AuditEntry.objects.count() == audit_before
    # the annotated copy: five filled, commented cells and the list sheet
    assert refusal.url
    download = client.get(refusal.url)
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    wb = load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    fill = problem_rules().fill_argb
    marked = {
        (ws.title, c.row, c.column_letter)
        for ws in wb.worksheets
        if ws.title != LIST_SHEET
        for row in ws.iter_rows()
        for c in row
        if c.comment is not None and c.fill.fgColor.rgb == fill
    }
    assert marked == expected
    listing = wb[LIST_SHEET]
    rows = [r for r in listing.iter_rows(min_row=2, values_only=True) if any(r)]
    assert {(s, r, c) for s, r, c, _reason in rows} == expected
    # the copy is the uploading user's only
    other = login(Client(), world.users["other_enterprise"])
    assert other.get(refusal.url).status_code in (403, 404)


def test_the_page_caps_the_list_and_counts_the_rest(world):
    cap = problem_rules().listed_on_page
    shown, more = capped(list(range(cap + 214)))
    assert len(shown) == cap and more == 214
    # a 205-1 file with cap + 7 text cells: the page lists cap of them and counts the rest
    data, filename, fields = _report205(world)
    wb = load_workbook(io.BytesIO(data))
    ws = wb["205-1"]
    n = 0
    row = _report205.last + 1  # type: ignore[attr-defined]
    while n < cap + 7:
        ws[f"A{row}"], ws[f"B{row}"], ws[f"C{row}"] = "原煤", "吨", "01"
        for col in "DEG":
            ws[f"{col}{row}"] = "x"
            n += 1
        row += 1
    client = login(Client(), world.users[Role.ENTERPRISE])
    response = client.post(
        "/reports/upload/", {**fields, "file": SimpleUploadedFile(filename, _xlsx(wb))}
    )
    refusal = response.context["refusal"]
    assert len(refusal.shown) == cap
    assert refusal.more == refusal.total - cap > 7
    page = response.content.decode()
    assert f"以及另外 {refusal.more} 个问题" in page


# ------------------------------------------------------------------------------------------
# the registries and statistics from the command line (``dualcontrol import … --annotated``)


def _entities_file(world: Any) -> tuple[bytes, str]:
    from dualcontrol.core.codes import make_uscc

    header = "uscc,name,division_code,industry_code,annual_energy_tce,contact_email"
    rows = [
        f"{make_uscc('91', '530102', '000000701')},甲单位,530102,30,约12000,",  # 1. text (E2)
        # 2. a negative value (E3) on the row of 3. an e-mail that is not one (F3)
        f"{make_uscc('91', '530102', '000000702')},乙单位,530102,30,-5,not-an-e-mail",
        f"{make_uscc('91', '530102', '000000703')},,530102,30,100,",  # 4. the name missing (B4)
        f"{make_uscc('91', '530102', '000000704')},丁单位,999999,30,100,",  # 5. unknown (C5)
    ]
    return "\n".join([header, *rows]).encode("gb18030"), "bad-units.csv"


def _entities_cells() -> set[tuple[str, int, str]]:
    return {("csv", 2, "E"), ("csv", 3, "E"), ("csv", 3, "F"), ("csv", 4, "B"), ("csv", 5, "C")}


def _divisions_file(world: Any) -> tuple[bytes, str]:
    rows = [
        "# divisions: code,name,level,parent_code,source,longitude,latitude,valid_from",
        "code,name,level,parent_code,source,longitude,latitude,valid_from",
        # 1. text in a number cell (F3) and 2. a negative latitude beyond −90 (G3)
        "530103,盘龙区,county,530100,test,东经102,-95,",
        "530104,,county,530100,test,,,",  # 3. the name missing (B4)
        "530105,西山区,county,539900,test,,,",  # 4. an unknown parent code (D5)
        "530106,东川区,county,530100,test,,,2026-02-30",  # 5. a date that does not exist (H6)
    ]
    return "\n".join(rows).encode("gb18030"), "bad-divisions.csv"


def _statistics_cli_file(world: Any) -> tuple[bytes, str]:
    data, _name, _fields = _statistics(world)
    return data, "bad-stats.csv"


CLI_IMPORTERS = [
    ("entities", _entities_file, _entities_cells),
    (
        "divisions",
        _divisions_file,
        lambda: {
            ("csv", 3, "F"),
            ("csv", 3, "G"),
            ("csv", 4, "B"),
            ("csv", 5, "D"),
            ("csv", 6, "H"),
        },
    ),
    (
        "statistics",
        _statistics_cli_file,
        lambda: {cell for cell in importers()[1].cells},
    ),
]


@pytest.mark.parametrize("kind,build,cells", CLI_IMPORTERS, ids=[c[0] for c in CLI_IMPORTERS])
def test_the_command_line_imports_list_every_problem_and_write_the_annotated_copy(
    world, tmp_path, capsys, kind, build, cells
):
    from dualcontrol.cli import main
    from dualcontrol.entities.models import Entity
    from dualcontrol.regions.models import Division

    data, filename = build(world)
    path = tmp_path / filename
    path.write_bytes(data)
    copy = tmp_path / "annotated.xlsx"
    before = (Entity.objects.count(), Division.objects.count(), _statistics_written())
    audit_before = AuditEntry.objects.count()
    assert main(["import", kind, str(path), "--annotated", str(copy)]) == 2
    err = capsys.readouterr().err
    expected = cells()
    for sheet, row, column in expected:
        assert f"{sheet}!{column}{row}:" in err, err
    assert err.count("\n  ") >= 5
    assert (Entity.objects.count(), Division.objects.count(), _statistics_written()) == before
    assert AuditEntry.objects.count() == audit_before
    wb = load_workbook(copy)
    fill = problem_rules().fill_argb
    marked = {
        (ws.title, c.row, c.column_letter)
        for ws in wb.worksheets
        if ws.title != LIST_SHEET
        for row in ws.iter_rows()
        for c in row
        if c.comment is not None and c.fill.fgColor.rgb == fill
    }
    (data_sheet,) = [t for t in wb.sheetnames if t != LIST_SHEET]
    assert marked == {(data_sheet, r, c) for _s, r, c in expected}
    assert len([r for r in wb[LIST_SHEET].iter_rows(min_row=2, values_only=True) if any(r)]) == 5


def test_a_corrected_copy_uploads_again_and_text_stays_text(world):
    """The copy is the user's file: corrected where marked, it is accepted as it is (the list
    sheet comes last, importers read the first sheet); text that looks like a formula stays text."""
    from dualcontrol.targets.models import RegionalStatistic

    data, filename, _fields = _statistics(world)
    data = data.replace("统计年鉴".encode("gb18030"), b"=1+1", 1)
    client = login(Client(), world.users[Role.PROVINCE_ADMIN])
    response = client.post("/targets/statistics/", {"file": SimpleUploadedFile(filename, data)})
    refusal = response.context["refusal"]
    wb = load_workbook(io.BytesIO(b"".join(client.get(refusal.url).streaming_content)))
    assert wb.sheetnames == ["bad-stats.csv", LIST_SHEET]
    ws = wb["bad-stats.csv"]
    assert ws["G3"].value == "=1+1" and ws["G3"].data_type == "s"
    ws["G3"] = "统计年鉴"
    ws["F3"], ws["C4"], ws["D4"], ws["A5"], ws["B6"] = 100, None, 1000, "530000", 2025
    again = client.post(
        "/targets/statistics/", {"file": SimpleUploadedFile("fixed.xlsx", _xlsx(wb))}
    )
    assert again.status_code == 302, again.context["refusal"].problems
    assert RegionalStatistic.objects.count() == 4


def test_only_the_last_copies_of_a_user_are_kept(world):
    from django.core.files.storage import default_storage

    from dualcontrol.uploads_annotate import STORE_DIR, store

    user = world.users[Role.ENTERPRISE]
    tokens = [store(b"copy %d" % i, user=user) for i in range(problem_rules().kept_per_user + 2)]
    _dirs, files = default_storage.listdir(f"{STORE_DIR}/{user.pk}")
    assert len(files) == problem_rules().kept_per_user
    assert f"{tokens[-1]}.xlsx" in files and f"{tokens[0]}.xlsx" not in files


def test_a_file_beyond_the_copy_limit_gets_the_list_only(world, monkeypatch):
    import dataclasses

    from dualcontrol import uploads_annotate
    from dualcontrol.targets.errors import StatisticsRejected
    from dualcontrol.targets.statistics import import_statistics

    data, filename, _fields = _statistics(world)
    with pytest.raises(StatisticsRejected) as exc:
        import_statistics(data=data, filename=filename, user=None, system=True)
    small = dataclasses.replace(problem_rules(), max_cells_copied=10)
    monkeypatch.setattr(uploads_annotate, "problem_rules", lambda: small)
    copy = uploads_annotate.annotated_workbook(data, filename, exc.value.errors, kind="statistics")
    wb = load_workbook(io.BytesIO(copy))
    assert wb.sheetnames == [LIST_SHEET]
    assert wb[LIST_SHEET].max_row == 1 + 5
