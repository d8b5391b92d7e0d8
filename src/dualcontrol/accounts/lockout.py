"""Login protection with django-axes on every login path, and the audit of every login event.

The three login paths (web ``/accounts/login/``, admin ``/admin/login/``, ``POST /api/auth/token``)
all call ``authenticate(request, ...)``; ``axes.backends.AxesStandaloneBackend`` (first in
``AUTHENTICATION_BACKENDS``) counts failures per username + client address and, past the limit of
``reference/data/login_policy.yaml``, refuses every attempt (the right password too) until the
cool-off has passed or a security administrator clears the lock.  ``AxesMiddleware`` then answers
with :func:`lockout_response`: a page in Chinese, or JSON (HTTP 429) under ``/api/``.

Audited here (never a password): ``login.success``, ``login.failed``, ``login.locked_out``,
``logout`` (``session.expired`` when :mod:`dualcontrol.accounts.sessions` ended the session),
``login.unlock`` (a security administrator cleared a lock).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import QuerySet
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from dualcontrol.audit.services import record

SECURITY_GROUP = "安全管理员"
# (model, permissions) the security administrators' group holds on axes' tables
SECURITY_PERMISSIONS: dict[type[Any], tuple[str, ...]] = {
    AccessAttempt: ("view", "delete"),
    AccessFailureLog: ("view",),
    AccessLog: ("view",),
}


def client_ip(request: HttpRequest) -> str | None:
    """The client address: REMOTE_ADDR, or the address the last trusted proxy saw.

    ``settings.PROXY_COUNT`` (env ``DUALCONTROL_PROXY_COUNT``) proxies append to X-Forwarded-For;
    the same rule as Ninja's throttling (``NINJA_NUM_PROXIES``), so both count the same client.
    """
    count = int(getattr(settings, "PROXY_COUNT", 0) or 0)
    if count > 0:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if forwarded:
            return forwarded[-min(count, len(forwarded))]
    return request.META.get("REMOTE_ADDR")


def _where(request: HttpRequest | None) -> dict[str, Any]:
    if request is None:
        return {"ip": None, "path": ""}
    ip = getattr(request, "axes_ip_address", None) or client_ip(request)
    return {"ip": ip, "path": (request.path or "")[:255]}


def _tried_username(credentials: dict[str, Any] | None) -> str:
    return str((credentials or {}).get("username") or "")[:150]


def lock_until(request: HttpRequest | None = None) -> dt.datetime | None:
    """When a lock that starts (or is extended) now ends; None when locks never expire."""
    cool_off = get_cool_off(request)
    return timezone.now() + cool_off if cool_off else None


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: JSON 429 under /api/, else the page ``accounts/locked_out.html``."""
    until = lock_until(request)
    retry = (
        max(1, math.ceil((until - timezone.now()).total_seconds())) if until is not None else None
    )
    when = date_format(timezone.localtime(until), "Y-m-d H:i") if until is not None else ""
    if request.path.startswith("/api/"):
        detail = (
            _(
                "登录失败次数过多，该账号已在此地址锁定。请于 %(when)s 后重试，或联系安全管理员解锁。"
            )
            % {"when": when}
            if until is not None
            else _("登录失败次数过多，该账号已在此地址锁定。请联系安全管理员解锁。")
        )
        response = JsonResponse(
            {"detail": detail, "code": "locked_out", "retry_after": retry}, status=429
        )
        if retry is not None:
            response["Retry-After"] = str(retry)
        return response
    context = {
        "username": _tried_username(credentials) or request.POST.get("username", ""),
        "failure_limit": get_failure_limit(request, credentials),
        "until": until,
        "cool_off_minutes": settings.LOGIN_POLICY.cool_off_minutes,
    }
    response = render(request, "accounts/locked_out.html", context, status=429)
    if retry is not None:
        response["Retry-After"] = str(retry)
    return response


# --- audit of login events ---------------------------------------------------------------------


@receiver(user_logged_in, dispatch_uid="accounts.audit_login")
def _audit_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    record(actor=user, action="login.success", obj=user, after=_where(request))


@receiver(user_login_failed, dispatch_uid="accounts.audit_login_failed")
def _audit_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # the credentials Django passes are already cleansed; only the username is kept anyway
    username = _tried_username(credentials)
    after = {
        "username": username,
        **_where(request),
        "failures": getattr(request, "axes_failures_since_start", None),
        "locked_out": bool(getattr(request, "axes_locked_out", False)),
    }
    record(
        actor=username or None,
        action="login.failed",
        object_type="accounts.user",
        object_repr=username,
        after=after,
    )


@receiver(user_locked_out, dispatch_uid="accounts.audit_locked_out")
def _audit_locked_out(
    sender: Any, request: HttpRequest, username: str | None, ip_address: str | None, **kwargs: Any
) -> None:
    """Recorded when the lock begins (attempts during the lock are ``login.failed`` with locked_out)."""
    failures = getattr(request, "axes_failures_since_start", None)
    limit = get_failure_limit(request, getattr(request, "axes_credentials", None))
    if failures is not None and failures != limit:
        return
    until = lock_until(request)
    record(
        actor=(username or "")[:150] or None,
        action="login.locked_out",
        object_type="accounts.user",
        object_repr=(username or "")[:255],
        after={
            "username": username,
            "ip": ip_address,
            "path": (request.path or "")[:255],
            "failures": failures,
            "until": until.isoformat() if until else None,
        },
    )


@receiver(user_logged_out, dispatch_uid="accounts.audit_logout")
def _audit_logout(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is None:
        return
    reason = getattr(request, "session_end_reason", None)
    record(
        actor=user,
        action="session.expired" if reason else "logout",
        obj=user,
        after={**_where(request), **({"reason": reason} if reason else {})},
    )


# --- security administrators: see and clear locks ----------------------------------------------


def current_attempts() -> QuerySet[AccessAttempt]:
    """Failure counters still inside the cool-off window (the ones that can lock), newest first."""
    qs = AccessAttempt.objects.order_by("-attempt_time")
    cool_off = get_cool_off()
    if cool_off:
        qs = qs.filter(attempt_time__gte=timezone.now() - cool_off)
    return qs


def is_locked(attempt: AccessAttempt) -> bool:
    return attempt.failures_since_start >= get_failure_limit(None, None)


def clear_attempt(*, actor: Any, attempt: AccessAttempt, note: str = "") -> None:
    """Delete one failure counter (which lifts its lock), audited as ``login.unlock``."""
    before = {
        "username": attempt.username,
        "ip": attempt.ip_address,
        "failures": attempt.failures_since_start,
        "last_attempt": attempt.attempt_time.isoformat() if attempt.attempt_time else None,
    }
    with transaction.atomic():
        record(
            actor=actor,
            action="login.unlock",
            object_type="axes.accessattempt",
            object_id=str(attempt.pk),
            object_repr=f"{attempt.username} @ {attempt.ip_address}"[:255],
            before=before,
            note=note,
        )
        attempt.delete()


def security_group() -> Group:
    """The group "安全管理员" with its permissions on the lockout tables (idempotent)."""
    group, _created = Group.objects.get_or_create(name=SECURITY_GROUP)
    wanted = []
    for model, actions in SECURITY_PERMISSIONS.items():
        ct = ContentType.objects.get_for_model(model)
        for action in actions:
            perm, _new = Permission.objects.get_or_create(
                content_type=ct,
                codename=f"{action}_{model._meta.model_name}",
                defaults={"name": f"Can {action} {model._meta.verbose_name_raw}"},
            )
            wanted.append(perm)
    group.permissions.add(*wanted)
    return group
