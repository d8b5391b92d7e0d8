"""The audit log for the auditor: filter by actor, action, object and date; export; the state of
the hash chain (verified up to which entry, or the first broken link)."""

from __future__ import annotations

import datetime as dt

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from dualcontrol.access.rules import rule_required
from dualcontrol.audit.models import AuditEntry
from dualcontrol.audit.services import chain_status
from dualcontrol.exports import xlsx_response


@rule_required("audit.read")
def audit_list(request: HttpRequest) -> HttpResponse:
    qs = AuditEntry.objects.all()
    f = {
        k: request.GET.get(k, "").strip()
        for k in ("actor", "action", "object_type", "date_from", "date_to", "q")
    }
    if f["actor"]:
        qs = qs.filter(actor_name=f["actor"])
    if f["action"]:
        qs = qs.filter(action=f["action"])
    if f["object_type"]:
        qs = qs.filter(object_type=f["object_type"])
    for key, lookup in (("date_from", "at__date__gte"), ("date_to", "at__date__lte")):
        try:
            if f[key]:
                qs = qs.filter(**{lookup: dt.date.fromisoformat(f[key])})
        except ValueError:
            f[key] = ""
    if f["q"]:
        qs = qs.filter(object_repr__icontains=f["q"])
    if request.GET.get("export") == "xlsx":
        headers = [
            _("时间"),
            _("操作人"),
            _("操作"),
            _("对象类型"),
            _("对象"),
            _("修改前"),
            _("修改后"),
            _("说明"),
        ]
        rows = (
            [
                e.at.isoformat(),
                e.actor_name,
                e.action,
                e.object_type,
                e.object_repr,
                str(e.before),
                str(e.after),
                e.note,
            ]
            for e in qs[:100000]
        )
        return xlsx_response("audit.xlsx", "audit", headers, rows, user=request.user)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    actions = AuditEntry.objects.order_by().values_list("action", flat=True).distinct()
    types = AuditEntry.objects.order_by().values_list("object_type", flat=True).distinct()
    return render(
        request,
        "audit/list.html",
        {
            "page": page,
            "filters": f,
            "actions": sorted(set(actions)),
            "types": sorted(set(types)),
            "chain": chain_status(),
        },
    )
