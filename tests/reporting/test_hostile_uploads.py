"""Uploads bounded and whole (issue 13): the hostile corpus, the period check, size limits.

The corpus (``tests/data/hostile_uploads``, written by its ``make_corpus.py``) holds range bombs,
zip bombs, XXE, malformed sheet XML, renamed .xls/.pdf, UTF-16/32, binary junk and formulas
without stored values.  Every reader of uploaded tables (205-1 reports, regional statistics, the
unit registry) must refuse each file whole with a clear message or read it completely, in bounded
memory (peak measured with tracemalloc).
"""

from __future__ import annotations

import importlib.util
import io
import json
import tracemalloc
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from dualcontrol.accounts.models import Role
from dualcontrol.formats.report205 import ReportFormatError, read_report
from dualcontrol.formats.upload_tables import (
    TableRefused,
    read_limited,
    read_upload,
    upload_limits,
)
from dualcontrol.reporting import services
from dualcontrol.targets.errors import StatisticsRejected
from dualcontrol.targets.statistics import read_table

CORPUS = Path(__file__).resolve().parents[1] / "data" / "hostile_uploads"
MANIFEST = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
#: peak Python memory allowed for parsing one corpus file (the bombs took 1.2–4 GB before)
PEAK_BYTES = 24 * 1024 * 1024
KINDS = ("report205", "statistics", "entities")


def _load(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


@pytest.fixture(scope="module", autouse=True)
def _warm() -> None:
    """Import openpyxl and the XML modules once, so the peaks measure parsing, not imports."""
    read_report(_load("good_205_1.xlsx"), "good_205_1.xlsx")


def _measured(fn: Any) -> tuple[Any, BaseException | None, int]:
    tracemalloc.start()
    try:
        try:
            result, error = fn(), None
        except Exception as exc:  # the caller asserts which type
            result, error = None, exc
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, error, peak


def _messages(error: BaseException) -> str:
    return " | ".join(str(e) for e in getattr(error, "errors", []))


def test_the_corpus_is_what_its_script_writes():
    spec = importlib.util.spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    files, manifest = module.build()
    assert manifest == MANIFEST
    for name, data in files.items():
        assert _load(name) == data, name
    assert max(len(d) for d in files.values()) < 256 * 1024  # small files only
    kinds = {m["expect"] for m in MANIFEST}
    assert kinds == {"read", "refused"} and len(MANIFEST) >= 40


@pytest.mark.parametrize("entry", MANIFEST, ids=[m["file"] for m in MANIFEST])
def test_205_1_reader_refuses_whole_or_reads_completely_in_bounded_memory(entry):
    data = _load(entry["file"])
    parsed, error, peak = _measured(lambda: read_report(data, entry["file"]))
    assert peak < PEAK_BYTES, f"{entry['file']}: peak {peak / 1e6:.1f} MB"
    if entry["expect"] == "read":
        assert error is None, _messages(error) if error else ""
        assert len(parsed.rows) == entry["energy_rows"]
        assert [r.product_code for r in parsed.rows] == ["01", "10", "23"]
        # every number of the file, nothing read as 0 (the consumption column of each row)
        assert [r.consumption_total for r in parsed.rows] == [Decimal(1000), 50, 100]
        return
    assert isinstance(error, ReportFormatError), repr(error)
    text = _messages(error)
    assert entry["reason"] in text
    for e in error.errors:
        assert e.reason and len(str(e)) < 600  # a message a person can read, no dump
    if "row" in entry:
        assert error.errors[0].row == entry["row"]
    if "column" in entry:
        assert error.errors[0].column == entry["column"]
    if "cells" in entry:
        assert [f"{e.column}{e.row}" for e in error.errors] == entry["cells"]
        assert all(e.sheet == "205-1" for e in error.errors)


@pytest.mark.parametrize("kind", ("statistics", "entities"))
@pytest.mark.parametrize("entry", MANIFEST, ids=[m["file"] for m in MANIFEST])
def test_every_upload_kind_refuses_whole_or_reads_completely(entry, kind):
    data = _load(entry["file"])
    table, error, peak = _measured(lambda: read_upload(data, entry["file"], kind=kind))
    assert peak < PEAK_BYTES, f"{entry['file']} as {kind}: peak {peak / 1e6:.1f} MB"
    if entry["expect"] == "read":
        assert error is None, _messages(error) if error else ""
        assert len(table.sheets[0].rows) == entry["last_row"]
    else:
        assert isinstance(error, TableRefused), repr(error)
        assert entry["reason"] in _messages(error)


@pytest.mark.parametrize("name", [m["file"] for m in MANIFEST if m["expect"] == "refused"])
def test_statistics_import_refuses_hostile_files_with_its_own_error(name):
    with pytest.raises(StatisticsRejected) as info:
        read_table(_load(name), name)
    assert info.value.errors and all(e.reason for e in info.value.errors)


def test_a_declared_range_is_not_what_is_read():
    """A 7.5 KB-class workbook declaring A1:XFD1048576 costs what its cells cost; one declaring
    A1:N7 is still read to row 9 (openpyxl's iterator stops at the declared last row)."""
    from openpyxl import load_workbook

    bomb = _load("range_bomb_xfd1048576.xlsx")
    assert len(bomb) < 8 * 1024
    short = _load("under_declared_range.xlsx")
    ws = load_workbook(io.BytesIO(short), read_only=True).worksheets[0]
    assert len(list(ws.iter_rows(values_only=True))) == 7  # the old way: rows 8 and 9 lost
    assert len(read_report(short, "x.xlsx").rows) == 3


def test_formula_cells_without_values_are_refused_by_every_reader():
    data = _load("formulas_without_values.xlsx")
    for kind in KINDS:
        with pytest.raises(TableRefused) as info:
            read_upload(data, "f.xlsx", kind=kind)
        where = [(e.sheet, f"{e.column}{e.row}") for e in info.value.errors]
        assert where == [("205-1", c) for c in ("G7", "H7", "G8", "L9")]


def test_formula_with_a_stored_result_reads_the_result():
    parsed = read_report(_load("formulas_with_stored_values.xlsx"), "f.xlsx")
    assert parsed.rows[0].consumption_total == Decimal(1000)


@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=6000), st.integers(0, 255)),
        min_size=1,
        max_size=8,
    )
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_damaged_workbook_only_ever_raises_the_readers_error(flips):
    """Bytes of a good workbook changed anywhere: read, or ReportFormatError — nothing else."""
    data = bytearray(_load("good_205_1.xlsx"))
    for position, value in flips:
        data[position % len(data)] = value
    try:
        read_report(bytes(data), "x.xlsx")
    except ReportFormatError as exc:
        assert exc.errors


@given(st.binary(max_size=2048), st.sampled_from(["x.csv", "x.xlsx"]))
@settings(max_examples=80, deadline=None)
def test_arbitrary_bytes_only_ever_raise_the_readers_error(data, name):
    try:
        read_report(data, name)
    except ReportFormatError as exc:
        assert exc.errors


def _xlsx_with_sheet(sheet: bytes) -> bytes:
    """The good corpus workbook with its sheet part replaced."""
    src = zipfile.ZipFile(io.BytesIO(_load("good_205_1.xlsx")))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            body = src.read(info)
            z.writestr(info, sheet if info.filename.endswith("sheet1.xml") else body)
    return out.getvalue()


def test_row_cap_counts_rows_with_values():
    limit = upload_limits("report205").max_rows
    good = zipfile.ZipFile(io.BytesIO(_load("good_205_1.xlsx"))).read("xl/worksheets/sheet1.xml")
    at_cap = good.replace(
        b"</sheetData>",
        f'<row r="{limit + 1}"><c r="A{limit + 1}"><v>1</v></c></row>'.encode() + b"</sheetData>",
    )
    assert len(
        read_upload(_xlsx_with_sheet(at_cap), "x.xlsx", kind="report205").sheets[0].rows
    ) == (limit + 1)
    over = at_cap.replace(f'r="{limit + 1}"'.encode(), f'r="{limit + 2}"'.encode()).replace(
        f'r="A{limit + 1}"'.encode(), f'r="A{limit + 2}"'.encode()
    )
    with pytest.raises(TableRefused) as info:
        read_upload(_xlsx_with_sheet(over), "x.xlsx", kind="report205")
    assert info.value.errors[0].row == limit + 2


class _Upload:
    """An uploaded file whose content must not be read when its size is over the limit."""

    def __init__(self, name: str, size: int, data: bytes = b"") -> None:
        self.name, self.size, self.data, self.reads = name, size, data, 0

    def read(self, n: int = -1) -> bytes:
        self.reads += 1
        return self.data if n < 0 else self.data[:n]


def test_size_is_checked_before_the_file_is_read():
    limit = upload_limits("report205").max_bytes
    big = _Upload("big.xlsx", limit + 1)
    with pytest.raises(TableRefused) as info:
        read_limited(big, "report205")
    assert big.reads == 0 and "超过上限" in str(info.value)
    # a file that lies about its size is cut at the limit and refused, never read whole
    liar = _Upload("liar.csv", 10, b"x" * (limit + 10))
    with pytest.raises(TableRefused):
        read_limited(liar, "report205")
    ok = _Upload("ok.csv", 3, b"a,b")
    assert read_limited(ok, "report205") == b"a,b"


def test_limits_are_reference_data():
    limits = upload_limits("statistics")
    assert limits.version.startswith("upload_limits.yaml")
    assert limits.max_rows == 100_000 and upload_limits("report205").max_rows == 2000
    with pytest.raises(Exception, match="no upload kind"):
        upload_limits("nonsense")


def test_plan_document_archive_bomb_is_refused_before_decompression():
    from dualcontrol.tasks.services import ImportRejected, read_document

    with pytest.raises(ImportRejected) as info:
        read_document(data=_load("zip_bomb_whitespace.xlsx"), filename="方案.docx")
    assert "压缩比" in str(info.value)
    with pytest.raises(ImportRejected) as info:
        read_document(data=_load("xxe_workbook.xlsx"), filename="方案.docx")
    assert "DTD" in str(info.value)


# ---------------------------------------------------------------------------------------------
# through the 205-1 service and page


def _upload(world, name: str, *, year: int = 2026, month: int | None = 10, data: bytes = b""):
    return services.upload_report(
        entity=world.unit,
        period_type="monthly" if month else "annual",
        year=year,
        month=month,
        data=data or _load(name),
        filename=name,
        user=world.users[Role.ENTERPRISE],
    )


def _lines(report: Any) -> int:
    return report.revisions.get(number=report.current_revision).lines.count()


@pytest.mark.django_db
def test_an_under_declared_workbook_files_every_energy_row(world):
    whole = _upload(world, "good_205_1.xlsx")
    energy = whole.energy_tce
    whole.delete()
    report = _upload(world, "under_declared_range.xlsx")
    assert _lines(report) == 3  # 2 of 3 were dropped before
    assert report.energy_tce == energy


@pytest.mark.django_db
def test_a_formula_without_value_is_refused_with_its_address(world):
    with pytest.raises(services.ReportRejected) as info:
        _upload(world, "formulas_without_values.xlsx")
    assert [(p.sheet, p.row, p.column) for p in info.value.problems] == [
        ("205-1", 7, "G"),
        ("205-1", 7, "H"),
        ("205-1", 8, "G"),
        ("205-1", 9, "L"),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [
        (2026, 9, "与所选报告期 2026-09 不一致"),
        (2025, 10, "与所选报告期 2025-10 不一致"),
        (2026, None, "表中报告期 2026-10 与所选报告期 2026 不一致"),
    ],
)
def test_the_files_period_must_be_the_forms(world, year, month, expected):
    with pytest.raises(services.ReportRejected) as info:
        _upload(world, "good_205_1.xlsx", year=year, month=month)
    (problem,) = info.value.problems
    assert expected in problem.reason
    assert (problem.sheet, problem.row, problem.column) == ("205-1", 3, "J")


@pytest.mark.django_db
def test_a_period_written_in_chinese_is_understood(world):
    assert _lines(_upload(world, "period_in_chinese.xlsx")) == 3


@pytest.mark.django_db
def test_an_unreadable_period_is_refused(world):
    sheet = zipfile.ZipFile(io.BytesIO(_load("good_205_1.xlsx"))).read("xl/worksheets/sheet1.xml")
    data = _xlsx_with_sheet(
        sheet.replace(b"<t>2026-10</t>", b"<t>\xe4\xb8\x8a\xe4\xb8\xaa\xe6\x9c\x88</t>")
    )
    with pytest.raises(services.ReportRejected) as info:
        _upload(world, "x.xlsx", data=data)
    assert "无法识别" in info.value.problems[0].reason


@pytest.mark.django_db
def test_the_upload_page_refuses_a_hostile_file_with_its_message(world, client):
    from tests.auth import login

    login(client, world.users[Role.ENTERPRISE])
    for name in ("zip_bomb_whitespace.xlsx", "malformed_sheet_tags.xlsx", "utf16_bom.csv"):
        response = client.post(
            "/reports/upload/",
            {
                "period_type": "monthly",
                "year": 2026,
                "month": 10,
                "file": _FileLike(name, _load(name)),
            },
        )
        assert response.status_code == 200, name
        refusal = response.context.get("refusal")
        assert refusal and refusal.problems, name
        # the copy of a file the reader refuses lists the problems only (never opened by openpyxl)
        copy = load_workbook(io.BytesIO(b"".join(client.get(refusal.url).streaming_content)))
        assert copy.sheetnames == ["问题清单"], name


def _FileLike(name: str, data: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


@pytest.mark.django_db
def test_the_statistics_page_refuses_a_hostile_file_with_its_message(world, client):
    from tests.auth import login

    login(client, world.users[Role.PROVINCE_ADMIN])
    for name in (
        "range_bomb_xfd1048576.xlsx",
        "billion_laughs_shared_strings.xlsx",
        "nul_bytes.csv",
    ):
        response = client.post("/targets/statistics/", {"file": _FileLike(name, _load(name))})
        assert response.status_code == 200, name
        assert response.context["refusal"].problems, name
