"""The list of 205-1 reports as a table: the filters of the list page and the export's columns.

The page exports at once up to ``jobs_policy.yaml`` ``exports.inline_max_rows`` rows; a larger
export is a background job (``reports.export`` in :mod:`dualcontrol.jobs.tasks`) that writes the
same table, with the same filters and the requester's scope.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from django.utils.translation import gettext as _

from dualcontrol.reporting.models import Status

FILTERS = ("year", "month", "status", "division", "q")


def clean_filters(raw: Mapping[str, Any]) -> dict[str, str]:
    return {k: str(raw.get(k, "") or "").strip() for k in FILTERS}


def filtered(qs: Any, f: Mapping[str, str]) -> Any:
    if f["year"].isdigit():
        qs = qs.filter(year=int(f["year"]))
    if f["month"].isdigit():
        qs = qs.filter(month=int(f["month"]))
    if f["status"] in Status.values:
        qs = qs.filter(status=f["status"])
    if f["division"].isdigit():
        qs = qs.filter(entity__division__path__contains=f"{f['division']}/")
    if f["q"]:
        qs = qs.filter(entity__name__icontains=f["q"]) | qs.filter(entity__uscc=f["q"].upper())
    return qs


def headers() -> list[str]:
    return [
        _("单位名称"),
        _("统一社会信用代码"),
        _("所在区划"),
        _("报告期"),
        _("状态"),
        _("版本"),
        _("综合能源消费量（吨标准煤，当量值）"),
        _("综合能源消费量（吨标准煤，等价值）"),
        _("演示数据"),
    ]


def rows(qs: Any) -> Iterator[list[Any]]:
    for r in qs.iterator(chunk_size=2000):
        yield [
            r.entity.name,
            r.entity.uscc,
            r.entity.division.name,
            r.period_label,
            r.get_status_display(),
            r.current_revision,
            float(r.energy_tce) if r.energy_tce is not None else None,
            float(r.energy_equiv_tce) if r.energy_equiv_tce is not None else None,
            _("是") if r.entity.is_synthetic else "",
        ]


def report_queryset(user: Any, f: Mapping[str, str]) -> Any:
    """The reports ``user`` sees, filtered as on the list page, in the page's order."""
    from dualcontrol.reporting.queries import visible_reports

    qs = (
        visible_reports(user)
        .select_related("entity", "entity__division")
        .order_by("-year", "-month", "entity__name")
    )
    return filtered(qs, f)
