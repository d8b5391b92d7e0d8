"""Template context shared by every page: the platform name, the user's role, demo mode."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from dualcontrol.access.scope import role_of
from dualcontrol.accounts.navigation import nav_for, split_nav


def platform(request: HttpRequest) -> dict[str, Any]:
    role = role_of(request.user)
    items = [] if getattr(request, "second_factor_pending", False) else nav_for(request.user)
    bar, more = split_nav(items)
    return {
        "platform_name": settings.PLATFORM_NAME,
        "demo_mode": settings.DEMO_MODE,
        "user_role": role,
        # between password and second factor (accounts.second_factor): no navigation yet
        "nav_items": items,
        "nav_bar": bar,
        "nav_more": more,
        "nav_more_active": any(url == request.path for _label, url in more),
    }
