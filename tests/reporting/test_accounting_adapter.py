"""The stored totals come from the accounting engine; the bulk twin agrees with the exact one."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dualcontrol.reporting.accounting import account_many, account_rows
from dualcontrol.reporting.services import catalogue
from tests.factories import coal_row, power_row

pytestmark = pytest.mark.django_db


def test_totals_and_provenance(world):
    products = catalogue()
    totals = account_rows([coal_row(), power_row()], products, 2022, "530000")
    # 当量值: 1000 t × 0.7143 + 100 万kWh × 1.229 = 837.2 tce
    assert totals.energy_tce == Decimal("837.2000")
    # 等价值: electricity at the NBS-list 4.04 tce/万kWh (reference data, year unstated) = 714.3 + 404
    assert totals.energy_equiv_tce == Decimal("1118.3000")
    assert totals.provenance["engine"] == "dualcontrol.core.energy.account_report"
    assert any(v.startswith("energy_products.csv@") for v in totals.provenance["versions"])
    assert totals.provenance["lines"]["01"]["coefficient_source"] == "reference"


def test_bulk_twin_agrees(world):
    products = catalogue()
    reports = [(1, [coal_row(), power_row()]), (2, [coal_row("333.33"), power_row("7.77")])]
    bulk = account_many(reports, products, 2022, "530000")
    for key, rows in reports:
        exact = account_rows(rows, products, 2022, "530000")
        assert (bulk[key].energy_tce, bulk[key].energy_equiv_tce, bulk[key].co2_t) == (
            exact.energy_tce,
            exact.energy_equiv_tce,
            exact.co2_t,
        )
