"""Read side of energy online monitoring: month summaries, reconciliation, rankings, curves.

Expected counts are computed from each item's configuration (core), not from stored rows, so a
day on which nothing arrived counts as 0 received of N expected even before the nightly roll-up.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Max, Q, Sum
from django.utils import timezone
from django.utils.translation import get_language

from dualcontrol.core import metering as core
from dualcontrol.core.energy import AccountingError, UnitAccount, account_report
from dualcontrol.entities.models import Entity
from dualcontrol.metering.models import (
    Alert,
    Boundary,
    DataItem,
    FaultReport,
    GapExplanation,
    ItemDay,
    Reading,
    RejectTally,
)
from dualcontrol.metering.services import (
    aware,
    expected_in,
    local_now,
    monitored_entities,
    to_local,
)
from dualcontrol.reference.metering import metering_rules


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Local naive [start, end) of the month containing ``month``."""
    start = dt.datetime.combine(month.replace(day=1), dt.time())
    return start, dt.datetime.combine(core.next_month(start.date()), dt.time())


def parse_month(text: str | None, default: dt.date) -> dt.date:
    try:
        y, m = (int(x) for x in (text or "").split("-")[:2])
        return dt.date(y, m, 1)
    except ValueError:
        return default.replace(day=1)


def default_month(now: dt.datetime | None = None) -> dt.date:
    """The latest complete month (the month reconciled with the 205-1 report)."""
    today = local_now(now).date()
    return core.month_start(core.month_start(today) - dt.timedelta(days=1))


@dataclass
class ItemMonth:
    item: DataItem
    expected: int = 0
    received: int = 0
    total: float | None = None
    monthly_value: float | None = None
    days_below: int = 0
    out_of_range: int = 0
    stuck_days: int = 0
    max_run: int = 0

    @property
    def completeness(self) -> float | None:
        return core.completeness(self.received, self.expected)


@dataclass
class DayStat:
    day: dt.date
    expected: int = 0
    received: int = 0
    tce_by_product: dict[str, float] = field(default_factory=dict)
    excused: bool = False

    @property
    def completeness(self) -> float | None:
        return core.completeness(self.received, self.expected)


@dataclass
class ConsistencyCheck:
    monthly_item: DataItem
    basis_item: DataItem | None
    basis_completeness: float | None
    result: core.Consistency | None


@dataclass
class UnitMonth:
    entity: Entity
    month: dt.date
    items: list[ItemMonth]
    days: list[DayStat]
    consistency: list[ConsistencyCheck]
    meter_totals: dict[str, core.MeterTotal]
    alerts: list[Alert]
    faults: list[FaultReport]

    @property
    def expected(self) -> int:
        return sum(i.expected for i in self.items if i.item.is_reported)

    @property
    def received(self) -> int:
        return sum(min(i.received, i.expected) for i in self.items if i.item.is_reported)

    @property
    def completeness(self) -> float | None:
        return core.completeness(self.received, self.expected)

    @property
    def days_below(self) -> int:
        rules = metering_rules()
        return sum(
            1
            for d in self.days
            if d.completeness is not None and d.completeness < rules.completeness_min_frac
        )


def product_info() -> dict[str, tuple[str, str, Decimal, str]]:
    """product code → (name in the active language, unit, reference coefficient tce/unit, kind)."""
    from dualcontrol.reference.accounting import product_coefficients
    from dualcontrol.reference.energy_products import energy_products

    english = (get_language() or "").startswith("en")
    names_en = {p.code: p.name_en for p in energy_products()} if english else {}
    return {
        c: (names_en.get(c) or p.name_zh, p.unit, p.coefficient_tce_per_unit, p.kind)
        for c, p in product_coefficients().items()
    }


def _sign(item: Any) -> int:
    return {Boundary.IN: 1, Boundary.OUT: -1}.get(item.boundary, 0)


def meter_totals(
    items: Sequence[Any],
    month_total: dict[int, float | None],
    monthly_value: dict[int, float],
    counts: dict[int, tuple[int, int]],
) -> dict[str, core.MeterTotal]:
    """Per 205-1 product: Σ in − Σ out of the boundary items' month quantities (205-1 unit).

    An indicator (code) measured in real time or daily is taken from its day figures; one with
    only a monthly item from the monthly value. ``counts`` = item → (received, expected).
    """
    by_code: dict[str, list[Any]] = defaultdict(list)
    for item in items:
        if item.boundary and item.product_code and item.to_product_factor is not None:
            by_code[item.code].append(item)
    qty: dict[str, Decimal] = defaultdict(Decimal)
    rec: dict[str, int] = defaultdict(int)
    exp: dict[str, int] = defaultdict(int)
    codes: dict[str, list[str]] = defaultdict(list)
    for _code, group in sorted(by_code.items()):
        measured = [i for i in group if i.frequency != core.Frequency.MONTHLY]
        chosen = measured or group
        for item in chosen:
            if item.frequency == core.Frequency.MONTHLY:
                value = monthly_value.get(item.pk)
            else:
                value = month_total.get(item.pk)
                r, e = counts.get(item.pk, (0, 0))
                rec[item.product_code] += min(r, e)
                exp[item.product_code] += e
            if value is None:
                continue
            assert item.to_product_factor is not None
            qty[item.product_code] += Decimal(str(value)) * item.to_product_factor * _sign(item)
            codes[item.product_code].append(item.code)
    products = set(qty) | set(exp)
    return {
        p: core.MeterTotal(
            product_code=p,
            quantity=qty.get(p, Decimal(0)),
            completeness_frac=core.completeness(rec[p], exp[p]),
            items=tuple(dict.fromkeys(codes[p])),
        )
        for p in sorted(products)
    }


def _monthly_values(items: Sequence[DataItem], month: dt.date) -> dict[int, float]:
    monthly = [i.pk for i in items if i.frequency == core.Frequency.MONTHLY]
    if not monthly:
        return {}
    start, end = month_bounds(month)
    return dict(
        Reading.objects.filter(
            item_id__in=monthly, ts__gte=aware(start), ts__lt=aware(end)
        ).values_list("item_id", "value")
    )


def unit_month(entity: Entity, month: dt.date, now: dt.datetime | None = None) -> UnitMonth:
    """Completeness per item and day, day figures, consistency and meter totals of one month."""
    rules = metering_rules()
    now_local = local_now(now)
    start, end = month_bounds(month)
    items = list(
        DataItem.objects.filter(entity=entity)
        .select_related("instrument")
        .order_by("frequency", "code")
    )
    rows = list(
        ItemDay.objects.filter(item__entity=entity, day__gte=start.date(), day__lt=end.date())
    )
    by_item_day = {(r.item_id, r.day): r for r in rows}
    tallies: dict[int, int] = dict(
        RejectTally.objects.filter(
            item__entity=entity, day__gte=start.date(), day__lt=end.date(), reason="out_of_range"
        )
        .values_list("item_id")
        .annotate(n=Sum("n"))
        .values_list("item_id", "n")
    )
    monthly_values = _monthly_values(items, month)
    faults = list(
        FaultReport.objects.filter(entity=entity, started__lt=aware(end))
        .exclude(repaired_at__lt=aware(start))
        .exclude(status=FaultReport.Status.RETURNED)
        .prefetch_related("items")
    )
    info = product_info()
    days: list[DayStat] = []
    day = start.date()
    while day < end.date():
        days.append(DayStat(day=day))
        day += dt.timedelta(days=1)
    months: list[ItemMonth] = []
    for item in items:
        im = ItemMonth(item=item)
        if item.frequency == core.Frequency.MONTHLY:
            im.expected = expected_in(item, start, end, now_local)
            im.monthly_value = monthly_values.get(item.pk)
            im.received = 1 if im.monthly_value is not None else 0
            months.append(im)
            continue
        totals: list[float] = []
        for d in days:
            d0 = dt.datetime.combine(d.day, dt.time())
            exp = expected_in(item, d0, d0 + dt.timedelta(days=1), now_local)
            r = by_item_day.get((item.pk, d.day))
            got = min(r.received, exp) if r is not None else 0
            im.expected += exp
            im.received += got
            if item.is_reported:
                d.expected += exp
                d.received += got
            if exp and got / exp < rules.completeness_min_frac:
                im.days_below += 1
            if r is not None:
                if r.total is not None:
                    totals.append(r.total)
                if r.stuck:
                    im.stuck_days += 1
                im.max_run = max(im.max_run, r.max_run)
                sign = _sign(item)
                if sign and item.product_code and r.total is not None and item.to_product_factor:
                    _, _, coef, _ = info.get(item.product_code, ("", "", Decimal(0), ""))
                    tce = r.total * float(item.to_product_factor) * float(coef) * sign
                    d.tce_by_product[item.product_code] = (
                        d.tce_by_product.get(item.product_code, 0.0) + tce
                    )
        if totals:
            im.total = (
                sum(totals)
                if item.aggregation == DataItem.Aggregation.SUM
                else sum(totals) / len(totals)
            )
        im.out_of_range = tallies.get(item.pk, 0)
        months.append(im)
    for d in days:
        d0 = aware(dt.datetime.combine(d.day, dt.time()))
        d.excused = any(
            (
                f.status == FaultReport.Status.ACCEPTED
                or (f.status == FaultReport.Status.CLOSED and f.reviewed_at is not None)
            )
            and f.started < d0 + dt.timedelta(days=1)
            and (f.repaired_at is None or f.repaired_at >= d0)
            for f in faults
        )
    month_total = {im.item.pk: im.total for im in months}
    counts = {im.item.pk: (im.received, im.expected) for im in months}
    totals_by_product = meter_totals(items, month_total, monthly_values, counts)
    return UnitMonth(
        entity=entity,
        month=month,
        items=months,
        days=days,
        consistency=_consistency(months, rules),
        meter_totals=totals_by_product,
        alerts=list(
            Alert.objects.filter(entity=entity, day__gte=start.date(), day__lt=end.date())
            .select_related("item")
            .order_by("-day", "-created")
        ),
        faults=faults,
    )


def _consistency(months: Sequence[ItemMonth], rules: core.MeteringRules) -> list[ConsistencyCheck]:
    by_code: dict[str, dict[int, ItemMonth]] = defaultdict(dict)
    for im in months:
        by_code[im.item.code][im.item.frequency] = im
    out = []
    for group in by_code.values():
        monthly = group.get(core.Frequency.MONTHLY)
        if monthly is None:
            continue
        basis = group.get(core.Frequency.DAILY) or group.get(core.Frequency.REALTIME)
        result = None
        if basis is not None and monthly.monthly_value is not None and basis.total is not None:
            result = core.consistency(basis.total, monthly.monthly_value, rules)
        out.append(
            ConsistencyCheck(
                monthly_item=monthly.item,
                basis_item=basis.item if basis else None,
                basis_completeness=basis.completeness if basis else None,
                result=result,
            )
        )
    return out


def consistency_of(
    entity: Entity, month: dt.date, items: Sequence[DataItem] | None = None
) -> list[ConsistencyCheck]:
    """数据一致性 of the unit's monthly items for ``month`` (Σ day figures vs the monthly value)."""
    return unit_month(entity, month).consistency


# ---------------------------------------------------------------------------------------------
# Reconciliation with the 205-1 report and the accounting engine


@dataclass
class GapRow:
    line: core.GapLine
    name: str
    unit: str
    reasons: list[str]
    explanation: GapExplanation | None
    meter_tce: float | None
    report_tce: float | None


@dataclass
class Reconciliation:
    entity: Entity
    month: dt.date
    report: Any  # EnergyReport | None
    rows: list[GapRow]
    meter_account: UnitAccount | None
    report_account: UnitAccount | None
    account_error: str
    completeness: float | None
    rules: core.MeteringRules

    @property
    def gap_tce(self) -> float | None:
        """Meters − report over metered products, tce (当量值, reference coefficients)."""
        metered = [r for r in self.rows if r.meter_tce is not None and r.report_tce is not None]
        if not metered:
            return None
        return sum(r.meter_tce or 0 for r in metered) - sum(r.report_tce or 0 for r in metered)

    @property
    def gap_frac(self) -> float | None:
        metered = [r for r in self.rows if r.meter_tce is not None and r.report_tce is not None]
        base = sum(r.report_tce or 0 for r in metered)
        gap = self.gap_tce
        return None if gap is None or base == 0 else gap / base


def report_figures(entity: Entity, month: dt.date) -> tuple[Any, dict[str, core.ReportFigure]]:
    from dualcontrol.reporting.models import EnergyReport, PeriodType

    report = (
        EnergyReport.objects.filter(
            entity=entity, period_type=PeriodType.MONTHLY, year=month.year, month=month.month
        )
        .exclude(current_revision=0)
        .first()
    )
    if report is None:
        return None, {}
    from dualcontrol.reporting.services import rows_of

    rows = rows_of(report)
    return report, {
        r.product_code: core.ReportFigure(r.product_code, r.consumption_total, r.purchases_qty)
        for r in rows
    }


def _account(rows: Sequence[Any], year: int) -> UnitAccount:
    from dualcontrol.reference.accounting import accounting_rules, product_coefficients
    from dualcontrol.reference.carbon import carbon_factors
    from dualcontrol.reference.electricity import electricity_equivalent

    return account_report(
        rows,
        product_coefficients(),
        electricity_equivalent(year),
        carbon_factors(year=year),
        accounting_rules(),
    )


def reconciliation(
    entity: Entity, month: dt.date, now: dt.datetime | None = None
) -> Reconciliation:
    """Meters vs the 205-1 monthly report per product, explained; both through the engine."""
    rules = metering_rules()
    um = unit_month(entity, month, now)
    report, figures = report_figures(entity, month)
    info = product_info()
    lines = core.reconcile(
        um.meter_totals,
        figures if report is not None else None,
        {c: v[3] for c, v in info.items()},
        rules,
    )
    explanations = {
        g.product_code: g
        for g in GapExplanation.objects.filter(entity=entity, year=month.year, month=month.month)
    }
    rows = []
    for line in lines:
        name, unit, coef, _ = info.get(line.product_code, (line.product_code, "", Decimal(0), ""))
        rows.append(
            GapRow(
                line=line,
                name=name,
                unit=unit,
                reasons=[
                    core.gap_reason_text(line, r, rules, get_language() or "zh-hans")
                    for r in line.reasons
                ],
                explanation=explanations.get(line.product_code),
                meter_tce=float(line.meter_qty * coef) if line.meter_qty is not None else None,
                report_tce=float(line.report_consumption * coef)
                if line.report_consumption is not None
                else None,
            )
        )
    meter_account = report_account = None
    error = ""
    units = {c: v[1] for c, v in info.items()}
    try:
        if um.meter_totals:
            meter_account = _account(core.meter_rows(um.meter_totals, units), month.year)
        if report is not None:
            from dualcontrol.reporting.services import rows_of

            report_account = _account(rows_of(report), month.year)
    except AccountingError as exc:
        error = str(exc)
    return Reconciliation(
        entity=entity,
        month=month,
        report=report,
        rows=rows,
        meter_account=meter_account,
        report_account=report_account,
        account_error=error,
        completeness=um.completeness,
        rules=rules,
    )


# ---------------------------------------------------------------------------------------------
# Provincial ranking


@dataclass(slots=True)
class ItemRow:
    """The configuration of a data item the ranking needs (lighter than a model instance)."""

    pk: int
    entity_id: int
    code: str
    frequency: int
    interval_minutes: int
    active: bool
    active_from: dt.date | None
    is_reported: bool
    boundary: str
    product_code: str
    to_product_factor: Decimal | None
    aggregation: str


@dataclass
class UnitRow:
    entity: Entity
    items: int
    expected: int
    received: int
    meter_tce: float | None
    report_tce: float | None
    alerts: int
    has_report: bool

    @property
    def completeness(self) -> float | None:
        return core.completeness(self.received, self.expected)

    @property
    def gap_frac(self) -> float | None:
        if self.meter_tce is None or not self.report_tce:
            return None
        return (self.meter_tce - self.report_tce) / self.report_tce

    @property
    def passes(self) -> bool | None:
        return core.complete_enough(self.completeness, metering_rules())


def ranking(
    user: Any,
    month: dt.date,
    *,
    division: str = "",
    q: str = "",
    connected_only: bool = False,
    now: dt.datetime | None = None,
) -> list[UnitRow]:
    """Every monitored unit the user sees, with the month's completeness and gap (unsorted)."""
    from dualcontrol.reporting.models import PeriodType, ReportLine

    now_local = local_now(now)
    start, end = month_bounds(month)
    entities = monitored_entities(user)
    if division.isdigit():
        entities = entities.filter(division__path__contains=f"{division}/")
    if q:
        entities = entities.filter(Q(name__icontains=q) | Q(uscc=q.upper()))
    ents = {e.pk: e for e in entities}
    items_by_entity: dict[int, list[ItemRow]] = defaultdict(list)
    fields = [f for f in ItemRow.__dataclass_fields__ if f != "pk"]
    for values in DataItem.objects.filter(entity_id__in=ents).values_list("pk", *fields):
        row = ItemRow(*values)
        items_by_entity[row.entity_id].append(row)
    day_sums = {
        r["item_id"]: r
        for r in ItemDay.objects.filter(
            item__entity_id__in=ents, day__gte=start.date(), day__lt=end.date()
        )
        .values("item_id")
        .annotate(received=Sum("received"), total=Sum("total"))
    }
    monthly_values = _monthly_values([i for v in items_by_entity.values() for i in v], month)
    info = product_info()
    report_tce: dict[int, dict[str, float]] = defaultdict(dict)
    reported: set[int] = set()
    for entity_id, code, qty in ReportLine.objects.filter(
        revision__report__entity_id__in=ents,
        revision__report__period_type=PeriodType.MONTHLY,
        revision__report__year=month.year,
        revision__report__month=month.month,
        revision__number=models_current_revision(),
    ).values_list("revision__report__entity_id", "product__code", "consumption_total"):
        reported.add(entity_id)
        coef = info.get(code, ("", "", Decimal(0), ""))[2]
        report_tce[entity_id][code] = float(qty * coef)
    alerts = dict(
        Alert.objects.filter(entity_id__in=ents, day__gte=start.date(), day__lt=end.date())
        .values_list("entity_id")
        .annotate(n=Count("id"))
        .values_list("entity_id", "n")
    )
    out = []
    for pk, entity in ents.items():
        items = items_by_entity.get(pk, [])
        expected = received = 0
        counts: dict[int, tuple[int, int]] = {}
        month_total: dict[int, float | None] = {}
        for item in items:
            e = expected_in(item, start, end, now_local)
            if item.frequency == core.Frequency.MONTHLY:
                r = 1 if item.pk in monthly_values else 0
            else:
                r = int(day_sums.get(item.pk, {}).get("received") or 0)
                total = day_sums.get(item.pk, {}).get("total")
                month_total[item.pk] = total
            counts[item.pk] = (r, e)
            if item.is_reported:
                expected += e
                received += min(r, e)
        totals = meter_totals(items, month_total, monthly_values, counts)
        meter_tce = report_sum = None
        if totals:
            meter_tce = sum(
                float(t.quantity * info.get(c, ("", "", Decimal(0), ""))[2])
                for c, t in totals.items()
            )
            report_sum = sum(report_tce.get(pk, {}).get(c, 0.0) for c in totals)
        out.append(
            UnitRow(
                entity=entity,
                items=len(items),
                expected=expected,
                received=received,
                meter_tce=meter_tce,
                report_tce=report_sum if pk in reported else None,
                alerts=alerts.get(pk, 0),
                has_report=pk in reported,
            )
        )
    if connected_only:
        out = [r for r in out if r.items]
    return out


def models_current_revision() -> Any:
    from django.db.models import F

    return F("revision__report__current_revision")


def sort_rows(rows: list[UnitRow], key: str) -> list[UnitRow]:
    """Rank: ``completeness`` (lowest first, unconnected last) or ``gap`` (largest |gap| first)."""
    if key == "gap":
        return sorted(
            rows,
            key=lambda r: (r.gap_frac is None, -abs(r.gap_frac or 0), r.entity.name),
        )
    return sorted(
        rows,
        key=lambda r: (r.items == 0, r.completeness is None, r.completeness or 0, r.entity.name),
    )


# ---------------------------------------------------------------------------------------------
# Curves


def load_curve(
    items: Sequence[DataItem], day: dt.date
) -> list[tuple[DataItem, list[tuple[str, float]]]]:
    """Each item's readings of ``day`` as (HH:MM, value) in local time; a day before the raw
    data's retention (timeseries_policy.yaml) reads the hourly roll-ups: (HH:00, hour's sum)."""
    from dualcontrol.timeseries.queries import metering_series

    if not items:
        return []
    start = aware(dt.datetime.combine(day, dt.time()))
    data = metering_series([i.pk for i in items], start, start + dt.timedelta(days=1))
    by_item: dict[int, list[tuple[str, float]]] = defaultdict(list)
    for p in data.points:
        if p.total is not None:
            by_item[int(p.key)].append((to_local(p.start).strftime("%H:%M"), p.total))
    return [(i, by_item.get(i.pk, [])) for i in items]


def latest_day(entity: Entity) -> dt.date | None:
    last = DataItem.objects.filter(entity=entity).aggregate(m=Max("last_ts"))["m"]
    return to_local(last).date() if last else None


def today() -> dt.date:
    return timezone.localdate()
