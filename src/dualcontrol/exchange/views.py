"""The exchange log page (province staff): peers, packages sent and received, and what each did."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from dualcontrol.access.rules import rule_required
from dualcontrol.exchange.models import PackageRecord, Peer


@rule_required("exchange.manage")
def log(request: HttpRequest) -> HttpResponse:
    qs = PackageRecord.objects.all().order_by("-at", "-pk")
    direction = request.GET.get("direction", "")
    if direction in ("in", "out"):
        qs = qs.filter(direction=direction)
    return render(
        request,
        "exchange/log.html",
        {
            "title": _("上下级平台数据交换"),
            "peers": Peer.objects.all(),
            "page": Paginator(qs, 50).get_page(request.GET.get("page")),
            "filters": {"direction": direction},
        },
    )
