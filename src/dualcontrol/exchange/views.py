"""The exchange log page (province staff): peers, packages sent and received, and what each did."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from dualcontrol.access.rules import rule_required
from dualcontrol.exchange.models import PackageRecord, Peer
from dualcontrol.exports import xlsx_response

CONTENT_LABELS = {
    "regional_statistics": "地区统计数据",
    "targets": "目标及分解",
    "assessment_results": "考核结果",
    "key_units": "重点用能单位名单",
    "key_unit_reports": "能源利用状况报告",
    "carbon_emitters": "重点排放单位及履约",
    "monitoring_summaries": "污染源监控汇总",
    "rule_sets": "规则集",
}


def counts_text(counts: dict[str, int]) -> str:
    return " · ".join(f"{_(CONTENT_LABELS.get(k, k))} {v}" for k, v in counts.items())


@rule_required("exchange.manage")
def log(request: HttpRequest) -> HttpResponse:
    qs = PackageRecord.objects.all().order_by("-at", "-pk")
    direction = request.GET.get("direction", "")
    if direction in ("in", "out"):
        qs = qs.filter(direction=direction)
    if request.GET.get("export") == "xlsx":
        return xlsx_response(
            "交换记录.xlsx",
            _("上下级平台数据交换记录"),
            [
                _("时间"),
                _("方向"),
                _("交换包"),
                _("发出方"),
                _("接收方"),
                _("序号"),
                _("年度"),
                _("结果"),
                _("内容"),
                _("原因"),
                _("SHA-256"),
            ],
            (
                [
                    r.at,
                    r.get_direction_display(),
                    r.package_id,
                    r.sender_code,
                    r.recipient_code,
                    r.sequence,
                    r.year,
                    r.get_outcome_display(),
                    counts_text(r.counts or {}),
                    r.reason,
                    r.sha256,
                ]
                for r in qs.iterator()
            ),
            user=request.user,
        )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    for r in page:
        r.counts_text = counts_text(r.counts or {})  # type: ignore[attr-defined]
    return render(
        request,
        "exchange/log.html",
        {
            "title": _("上下级平台数据交换"),
            "peers": Peer.objects.all(),
            "page": page,
            "filters": {"direction": direction},
        },
    )
