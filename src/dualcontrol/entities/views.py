"""Registry pages: the units a user may see, filterable, paginated, exportable."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from dualcontrol.access.rules import rule_required
from dualcontrol.access.scope import visible_divisions, visible_entities
from dualcontrol.exports import xlsx_response


@rule_required("entities.view")
def entity_list(request: HttpRequest) -> HttpResponse:
    qs = visible_entities(request.user).order_by("division__code", "name")
    f = {k: request.GET.get(k, "").strip() for k in ("division", "q", "industry")}
    if f["division"].isdigit():
        qs = qs.filter(division__path__contains=f"{f['division']}/")
    if f["industry"]:
        qs = qs.filter(industry__code=f["industry"])
    if f["q"]:
        qs = qs.filter(name__icontains=f["q"]) | qs.filter(uscc=f["q"].upper())
    if request.GET.get("export") == "xlsx":
        headers = [
            _("统一社会信用代码"),
            _("单位名称"),
            _("所在区划"),
            _("行业"),
            _("重点用能单位"),
            _("纳入能耗在线监测"),
            _("上年综合能源消费量（吨标准煤）"),
            _("演示数据"),
        ]
        rows = (
            [
                e.uscc,
                e.name,
                e.division.name,
                str(e.industry),
                e.is_key_energy_unit,
                e.online_monitoring,
                float(e.annual_energy_tce) if e.annual_energy_tce is not None else None,
                e.is_synthetic,
            ]
            for e in qs
        )
        return xlsx_response("entities.xlsx", "entities", headers, rows, user=request.user)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    divisions = visible_divisions(request.user).exclude(level="county")
    return render(
        request, "entities/list.html", {"page": page, "filters": f, "divisions": divisions}
    )
