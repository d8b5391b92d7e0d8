"""Session limits of 等保 2.0 (GB/T 22239-2019 8.1.4.1 b: 登录连接超时自动退出).

A session ends after ``SESSION_IDLE_TIMEOUT`` seconds without a request (default 30 minutes) and,
whatever the activity, ``SESSION_ABSOLUTE_TIMEOUT`` seconds after the login (default one working
day, 8 hours; ``SESSION_COOKIE_AGE`` is the same).  Both come from
``reference/data/login_policy.yaml``.  The user is logged out (audited as ``session.expired`` with
the reason ``idle`` or ``absolute``) and sent to the login page with a message; a session-
authenticated API call answers 401 in JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _

LOGIN_AT = "session_login_at"
LAST_SEEN = "session_last_seen"
# the last-activity stamp is rewritten at most this often (saves a session write per request);
# an idle limit can thus end up to this many seconds early
TOUCH_SECONDS = 30

IDLE = "idle"
ABSOLUTE = "absolute"


def _now() -> float:
    return timezone.now().timestamp()


@receiver(user_logged_in, dispatch_uid="accounts.session_login_at")
def _stamp_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    session = getattr(request, "session", None)
    if session is not None:
        now = _now()
        session[LOGIN_AT] = now
        session[LAST_SEEN] = now


def expiry_reason(session: Any, now: float) -> str | None:
    """``absolute``, ``idle`` or None for a session's stamps at ``now`` (seconds since the epoch)."""
    login_at = session.get(LOGIN_AT)
    last_seen = session.get(LAST_SEEN)
    if login_at is not None and now - float(login_at) > settings.SESSION_ABSOLUTE_TIMEOUT:
        return ABSOLUTE
    if last_seen is not None and now - float(last_seen) > settings.SESSION_IDLE_TIMEOUT:
        return IDLE
    return None


class SessionLimitMiddleware:
    """Logs out a session past its idle or absolute limit; stamps activity otherwise."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            session = request.session
            now = _now()
            reason = expiry_reason(session, now)
            if reason is not None:
                return self._expire(request, reason)
            if session.get(LOGIN_AT) is None:
                # a session from before these limits (or a test's force_login): starts now
                session[LOGIN_AT] = now
            last_seen = session.get(LAST_SEEN)
            if last_seen is None or now - float(last_seen) >= TOUCH_SECONDS:
                session[LAST_SEEN] = now
        return self.get_response(request)

    def _expire(self, request: HttpRequest, reason: str) -> HttpResponse:
        request.session_end_reason = reason  # type: ignore[attr-defined]  # read by the audit
        logout(request)
        if reason == IDLE:
            text = _("您已 %(n)d 分钟未操作，为保障账号安全已自动退出，请重新登录。") % {
                "n": settings.SESSION_IDLE_TIMEOUT // 60
            }
        else:
            text = _("本次登录已超过 %(n)s 小时的最长时限，已自动退出，请重新登录。") % {
                "n": f"{settings.SESSION_ABSOLUTE_TIMEOUT / 3600:g}"
            }
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": text, "code": f"session_expired_{reason}"}, status=401)
        messages.info(request, text)
        return redirect_to_login(request.get_full_path())
