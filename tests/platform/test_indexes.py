"""The dashboards' and lists' queries have indexes that match their filters (PostgreSQL EXPLAIN).

With sequential scans priced out (``enable_seqscan = off``) PostgreSQL reads a table through an
index whenever it can; the table's node of the plan must then carry an ``Index Cond`` — the
filter served by the index.  A sequential scan, or a whole-index scan that only filters, means
no index matches the filter.  The queries are the ones the pages and API lists run (issue 18); the load
benchmark (``python -m benchmarks load``) measures them with data.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection

from dualcontrol.access.scope import visible_entities
from dualcontrol.accounts.models import Role
from dualcontrol.reporting.queries import visible_reports
from dualcontrol.rollups.models import RegionMonth, UnitMonth
from dualcontrol.targets.models import WarningRecord

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="EXPLAIN plans are checked on PostgreSQL"
    ),
]


def _plan(qs) -> str:
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as c:
        c.execute("SET LOCAL enable_seqscan = off")
        c.execute("EXPLAIN " + sql, params)
        plan = "\n".join(r[0] for r in c.fetchall())
        c.execute("RESET enable_seqscan")
    return plan


def _served_by_index(plan: str, table: str) -> bool:
    """Every node of the plan that reads ``table`` has an ``Index Cond`` (a bitmap heap scan: the
    ``Recheck Cond`` of the bitmap index scan under it)."""
    nodes: list[list[str]] = []
    for line in plan.splitlines():
        if not nodes or "->" in line:
            nodes.append([line])
        else:
            nodes[-1].append(line)
    reads = [n for n in nodes if re.search(rf" on {table}(\s|$)", n[0])]
    served = ("Index Cond:", "Recheck Cond:")  # index scans; a bitmap heap scan's index
    return bool(reads) and all(any(s in line for s in served for line in n) for n in reads)


def test_the_lists_and_rollup_reads_use_indexes(world):
    province_officer = world.users[Role.PROVINCE_OFFICER]
    city = world.city
    queries = {
        # /api/reports/ and /reports/: newest periods first, filtered by period
        "reports by period": (
            visible_reports(province_officer)
            .filter(year=2026, month=10)
            .order_by("-year", "-month", "entity_id", "id")[:50],
            "reporting_energyreport",
        ),
        "review queue": (
            visible_reports(province_officer).filter(status="submitted")[:10],
            "reporting_energyreport",
        ),
        # the home page: a scope's counts and its prefectures' rows of one month
        "region roll-up": (
            RegionMonth.objects.filter(
                division__in=[city.pk], industry_code="", year=2026, month=10
            ),
            "rollups_regionmonth",
        ),
        # the drill-down: January…month of this year and last for the key units
        "unit roll-up": (
            UnitMonth.objects.filter(
                entity__in=visible_entities(province_officer).filter(is_key_energy_unit=True),
                year__in=(2026, 2025),
                month=10,
            ),
            "rollups_unitmonth",
        ),
        "warnings of a month": (
            WarningRecord.objects.filter(year=2026, month=10).order_by("-severity")[:50],
            "targets_warningrecord",
        ),
    }
    bad = {}
    for name, (qs, table) in queries.items():
        plan = _plan(qs)
        if not _served_by_index(plan, table):
            bad[name] = plan
    assert not bad, "\n\n".join(f"{k}:\n{v}" for k, v in bad.items())


def test_the_check_sees_a_missing_index(world):
    """A filter on a column without an index is planned as a sequential scan."""
    from dualcontrol.reporting.models import EnergyReport

    plan = _plan(EnergyReport.objects.filter(co2_t=5))
    assert not _served_by_index(plan, "reporting_energyreport"), plan
    plan = _plan(EnergyReport.objects.filter(year=2026, month=5))
    assert _served_by_index(plan, "reporting_energyreport"), plan
