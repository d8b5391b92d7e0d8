"""Self-reported statistics of the demo province: 昆明市's four tables for the last year with
statistics, filed by the demo city officer through the services (validated and audited).

SYNTHETIC (``is_synthetic``, “演示数据（合成）” on the pages): the figures are the synthetic
regional statistics of the demo (``targets/demo_pollutants.py``), rounded as an office would file
them — so the accepted filings feed the indicators without changing their story:

- 公共机构能源资源消费统计 and 新注册登记汽车: accepted by the province, merged into 昆明市's
  annual statistics (source “自报：… 第1版”);
- 城镇新建建筑与绿色建筑: submitted, awaiting the province's review;
- 用水统计: returned — its industrial water use was filed in 万m³ instead of m³ (the plausibility
  warning of the table shows it), with the reviewer's reason.

The regional statistics must exist first: the targets part of the demo (idempotent) runs here
before the filings, since the reporting app comes before the targets app in INSTALLED_APPS.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from dualcontrol.accounts.models import User
from dualcontrol.regions.models import Division
from dualcontrol.reporting import statistics_services as services
from dualcontrol.reporting.statistics_models import StatisticsReport
from dualcontrol.reporting.statistics_tables import statistics_table
from dualcontrol.targets.models import RegionalStatistic

CITY = "530100"  # 昆明市: the demo city officer's division
FILER = "demo-city"
REVIEWER = "demo-province"
#: decimals each column is filed with (0 = a whole number)
PLACES = {
    "public_energy_tce": 2,
    "public_staff_persons": 0,
    "public_floor_area_m2": 0,
    "public_water_m3": 0,
    "water_10k_m3": 2,
    "water_industrial_m3": 0,
    "industry_value_added_10k_yuan": 2,
    "industry_value_added_real_growth_pct": 1,
    "new_building_area_m2": 0,
    "green_building_area_m2": 0,
    "vehicles_new": 0,
    "nev_new": 0,
}
RETURN_REASON = (
    "万元工业增加值用水量明显偏低（见合理性提示）：工业用水量疑似按万立方米填报，"
    "本表工业用水量的单位为立方米，请核实后重新提交。（演示）"
)


def _rounded(value: float, places: int) -> str:
    q = Decimal(1).scaleb(-places)
    return str(Decimal(str(value)).quantize(q, rounding=ROUND_HALF_UP))


def _values(stat: RegionalStatistic, table: str) -> dict[str, str] | None:
    spec = statistics_table(table)
    if spec is None:
        return None
    out = {}
    for code in spec.column_codes:
        v = stat.value(code)
        if v is None:
            return None
        out[code] = _rounded(v, PLACES.get(code, 2))
    return out


def extend(*, today: dt.date) -> int:
    """File the demo's statistics (once); returns the number of filings made.

    Runs after the targets part of the demo (``DEMO_AFTER`` in :mod:`dualcontrol.reporting.demo`),
    whose imported statistics it files; without them it files nothing.
    """
    if StatisticsReport.objects.filter(is_synthetic=True).exists():
        return 0
    filer = User.objects.filter(username=FILER).first()
    reviewer = User.objects.filter(username=REVIEWER).first()
    city = Division.objects.filter(code=CITY).order_by("-valid_from").first()
    if filer is None or reviewer is None or city is None:
        return 0
    stat = (
        RegionalStatistic.objects.filter(
            division=city,
            month__isnull=True,
            quarter__isnull=True,
            industry__isnull=True,
            year__lte=today.year - 1,
        )
        .order_by("-year")
        .first()
    )
    if stat is None:
        return 0
    made = 0

    def file(table: str, values: dict[str, str] | None) -> Any:
        nonlocal made
        if values is None:
            return None
        made += 1
        return services.save_filing(
            user=filer,
            division=city,
            table=table,
            year=stat.year,
            values=values,
            submit=True,
            is_synthetic=True,
        )

    for table in ("public_institutions", "vehicles"):
        report = file(table, _values(stat, table))
        if report is not None:
            services.accept_filing(report=report, user=reviewer)
    file("buildings", _values(stat, "buildings"))
    water = _values(stat, "water")
    if water is not None:
        wrong = Decimal(water["water_industrial_m3"]) / 10000  # filed in 万m³ by mistake
        water["water_industrial_m3"] = _rounded(float(wrong), 2)
        report = file("water", water)
        services.return_filing(report=report, user=reviewer, reason=RETURN_REASON)
    return made
