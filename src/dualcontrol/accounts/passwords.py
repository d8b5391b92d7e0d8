"""Password policy of 等保 2.0 (GB/T 22239-2019 8.1.4.1 a): validators, history, forced change.

- validators for ``AUTH_PASSWORD_VALIDATORS`` (numbers from ``reference/data/login_policy.yaml``):
  character classes, not the username, not one of the last N passwords;
- the history itself: every change of ``User.password`` (self-service page, admin, ``set_password``
  in a command, a direct assignment) stores the new *hash* in :class:`PasswordHistory`;
- :class:`ForcedPasswordChangeMiddleware`: a user whose password was set by an administrator
  (``User.must_change_password``) reaches nothing but the password page until they choose their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password, is_password_usable
from django.contrib.auth.password_validation import get_default_password_validators
from django.core.exceptions import ValidationError
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dualcontrol.accounts.models import ApiToken, PasswordHistory, User, hash_token

CLASSES: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("upper", lambda c: "A" <= c <= "Z"),
    ("lower", lambda c: "a" <= c <= "z"),
    ("digit", lambda c: "0" <= c <= "9"),
    ("other", lambda c: not ("A" <= c <= "Z" or "a" <= c <= "z" or "0" <= c <= "9")),
)


def character_classes(password: str) -> set[str]:
    """Which of the four classes (upper, lower, digit, other) ``password`` uses."""
    return {name for name, test in CLASSES if any(test(c) for c in password)}


class CharacterClassValidator:
    """At least ``min_classes`` of: upper-case letters, lower-case letters, digits, other characters."""

    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = min_classes

    def validate(self, password: str, user: Any = None) -> None:
        if len(character_classes(password)) < self.min_classes:
            raise ValidationError(self.get_help_text(), code="password_too_simple")

    def get_help_text(self) -> str:
        return _("密码须包含大写字母、小写字母、数字、其他字符这四类中的至少 %(n)d 类。") % {
            "n": self.min_classes
        }


class UsernameValidator:
    """The password may neither equal nor contain the username (case-insensitive)."""

    def validate(self, password: str, user: Any = None) -> None:
        username = (getattr(user, "username", "") or "").strip().lower()
        if username and username in password.lower():
            raise ValidationError(
                _("密码不能与用户名相同，也不能包含用户名。"), code="password_contains_username"
            )

    def get_help_text(self) -> str:
        return _("密码不能与用户名相同，也不能包含用户名。")


class PasswordHistoryValidator:
    """The new password may equal none of the user's last ``history`` passwords (current included)."""

    def __init__(self, history: int = 5) -> None:
        self.history = history

    def validate(self, password: str, user: Any = None) -> None:
        if user is None or getattr(user, "pk", None) is None:
            return
        hashes = list(
            PasswordHistory.objects.filter(user_id=user.pk).values_list("password", flat=True)[
                : self.history
            ]
        )
        current = User.objects.filter(pk=user.pk).values_list("password", flat=True).first()
        if current and current not in hashes:
            hashes.insert(0, current)
        if any(is_password_usable(h) and check_password(password, h) for h in hashes):
            raise ValidationError(self.get_help_text(), code="password_reused")

    def get_help_text(self) -> str:
        return ngettext(
            "新密码不能与最近 %(n)d 次使用过的密码相同。",
            "新密码不能与最近 %(n)d 次使用过的密码相同。",
            self.history,
        ) % {"n": self.history}


def history_depth() -> int:
    """N of "not one of the last N passwords", as configured in ``AUTH_PASSWORD_VALIDATORS``."""
    for validator in get_default_password_validators():
        if isinstance(validator, PasswordHistoryValidator):
            return validator.history
    return int(settings.LOGIN_POLICY.history)


@receiver(post_save, sender=User, dispatch_uid="accounts.password_history")
def _remember_password(
    sender: type[User], instance: User, update_fields: Any = None, **kwargs: Any
) -> None:
    """Store the hash whenever ``User.password`` changed; keep the last N only (hashes, never text)."""
    if update_fields is not None and "password" not in update_fields:
        return
    if not instance.password or not is_password_usable(instance.password):
        return
    history = PasswordHistory.objects.filter(user_id=instance.pk)
    if history.values_list("password", flat=True).first() == instance.password:
        return
    PasswordHistory.objects.create(user_id=instance.pk, password=instance.password)
    stale = list(history.values_list("pk", flat=True)[max(history_depth(), 1) :])
    if stale:
        PasswordHistory.objects.filter(pk__in=stale).delete()


def _exempt_paths() -> tuple[str, ...]:
    return (
        reverse("accounts:password_change"),
        reverse("accounts:password_change_done"),
        reverse("accounts:logout"),
        "/api/auth/logout",  # revoking one's own token stays possible
        "/accounts/2fa/",
        "/i18n/",
        "/" + settings.STATIC_URL.lstrip("/"),
        "/favicon.ico",
    )


def _bearer_user(request: HttpRequest) -> Any:
    header = request.headers.get("Authorization", "")
    scheme, _sep, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(raw.strip()), expires__gt=timezone.now())
        .first()
    )
    if token is None or getattr(token, "revoked_at", None) is not None:
        return None
    return token.user


class ForcedPasswordChangeMiddleware:
    """Until a user replaces a password an administrator set, pages lead to the password page.

    Allowed meanwhile: the password page, logout, the second-factor pages (``/accounts/2fa/``),
    static files and the language switch.  API calls by such a user (session or bearer token)
    answer 403 with a message.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        user = getattr(request, "user", None)
        if path.startswith("/api/") and not (user is not None and user.is_authenticated):
            user = _bearer_user(request)
        if (
            user is not None
            and user.is_authenticated
            and getattr(user, "must_change_password", False)
            and not path.startswith(_exempt_paths())
        ):
            if path.startswith("/api/"):
                return JsonResponse(
                    {
                        "detail": _(
                            "须先修改管理员设置的初始密码：请登录网页（/accounts/password/）修改密码后再调用接口。"
                        ),
                        "code": "password_change_required",
                    },
                    status=403,
                )
            return redirect("accounts:password_change")
        return self.get_response(request)
