"""Self-service password change (every user) and login locks (security administrators)."""

from __future__ import annotations

from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dualcontrol.access.rules import rule_required
from dualcontrol.accounts import lockout
from dualcontrol.audit.services import record


class PasswordChangeView(auth_views.PasswordChangeView):
    """修改密码: any logged-in user, with the platform's password policy; clears a forced change."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password_change_done")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["forced"] = getattr(self.request.user, "must_change_password", False)
        return context

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.user
        forced = user.must_change_password
        with transaction.atomic():
            user.must_change_password = False
            response = super().form_valid(form)  # saves the user; keeps this session logged in
            record(
                actor=user,
                action="password.change",
                obj=user,
                after={"self_service": True, "was_forced": forced},
            )
        messages.success(self.request, _("密码已修改。"))
        return response


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"


@rule_required("security.manage")
def lockouts(request: HttpRequest) -> HttpResponse:
    """登录锁定: failure counters inside the cool-off window, locked ones first."""
    attempts = list(lockout.current_attempts()[:500])
    rows = [{"attempt": a, "locked": lockout.is_locked(a)} for a in attempts]
    rows.sort(key=lambda r: not r["locked"])
    return render(
        request,
        "accounts/lockouts.html",
        {
            "rows": rows,
            "failure_limit": settings.LOGIN_POLICY.failure_limit,
            "cool_off_minutes": settings.LOGIN_POLICY.cool_off_minutes,
        },
    )


@require_POST
@rule_required("security.manage")
def unlock(request: HttpRequest, pk: int) -> HttpResponse:
    attempt = get_object_or_404(AccessAttempt, pk=pk)
    lockout.clear_attempt(actor=request.user, attempt=attempt, note=request.POST.get("note", ""))
    messages.success(
        request,
        _("已解除 %(username)s（%(ip)s）的登录锁定。")
        % {"username": attempt.username, "ip": attempt.ip_address},
    )
    return redirect("accounts:lockouts")
