"""Second factor (动态口令): TOTP devices and recovery codes from django-otp, the policy of who must
use them (``reference/data/login_policy_2fa.yaml``), the middleware that holds a password-only
session at the door, and the services that enrol, verify and reset (each audited, never a secret).

Flow: password login (``LoginView``, guarded by django-axes) → django-otp's ``OTPMiddleware`` says
which device verified the session → :class:`SecondFactorMiddleware` sends a user who must pass the
second factor and has not to ``/accounts/2fa/verify/`` (a confirmed device) or
``/accounts/2fa/setup/`` (none yet).  django-otp keeps its device throttling (1, 2, 4 … seconds
after successive wrong codes) and refuses a TOTP code used once already.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from base64 import b32encode
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from dualcontrol.access.rules import allows
from dualcontrol.access.scope import role_of
from dualcontrol.accounts.models import Role
from dualcontrol.audit.services import record
from dualcontrol.reference import ReferenceDataError, load_yaml

POLICY_FILE = "login_policy_2fa.yaml"


# --------------------------------------------------------------------------------------------
# policy (data)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SecondFactorPolicy:
    version: str
    required_roles: frozenset[str]
    optional_roles: frozenset[str]
    staff_and_superusers: bool
    issuer: str
    digits: int
    step_seconds: int
    recovery_codes: int


@cache
def policy() -> SecondFactorPolicy:
    """The policy file, checked: every role placed exactly once, sane TOTP parameters."""
    version, data = load_yaml(POLICY_FILE)
    problems: list[str] = []
    roles = {r.value for r in Role}
    try:
        required = [str(item["role"]) for item in data["required"]["roles"]]
        optional = [str(r) for r in data["optional"]["roles"]]
        staff = data["required"]["staff_and_superusers"]
        issuer = str(data["totp"]["issuer"])
        digits = int(data["totp"]["digits"])
        step = int(data["totp"]["step_seconds"])
        count = int(data["recovery_codes"]["count"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ReferenceDataError(f"{POLICY_FILE}: missing or malformed entry {exc}") from exc
    for name in sorted(set(required + optional) - roles):
        problems.append(f"unknown role {name!r}")
    for name in sorted(set(required) & set(optional)):
        problems.append(f"role {name!r} is both required and optional")
    for name in sorted(roles - set(required) - set(optional)):
        problems.append(f"role {name!r} is neither required nor optional")
    if not isinstance(staff, bool):
        problems.append("required.staff_and_superusers must be true or false")
    if digits not in (6, 8):
        problems.append("totp.digits must be 6 or 8")
    if not 15 <= step <= 120:
        problems.append("totp.step_seconds must lie between 15 and 120")
    if not 1 <= count <= 50:
        problems.append("recovery_codes.count must lie between 1 and 50")
    if problems:
        raise ReferenceDataError(f"{POLICY_FILE}: " + "; ".join(problems))
    return SecondFactorPolicy(
        version=version,
        required_roles=frozenset(required),
        optional_roles=frozenset(optional),
        staff_and_superusers=staff,
        issuer=issuer,
        digits=digits,
        step_seconds=step,
        recovery_codes=count,
    )


def required_for(user: Any) -> bool:
    """Must this user pass the second factor (role or staff/superuser flag, per the policy)?"""
    if not getattr(user, "is_authenticated", False):
        return False
    p = policy()
    if p.staff_and_superusers and (user.is_staff or user.is_superuser):
        return True
    return role_of(user) in p.required_roles


def confirmed_device(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def has_device(user: Any) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def must_verify(user: Any) -> bool:
    """Required by the policy, or enrolled of the user's own choice (then every login asks)."""
    return required_for(user) or has_device(user)


def is_verified(request: HttpRequest) -> bool:
    check = getattr(request.user, "is_verified", None)
    return bool(check and check())


# --------------------------------------------------------------------------------------------
# middleware
# --------------------------------------------------------------------------------------------


def _open_paths() -> tuple[set[str], tuple[str, ...]]:
    """Paths a user may reach between the password and the second factor (exact, prefixes)."""
    names = ("accounts:logout", "accounts:otp-setup", "accounts:otp-verify", "set_language")
    exact = {reverse(name) for name in names}
    static = "/" + str(settings.STATIC_URL).lstrip("/")
    # the password-change pages: a forced change of an initial password may come first
    return exact, (static, "/accounts/password/")


class SecondFactorMiddleware:
    """After ``OTPMiddleware``: hold a password-only session at the second factor.

    Pages redirect to the verify (or, without a device yet, the setup) page; the API treats
    such a session as anonymous (bearer tokens carry their own second factor, see
    ``accounts.api``).  The admin site is a page like any other here.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and not is_verified(request) and must_verify(user):
            path = request.path
            if path.startswith(reverse("api:api-root")):
                request.user = AnonymousUser()
            else:
                exact, prefixes = _open_paths()
                if path not in exact and not path.startswith(prefixes):
                    return _to_second_factor(request, user)
                # an open page: no navigation to pages that would only send the user back here
                request.second_factor_pending = True  # type: ignore[attr-defined]
        return self.get_response(request)


def _to_second_factor(request: HttpRequest, user: Any) -> HttpResponse:
    target = reverse("accounts:otp-verify" if has_device(user) else "accounts:otp-setup")
    if request.method == "GET":
        target += "?" + urlencode({"next": request.get_full_path()})
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = target
        return response
    return redirect(target)


# --------------------------------------------------------------------------------------------
# codes
# --------------------------------------------------------------------------------------------


class CodeRefused(Exception):
    """A code was missing, wrong, already used, or the device is throttled (message for the user)."""

    def __init__(self, message: str, *, throttled_until: dt.datetime | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.throttled_until = throttled_until


def normalise(code: str) -> str:
    return "".join((code or "").split()).replace("-", "").lower()


def base32_secret(device: TOTPDevice) -> str:
    return b32encode(device.bin_key).decode("ascii")


def grouped(secret: str) -> str:
    """The base32 secret in groups of four, as authenticator apps show it."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def otpauth_uri(device: TOTPDevice) -> str:
    """``otpauth://totp/…`` (Key URI Format of the authenticator apps), built here: no QR service."""
    issuer = policy().issuer.replace(":", "")
    label = quote(f"{issuer}:{device.user.get_username()}")
    params = urlencode(
        {
            "secret": base32_secret(device),
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": device.digits,
            "period": device.step,
        },
        quote_via=quote,
    )
    return f"otpauth://totp/{label}?{params}"


def current_code(device: TOTPDevice) -> str:
    """The device's code for the current time step (what an authenticator app shows now)."""
    code = totp(device.bin_key, device.step, device.t0, device.digits)
    return str(code).zfill(device.digits)


def seconds_left(device: TOTPDevice) -> int:
    return device.step - (int(time.time()) - device.t0) % device.step


def _audit_failure(user: Any, *, via: str, kind: str, throttled: bool, failures: int) -> None:
    record(
        actor=user,
        action="second_factor.verify_failed",
        obj=user,
        after={"via": via, "kind": kind, "throttled": throttled, "failures": failures},
    )


def _throttle_message(until: dt.datetime) -> str:
    wait = max(1, int((until - timezone.now()).total_seconds()) + 1)
    return _("错误次数过多，请 %(s)s 秒后再试。") % {"s": wait}


def verify(*, user: Any, code: str, via: str) -> TOTPDevice | StaticDevice:
    """Check a TOTP code or a recovery code of ``user``; the device that accepted it.

    Six (or eight) digits are a TOTP code, anything else a recovery code (consumed when it
    matches).  Every failure is audited (the kind of code, never the code) and counted by the
    device's throttle; a throttled device refuses even the right code until its delay is over.
    """
    code = normalise(code)
    if not code:
        raise CodeRefused(_("请输入动态口令或恢复码。"))
    is_totp = code.isdigit() and len(code) in (6, 8)
    model = TOTPDevice if is_totp else StaticDevice
    kind = "totp" if is_totp else "recovery_code"
    accepted = None
    until = None
    failures = 0
    with transaction.atomic():
        devices = list(model.objects.filter(user=user, confirmed=True).select_for_update())
        for device in devices:
            allowed, info = device.verify_is_allowed()
            if not allowed:
                until = (info or {}).get("locked_until")
                failures = max(failures, device.throttling_failure_count)
                continue
            if device.verify_token(code):
                accepted = device
                break
            failures = max(failures, device.throttling_failure_count)
    if accepted is None:
        # outside the atomic block: the throttle increments above stay committed
        _audit_failure(user, via=via, kind=kind, throttled=until is not None, failures=failures)
        if until is not None:
            raise CodeRefused(_throttle_message(until), throttled_until=until)
        if is_totp:
            raise CodeRefused(_("动态口令不正确或已使用，请输入验证器中的最新口令。"))
        raise CodeRefused(_("恢复码不正确或已使用。"))
    if isinstance(accepted, StaticDevice):
        record(
            actor=user,
            action="second_factor.recovery_code_used",
            obj=user,
            after={"via": via, "remaining": accepted.token_set.count()},
        )
    return accepted


def login_device(request: HttpRequest, device: Any) -> None:
    """Mark the session as verified by ``device`` (a new session key: no fixation across the step)."""
    request.session.cycle_key()
    otp_login(request, device)


# --------------------------------------------------------------------------------------------
# enrolment, recovery codes, reset
# --------------------------------------------------------------------------------------------


def pending_device(user: Any) -> TOTPDevice:
    """The user's unconfirmed TOTP device (the same secret across reloads of the setup page)."""
    p = policy()
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(
            user=user,
            name=_("动态口令"),
            confirmed=False,
            digits=p.digits,
            step=p.step_seconds,
        )
    return device


def _new_recovery_codes(user: Any) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=_("恢复码"), confirmed=True)
    codes: list[str] = []
    while len(codes) < policy().recovery_codes:
        token = StaticToken.random_token()
        if token not in codes:
            codes.append(token)
    StaticToken.objects.bulk_create([StaticToken(device=device, token=t) for t in codes])
    return codes


def confirm_enrolment(*, user: Any, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the pending device with a code from the app; returns it and the recovery codes.

    The recovery codes are returned once, to be shown once; only django-otp's table keeps them.
    """
    if has_device(user):
        raise CodeRefused(_("已设置动态口令；如需更换，请联系安全管理员重置。"))
    device = pending_device(user)
    code = normalise(code)
    if not code:
        raise CodeRefused(_("请输入验证器显示的动态口令。"))
    until = None
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        allowed, info = device.verify_is_allowed()
        if not allowed:
            until = (info or {}).get("locked_until")
            ok = False
        else:
            # a wrong or malformed code counts against the device's throttle
            ok = device.verify_token(code)
    if not ok:
        _audit_failure(
            user,
            via="setup",
            kind="totp",
            throttled=until is not None,
            failures=device.throttling_failure_count,
        )
        if until is not None:
            raise CodeRefused(_throttle_message(until), throttled_until=until)
        raise CodeRefused(_("动态口令不正确，请核对验证器中的密钥和手机时间后重试。"))
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _new_recovery_codes(user)
        record(
            actor=user,
            action="second_factor.enrol",
            obj=user,
            after={"device": "totp", "recovery_codes": len(codes)},
        )
    return device, codes


def renew_recovery_codes(*, user: Any) -> list[str]:
    """A new set of recovery codes (the old ones stop working); shown once."""
    if not has_device(user):
        raise CodeRefused(_("尚未设置动态口令。"))
    with transaction.atomic():
        codes = _new_recovery_codes(user)
        record(
            actor=user,
            action="second_factor.recovery_codes_renewed",
            obj=user,
            after={"recovery_codes": len(codes)},
        )
    return codes


def recovery_codes_left(user: Any) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def can_reset(actor: Any) -> bool:
    return allows(actor, "security.manage")


class ResetRefused(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def reset(*, actor: Any, user: Any, reason: str) -> int:
    """Delete the user's devices (TOTP and recovery codes): the next login enrols again.

    Security administrator only, never one's own, with a reason; audited with the reason.
    Returns the number of devices removed.
    """
    if not can_reset(actor):
        raise PermissionDenied
    problems = []
    reason = (reason or "").strip()
    if not reason:
        problems.append(_("请填写重置原因。"))
    if actor.pk == user.pk:
        problems.append(_("不能重置自己的动态口令，请由另一位安全管理员操作。"))
    if problems:
        raise ResetRefused(problems)
    with transaction.atomic():
        totp_n, _x = TOTPDevice.objects.filter(user=user).delete()
        static_n = StaticDevice.objects.filter(user=user).count()
        StaticDevice.objects.filter(user=user).delete()
        record(
            actor=actor,
            action="second_factor.reset",
            obj=user,
            after={"devices_removed": totp_n + static_n},
            note=reason,
        )
    return totp_n + static_n


# --------------------------------------------------------------------------------------------
# demo
# --------------------------------------------------------------------------------------------


def demo_key_hex(username: str) -> str:
    """A fixed secret per demo user: the first 20 bytes of SHA-256("dualcontrol-demo:" + name)."""
    return hashlib.sha256(f"dualcontrol-demo:{username}".encode()).digest()[:20].hex()


def enrol_demo_device(user: Any) -> TOTPDevice:
    """A confirmed TOTP device with the fixed demo secret (demo accounts only)."""
    if not user.is_demo:
        raise PermissionDenied("only demo accounts get a fixed second-factor secret")
    p = policy()
    TOTPDevice.objects.filter(user=user).delete()
    device = TOTPDevice.objects.create(
        user=user,
        name=_("动态口令（演示）"),
        confirmed=True,
        key=demo_key_hex(user.username),
        digits=p.digits,
        step=p.step_seconds,
    )
    record(
        actor=None,
        action="second_factor.enrol",
        obj=user,
        after={"device": "totp", "demo": True},
        note="demo account: fixed secret printed by `dualcontrol demo`",
    )
    return device
