"""Open data under /api/public/ (no login): published documents as JSON and CSV.

Only what is published is served — the frozen snapshot of each document (bulletin, grade list,
restricted regions, mandatory-audit units, quarterly exceedance lists), never unit data that was
not published and never a draft.

The province desk's writes (publish, withdraw, exceedance drafts) are under /api/publishing/
(``manage_router``, signed in, rule ``publishing.manage``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Router, Schema
from ninja import Status as HttpStatus
from ninja.errors import HttpError
from ninja.pagination import paginate

from dualcontrol.access.rules import require
from dualcontrol.api_problems import WRITE_ERRORS, refusal
from dualcontrol.assessment.models import AssessmentRound
from dualcontrol.pagination import Mapped, PageNumberPagination
from dualcontrol.publishing import render, services
from dualcontrol.publishing.models import Publication, PublicationKind, PublicationStatus

router = Router(tags=["public"], auth=None)


class PublicationOut(Schema):
    id: int
    kind: str
    kind_zh: str
    year: int
    quarter: int | None = None
    title: str
    version: int
    published_on: dt.date
    synthetic: bool
    rows: int
    json_url: str
    csv_url: str


def _published() -> Any:
    return Publication.objects.filter(status=PublicationStatus.PUBLISHED)


def _out(p: Publication) -> dict[str, Any]:
    return {
        "id": p.pk,
        "kind": p.kind,
        "kind_zh": str(p.get_kind_display()),
        "year": p.year,
        "quarter": p.quarter,
        "title": p.title,
        "version": p.version,
        "published_on": p.published_on,
        "synthetic": p.is_synthetic,
        "rows": len(p.content.get("rows", [])),
        "json_url": f"/api/public/publications/{p.pk}",
        "csv_url": f"/api/public/publications/{p.pk}/csv",
    }


def _document(p: Publication) -> dict[str, Any]:
    content = dict(p.content)
    return {**_out(p), "content": content}


@router.get("/publications", response=list[PublicationOut])
@paginate(PageNumberPagination, page_size=100)
def list_publications(
    request: HttpRequest, kind: str | None = None, year: int | None = None
) -> Any:
    """Published documents (current versions), newest year first."""
    qs = _published()
    if kind:
        if kind not in PublicationKind.values:
            raise HttpError(400, f"kind must be one of {', '.join(PublicationKind.values)}")
        qs = qs.filter(kind=kind)
    if year:
        qs = qs.filter(year=year)
    return Mapped(qs.order_by("-year", "kind", "id"), _out)


@router.get("/publications/{pub_id}")
def get_publication(request: HttpRequest, pub_id: int) -> Any:
    """One published document: header, rows (printed cells), footnotes, provenance."""
    return _document(get_object_or_404(_published(), pk=pub_id))


def _csv(p: Publication) -> HttpResponse:
    response = HttpResponse(render.to_csv(p.content), content_type="text/csv; charset=utf-8")
    period = f"{p.year}-q{p.quarter}" if p.quarter else str(p.year)
    response["Content-Disposition"] = f'attachment; filename="{p.kind}-{period}-v{p.version}.csv"'
    return response


@router.get("/publications/{pub_id}/csv")
def get_publication_csv(request: HttpRequest, pub_id: int) -> HttpResponse:
    return _csv(get_object_or_404(_published(), pk=pub_id))


def _bulletin(year: int) -> Publication:
    p = _published().filter(kind=PublicationKind.BULLETIN, year=year).order_by("-version").first()
    if p is None:
        raise HttpError(404, f"no bulletin published for {year}")
    return p


@router.get("/bulletins/{year}")
def get_bulletin(request: HttpRequest, year: int) -> Any:
    """The published bulletin of ``year`` (current version)."""
    return _document(_bulletin(year))


@router.get("/bulletins/{year}/csv")
def get_bulletin_csv(request: HttpRequest, year: int) -> HttpResponse:
    return _csv(_bulletin(year))


def _exceedances(year: int, quarter: int) -> Publication:
    if not 1 <= quarter <= 4:
        raise HttpError(404, "quarter must be 1-4")
    p = (
        _published()
        .filter(kind=PublicationKind.EXCEEDANCES, year=year, quarter=quarter)
        .order_by("-version")
        .first()
    )
    if p is None:
        raise HttpError(404, f"no exceedance list published for {year} Q{quarter}")
    return p


@router.get("/exceedances/{year}/{quarter}")
def get_exceedances(request: HttpRequest, year: int, quarter: int) -> Any:
    """The published exceedance list (超标名单) of a quarter (current version): rows with their
    figures and the alarms each row counted, the alarms not counted and why, footnotes."""
    return _document(_exceedances(year, quarter))


@router.get("/exceedances/{year}/{quarter}/csv")
def get_exceedances_csv(request: HttpRequest, year: int, quarter: int) -> HttpResponse:
    return _csv(_exceedances(year, quarter))


# ---------------------------------------------------------------------------------------------
# the province desk (/api/publishing/, signed in, rule ``publishing.manage``): the desk pages'
# services and audit; docs/api.md lists each page write's operation

manage_router = Router(tags=["publishing"])


def _refused(exc: Exception) -> Any:
    if isinstance(exc, services.NotAllowed):
        return refusal(403, str(exc))
    # PublishError covers bad input (no reason given) and the wrong state (no signed-off round,
    # not the current version) alike: the request is refused with the service's reason
    return refusal(422, str(exc))


class PublishIn(Schema):
    """``published_on`` defaults to today; ``issuers`` as on the desk (the bulletin's issuing
    departments, blank for the default)."""

    published_on: dt.date | None = None
    issuers: str | None = None


class PublishedOut(Schema):
    publications: list[PublicationOut]


def _day(value: dt.date | None) -> dt.date:
    return value or timezone.localdate()


@manage_router.post("/bulletins/{year}", response={201: PublicationOut, **WRITE_ERRORS})
def publish_bulletin(request: HttpRequest, year: int, payload: PublishIn) -> Any:
    """发布公报 (the desk's 发布): ``services.publish_bulletin``."""
    require(request.user, "publishing.manage")
    try:
        pub = services.publish_bulletin(
            user=request.user,
            year=year,
            published_on=_day(payload.published_on),
            issuers=(payload.issuers or "").strip(),
        )
    except (services.NotAllowed, services.PublishError) as exc:
        return _refused(exc)
    return HttpStatus(201, _out(pub))


@manage_router.post("/results/{round_id}", response={201: PublishedOut, **WRITE_ERRORS})
def publish_results(request: HttpRequest, round_id: int, payload: PublishIn) -> Any:
    """考核结果公告 of a signed-off round (grade list, 限批 and audit lists):
    ``services.publish_results``."""
    require(request.user, "publishing.manage")
    rnd = get_object_or_404(AssessmentRound, pk=round_id)
    try:
        pubs = services.publish_results(
            user=request.user, round=rnd, published_on=_day(payload.published_on)
        )
    except (services.NotAllowed, services.PublishError) as exc:
        return _refused(exc)
    return HttpStatus(201, {"publications": [_out(p) for p in pubs]})


class WithdrawIn(Schema):
    note: str = ""


@manage_router.post(
    "/publications/{pub_id}/withdraw", response={200: PublicationOut, **WRITE_ERRORS}
)
def withdraw(request: HttpRequest, pub_id: int, payload: WithdrawIn) -> Any:
    """撤回 a publication: ``services.withdraw``."""
    require(request.user, "publishing.manage")
    pub = get_object_or_404(Publication, pk=pub_id)
    try:
        pub = services.withdraw(publication=pub, user=request.user, note=payload.note)
    except (services.NotAllowed, services.PublishError) as exc:
        return _refused(exc)
    return _out(pub)


def _quarter(year: int, quarter: int) -> None:
    if not (1 <= quarter <= 4 and 1900 <= year <= 2999):
        raise HttpError(404, "quarter must be 1-4")


def _draft(year: int, quarter: int) -> Publication:
    _quarter(year, quarter)
    draft = services.exceedance_draft(year, quarter)
    if draft is None:
        raise HttpError(404, f"no exceedance draft for {year} Q{quarter}")
    return draft


class DraftOut(Schema):
    id: int
    year: int
    quarter: int | None
    rows: int
    status: str


def _draft_out(p: Publication) -> dict[str, Any]:
    return {
        "id": p.pk,
        "year": p.year,
        "quarter": p.quarter,
        "rows": len(p.content.get("rows", [])),
        "status": p.status,
    }


class DraftIn(Schema):
    issuers: str | None = None


@manage_router.post("/exceedances/{year}/{quarter}/draft", response={201: DraftOut, **WRITE_ERRORS})
def build_exceedance_draft(request: HttpRequest, year: int, quarter: int, payload: DraftIn) -> Any:
    """超标名单草稿 (the review page's 生成草稿): ``services.build_exceedance_draft``."""
    require(request.user, "publishing.manage")
    _quarter(year, quarter)
    try:
        draft = services.build_exceedance_draft(
            user=request.user, year=year, quarter=quarter, issuers=payload.issuers
        )
    except (services.NotAllowed, services.PublishError) as exc:
        return _refused(exc)
    return HttpStatus(201, _draft_out(draft))


class StrikeIn(Schema):
    alarm: int
    reason: str = ""


class AlarmIn(Schema):
    alarm: int


@manage_router.post(
    "/exceedances/{year}/{quarter}/strike", response={200: DraftOut, **WRITE_ERRORS}
)
def strike_alarm(request: HttpRequest, year: int, quarter: int, payload: StrikeIn) -> Any:
    """剔除 an alarm from the draft (reason required): ``services.strike_alarm``."""
    require(request.user, "publishing.manage")
    draft = _draft(year, quarter)
    try:
        draft = services.strike_alarm(
            user=request.user, draft=draft, alarm_id=payload.alarm, reason=payload.reason
        )
    except (services.NotAllowed, services.PublishError) as exc:
        return _refused(exc)
    return _draft_out(draft)


@manage_router.post(
    "/exceedances/{year}/{quarter}/restore", response={200: DraftOut, **WRITE_ERRORS}
)
def restore_alarm(request: HttpRequest, year: int, quarter: int, payload: AlarmIn) -> Any:
    """恢复 a struck alarm: ``services.restore_alarm``."""
    require(request.user, "publishing.manage")
    draft = _draft(year, quarter)
    try:
        draft = services.restore_alarm(user=request.user, draft=draft, alarm_id=payload.alarm)
    except (services.NotAllowed, services.PublishError) as exc:
        return _refused(exc)
    return _draft_out(draft)


@manage_router.post(
    "/exceedances/{year}/{quarter}/publish", response={201: PublicationOut, **WRITE_ERRORS}
)
def publish_exceedance_list(
    request: HttpRequest, year: int, quarter: int, payload: PublishIn
) -> Any:
    """发布超标名单 (the reviewed draft): ``services.publish_exceedance_list``."""
    require(request.user, "publishing.manage")
    draft = _draft(year, quarter)
    try:
        pub = services.publish_exceedance_list(
            user=request.user, draft=draft, published_on=_day(payload.published_on)
        )
    except (services.NotAllowed, services.PublishError) as exc:
        return _refused(exc)
    return HttpStatus(201, _out(pub))


class DiscardedOut(Schema):
    discarded: bool


@manage_router.post(
    "/exceedances/{year}/{quarter}/discard", response={200: DiscardedOut, **WRITE_ERRORS}
)
def discard_draft(request: HttpRequest, year: int, quarter: int) -> Any:
    """删除草稿: ``services.discard_draft``."""
    require(request.user, "publishing.manage")
    draft = _draft(year, quarter)
    try:
        services.discard_draft(user=request.user, draft=draft)
    except (services.NotAllowed, services.PublishError) as exc:
        return _refused(exc)
    return {"discarded": True}
