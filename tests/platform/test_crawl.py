"""Issue 14 "Done when": a crawl of every page as every role finds no 4xx or 5xx from an in-site
link. The demo is built once (small), then each demo role — and the anonymous public — follows
every in-site link breadth-first from its start page (downloads and exports excluded: they are
walked by the export tests), up to a bound per role."""

from __future__ import annotations

import datetime as dt
import re
from collections import deque
from typing import Any
from urllib.parse import urldefrag

import pytest
from django.core.signals import request_finished
from django.db import close_old_connections
from django.test import Client

from dualcontrol.accounts.models import User
from tests.auth import login

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 21)
HREF = re.compile(r'href="([^"]+)"')
SKIP = ("/static/", "/media/", "/accounts/logout", "/logout", "/i18n/", "/admin/", "/api/")
NOT_PAGES = ("export=", "format=", "download", "/document/", ".pdf", ".xlsx", ".csv")
PAGES_PER_ROLE = 400
# issue 14 "sources shown to officers": no research path, no "NOT FOUND", no address outside official
# hosts (the document-sharing sites and reprints the reference data was checked against)
LEAK = re.compile(
    r"shared/(?:plans|reference)|\w+_[\w-]+\.txt\b|NOT FOUND|"
    r"https?://(?![\w.-]*\.gov\.cn\b|www\.w3\.org\b|127\.0\.0\.1|localhost|testserver)[\w.-]+"
)
ROLES = ("demo-province", "demo-city", "demo-enterprise", "demo-verifier", "demo-guizhou", None)


def _close(response: Any) -> None:
    """Close a file response (evidence, documents hold their file open) without the end-of-request
    signal's close_old_connections, as Django's test client itself does: inside the test's
    transaction it would close the PostgreSQL connection."""
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


def crawl(
    c: Client, start: str = "/", leaks: list[tuple[str, str]] | None = None
) -> tuple[int, list[tuple[int, str, str]]]:
    seen = {start}
    todo = deque([(start, "")])
    bad = []
    n = 0
    while todo and n < PAGES_PER_ROLE:
        path, ref = todo.popleft()
        n += 1
        r = c.get(path)
        _close(r)
        if r.status_code >= 400:
            bad.append((r.status_code, path, ref))
            continue
        if r.status_code in (301, 302):
            loc = r.url
            if loc.startswith("/") and loc not in seen and not loc.startswith(SKIP):
                seen.add(loc)
                todo.append((loc, path))
            continue
        if not r.get("Content-Type", "").startswith("text/html"):
            continue
        html = r.content.decode("utf-8", "replace")
        if leaks is not None:
            leaks.extend((path, m.group(0)) for m in LEAK.finditer(html))
        for href in HREF.findall(html):
            href = urldefrag(href.replace("&amp;", "&"))[0]
            if not href.startswith("/") or href.startswith(("//", *SKIP)):
                continue
            if any(part in href for part in NOT_PAGES) or href in seen:
                continue
            seen.add(href)
            todo.append((href, path))
    return n, bad


def test_no_in_site_link_answers_an_error_for_any_role(db):
    from dualcontrol.demo.builder import build

    build(TODAY, units=20, months_limit=2)
    found = {}
    leaked = {}
    for username in ROLES:
        c = Client(raise_request_exception=False)
        if username:
            login(c, User.objects.get(username=username))
        leaks: list[tuple[str, str]] = []
        n, bad = crawl(c, leaks=leaks)
        if leaks:
            leaked[username] = sorted({(p.split("?")[0], m) for p, m in leaks})[:60]
        assert n > (20 if username else 5), (username, n)  # the public site is a few pages
        if bad:
            found[username] = bad[:40]
    for username, bad in found.items():
        print(username, *bad, sep="\n  ")
    assert not found, sorted(found)
    assert not leaked, leaked
