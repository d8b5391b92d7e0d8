"""Redirects to a ``next`` URL a form posted: only to this site (issue 13: no open redirects)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request: HttpRequest, default: str, field: str = "next") -> str:
    """The posted (or queried) ``next`` (or ``field``) when it points to this site, else
    ``default`` (a URL name or path)."""
    target = request.POST.get(field) or request.GET.get(field) or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return str(resolve_url(default))


def redirect_next(request: HttpRequest, default: str) -> HttpResponseRedirect:
    return redirect(safe_next(request, default))
