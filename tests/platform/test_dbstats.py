"""The demo build and the bulk imports leave the planner statistics behind them (issue 18)."""

from __future__ import annotations

import pytest
from django.db import connection

from dualcontrol.dbstats import analyze
from dualcontrol.entities.models import Entity
from dualcontrol.entities.services import import_entities
from dualcontrol.regions.models import Division

pytestmark = pytest.mark.django_db


def _analysed(table: str) -> bool:
    with connection.cursor() as c:
        if connection.vendor == "postgresql":
            c.execute(
                "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = %s",
                [table],
            )
            row = c.fetchone()
            return bool(row and row[0])
        c.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if c.fetchone() is None:
            return False
        c.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = %s", [table])
        return c.fetchone()[0] > 0


def test_analyze_names_the_tables_and_the_database_records_it(world):
    table = Division._meta.db_table
    assert analyze(Division) == [table]
    assert _analysed(table)
    assert analyze() == []  # every table


def test_the_unit_import_analyzes_after_it_commits(world, django_capture_on_commit_callbacks):
    from dualcontrol.accounts.models import Role

    csv = (
        "uscc,name,division_code,industry_code,annual_energy_tce\n"
        f"91530102MA6N00001X,导入单位,{world.county.code},30,12000\n"
    ).encode()
    from dualcontrol.core.codes import make_uscc

    uscc = make_uscc("91", world.county.code, "MA6N00001")
    csv = csv.replace(b"91530102MA6N00001X", uscc.encode())
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert (
            import_entities(data=csv, filename="units.csv", user=world.users[Role.PROVINCE_ADMIN])
            == 1
        )
    assert len(callbacks) == 1  # the ANALYZE waits for the commit
    callbacks[0]()
    assert _analysed(Entity._meta.db_table)
