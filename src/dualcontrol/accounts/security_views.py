"""Pages of the second factor and of API tokens (thin: the services live in ``second_factor`` and
``tokens``).

- ``/accounts/2fa/setup/``: secret (base32) and ``otpauth://`` URI as text — no QR service on an
  offline intranet — a code to confirm, then the recovery codes, shown once.
- ``/accounts/2fa/verify/``: a TOTP code or a recovery code (consumed).
- ``/accounts/2fa/``: the user's own status; a new set of recovery codes.
- ``/accounts/2fa/users/`` and ``/accounts/2fa/reset/<id>/``: security administrator only.
- ``/accounts/tokens/``: own tokens (security administrator: everyone's), revoke.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Exists, Max, OuterRef, Q, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from dualcontrol.access.rules import rule_required
from dualcontrol.accounts import second_factor as sf
from dualcontrol.accounts import tokens
from dualcontrol.accounts.models import ApiToken, Role, User
from dualcontrol.exports import xlsx_response
from dualcontrol.redirects import safe_next


def _next(request: HttpRequest) -> str:
    return safe_next(request, "home")


def _with_next(name: str, next_url: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


def _password_url() -> str | None:
    for name in ("accounts:password_change", "accounts:password-change", "accounts:password"):
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return None


# --------------------------------------------------------------------------------------------
# enrolment and verification
# --------------------------------------------------------------------------------------------


@never_cache
@login_required
def otp_setup(request: HttpRequest) -> HttpResponse:
    user = request.user
    next_url = _next(request)
    if sf.has_device(user):
        # a device exists: replacing it needs a reset by a security administrator
        if sf.is_verified(request):
            return redirect("accounts:otp-status")
        return redirect(_with_next("accounts:otp-verify", next_url))
    error = None
    if request.method == "POST":
        try:
            device, codes = sf.confirm_enrolment(user=user, code=request.POST.get("code", ""))
        except sf.CodeRefused as exc:
            error = exc.message
        else:
            sf.login_device(request, device)
            return render(
                request,
                "accounts/otp_recovery_codes.html",
                {"codes": codes, "next": next_url, "enrolled": True},
            )
    device = sf.pending_device(user)
    context = {
        "secret": sf.grouped(sf.base32_secret(device)),
        "uri": sf.otpauth_uri(device),
        "digits": device.digits,
        "step": device.step,
        "issuer": sf.policy().issuer,
        "required": sf.required_for(user),
        "error": error,
        "next": next_url,
    }
    return render(request, "accounts/otp_setup.html", context, status=400 if error else 200)


@never_cache
@login_required
def otp_verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    next_url = _next(request)
    if sf.is_verified(request) or not sf.must_verify(user):
        return redirect(next_url)
    if not sf.has_device(user):
        return redirect(_with_next("accounts:otp-setup", next_url))
    error = None
    if request.method == "POST":
        try:
            device = sf.verify(user=user, code=request.POST.get("code", ""), via="web")
        except sf.CodeRefused as exc:
            error = exc.message
        else:
            sf.login_device(request, device)
            if isinstance(device, StaticDevice):
                messages.warning(
                    request,
                    _("已使用一个恢复码，还剩 %(n)s 个；请在“账号安全”中生成新的恢复码。")
                    % {"n": device.token_set.count()},
                )
            return redirect(next_url)
    context = {"error": error, "next": next_url, "demo_user": user.is_demo}
    return render(request, "accounts/otp_verify.html", context, status=400 if error else 200)


@never_cache
@login_required
def otp_status(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST" and request.POST.get("action") == "renew":
        try:
            codes = sf.renew_recovery_codes(user=user)
        except sf.CodeRefused as exc:
            messages.error(request, exc.message)
            return redirect("accounts:otp-status")
        return render(
            request,
            "accounts/otp_recovery_codes.html",
            {"codes": codes, "next": reverse("accounts:otp-status"), "enrolled": False},
        )
    context = {
        "required": sf.required_for(user),
        "device": sf.confirmed_device(user),
        "codes_left": sf.recovery_codes_left(user),
        "live_tokens": tokens.live(ApiToken.objects.filter(user=user)).count(),
        "password_url": _password_url(),
        "can_reset": sf.can_reset(user),
    }
    return render(request, "accounts/otp_status.html", context)


# --------------------------------------------------------------------------------------------
# security administrator: who has a second factor, reset
# --------------------------------------------------------------------------------------------


@rule_required("security.manage")
def otp_users(request: HttpRequest) -> HttpResponse:
    devices = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    qs = User.objects.annotate(
        enrolled=Exists(devices),
        device_used=Subquery(
            devices.order_by().values("user").annotate(m=Max("last_used_at")).values("m")[:1]
        ),
        codes_left=Subquery(
            StaticToken.objects.filter(device__user=OuterRef("pk"))
            .order_by()
            .values("device__user")
            .annotate(n=Count("pk"))
            .values("n")[:1]
        ),
    ).order_by("username")
    f = {k: request.GET.get(k, "").strip() for k in ("q", "role", "state")}
    if f["q"]:
        qs = qs.filter(Q(username__icontains=f["q"]) | Q(first_name__icontains=f["q"]))
    if f["role"] in Role.values:
        qs = qs.filter(role=f["role"])
    else:
        f["role"] = ""
    if f["state"] == "enrolled":
        qs = qs.filter(enrolled=True)
    elif f["state"] == "missing":
        qs = qs.filter(enrolled=False)
    else:
        f["state"] = ""
    if request.GET.get("export") == "xlsx":
        headers = [
            _("用户名"),
            _("姓名"),
            _("角色"),
            _("必须"),
            _("已设置"),
            _("最近使用"),
            _("剩余恢复码"),
        ]
        return xlsx_response(
            "second-factor.xlsx",
            "second-factor",
            headers,
            (
                [
                    u.username,
                    u.get_full_name(),
                    u.get_role_display(),
                    _("是") if sf.required_for(u) else _("否"),
                    _("是") if u.enrolled else _("否"),
                    u.device_used.isoformat() if u.device_used else "",
                    u.codes_left or 0,
                ]
                for u in qs[:100000]
            ),
        )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    rows = [{"user": u, "required": sf.required_for(u)} for u in page]
    return render(
        request,
        "accounts/otp_users.html",
        {"page": page, "rows": rows, "filters": f, "roles": Role.choices},
    )


@rule_required("security.manage")
def otp_reset(request: HttpRequest, user_id: int) -> HttpResponse:
    target = get_object_or_404(User, pk=user_id)
    problems: list[str] = []
    if request.method == "POST":
        try:
            n = sf.reset(actor=request.user, user=target, reason=request.POST.get("reason", ""))
        except sf.ResetRefused as exc:
            problems = exc.problems
        else:
            messages.success(
                request,
                _("已重置 %(user)s 的动态口令（删除 %(n)s 个设备）；其下次登录须重新设置。")
                % {"user": target.username, "n": n},
            )
            return redirect("accounts:otp-users")
    context = {
        "target": target,
        "enrolled": sf.has_device(target),
        "problems": problems,
        "reason": request.POST.get("reason", ""),
    }
    return render(request, "accounts/otp_reset.html", context, status=400 if problems else 200)


# --------------------------------------------------------------------------------------------
# API tokens
# --------------------------------------------------------------------------------------------


@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    everyone = tokens.can_manage_all(request.user)
    qs = tokens.visible_to(request.user).order_by("-created", "-pk")
    f = {k: request.GET.get(k, "").strip() for k in ("state", "user")}
    if f["state"] in ("live", "expired", "revoked"):
        qs = qs.filter(tokens.state_filter(f["state"]))
    else:
        f["state"] = ""
    if everyone and f["user"]:
        qs = qs.filter(user__username__icontains=f["user"])
    elif not everyone:
        f["user"] = ""
    if request.GET.get("export") == "xlsx":
        headers = [
            _("用户"),
            _("前缀"),
            _("签发时间"),
            _("到期时间"),
            _("最近使用"),
            _("状态"),
            _("吊销时间"),
            _("吊销原因"),
        ]
        return xlsx_response(
            "api-tokens.xlsx",
            "api-tokens",
            headers,
            (
                [
                    t.user.username,
                    t.prefix,
                    t.created.isoformat(),
                    t.expires.isoformat(),
                    t.last_used.isoformat() if t.last_used else "",
                    t.state(),
                    t.revoked_at.isoformat() if t.revoked_at else "",
                    t.revoked_reason,
                ]
                for t in qs[:100000]
            ),
        )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request, "accounts/tokens.html", {"page": page, "filters": f, "everyone": everyone}
    )


@require_POST
@login_required
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = tokens.visible_to(request.user).filter(pk=pk).first()
    if token is None:
        raise Http404
    own = token.user_id == request.user.pk
    done = tokens.revoke(
        actor=request.user,
        token=token,
        reason="owner" if own else "security_admin",
        note=request.POST.get("reason", "").strip()[:500],
    )
    if done:
        messages.success(request, _("令牌 %(p)s… 已吊销。") % {"p": token.prefix})
    else:
        messages.info(request, _("令牌 %(p)s… 此前已吊销。") % {"p": token.prefix})
    return redirect("accounts:tokens")
