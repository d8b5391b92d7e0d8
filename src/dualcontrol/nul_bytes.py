"""Refuse request parameters that hold a NUL character (issue 13: "no 500 from input").

No text the platform stores may contain U+0000: PostgreSQL cannot hold it in a text column (the
query fails, the page answered 500) and no form field or API value has a use for it.  A query
string, a form field or a JSON body with one is refused with 400 before any view runs; uploaded
files are not parameters and are not looked at here (their readers check them).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

NUL = "\x00"


def _has_nul(request: HttpRequest) -> bool:
    if any(NUL in k or any(NUL in v for v in vs) for k, vs in request.GET.lists()):
        return True
    if NUL in request.path:
        return True
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        content_type = request.content_type or ""
        if content_type == "application/json":
            body = request.body
            return b"\x00" in body or b"\\u0000" in body.lower()
        if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            return any(NUL in k or any(NUL in v for v in vs) for k, vs in request.POST.lists())
    return False


class RejectNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_nul(request):
            message = _("请求中含有空字符（U+0000），无法处理。")
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message}, status=400)
            return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
