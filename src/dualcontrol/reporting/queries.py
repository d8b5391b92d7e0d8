"""Read-side queries, always through the user's scope."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet

from dualcontrol.access.scope import in_region, is_regional, visible_entities
from dualcontrol.reporting.models import EnergyReport, Status


def visible_reports(user: Any) -> QuerySet[EnergyReport]:
    """The reports of the units the user sees.  Region-wide users get a filter on the units'
    division path only when the installation holds more than their province, so a one-province
    list's count is the table's, without a join to every unit (issue 18: the join made each page
    read the whole table twice)."""
    if is_regional(user):
        return in_region(EnergyReport.objects.all(), user, "entity__division")
    return EnergyReport.objects.filter(entity__in=visible_entities(user))


def review_queue(user: Any) -> QuerySet[EnergyReport]:
    from dualcontrol.access.scope import reviews_reports

    if not reviews_reports(user):
        return EnergyReport.objects.none()
    return (
        visible_reports(user)
        .filter(status=Status.SUBMITTED)
        .select_related("entity", "entity__division")
        .order_by("updated")
    )


def known_report_count(user: Any, f: Mapping[str, str]) -> int | None:
    """The number of the user's reports under the list filters ``f`` (year, month, status,
    division, q) from the current roll-ups, or None when the database must count."""
    from dualcontrol.access.scope import visible_divisions
    from dualcontrol.rollups.queries import report_count

    year, month = f.get("year", ""), f.get("month", "")
    status = f.get("status", "")
    if f.get("q") or (status and status not in Status.values):
        return None  # a unit's own scope has no divisions: report_count says None
    division = f.get("division", "")
    return report_count(
        visible_divisions(user),
        year=int(year) if year.isdigit() else None,
        month=int(month) if month.isdigit() else None,
        status=status if status in Status.values else None,
        division_code=division if division.isdigit() else None,
    )


def _change_pct(now: Any, before: Any) -> float | None:
    if now is None or before is None or float(before) == 0:
        return None
    return (float(now) - float(before)) / abs(float(before)) * 100


def comparisons(report: EnergyReport) -> dict[str, Any] | None:
    """The change of a monthly report against the previous month (环比) and the same month of the
    previous year (同比): the total and every product's consumption, with the changes beyond the
    threshold of ``report_review.yaml`` flagged. None for reports that are not monthly."""
    from dualcontrol.reference import load_yaml
    from dualcontrol.reporting import services

    if report.period_type != "monthly" or not report.month or not report.current_revision:
        return None
    _version, rules = load_yaml("report_review.yaml")
    limit = float(rules["unusual_change_pct"])
    prev_year, prev_month = (
        (report.year, report.month - 1)
        if report.month > 1
        else (
            report.year - 1,
            12,
        )
    )
    same = EnergyReport.objects.filter(
        entity=report.entity, period_type="monthly", status__in=rules["basis_statuses"]
    ).exclude(pk=report.pk)
    bases = {
        "mom": same.filter(year=prev_year, month=prev_month).first(),
        "yoy": same.filter(year=report.year - 1, month=report.month).first(),
    }
    now_rows = {r.product_code: r for r in services.rows_of(report)}
    base_rows = {
        k: {r.product_code: r for r in services.rows_of(b)} if b and b.current_revision else {}
        for k, b in bases.items()
    }
    rows = []
    for code, r in now_rows.items():
        item: dict[str, Any] = {"name": r.product_name, "unit": r.unit, "now": r.consumption_total}
        for k in ("mom", "yoy"):
            b = base_rows[k].get(code)
            item[k] = b.consumption_total if b else None
            item[f"{k}_pct"] = _change_pct(r.consumption_total, item[k])
            item[f"{k}_unusual"] = item[f"{k}_pct"] is not None and abs(item[f"{k}_pct"]) > limit
        rows.append(item)
    total: dict[str, Any] = {"now": report.energy_tce}
    for k, b in bases.items():
        total[k] = b.energy_tce if b else None
        total[f"{k}_pct"] = _change_pct(report.energy_tce, total[k])
        total[f"{k}_unusual"] = total[f"{k}_pct"] is not None and abs(total[f"{k}_pct"]) > limit
    return {
        "bases": bases,
        "total": total,
        "rows": rows,
        "limit_pct": limit,
        "source": rules["source"],
        "unusual": total["mom_unusual"]
        or total["yoy_unusual"]
        or any(x["mom_unusual"] or x["yoy_unusual"] for x in rows),
    }
