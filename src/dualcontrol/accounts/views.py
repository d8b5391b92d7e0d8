"""Login, logout and the home page of each role."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.db.models import Count, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from dualcontrol.access.scope import role_of, visible_divisions, visible_entities
from dualcontrol.accounts import admin_home
from dualcontrol.accounts.models import Role
from dualcontrol.reporting.models import Status
from dualcontrol.reporting.queries import review_queue, visible_reports


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


def public_home(request: HttpRequest) -> HttpResponse:
    """Public landing page: published data only (bulletins come with the publishing app)."""
    return render(request, "accounts/public.html")


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
            "drafts": reports.filter(status=Status.DRAFT).count(),
        }
        return render(request, "accounts/home_enterprise.html", context)
    if role == Role.VERIFIER:
        entities = visible_entities(request.user)
        return render(request, "accounts/home_verifier.html", {"entities": entities})
    if role == Role.PUBLIC:
        return redirect("public-home")
    admin = admin_home.context_for(request.user)
    if admin is not None:
        return render(request, "accounts/home_admin.html", admin)
    by_status = dict(
        reports.values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    divisions = visible_divisions(request.user)
    latest = (
        reports.filter(status=Status.ACCEPTED, period_type="monthly")
        .order_by("-year", "-month")
        .first()
    )
    by_region = []
    if latest is not None:
        top = (
            divisions.filter(level="prefecture")
            if role != Role.CITY_OFFICER
            else divisions.filter(parent=request.user.division)
        )
        for d in top.order_by("code"):
            agg = reports.filter(
                year=latest.year, month=latest.month, entity__division__path__startswith=d.path
            ).aggregate(
                energy=Sum("energy_tce"),
                n=Count("id"),
                accepted=Count("id", filter=Q(status=Status.ACCEPTED)),
            )
            by_region.append({"division": d, **agg})
    context = {
        "entity_count": visible_entities(request.user).count(),
        "division_count": divisions.count(),
        "by_status": {s.label: by_status.get(s.value, 0) for s in Status},
        "queue": review_queue(request.user)[:10],
        "queue_count": review_queue(request.user).count(),
        "latest": latest,
        "by_region": by_region,
    }
    return render(request, "accounts/home_staff.html", context)
