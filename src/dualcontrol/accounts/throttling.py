"""API rate limits (Django Ninja throttling) with the rates of ``reference/data/login_policy.yaml``.

``settings.API_THROTTLE_RATES`` holds the rates (``anon`` per client address, ``auth`` per user,
``login`` per client address on ``/api/auth/`` without credentials); each throttle reads its rate
when it runs, so a changed setting (a test's override) applies at once.  Over the limit the API
answers 429 with a ``Retry-After`` header and a message in Chinese.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import Throttled
from ninja.throttling import AnonRateThrottle, AuthRateThrottle


class _PolicyRate:
    policy_scope = "anon"

    def __init__(self) -> None:
        super().__init__(self.policy_rate())  # type: ignore[call-arg]

    def policy_rate(self) -> str:
        return str(settings.API_THROTTLE_RATES[self.policy_scope])

    def allow_request(self, request: HttpRequest) -> bool:
        rate = self.policy_rate()
        if rate != self.rate:  # type: ignore[attr-defined]
            self.rate = rate
            self.num_requests, self.duration = self.parse_rate(rate)  # type: ignore[attr-defined]
        return bool(super().allow_request(request))  # type: ignore[misc]


class AnonThrottle(_PolicyRate, AnonRateThrottle):
    """Requests without credentials, per client address (``NINJA_NUM_PROXIES`` as for lockouts)."""

    policy_scope = "anon"


class AuthThrottle(_PolicyRate, AuthRateThrottle):
    """Authenticated requests, per user."""

    policy_scope = "auth"


class LoginThrottle(_PolicyRate, AnonRateThrottle):
    """``/api/auth/`` without credentials (the token endpoint), per client address."""

    scope = "login"
    policy_scope = "login"


def api_throttles() -> list[Any]:
    return [AnonThrottle(), AuthThrottle()]


def login_throttles() -> list[Any]:
    return [AnonThrottle(), AuthThrottle(), LoginThrottle()]


def install(api: NinjaAPI) -> None:
    """Answer throttled calls in Chinese (Ninja adds ``Retry-After``)."""

    def throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
        return api.create_response(
            request,
            {"detail": _("请求过于频繁，请稍后再试。"), "code": "throttled"},
            status=429,
        )

    api.add_exception_handler(Throttled, throttled)
