"""Public pages (no login): published bulletins, result lists and the quarterly exceedance
lists; and the province's publishing desk (preview the bulletin, publish, withdraw; build,
review and publish an exceedance list).  Drafts are never served on a public page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dualcontrol.access.rules import rule_required
from dualcontrol.assessment.models import AssessmentRound, RecordStatus, RoundStatus
from dualcontrol.core import exceedances as core_exceedances
from dualcontrol.exports import XLSX
from dualcontrol.publishing import bulletin, exceedances, services
from dualcontrol.publishing import render as documents
from dualcontrol.publishing.models import Publication, PublicationKind, PublicationStatus

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


def _of_province(request: HttpRequest, qs: Any) -> Any:
    """Several provinces publish in one installation (issue 22): ``?province=CODE`` names one;
    without it, the first province's document."""
    code = request.GET.get("province", "").strip()
    if code:
        qs = qs.filter(division__code=code)
    return qs.order_by("division__code", "-version")


def _bulletin(request: HttpRequest, year: int) -> Publication:
    pub = _of_province(
        request, _published().filter(kind=PublicationKind.BULLETIN, year=year)
    ).first()
    if pub is None:
        raise Http404
    return pub


def bulletin_detail(request: HttpRequest, year: int) -> HttpResponse:
    pub = _bulletin(request, year)
    return render(
        request,
        "publishing/bulletin.html",
        {"pub": pub, "content": pub.content, "draft": False, "versions": _versions(pub)},
    )


def bulletin_file(request: HttpRequest, year: int, fmt: str) -> HttpResponse:
    pub = _bulletin(request, year)
    return document_response(pub.content, fmt, f"bulletin-{year}")


def _versions(pub: Publication) -> Any:
    return (
        Publication.objects.filter(
            kind=pub.kind,
            year=pub.year,
            quarter=pub.quarter,
            round=pub.round,
            division=pub.division,
        )
        .exclude(pk=pub.pk)
        .exclude(status=PublicationStatus.DRAFT)
        .order_by("-version")
    )


def results_list(request: HttpRequest) -> HttpResponse:
    pubs = _published().filter(kind__in=LIST_KINDS).order_by("-year", "round_id", "kind")
    return render(request, "publishing/results_list.html", {"pubs": pubs})


def publication_detail(request: HttpRequest, pk: int) -> HttpResponse:
    pub = get_object_or_404(Publication.objects.exclude(kind=PublicationKind.BULLETIN), pk=pk)
    if pub.status in (PublicationStatus.WITHDRAWN, PublicationStatus.DRAFT):
        raise Http404
    fmt = request.GET.get("export", "")
    if fmt:
        return document_response(pub.content, fmt, f"{_stem(pub)}-v{pub.version}")
    return render(
        request,
        "publishing/publication.html",
        {"pub": pub, "content": pub.content, "versions": _versions(pub)},
    )


def _stem(pub: Publication) -> str:
    return f"{pub.kind}-{pub.year}" + (f"-q{pub.quarter}" if pub.quarter else "")


# ---------------------------------------------------------------------------------------------
# province desk


def _own_province(user: Any) -> Any:
    from dualcontrol.access.scope import province_of

    return province_of(user)


@rule_required("publishing.manage")
def manage(request: HttpRequest) -> HttpResponse:
    from dualcontrol.access.assessment import visible_rounds

    province = _own_province(request.user)  # several provinces: the officer's own (issue 22)
    try:
        years = bulletin.available_years(province)
    except bulletin.BulletinError:
        years = []
    bulletins = {
        p.year: p for p in _published().filter(kind=PublicationKind.BULLETIN, division=province)
    }
    rounds = []
    for rnd in (
        visible_rounds(request.user).select_related("assessor").order_by("-year", "assessor__code")
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
            "history": Publication.objects.filter(
                Q(round__isnull=True) | Q(round__in=visible_rounds(request.user))
            ).order_by("-published_at")[:30],
        },
    )


@rule_required("publishing.manage")
def preview(request: HttpRequest, year: int) -> HttpResponse:
    try:
        content = bulletin.compute(
            year, province=_own_province(request.user), issuers=request.GET.get("issuers", "")
        )
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
@rule_required("publishing.manage")
def publish_bulletin(request: HttpRequest, year: int) -> HttpResponse:
    try:
        pub = services.publish_bulletin(
            user=request.user,
            year=year,
            published_on=_date(request.POST.get("published_on", "")),
            issuers=request.POST.get("issuers", "").strip(),
            province=_own_province(request.user),
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
@rule_required("publishing.manage")
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
@rule_required("publishing.manage")
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    pub = get_object_or_404(Publication, pk=pk)
    try:
        services.withdraw(publication=pub, user=request.user, note=request.POST.get("note", ""))
    except services.PublishError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已撤回"))
    return redirect("publishing:manage")


# ---------------------------------------------------------------------------------------------
# the quarterly exceedance list (超标名单): public pages


def _quarter(year: int, quarter: int) -> None:
    if not (1 <= quarter <= 4 and 1900 <= year <= 2999):
        raise Http404


def exceedance_lists(request: HttpRequest) -> HttpResponse:
    """Published quarterly lists (current versions), newest first."""
    pubs = _published().filter(kind=PublicationKind.EXCEEDANCES).order_by("-year", "-quarter")
    return render(request, "publishing/exceedance_list.html", {"pubs": pubs})


def _exceedance(request: HttpRequest, year: int, quarter: int) -> Publication:
    _quarter(year, quarter)
    pub = _of_province(
        request,
        _published().filter(kind=PublicationKind.EXCEEDANCES, year=year, quarter=quarter),
    ).first()
    if pub is None:
        raise Http404
    return pub


def doc_rows(content: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The list's rows for the page: (cell, is a number) pairs and the alarms behind the row."""
    if not content:
        return []
    places = content.get("column_places") or []
    return [
        {
            "cells": [
                (text, i < len(places) and places[i] is not None)
                for i, text in enumerate(row["cells"])
            ],
            "alarms": row.get("alarms", []),
        }
        for row in content.get("rows", [])
    ]


def exceedance_detail(request: HttpRequest, year: int, quarter: int) -> HttpResponse:
    pub = _exceedance(request, year, quarter)
    return render(
        request,
        "publishing/exceedance.html",
        {
            "pub": pub,
            "content": pub.content,
            "doc_rows": doc_rows(pub.content),
            "draft": False,
            "versions": _versions(pub),
        },
    )


def exceedance_file(request: HttpRequest, year: str, quarter: str, fmt: str) -> HttpResponse:
    pub = _exceedance(request, int(year), int(quarter))  # re_path: the groups arrive as text
    return document_response(pub.content, fmt, f"exceedances-{year}-q{quarter}")


# ---------------------------------------------------------------------------------------------
# the quarterly exceedance list: the province's desk (build → review → publish)


@rule_required("publishing.manage")
def exceedance_desk(request: HttpRequest) -> HttpResponse:
    rules = exceedances.list_rules()
    today = timezone.localdate()
    province = _own_province(request.user)
    quarters = []
    for year, quarter in exceedances.quarters_with_alarms(today=today):
        _first, last = core_exceedances.quarter_dates(year, quarter)
        published = services.current_quarterly(PublicationKind.EXCEEDANCES, year, quarter, province)
        due = rules.deadline(year, quarter)
        quarters.append(
            {
                "year": year,
                "quarter": quarter,
                "label": f"{year}年第{core_exceedances.QUARTER_ZH[quarter]}季度",
                "ended": today > last,
                "deadline": due,
                "overdue": published is None and today > due,
                "draft": services.exceedance_draft(year, quarter, province),
                "published": published,
            }
        )
    return render(
        request,
        "publishing/exceedance_desk.html",
        {"quarters": quarters, "rules": rules, "today": today},
    )


def _review_context(year: int, quarter: int, province: Any) -> dict[str, Any]:
    draft = services.exceedance_draft(year, quarter, province)
    published = services.current_quarterly(PublicationKind.EXCEEDANCES, year, quarter, province)
    shown = draft or published
    _first, last = core_exceedances.quarter_dates(year, quarter)
    strike = exceedances.list_rules().reviewer_strike
    return {
        "doc_rows": doc_rows(shown.content if shown else None),
        "can_strike": draft is not None and strike,
        "year": year,
        "quarter": quarter,
        "label": f"{year}年第{core_exceedances.QUARTER_ZH[quarter]}季度",
        "draft": draft,
        "published": published,
        "pub": shown,
        "content": shown.content if shown else None,
        "ended": timezone.localdate() > last,
        "deadline": exceedances.list_rules().deadline(year, quarter),
        "today": timezone.localdate(),
        "history": Publication.objects.filter(
            kind=PublicationKind.EXCEEDANCES, year=year, quarter=quarter, division=province
        )
        .exclude(status=PublicationStatus.DRAFT)
        .order_by("-version"),
    }


@rule_required("publishing.manage")
def exceedance_review(request: HttpRequest, year: int, quarter: int) -> HttpResponse:
    """The draft with the alarms behind every row (links), strike/restore, publish; or, without a
    draft, the published version with the same links."""
    _quarter(year, quarter)
    context = _review_context(year, quarter, _own_province(request.user))
    fmt = request.GET.get("format", "")
    if fmt:
        if context["pub"] is None:
            raise Http404
        return document_response(
            context["content"],
            fmt,
            f"exceedances-{year}-q{quarter}" + ("-draft" if context["draft"] else ""),
            draft=context["draft"] is not None,
        )
    return render(request, "publishing/exceedance_review.html", context)


def _review_redirect(year: int, quarter: int) -> HttpResponse:
    return redirect("publishing:exceedance-review", year, quarter)


def _draft_or_404(request: HttpRequest, year: int, quarter: int) -> Publication:
    _quarter(year, quarter)
    draft = services.exceedance_draft(year, quarter, _own_province(request.user))
    if draft is None:
        raise Http404
    return draft


def _alarm_id(request: HttpRequest) -> int:
    try:
        return int(request.POST.get("alarm", ""))
    except ValueError as exc:
        raise Http404 from exc


@require_POST
@rule_required("publishing.manage")
def exceedance_build(request: HttpRequest, year: int, quarter: int) -> HttpResponse:
    _quarter(year, quarter)
    try:
        draft = services.build_exceedance_draft(
            user=request.user,
            year=year,
            quarter=quarter,
            issuers=request.POST.get("issuers") if "issuers" in request.POST else None,
        )
    except services.NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except services.PublishError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("草稿已生成：%(n)s 行") % {"n": len(draft.content.get("rows", []))}
        )
    return _review_redirect(year, quarter)


@require_POST
@rule_required("publishing.manage")
def exceedance_strike(request: HttpRequest, year: int, quarter: int) -> HttpResponse:
    draft = _draft_or_404(request, year, quarter)
    try:
        services.strike_alarm(
            user=request.user,
            draft=draft,
            alarm_id=_alarm_id(request),
            reason=request.POST.get("reason", ""),
        )
    except services.NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except services.PublishError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已剔除该报警，名单已重新计算"))
    return _review_redirect(year, quarter)


@require_POST
@rule_required("publishing.manage")
def exceedance_restore(request: HttpRequest, year: int, quarter: int) -> HttpResponse:
    draft = _draft_or_404(request, year, quarter)
    try:
        services.restore_alarm(user=request.user, draft=draft, alarm_id=_alarm_id(request))
    except services.NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except services.PublishError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已恢复该报警，名单已重新计算"))
    return _review_redirect(year, quarter)


@require_POST
@rule_required("publishing.manage")
def exceedance_publish(request: HttpRequest, year: int, quarter: int) -> HttpResponse:
    draft = _draft_or_404(request, year, quarter)
    try:
        pub = services.publish_exceedance_list(
            user=request.user,
            draft=draft,
            published_on=_date(request.POST.get("published_on", "")),
        )
    except services.NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except services.PublishError as exc:
        messages.error(request, str(exc))
        return _review_redirect(year, quarter)
    messages.success(
        request, _("已发布：%(t)s（第 %(v)s 版）") % {"t": pub.title, "v": pub.version}
    )
    return redirect("publishing:exceedance", year, quarter)


@require_POST
@rule_required("publishing.manage")
def exceedance_discard(request: HttpRequest, year: int, quarter: int) -> HttpResponse:
    draft = _draft_or_404(request, year, quarter)
    try:
        services.discard_draft(user=request.user, draft=draft)
    except services.PublishError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("草稿已删除"))
    return _review_redirect(year, quarter)
