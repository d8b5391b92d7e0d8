"""Open data under /api/public/ (no login): published documents as JSON and CSV.

Only what is published is served — the frozen snapshot of each document (bulletin, grade list,
restricted regions, mandatory-audit units, quarterly exceedance lists), never unit data that was
not published and never a draft.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.pagination import paginate

from dualcontrol.pagination import Mapped, PageNumberPagination
from dualcontrol.publishing import render
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
