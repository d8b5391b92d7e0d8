"""Exports safe (issue 13): formula injection neutralised, control characters stripped, numbers
kept as numbers — in every Excel and CSV file, all written through :mod:`dualcontrol.exports`."""

from __future__ import annotations

import ast
import csv
import datetime as dt
import io
import re
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from openpyxl import Workbook, load_workbook

from dualcontrol import exports
from dualcontrol.accounts.models import Role
from dualcontrol.audit.services import record
from dualcontrol.formats.report205 import TemplateProduct, write_workbook
from tests.auth import login

SRC = Path(__file__).resolve().parents[2] / "src" / "dualcontrol"
HYPERLINK = '=HYPERLINK("http://x","y")'
HOSTILE = HYPERLINK + "\x01"
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _cells(data: bytes) -> list[Any]:
    wb = load_workbook(io.BytesIO(data))
    return [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]


def assert_safe_xlsx(data: bytes) -> list[Any]:
    """No formula anywhere (cells nor XML), no control character, formula-like text marked."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), name
    cells = _cells(data)
    for c in cells:
        assert c.data_type != "f", (c.coordinate, c.value)
        if isinstance(c.value, str):
            assert not CONTROL.search(c.value), (c.coordinate, c.value)
            if exports.is_formula_like(c.value):
                assert c.data_type == "s" and c.quotePrefix, (c.coordinate, c.value)
    return cells


def assert_safe_csv(text: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    for row in rows:
        for value in row:
            assert not CONTROL.search(value), value
            assert not exports.is_formula_like(value), value
    return rows


# ---------------------------------------------------------------------------------------------
# the helper


def test_text_that_looks_like_a_formula_is_text_and_numbers_stay_numbers():
    data = exports.xlsx_bytes(
        "t",
        ["名称", "数"],
        [
            [HOSTILE, -5],
            ["+cmd|' /C calc'!A0", Decimal("-2.50")],
            ["@SUM(1+1)", -0.25],
            ["\t=1", 3],
            ["\r=1", None],
            ["-1+2", True],
            ["#N/A", "-0.1"],
            ["-", dt.date(2026, 1, 2)],
        ],
    )
    cells = {c.coordinate: c for c in assert_safe_xlsx(data)}  # row 1: the title, 2: headers
    assert cells["A3"].value == HYPERLINK and cells["A3"].data_type == "s"
    assert cells["A3"].quotePrefix
    assert (cells["B3"].value, cells["B3"].data_type) == (-5, "n")
    assert (cells["B4"].value, cells["B4"].data_type) == (-2.5, "n")
    assert (cells["B5"].value, cells["B5"].data_type) == (-0.25, "n")
    assert all(cells[f"A{r}"].quotePrefix for r in (4, 5, 6, 7, 8))
    assert cells["A6"].value == "\t=1"
    assert (cells["A9"].value, cells["A9"].data_type) == ("#N/A", "s")  # not an error value
    assert cells["B9"].value == "-0.1" and not cells["B9"].quotePrefix
    assert not cells["A10"].quotePrefix and cells["B10"].value == "2026-01-02"


def test_csv_values_are_neutralised_with_an_apostrophe():
    text = exports.csv_text(
        ["a", "b"], [[HOSTILE, -5], ["-0.1", Decimal("-3")], ["@x", "+1"], ["\tx", "12%"]]
    )
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[1:] == [["'" + HYPERLINK, "-5"], ["-0.1", "-3"], ["'@x", "+1"], ["'\tx", "12%"]]
    assert_safe_csv(text)


def test_control_characters_are_stripped_not_refused():
    assert exports.clean_text("a\x01b\x00c\x7fd\ufffe\ud800e\tf\ng\rh") == "abcde\tf\ng\rh"
    data = exports.xlsx_bytes("x\x01", ["h\x02"], [["v\x03"]])
    title, *rest = [c.value for c in _cells(data)]
    assert rest == ["h", "v"] and title.startswith("x · ")


def test_styled_workbooks_go_through_the_helper():
    products = [TemplateProduct("01", "原煤", "吨", Decimal("0.7143"))]
    data = write_workbook(products, unit_name=HOSTILE, uscc="@x", period="2026-10")
    cells = {c.coordinate: c for c in assert_safe_xlsx(data)}
    assert cells["B3"].value == HYPERLINK and cells["B3"].quotePrefix

    from dualcontrol.publishing import render

    content = {
        "title": HOSTILE,
        "year": 2026,
        "header": ["地区", "降低率"],
        "column_places": [None, 1],
        "rows": [{"cells": [HOSTILE, "-0.1"]}, {"cells": ["@云南", "2.5"]}],
        "footnotes": ["=1+1"],
    }
    cells = assert_safe_xlsx(render.to_xlsx(content))
    numbers = [c.value for c in cells if c.data_type == "n" and c.value is not None]
    assert numbers == [-0.1, 2.5]  # numbers kept as numbers, negative included
    rows = assert_safe_csv(render.to_csv(content))
    assert rows[1] == ["'" + HYPERLINK, "-0.1"]


def test_the_append_helper_writes_rows_like_openpyxl():
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    assert exports.append(ws, ["a", None]) == 1
    assert exports.append(ws, []) == 2
    assert exports.append(ws, [None, "b"]) == 3
    assert [[c.value for c in r] for r in ws.iter_rows()] == [
        ["a", None],
        [None, None],
        [None, "b"],
    ]


# ---------------------------------------------------------------------------------------------
# every writer goes through the helper (static walk of the source)

#: CSV writers that are not exports, and why
CSV_NOT_EXPORTS = {
    "projects/services.py": "feeds the ledger's figures to import_statistics (an import, not a file)",
    "commands/registry.py": "feeds the shipped divisions to import_divisions (an import, not a file)",
}


def _calls(tree: ast.AST) -> list[str]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            out.append(ast.unparse(node.func))
    return out


def test_every_workbook_and_csv_writer_uses_the_export_helper():
    writers = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel == "exports.py" or "/migrations/" in rel:
            continue
        text = path.read_text(encoding="utf-8")
        calls = _calls(ast.parse(text))
        for call in calls:
            if call in {"csv.writer", "csv.DictWriter"}:
                assert rel in CSV_NOT_EXPORTS, f"{rel}: {call} — use dualcontrol.exports"
            if re.fullmatch(r"(.*\.)?(ws|sheet|worksheet)\.append", call):
                raise AssertionError(f"{rel}: ws.append — use dualcontrol.exports.append")
        for node in ast.walk(ast.parse(text)):
            # ws.cell(row, column, value): a value written around the helper
            if (
                isinstance(node, ast.Call)
                and re.fullmatch(r"(.*\.)?(ws|sheet|worksheet)\.cell", ast.unparse(node.func))
                and (len(node.args) >= 3 or any(k.arg == "value" for k in node.keywords))
            ):
                raise AssertionError(f"{rel}:{node.lineno}: cell value — use exports.put")
        if re.search(r"(?<!\w)Workbook\(", text):
            writers.append(rel)
            assert "dualcontrol.exports" in text, f"{rel} writes a workbook without the helper"
    assert writers  # the walk found the styled workbooks (205-1 form, ledger, bulletins)


# ---------------------------------------------------------------------------------------------
# through the pages: the faults and audit exports, then every export URL


@pytest.fixture
def hostile(world):
    """A world whose text fields start with a formula and carry a control character."""
    from dualcontrol.metering import services as metering

    for e in (world.unit, world.other_unit):
        e.online_monitoring = True
    world.unit.name = '=HYPERLINK("http://x","y")单位\x01'
    world.unit.save()
    world.other_unit.save()
    now = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
    metering.file_fault(
        entity=world.unit,
        user=world.users[Role.ENTERPRISE],
        started=now - dt.timedelta(hours=2),
        expected_repair=dt.date(2026, 11, 20),
        reason=HOSTILE,
        now=now,
    )
    record(
        actor=world.users[Role.PROVINCE_ADMIN],
        action="test.hostile",
        object_type="test",
        object_repr="对象\x01" + HYPERLINK,
        after={"note": "\x01"},
    )
    return world


def _get(client: Client, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.CITY_OFFICER, Role.PROVINCE_ADMIN, Role.PROVINCE_OFFICER])
def test_a_fault_reason_formula_is_exported_as_text_to_city_and_province(hostile, role):
    client = login(Client(), hostile.users[role])
    data = _get(client, "/metering/faults/?export=xlsx").content
    cells = assert_safe_xlsx(data)
    reason = [c for c in cells if c.value == HYPERLINK]
    assert reason, [c.value for c in cells]
    assert all(c.data_type == "s" and c.quotePrefix for c in reason)


@pytest.mark.django_db
def test_a_control_character_in_the_audit_log_does_not_break_its_export(hostile):
    client = login(Client(), hostile.users[Role.AUDITOR])
    cells = assert_safe_xlsx(_get(client, "/audit/?export=xlsx").content)
    assert "对象" + HYPERLINK in [c.value for c in cells]


def _urls(patterns: list[Any], prefix: str = "", ns: str = "") -> list[tuple[str, str]]:
    out = []
    for p in patterns:
        if isinstance(p, URLResolver):
            sub = f"{ns}{p.namespace}:" if p.namespace else ns
            out += _urls(p.url_patterns, prefix + str(p.pattern), sub)
        elif isinstance(p, URLPattern):
            out.append(("/" + prefix + str(p.pattern), f"{ns}{p.name}"))
    return out


EXPORT_ROLES = (
    Role.PROVINCE_ADMIN,
    Role.CITY_OFFICER,
    Role.ENTERPRISE,
    Role.AUDITOR,
    Role.SECURITY_ADMIN,
)


@pytest.mark.django_db
def test_every_export_url_writes_safe_files(hostile):
    """Every URL without parameters, as five roles, asked for its Excel export: any file that
    comes back is safe, and no page fails on the hostile text."""
    urls = [
        (u, n)
        for u, n in _urls(get_resolver().url_patterns)
        if "<" not in u
        and "(" not in u
        and not n.startswith(("admin:", "api-"))
        and "logout" not in n
    ]
    files: dict[str, int] = {}
    hostile_seen = 0
    for role in EXPORT_ROLES:
        client = login(Client(), hostile.users[role])
        for url, name in urls:
            for query in ("?export=xlsx",):
                response = client.get(url + query)
                assert response.status_code < 500, (role, url + query)
                kind = response.get("Content-Type", "")
                body = (
                    b"".join(response.streaming_content) if response.streaming else response.content
                )
                if kind.startswith(exports.XLSX):
                    cells = assert_safe_xlsx(body)
                    hostile_seen += any(c.value and HYPERLINK in str(c.value) for c in cells)
                elif kind.startswith("text/csv"):
                    assert_safe_csv(body.decode("utf-8-sig"))
                else:
                    continue
                files[f"{role} {name}{query}"] = response.status_code
    assert len(files) >= 20, sorted(files)
    assert hostile_seen >= 3  # the hostile texts did reach several exports
