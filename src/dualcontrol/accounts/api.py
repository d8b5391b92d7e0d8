"""API authentication: bearer tokens (issue with password + second factor, list, revoke).

``POST /api/auth/token`` takes username, password and — for every user who must pass the second
factor (or has enrolled one) — ``otp``, the current code of the authenticator app (a recovery code
works too, once).  The password goes through ``authenticate(request, …)`` so the login lockout
(django-axes) guards this path as it guards the web login.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.security import HttpBearer

from dualcontrol.accounts import second_factor, tokens
from dualcontrol.accounts.models import ApiToken

router = Router(tags=["auth"])


class BearerAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = tokens.find(token)  # revoked and expired tokens are not found
        if found is None or not found.user.is_active:
            return None
        ApiToken.objects.filter(pk=found.pk).update(last_used=timezone.now())
        request.user = found.user
        request.api_token = found  # type: ignore[attr-defined]
        return found.user


class TokenIn(Schema):
    username: str
    password: str
    otp: str | None = None


class TokenOut(Schema):
    token: str
    token_type: str = "bearer"
    expires: dt.datetime
    role: str


class TokenInfo(Schema):
    prefix: str
    created: dt.datetime
    expires: dt.datetime
    last_used: dt.datetime | None
    revoked_at: dt.datetime | None
    revoked_reason: str
    state: str


class Revoked(Schema):
    revoked: int


def _second_factor(user: Any, otp: str | None) -> None:
    if not second_factor.must_verify(user):
        return
    if not second_factor.has_device(user):
        raise HttpError(
            401,
            "second factor required: enrol an authenticator app on the web first "
            "(/accounts/2fa/setup/), then send its current code in `otp`",
        )
    if not (otp or "").strip():
        raise HttpError(
            401, "second factor required: send the current code of your authenticator app in `otp`"
        )
    try:
        second_factor.verify(user=user, code=otp or "", via="api")
    except second_factor.CodeRefused as exc:
        if exc.throttled_until is not None:
            wait = max(1, int((exc.throttled_until - timezone.now()).total_seconds()) + 1)
            raise HttpError(
                401, f"second factor refused: too many wrong codes, retry in {wait} s"
            ) from exc
        raise HttpError(
            401,
            "second factor refused: `otp` is wrong or was used already (wait for the next code)",
        ) from exc


@router.post("/token", auth=None, response=TokenOut)
def issue_token(request: HttpRequest, payload: TokenIn) -> dict[str, Any]:
    user = authenticate(request, username=payload.username, password=payload.password)
    if user is None or not user.is_active:
        raise HttpError(401, "invalid username or password")
    _second_factor(user, payload.otp)
    raw, token = tokens.issue(user=user)
    return {"token": raw, "expires": token.expires, "role": user.role}


def _info(token: ApiToken) -> dict[str, Any]:
    return {
        "prefix": token.prefix,
        "created": token.created,
        "expires": token.expires,
        "last_used": token.last_used,
        "revoked_at": token.revoked_at,
        "revoked_reason": token.revoked_reason,
        "state": token.state(),
    }


@router.post("/logout", auth=BearerAuth(), response=Revoked)
def logout(request: HttpRequest) -> dict[str, int]:
    """Revoke the token this request was made with."""
    token = request.api_token  # type: ignore[attr-defined]
    done = tokens.revoke(actor=request.user, token=token, reason="api_logout")
    return {"revoked": int(done)}


@router.get("/tokens", response=list[TokenInfo])
def my_tokens(request: HttpRequest) -> list[dict[str, Any]]:
    """The caller's own tokens, newest first (live, expired and revoked)."""
    qs = ApiToken.objects.filter(user=request.user).order_by("-created", "-pk")[:100]
    return [_info(t) for t in qs]


@router.delete("/tokens/{prefix}", response=Revoked)
def revoke_token(request: HttpRequest, prefix: str) -> dict[str, int]:
    """Revoke the caller's live token(s) starting with ``prefix`` (8 characters)."""
    found = list(tokens.live(ApiToken.objects.filter(user=request.user, prefix=prefix)))
    if not found:
        raise HttpError(404, "no live token of yours has this prefix")
    n = sum(tokens.revoke(actor=request.user, token=t, reason="owner") for t in found)
    return {"revoked": n}
