"""API bearer tokens: issue, list, revoke (never delete) — every issue and revocation audited.

Tokens are revoked at web logout (all of the user's live tokens), at ``POST /api/auth/logout``
(the calling token), at any change of the user's password hash whatever path made it (admin,
self-service, shell), by their owner (``/accounts/tokens/``, ``DELETE /api/auth/tokens/{prefix}``),
by a security administrator (same page, admin action), and when one more than the cap of
``reference/data/api_tokens.yaml`` would be live (the oldest goes).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.hashers import check_password
from django.contrib.auth.signals import user_logged_out
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.utils import timezone

from dualcontrol.access.rules import allows
from dualcontrol.accounts.models import ApiToken, User, hash_token
from dualcontrol.audit.services import record
from dualcontrol.reference import load_yaml

RULES_FILE = "api_tokens.yaml"


def rules() -> tuple[int, int]:
    """(lifetime in hours, live tokens allowed per user)."""
    _version, data = load_yaml(RULES_FILE)
    return int(data["lifetime_hours"]), int(data["max_live_per_user"])


def live(qs: QuerySet[ApiToken] | None = None) -> QuerySet[ApiToken]:
    qs = ApiToken.objects.all() if qs is None else qs
    return qs.filter(revoked_at__isnull=True, expires__gt=timezone.now())


def find(raw: str) -> ApiToken | None:
    """The live token with this raw value (revoked and expired tokens are refused)."""
    return live().select_related("user").filter(key_hash=hash_token(raw)).first()


def issue(*, user: Any) -> tuple[str, ApiToken]:
    """A new token for ``user`` (the raw value is returned once, only its SHA-256 is kept).

    When the user would then hold more live tokens than the cap, the oldest are revoked.
    """
    lifetime_hours, cap = rules()
    raw = ApiToken.new_key()
    expires = timezone.now() + dt.timedelta(hours=lifetime_hours)
    with transaction.atomic():
        # lock the user's row: two concurrent issues cannot both stay under the cap
        User.objects.select_for_update().filter(pk=user.pk).first()
        token = ApiToken.objects.create(
            user=user, key_hash=hash_token(raw), prefix=raw[:8], expires=expires
        )
        record(
            actor=user,
            action="api_token.issue",
            obj=token,
            after={"prefix": token.prefix, "expires": expires.isoformat()},
        )
        over = list(live(user.api_tokens.all()).order_by("-created", "-pk")[cap:])
        for old in over:
            _revoke(old, actor=user, reason="cap", note=f"more than {cap} live tokens")
    return raw, token


def _revoke(token: ApiToken, *, actor: Any, reason: str, note: str = "") -> None:
    token.revoked_at = timezone.now()
    token.revoked_reason = reason[:200]
    token.save(update_fields=["revoked_at", "revoked_reason"])
    record(
        actor=actor,
        action="api_token.revoke",
        obj=token,
        before={"state": "live"},
        after={"prefix": token.prefix, "reason": token.revoked_reason},
        note=note,
    )


def can_manage_all(user: Any) -> bool:
    """Security administrators see and revoke every user's tokens."""
    return allows(user, "security.manage")


def visible_to(user: Any) -> QuerySet[ApiToken]:
    qs = ApiToken.objects.select_related("user")
    return qs if can_manage_all(user) else qs.filter(user=user)


def revoke(*, actor: Any, token: ApiToken, reason: str, note: str = "") -> bool:
    """Revoke one token (its owner or a security administrator); False when it was not live."""
    if token.user_id != actor.pk and not can_manage_all(actor):
        raise PermissionDenied
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is not None:
            return False
        _revoke(token, actor=actor, reason=reason, note=note)
    return True


def revoke_all(*, user: Any, actor: Any, reason: str, note: str = "") -> int:
    """Revoke every live token of ``user``; the number revoked."""
    with transaction.atomic():
        tokens = list(live(ApiToken.objects.filter(user=user)).select_for_update())
        for token in tokens:
            _revoke(token, actor=actor, reason=reason, note=note)
    return len(tokens)


def state_filter(state: str) -> Q:
    now = timezone.now()
    return {
        "live": Q(revoked_at__isnull=True, expires__gt=now),
        "expired": Q(revoked_at__isnull=True, expires__lte=now),
        "revoked": Q(revoked_at__isnull=False),
    }.get(state, Q())


# --------------------------------------------------------------------------------------------
# signals: logout and password change (connected in AccountsConfig.ready)
# --------------------------------------------------------------------------------------------


@receiver(user_logged_out, dispatch_uid="dualcontrol.tokens.logout")
def _revoke_at_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None and getattr(user, "pk", None) is not None:
        revoke_all(user=user, actor=user, reason="logout")


@receiver(pre_save, sender=User, dispatch_uid="dualcontrol.tokens.password_before")
def _note_password_change(
    sender: Any, instance: User, update_fields: Any = None, **kw: Any
) -> None:
    instance._password_changed = False  # type: ignore[attr-defined]
    if instance.pk is None or (update_fields is not None and "password" not in update_fields):
        return
    old = User.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    if old is None or old == instance.password:
        return
    raw = getattr(instance, "_password", None)
    # a hash upgrade at login (new hasher or iterations) re-encodes the same password: not a change
    same = raw is not None and check_password(raw, old)
    instance._password_changed = not same  # type: ignore[attr-defined]


@receiver(post_save, sender=User, dispatch_uid="dualcontrol.tokens.password_after")
def _revoke_at_password_change(sender: Any, instance: User, **kwargs: Any) -> None:
    if getattr(instance, "_password_changed", False):
        instance._password_changed = False  # type: ignore[attr-defined]
        revoke_all(
            user=instance, actor=None, reason="password_change", note="the password was changed"
        )
