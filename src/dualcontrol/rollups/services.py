"""Computing the roll-ups from the reports, and marking what changed.

:func:`refresh` recomputes whole years (one grouped query over the year's reports, then each
group is added to every division above the unit: county, prefecture, province) and replaces
their rows in one transaction.  :func:`mark_changed` records the years a change touched; the
background job calls :func:`refresh_marked`.  A year marked again while it is being computed
stays marked (the mark's time is compared), so no change is lost between two runs.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from dualcontrol.audit.services import record
from dualcontrol.dbstats import analyze_after_commit
from dualcontrol.regions.models import Division
from dualcontrol.reporting.models import EnergyReport, PeriodType, Status
from dualcontrol.rollups.models import (
    ALL_SECTORS,
    ANNUAL,
    DirtyYear,
    RefreshState,
    RegionMonth,
    UnitMonth,
)

ZERO = Decimal(0)
STATUS_FIELD = {
    Status.DRAFT: "draft_n",
    Status.SUBMITTED: "submitted_n",
    Status.RETURNED: "returned_n",
    Status.ACCEPTED: "accepted_n",
}
BATCH = 2000  # rows per INSERT (technical)


@dataclass
class RefreshResult:
    years: list[int]
    region_rows: int
    unit_rows: int
    seconds: float
    refreshed_at: dt.datetime | None = None
    still_marked: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "years": self.years,
            "region_rows": self.region_rows,
            "unit_rows": self.unit_rows,
            "seconds": round(self.seconds, 3),
            "refreshed_at": self.refreshed_at.isoformat() if self.refreshed_at else None,
            "still_marked": self.still_marked,
        }


def mark_changed(years: Iterable[int]) -> None:
    """Mark ``years`` for the next refresh (in the caller's transaction)."""
    now = timezone.now()
    marks = [DirtyYear(year=y, marked_at=now) for y in sorted(set(years)) if y]
    if marks:
        DirtyYear.objects.bulk_create(
            marks, update_conflicts=True, unique_fields=["year"], update_fields=["marked_at"]
        )


def marked_years() -> list[int]:
    return sorted(DirtyYear.objects.values_list("year", flat=True))


def state() -> RefreshState | None:
    return RefreshState.objects.order_by("pk").first()


def _ancestors() -> dict[int, list[int]]:
    """Division id → the ids of it and every division above it."""
    by_code = dict(Division.objects.values_list("code", "pk"))
    return {
        pk: [by_code[c] for c in path.strip("/").split("/") if c in by_code]
        for pk, path in Division.objects.values_list("pk", "path")
    }


def _region_rows(year: int, ancestors: dict[int, list[int]]) -> list[RegionMonth]:
    groups = (
        EnergyReport.objects.filter(year=year)
        .values("entity__division_id", "entity__industry__code", "period_type", "month", "status")
        .annotate(
            n=Count("id"),
            energy=Sum("energy_tce"),
            equiv=Sum("energy_equiv_tce"),
            co2=Sum("co2_t"),
        )
        .order_by()
    )
    rows: dict[tuple[int, str, str, int], RegionMonth] = {}
    for g in groups:
        month = g["month"] or ANNUAL
        sector = g["entity__industry__code"] or ALL_SECTORS
        sectors = (ALL_SECTORS, sector) if sector != ALL_SECTORS else (ALL_SECTORS,)
        for division_id in ancestors.get(g["entity__division_id"], []):
            for industry in sectors:
                key = (division_id, industry, g["period_type"], month)
                row = rows.get(key)
                if row is None:
                    row = rows[key] = RegionMonth(
                        division_id=division_id,
                        industry_code=industry,
                        period_type=g["period_type"],
                        year=year,
                        month=month,
                    )
                row.reports_n += g["n"]
                counter = STATUS_FIELD[g["status"]]
                setattr(row, counter, getattr(row, counter) + g["n"])
                row.energy_tce += g["energy"] or ZERO
                if g["status"] == Status.ACCEPTED:
                    row.accepted_energy_tce += g["energy"] or ZERO
                    row.accepted_energy_equiv_tce += g["equiv"] or ZERO
                    row.accepted_co2_t += g["co2"] or ZERO
    return list(rows.values())


def _unit_rows(year: int) -> list[UnitMonth]:
    """January…month sums of every unit with accepted monthly reports in ``year``: a row for
    each month from its first accepted report to December."""
    monthly = (
        EnergyReport.objects.filter(
            year=year, period_type=PeriodType.MONTHLY, status=Status.ACCEPTED
        )
        .values_list("entity_id", "month", "energy_tce", "energy_equiv_tce", "co2_t")
        .order_by("entity_id", "month")
    )
    by_unit: dict[int, dict[int, tuple[Any, Any, Any]]] = defaultdict(dict)
    for entity_id, month, energy, equiv, co2 in monthly:
        by_unit[entity_id][month] = (energy, equiv, co2)
    out: list[UnitMonth] = []
    for entity_id, months in by_unit.items():
        energy_sum = equiv_sum = co2_sum = ZERO
        mask = 0
        for month in range(min(months), 13):
            energy = equiv = co2 = None
            if month in months:
                energy, equiv, co2 = months[month]
                energy_sum += energy or ZERO
                equiv_sum += equiv or ZERO
                co2_sum += co2 or ZERO
                mask |= 1 << (month - 1)
            out.append(
                UnitMonth(
                    entity_id=entity_id,
                    year=year,
                    month=month,
                    energy_tce=energy,
                    co2_t=co2,
                    ytd_energy_tce=energy_sum,
                    ytd_energy_equiv_tce=equiv_sum,
                    ytd_co2_t=co2_sum,
                    ytd_months=mask,
                )
            )
    return out


def refresh(years: Iterable[int] | None = None, *, actor: Any = None) -> RefreshResult:
    """Recompute the roll-ups of ``years`` (every year with reports when None)."""
    started = time.perf_counter()
    marks = dict(DirtyYear.objects.values_list("year", "marked_at"))
    if years is None:
        wanted = sorted(
            set(EnergyReport.objects.values_list("year", flat=True).distinct())
            | set(RegionMonth.objects.values_list("year", flat=True).distinct())
            | set(marks)
        )
    else:
        wanted = sorted(set(years))
    ancestors = _ancestors()
    region_n = unit_n = 0
    with transaction.atomic():
        for year in wanted:
            regions = _region_rows(year, ancestors)
            units = _unit_rows(year)
            RegionMonth.objects.filter(year=year).delete()
            UnitMonth.objects.filter(year=year).delete()
            RegionMonth.objects.bulk_create(regions, batch_size=BATCH)
            UnitMonth.objects.bulk_create(units, batch_size=BATCH)
            region_n += len(regions)
            unit_n += len(units)
            if year in marks:  # a mark set after we read it stays for the next run
                DirtyYear.objects.filter(year=year, marked_at=marks[year]).delete()
        now = timezone.now()
        seconds = time.perf_counter() - started
        st = state() or RefreshState()
        st.refreshed_at, st.years, st.rows, st.seconds = now, wanted, region_n + unit_n, seconds
        st.save()
        if actor is not None:
            record(
                actor=actor,
                action="rollups.refresh",
                object_type="rollups",
                object_repr=", ".join(map(str, wanted)),
                after={"years": wanted, "region_rows": region_n, "unit_rows": unit_n},
            )
        if wanted:
            analyze_after_commit(RegionMonth, UnitMonth)
    return RefreshResult(wanted, region_n, unit_n, seconds, now, marked_years())


def refresh_marked(*, actor: Any = None) -> RefreshResult | None:
    """Recompute the marked years (the background job); None when nothing is marked.  The job's
    runs are not audited (derived data, every minute); a person's run is (``actor``)."""
    years = marked_years()
    return refresh(years, actor=actor) if years else None
