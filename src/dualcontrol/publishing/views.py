"""Public pages (no login): published bulletins and result lists; and the province's
publishing desk (preview the bulletin, publish, withdraw)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dualcontrol.accounts.decorators import role_required
from dualcontrol.accounts.models import Role
from dualcontrol.assessment.models import AssessmentRound, RecordStatus, RoundStatus
from dualcontrol.exports import XLSX
from dualcontrol.publishing import bulletin, services
from dualcontrol.publishing import render as documents
from dualcontrol.publishing.models import Publication, PublicationKind, PublicationStatus

PROVINCE = (Role.PROVINCE_ADMIN, Role.PROVINCE_OFFICER)
LIST_KINDS = (PublicationKind.GRADES, PublicationKind.RESTRICTED, PublicationKind.AUDITS)


def _published() -> Any:
    return Publication.objects.filter(status=PublicationStatus.PUBLISHED)


def _file(
    data: bytes | str, filename: str, content_type: str, inline: bool = False
) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(not inline, filename)
    return response


def document_response(
    pub_content: dict[str, Any], fmt: str, stem: str, *, draft: bool = False
) -> HttpResponse:
    if fmt == "pdf":
        return _file(
            documents.to_pdf(
                pub_content, published_on=pub_content.get("published_on", ""), draft=draft
            ),
            f"{stem}.pdf",
            "application/pdf",
            inline=True,
        )
    if fmt == "xlsx":
        return _file(documents.to_xlsx(pub_content), f"{stem}.xlsx", XLSX)
    if fmt == "csv":
        return _file(documents.to_csv(pub_content), f"{stem}.csv", "text/csv; charset=utf-8")
    raise Http404


# ---------------------------------------------------------------------------------------------
# public


def bulletin_list(request: HttpRequest) -> HttpResponse:
    pubs = _published().filter(kind=PublicationKind.BULLETIN).order_by("-year")
    return render(request, "publishing/bulletin_list.html", {"pubs": pubs})


def _bulletin(year: int) -> Publication:
    pub = _published().filter(kind=PublicationKind.BULLETIN, year=year).order_by("-version").first()
    if pub is None:
        raise Http404
    return pub


def bulletin_detail(request: HttpRequest, year: int) -> HttpResponse:
    pub = _bulletin(year)
    return render(
        request,
        "publishing/bulletin.html",
        {"pub": pub, "content": pub.content, "draft": False, "versions": _versions(pub)},
    )


def bulletin_file(request: HttpRequest, year: int, fmt: str) -> HttpResponse:
    pub = _bulletin(year)
    return document_response(pub.content, fmt, f"bulletin-{year}")


def _versions(pub: Publication) -> Any:
    return (
        Publication.objects.filter(kind=pub.kind, year=pub.year, round=pub.round)
        .exclude(pk=pub.pk)
        .order_by("-version")
    )


def results_list(request: HttpRequest) -> HttpResponse:
    pubs = _published().filter(kind__in=LIST_KINDS).order_by("-year", "round_id", "kind")
    return render(request, "publishing/results_list.html", {"pubs": pubs})


def publication_detail(request: HttpRequest, pk: int) -> HttpResponse:
    pub = get_object_or_404(Publication.objects.exclude(kind=PublicationKind.BULLETIN), pk=pk)
    if pub.status == PublicationStatus.WITHDRAWN:
        raise Http404
    fmt = request.GET.get("export", "")
    if fmt:
        return document_response(pub.content, fmt, f"{pub.kind}-{pub.year}-v{pub.version}")
    return render(
        request,
        "publishing/publication.html",
        {"pub": pub, "content": pub.content, "versions": _versions(pub)},
    )


# ---------------------------------------------------------------------------------------------
# province desk


@role_required(*PROVINCE)
def manage(request: HttpRequest) -> HttpResponse:
    try:
        years = bulletin.available_years()
    except bulletin.BulletinError:
        years = []
    bulletins = {p.year: p for p in _published().filter(kind=PublicationKind.BULLETIN)}
    rounds = []
    for rnd in AssessmentRound.objects.select_related("assessor").order_by(
        "-year", "assessor__code"
    ):
        done = rnd.records.filter(status=RecordStatus.SIGNED_OFF).count()
        total = rnd.records.count()
        rounds.append(
            {
                "round": rnd,
                "done": done,
                "total": total,
                "ready": total > 0 and done == total and rnd.status == RoundStatus.SIGNED_OFF,
                "published": list(_published().filter(round=rnd)),
            }
        )
    return render(
        request,
        "publishing/manage.html",
        {
            "years": [(y, bulletins.get(y)) for y in years],
            "rounds": rounds,
            "today": timezone.localdate(),
            "history": Publication.objects.order_by("-published_at")[:30],
        },
    )


@role_required(*PROVINCE)
def preview(request: HttpRequest, year: int) -> HttpResponse:
    try:
        content = bulletin.compute(year, issuers=request.GET.get("issuers", ""))
    except bulletin.BulletinError as exc:
        raise Http404(str(exc)) from exc
    fmt = request.GET.get("format", "")
    if fmt:
        return document_response(content, fmt, f"bulletin-{year}-draft", draft=True)
    return render(
        request, "publishing/bulletin.html", {"pub": None, "content": content, "draft": True}
    )


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return timezone.localdate()


@require_POST
@role_required(*PROVINCE)
def publish_bulletin(request: HttpRequest, year: int) -> HttpResponse:
    try:
        pub = services.publish_bulletin(
            user=request.user,
            year=year,
            published_on=_date(request.POST.get("published_on", "")),
            issuers=request.POST.get("issuers", "").strip(),
        )
    except services.NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except services.PublishError as exc:
        messages.error(request, str(exc))
        return redirect("publishing:manage")
    messages.success(
        request, _("已发布：%(t)s（第 %(v)s 版）") % {"t": pub.title, "v": pub.version}
    )
    return redirect("publishing:bulletin", year)


@require_POST
@role_required(*PROVINCE)
def publish_results(request: HttpRequest, pk: int) -> HttpResponse:
    rnd = get_object_or_404(AssessmentRound, pk=pk)
    try:
        pubs = services.publish_results(
            user=request.user, round=rnd, published_on=_date(request.POST.get("published_on", ""))
        )
    except services.NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except services.PublishError as exc:
        messages.error(request, str(exc))
        return redirect("publishing:manage")
    messages.success(request, _("已发布 %(n)s 份名单") % {"n": len(pubs)})
    return redirect("publishing:manage")


@require_POST
@role_required(*PROVINCE)
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    pub = get_object_or_404(Publication, pk=pk)
    try:
        services.withdraw(publication=pub, user=request.user, note=request.POST.get("note", ""))
    except services.PublishError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已撤回"))
    return redirect("publishing:manage")
