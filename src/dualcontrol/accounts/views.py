"""Login, logout and the home page of each role."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from dualcontrol.access.scope import role_of, visible_divisions, visible_entities
from dualcontrol.accounts import admin_home, todo
from dualcontrol.accounts.models import Role
from dualcontrol.reporting.models import Status
from dualcontrol.reporting.queries import review_queue, visible_reports
from dualcontrol.rollups import queries as rollups


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


PUBLIC_LATEST = 8  # publications listed on the public home (platform rule: one screen)


def public_home(request: HttpRequest) -> HttpResponse:
    """Public landing page (issue 14): the latest published bulletin's table (the public view of
    every region's progress), the latest publications of every kind, and the public lists.
    Published documents only — drafts, withdrawn and superseded versions never."""
    from dualcontrol.publishing.models import Publication, PublicationKind, PublicationStatus

    published = Publication.objects.filter(status=PublicationStatus.PUBLISHED)
    bulletin = published.filter(kind=PublicationKind.BULLETIN).order_by("-year", "-version").first()
    latest = list(published.order_by("-published_on", "-published_at")[:PUBLIC_LATEST])
    return render(request, "accounts/public.html", {"bulletin": bulletin, "latest": latest})


def _returned_with_reasons(reports: Any) -> list[dict[str, Any]]:
    from dualcontrol.reporting.models import ReportEvent

    out = []
    for r in reports.filter(status=Status.RETURNED).order_by("-year", "-month")[:10]:
        event = (
            ReportEvent.objects.filter(report=r, action="returned").order_by("-at", "-id").first()
        )
        out.append({"report": r, "reason": event.reason if event else "", "at": event and event.at})
    return out


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("public-home")
    role = role_of(request.user)
    reports = visible_reports(request.user)
    if role == Role.ENTERPRISE:
        context = {
            "entity": request.user.entity,
            "recent": reports.select_related("entity").order_by("-year", "-month")[:12],
            "returned": reports.filter(status=Status.RETURNED).count(),
            # what to do next (issue 14): each returned report with the reviewer's reason
            "returned_reports": _returned_with_reasons(reports),
            "drafts": reports.filter(status=Status.DRAFT).count(),
            # what to do next: this month's report and its due date, alarms, status report …
            "todos": todo.for_user(request.user, timezone.localdate()),
        }
        return render(request, "accounts/home_enterprise.html", context)
    if role == Role.VERIFIER:
        entities = visible_entities(request.user)
        return render(
            request,
            "accounts/home_verifier.html",
            {"entities": entities, "todos": todo.for_user(request.user, timezone.localdate())},
        )
    if role == Role.PUBLIC:
        return redirect("public-home")
    admin = admin_home.context_for(request.user)
    if admin is not None:
        return render(request, "accounts/home_admin.html", admin)
    # counts, the latest month and the regions' sums come from the roll-ups (issue 18)
    divisions = visible_divisions(request.user)
    scope = rollups.roots(divisions)
    counts = rollups.status_counts(scope)
    latest = rollups.latest_accepted_month(scope)
    by_region = []
    if latest is not None:
        top = (
            divisions.filter(level="prefecture")
            if role != Role.CITY_OFFICER
            else divisions.filter(parent=request.user.division)
        ).order_by("code")
        rows = rollups.month_rows(top, latest)
        for d in top:
            row = rows.get(d.pk)
            by_region.append(
                {
                    "division": d,
                    "energy": row.energy_tce if row else None,
                    "n": row.reports_n if row else 0,
                    "accepted": row.accepted_n if row else 0,
                }
            )
    queue = review_queue(request.user)
    context = {
        "entity_count": visible_entities(request.user).count(),
        "division_count": divisions.count(),
        "by_status": {s.label: counts.get(s.value, 0) for s in Status},
        "queue": queue[:10],
        "queue_count": queue.count(),
        "latest": latest,
        "by_region": by_region,
        "freshness": rollups.freshness(),
        # what to do next (issue 14)
        "todos": todo.for_user(request.user, timezone.localdate()),
    }
    return render(request, "accounts/home_staff.html", context)
