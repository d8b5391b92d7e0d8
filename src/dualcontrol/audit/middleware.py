"""Request-wide audit context: the acting user for signal handlers, and every download recorded.

Downloads: the Excel helper (:func:`dualcontrol.exports.xlsx_response`) records its export itself
when given ``user=``; any other response that hands a file to a signed-in user (a
``Content-Disposition`` header: generated CSV/PDF/Excel, stored uploads) and was not recorded yet is
recorded here, so an export path added later cannot slip past the log.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from dualcontrol.audit.context import acting_as, in_request

_FILENAME = re.compile(r"filename\*=(?:UTF-8'')?(?P<star>[^;]+)|filename=\"?(?P<plain>[^\";]+)\"?")


def _user(request: HttpRequest) -> Any:
    user = getattr(request, "user", None)
    return user if getattr(user, "is_authenticated", False) else None


def filename_of(disposition: str) -> str:
    from urllib.parse import unquote

    m = _FILENAME.search(disposition)
    if not m:
        return ""
    return unquote(m.group("star")).strip() if m.group("star") else m.group("plain").strip()


class AuditMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with acting_as(lambda: _user(request)), in_request(request):
            response = self.get_response(request)
        self._record_download(request, response)
        return response

    @staticmethod
    def _record_download(request: HttpRequest, response: HttpResponse) -> None:
        disposition = response.get("Content-Disposition", "")
        if not disposition or getattr(response, "audit_recorded", False):
            return
        if not 200 <= response.status_code < 300:
            return
        user = _user(request)
        if user is None:
            return  # anonymous downloads are published documents (public information)
        from dualcontrol.audit.services import record_export

        filename = filename_of(disposition)
        content_type = response.get("Content-Type", "").split(";")[0].strip()
        match = request.resolver_match
        what = getattr(response, "export_what", "") or (match.view_name if match else "download")
        record_export(
            user=user,
            what=str(what),
            filename=filename,
            fmt=filename.rsplit(".", 1)[-1].lower() if "." in filename else content_type,
            rows=getattr(response, "export_rows", None),
            path=request.path,
            params=dict(request.GET.items()) or None,
        )
        response.audit_recorded = True  # type: ignore[attr-defined]
