"""Template context shared by every page: the platform name, the user's role, demo mode."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from dualcontrol.accounts.navigation import nav_for
from dualcontrol.accounts.scope import role_of


def platform(request: HttpRequest) -> dict[str, Any]:
    role = role_of(request.user)
    return {
        "platform_name": settings.PLATFORM_NAME,
        "demo_mode": settings.DEMO_MODE,
        "user_role": role,
        "nav_items": nav_for(role, request.user.is_authenticated),
    }
