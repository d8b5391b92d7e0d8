"""Styled Excel exports (issue 14): a title row with scope and date, units in the headers, column
widths from the content, number formats from the formatting layer (number_formats.yaml), a
frozen, filled header row, and sheet and file names in the interface language — for every export
the pages offer (all go through :func:`dualcontrol.exports.xlsx_response`).  CSV stays plain."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

import pytest
from django.test import Client
from django.urls import get_resolver
from django.utils import translation
from openpyxl import load_workbook

from dualcontrol import exports
from tests.auth import login
from tests.platform.test_exports_safe import EXPORT_ROLES, _urls

CJK = re.compile(r"[\u4e00-\u9fff]")


def _book(data: bytes) -> Any:
    return load_workbook(io.BytesIO(data)).active


def test_the_helper_writes_a_styled_table():
    data = exports.xlsx_bytes(
        "晴雨表排名",
        ["地区", "能耗（万吨标准煤）", "降低率（%）", "增量", "年份"],
        [
            ["昆明市", 1234.5, 14.7397, 4000, 2026],
            ["曲靖市（一个很长的名字，用来量出列宽）", Decimal("2.675"), -3.805, None, 2025],
        ],
        scope="云南省",
        kinds=[None, None, None, "energy_10k_tce", None],
        when=dt.date(2026, 12, 5),
    )
    ws = _book(data)
    assert ws.title == "晴雨表排名"
    assert ws["A1"].value == "晴雨表排名 · 云南省 · 导出日期：2026-12-05" and ws["A1"].font.b
    headers = [c.value for c in ws[2]]
    assert headers == ["地区", "能耗（万吨标准煤）", "降低率（%）", "增量（万吨标准煤）", "年份"]
    assert all(c.font.b and c.fill.fgColor.rgb.endswith(exports.HEADER_FILL) for c in ws[2])
    assert ws.freeze_panes == "A3" and ws.auto_filter.ref == "A2:E4"
    # number formats from number_formats.yaml: the header's unit, or the kind given
    assert ws["B3"].number_format == "#,##0.00" and ws["B3"].value == 1234.5
    assert ws["C3"].number_format == "0.00" and ws["C3"].value == 14.7397
    assert ws["D3"].number_format == "#,##0.00" and ws["D3"].value == pytest.approx(0.4)
    assert ws["E3"].number_format == "General"  # a year is no quantity
    # widths from the content: the long Chinese name counts two per character
    width = {c: ws.column_dimensions[c].width for c in "ABCDE"}
    assert width["A"] >= 38 and width["E"] < width["B"] < width["A"]


def test_english_titles_and_units():
    with translation.override("en"):
        data = exports.xlsx_bytes(
            exports.export_title("ranking", "barometer-ranking.xlsx"),
            ["Region"],
            [["Kunming"]],
            kinds=["energy_10k_tce"],
            when=dt.date(2026, 12, 5),
        )
        assert exports.export_filename("重点排放单位名录_2025.xlsx", "Key emitters") == (
            "Key-emitters_2025.xlsx"
        )
    ws = _book(data)
    assert ws.title == "Barometer ranking"
    assert ws["A1"].value == "Barometer ranking · Exported 2026-12-05"
    assert ws["A2"].value == "Region (10,000 tce)"


def test_names_in_the_interface_language():
    cases = [
        ("barometer-ranking.xlsx", "ranking", "晴雨表排名.xlsx", "Barometer-ranking.xlsx"),
        ("drilldown-12-units.xlsx", "units", "差距下钻（重点用能单位）_12.xlsx", None),
        (
            "ledger-COD-2025-530000-projects.xlsx",
            "projects",
            "减排项目台账_COD-2025-530000.xlsx",
            None,
        ),
        ("items-91530100MA6K0000X1.xlsx", "items", "采集数据项_91530100MA6K0000X1.xlsx", None),
    ]
    for filename, title, zh, en in cases:
        with translation.override("zh-hans"):
            shown = exports.export_title(title, filename)
            assert exports.export_filename(filename, shown) == zh
        with translation.override("en"):
            shown = exports.export_title(title, filename)
            assert not CJK.search(shown), shown
            if en:
                assert exports.export_filename(filename, shown) == en
    assert exports.sheet_title("a/b:c*d?e[f]" + "x" * 40) == "abcdef" + "x" * 25


# ---------------------------------------------------------------------------------------------
# every export the pages offer


def _filename(response: Any) -> str:
    header = response["Content-Disposition"]
    m = re.search(r"filename\*=utf-8''([^;]+)", header, re.I)
    return unquote(m.group(1)) if m else re.search(r'filename="([^"]+)"', header).group(1)


#: workbooks with an official layout of their own, written cell by cell through the same helper
#: (``exports.put``): the upload templates (forms to fill in, not a page's table) and the
#: reduction ledger (the ledger's printed layout: a title row and two header rows)
OWN_LAYOUT = ("/reports/template.xlsx", "/key-units/template.xlsx", "/projects/ledger/")

PAGE_URLS = sorted(
    u
    for u, n in _urls(get_resolver().url_patterns)
    if "<" not in u
    and "(" not in u
    and not n.startswith(("admin:", "api-"))
    and "logout" not in n
    and u not in OWN_LAYOUT
)


@pytest.fixture
def exporting(world):
    """The world with targets (a decomposed target, its progress and drill-down exports)."""
    from dualcontrol.targets.models import Indicator, PeriodKind, Target

    province = Target.objects.create(
        indicator=Indicator.ENERGY_INTENSITY_REDUCTION,
        division=world.province,
        period_kind=PeriodKind.FIVE_YEAR,
        base_year=2025,
        end_year=2030,
        base_value=Decimal("13.5"),
        unit="%",
        source_document="示范",
    )
    Target.objects.create(
        indicator=Indicator.ENERGY_INTENSITY_REDUCTION,
        division=world.city,
        parent=province,
        period_kind=PeriodKind.FIVE_YEAR,
        base_year=2025,
        end_year=2030,
        base_value=Decimal("14.7397"),
        unit="%",
        source_document="分解",
    )
    world.target = province
    return world


def _style_problems(ws: Any, name: str, language: str) -> list[str]:
    """What an export lacks of the styled layout (empty: nothing)."""
    out = []
    title = str(ws["A1"].value or "")
    if not (ws["A1"].font.b and "·" in title):
        out.append("no title row")
    if ws.freeze_panes != "A3":
        out.append(f"frozen at {ws.freeze_panes}")
    header = [c for c in ws[2] if c.value is not None]
    if not header or not all(c.font.b and c.fill.fill_type == "solid" for c in header):
        out.append("header not bold and filled")
    if not all(ws.column_dimensions[c.column_letter].width for c in header):
        out.append("no widths")
    for c in header:
        if exports._HEADER_UNIT.search(str(c.value)) is None:
            continue
        if exports.column_kinds([str(c.value)])[0] is None:
            continue
        for (cell,) in ws.iter_rows(min_row=3, min_col=c.column, max_col=c.column):
            if isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
                if cell.number_format == "General":
                    out.append(f"no number format under {c.value}")
                break
    if language == "en":
        if CJK.search(ws.title) or CJK.search(name) or "Exported" not in title:
            out.append("not named in English")
    elif not (CJK.search(ws.title) and CJK.search(name) and "导出日期" in title):
        out.append("not named in Chinese")
    return out


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_page_export_is_styled_and_named_in_the_interface_language(exporting, language):
    """Every export link (``?export=xlsx`` on every list page, and the target pages' own exports)
    as every role that gets one: title row, filled and frozen header, widths, number formats of
    the columns whose header names a unit, and the sheet and file named in the page's language."""
    urls = [u + "?export=xlsx" for u in PAGE_URLS] + [
        f"/targets/{exporting.target.pk}/?export=xlsx",
        "/targets/?export=xlsx",
    ]
    seen: dict[str, str] = {}
    problems: list[tuple[Any, ...]] = []
    for role in EXPORT_ROLES:
        client = login(Client(HTTP_ACCEPT_LANGUAGE=language), exporting.users[role])
        client.cookies["django_language"] = language
        for url in urls:
            if url in seen:
                continue
            response = client.get(url)
            if not response.get("Content-Type", "").startswith(exports.XLSX):
                continue
            ws = _book(response.content)
            name = _filename(response)
            where = (role, url, name, ws.title)
            problems += [(*where, p) for p in _style_problems(ws, name, language)]
            seen[url] = name
    assert not problems, "\n".join(map(str, problems))
    assert len(seen) >= 20, sorted(seen)
    assert f"/targets/{exporting.target.pk}/?export=xlsx" in seen


def test_csv_stays_plain():
    text = exports.csv_text(["地区", "能耗（万吨标准煤）"], [["昆明市", 1234.5]])
    assert text == "\ufeff地区,能耗（万吨标准煤）\r\n昆明市,1234.5\r\n"


def test_a_background_export_gets_its_title_from_its_key():
    """The worker's report export passes the key "reports" (no request): the sheet is named."""
    ws = _book(exports.xlsx_bytes("reports", ["单位名称"], [["甲"]], when=dt.date(2026, 12, 5)))
    assert ws.title == "205-1 报表" and ws["A1"].value == "205-1 报表 · 导出日期：2026-12-05"
