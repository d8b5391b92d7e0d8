"""Registries import from CSV/Excel all-or-nothing, with cell references and audit entries."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from dualcontrol.audit.models import AuditEntry
from dualcontrol.cli import main
from dualcontrol.core.codes import make_uscc
from dualcontrol.entities.models import Entity
from dualcontrol.entities.services import import_entities
from dualcontrol.formats.report205 import ReportFormatError
from dualcontrol.regions.models import Division
from dualcontrol.regions.services import import_divisions

pytestmark = pytest.mark.django_db

GOOD = make_uscc("91", "530102", "000000777")


def test_entities_csv_import_classifies_by_threshold(world):
    data = (
        f"uscc,name,division_code,industry_code,annual_energy_tce\n{GOOD},新单位,530102,30,12000\n"
    ).encode()
    assert import_entities(data=data, filename="e.csv", user=None) == 1
    e = Entity.objects.get(uscc=GOOD)
    # thresholds from reference data: key unit ≥ 5 000 tce, online monitoring ≥ 10 000 tce
    assert e.is_key_energy_unit and e.online_monitoring
    assert AuditEntry.objects.filter(action="entity.create", object_id=str(e.pk)).exists()


def test_entities_import_rejects_whole_file_with_cells(world):
    wb = Workbook()
    ws = wb.active
    ws.append(["uscc", "name", "division_code", "industry_code", "annual_energy_tce"])
    ws.append([GOOD, "好单位", "530102", "30", 6000])
    ws.append(["91530102000000777X", "坏单位", "999999", "30", "abc"])
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(ReportFormatError) as exc:
        import_entities(data=out.getvalue(), filename="e.xlsx", user=None)
    cells = [(e.row, e.column, e.field) for e in exc.value.errors]
    assert cells == [(3, "A", "uscc"), (3, "C", "division_code"), (3, "E", "annual_energy_tce")]
    assert not Entity.objects.filter(uscc=GOOD).exists()


def test_divisions_import_and_cli(world, tmp_path, capsys):
    f = tmp_path / "d.csv"
    f.write_text(
        "code,name,level,parent_code,source\n530103,盘龙区,county,530100,test\n", encoding="utf-8"
    )
    assert main(["import", "divisions", str(f)]) == 0
    assert Division.objects.get(code="530103").path == "530000/530100/530103/"
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "code,name,level,parent_code,source\n530104,官渡区,prefecture,530100,test\n",
        encoding="utf-8",
    )
    assert main(["import", "divisions", str(bad)]) == 2
    assert "csv!C2" in capsys.readouterr().err
    with pytest.raises(ReportFormatError):
        import_divisions(data=bad.read_bytes(), user=None)
