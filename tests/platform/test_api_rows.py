"""Every paginated API list reads one page from the database, not every visible row (issue 18).

The demo province (shrunk) is built once; every paginated list of the OpenAPI document is asked
for a page of one item by the province officer, while every row the database hands back is counted
(``fetchone``/``fetchmany``/``fetchall`` on Django's cursor wrapper).  A list that builds all its
rows in Python before taking a page reads at least as many rows as its ``count``; a list that
pages in the database reads the page, its count and a handful of rows for the login.

Lists with path parameters are filled in from the demo (a round's records, a plan's tasks …).
A list may not hand the paginator a Python list at all: :mod:`dualcontrol.pagination` refuses it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from django.db.backends.utils import CursorWrapper
from django.test import Client

from dualcontrol.pagination import Mapped, PageNumberPagination
from tests.auth import api_token

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 21)
# rows a request reads besides its list: the token, its user and department, throttling
LOGIN_ROWS = 12
# a list has to hold more rows than this for the check to mean something
MIN_COUNT = 3 * LOGIN_ROWS


FROM = re.compile(r'\bFROM\s+"?(\w+)"?', re.IGNORECASE)


class RowCounter:
    """Rows handed back by the database, in all and by the table a query reads FROM first."""

    def __init__(self) -> None:
        self.rows = 0
        self.by_table: Counter[str] = Counter()

    def reset(self) -> None:
        self.rows = 0
        self.by_table.clear()

    def _add(self, cursor: CursorWrapper, n: int) -> None:
        self.rows += n
        m = FROM.search(getattr(cursor, "_last_sql", "") or "")
        self.by_table[m.group(1) if m else "?"] += n

    def patch(self, monkeypatch: pytest.MonkeyPatch) -> None:
        counter = self
        execute = CursorWrapper.execute

        def remember(self: CursorWrapper, sql: str, params: Any = None) -> Any:
            self._last_sql = sql  # type: ignore[attr-defined]
            return execute(self, sql, params)

        def fetchone(self: CursorWrapper) -> Any:
            row = self.cursor.fetchone()
            counter._add(self, row is not None)
            return row

        def fetchmany(self: CursorWrapper, *args: Any) -> Any:
            rows = self.cursor.fetchmany(*args)
            counter._add(self, len(rows))
            return rows

        def fetchall(self: CursorWrapper) -> Any:
            rows = self.cursor.fetchall()
            counter._add(self, len(rows))
            return rows

        monkeypatch.setattr(CursorWrapper, "execute", remember)

        monkeypatch.setattr(CursorWrapper, "fetchone", fetchone, raising=False)
        monkeypatch.setattr(CursorWrapper, "fetchmany", fetchmany, raising=False)
        monkeypatch.setattr(CursorWrapper, "fetchall", fetchall, raising=False)


def _paginated_lists() -> list[str]:
    from dualcontrol.api import api

    spec = api.get_openapi_schema()
    return sorted(
        path
        for path, ops in spec["paths"].items()
        if "get" in ops and any(p["name"] == "page" for p in ops["get"].get("parameters", []))
    )


def _fill(path: str, user: Any) -> str:
    """The path with its parameters taken from the demo (the object with the most rows)."""
    from django.db.models import Count

    from dualcontrol.access.tasks import viewable_departments
    from dualcontrol.assessment.models import AssessmentRound
    from dualcontrol.tasks.models import Plan

    values = {
        "{round_id}": lambda: (
            AssessmentRound.objects.annotate(n=Count("records")).order_by("-n").first()
        ),
        "{plan_id}": lambda: Plan.objects.annotate(n=Count("tasks")).order_by("-n").first(),
        "{department_id}": lambda: (
            viewable_departments(user).annotate(n=Count("plan_assignments")).order_by("-n").first()
        ),
    }
    for key, get in values.items():
        if key in path:
            obj = get()
            assert obj is not None, f"the demo has nothing for {path}"
            path = path.replace(key, str(obj.pk))
    assert "{" not in path, f"no demo object for {path}: add one to _fill"
    return path


# Lists ranked by figures computed per request (pagination.Ranked): they read what the ranking
# needs for every unit in scope, and send one page.
RANKED = {
    "/api/metering/units": "this month's completeness and gap of every monitored unit in scope, "
    "from the daily roll-ups (ItemDay) and the month's 205-1 lines",
}


@pytest.fixture
def demo(db) -> Iterator[tuple[Client, Any]]:
    from dualcontrol.accounts.models import User
    from dualcontrol.demo.builder import DEMO_PASSWORD, build

    build(TODAY, units=40, months_limit=3)
    officer = User.objects.filter(role="province_officer", department__isnull=False).first()
    assert officer is not None
    c = Client()
    c.defaults["HTTP_AUTHORIZATION"] = f"Bearer {api_token(c, officer, DEMO_PASSWORD)}"
    yield c, officer


def test_every_paginated_list_reads_one_page(demo, monkeypatch):
    client, officer = demo
    counter = RowCounter()
    counter.patch(monkeypatch)
    lists = _paginated_lists()
    assert len(lists) >= 15
    measured, too_many, errors = [], [], []
    for path in lists:
        url = _fill(path, officer)
        counter.rows = 0
        r = client.get(url, {"page": 1, "page_size": 1})
        if r.status_code != 200:
            errors.append((url, r.status_code, r.content[:200]))
            continue
        body = r.json()
        count, rows = body["count"], counter.rows
        assert len(body["items"]) == min(1, count)
        measured.append((url, count, rows))
        if count > MIN_COUNT and rows >= count and path not in RANKED:
            too_many.append((url, count, rows))
    print("\n".join(f"{u}: count {c}, rows read {n}" for u, c, n in measured))
    assert not errors, errors
    assert not too_many, too_many
    # the check bites: most lists of the demo are long enough to tell one page from all rows
    assert sum(c > MIN_COUNT for _, c, _ in measured) >= 8, measured


def test_the_row_counter_sees_a_list_that_reads_every_row(demo, monkeypatch):
    """The counter is not blind: reading every report to show one counts them all."""
    from dualcontrol.reporting.models import EnergyReport

    counter = RowCounter()
    counter.patch(monkeypatch)
    total = EnergyReport.objects.count()
    assert total > MIN_COUNT
    counter.rows = 0
    _ = list(EnergyReport.objects.all())[:1]
    assert counter.rows >= total


def test_a_python_list_is_refused_and_mapped_reads_one_page(db):
    from dualcontrol.regions.models import Division

    for i in range(30):
        Division.objects.create(code=f"53{i:04d}", name=f"区{i}", level="county", source="test")
    paginator = PageNumberPagination(page_size=5)
    params = PageNumberPagination.Input(page=2)
    with pytest.raises(TypeError, match="queryset or Mapped"):
        paginator.paginate_queryset(list(Division.objects.all()), params, request=None)  # type: ignore[arg-type]
    seen: list[int] = []

    def shape(d: Division) -> str:
        seen.append(d.pk)
        return d.code

    page = paginator.paginate_queryset(
        Mapped(Division.objects.order_by("code"), shape), params, request=None
    )  # type: ignore[arg-type]
    assert page == {"items": [f"53{i:04d}" for i in range(5, 10)], "count": 30}
    assert len(seen) == 5
    with pytest.raises(TypeError):
        Mapped(Division.objects.all())


def test_the_demo_build_leaves_planner_statistics(demo):
    from dualcontrol.reporting.models import EnergyReport, ReportLine
    from dualcontrol.targets.models import RegionalStatistic
    from tests.platform.test_dbstats import _analysed

    for model in (EnergyReport, ReportLine, RegionalStatistic):
        assert _analysed(model._meta.db_table), model


def test_list_pages_and_the_home_page_read_one_page(demo, monkeypatch):
    """The long list pages read one page of their table (at most 50 rows and a count); the home
    page reads no report but the review queue's page (its counts and sums are roll-ups)."""
    from dualcontrol.accounts.models import User
    from dualcontrol.reporting.models import EnergyReport, Status
    from dualcontrol.targets.models import Target, WarningRecord
    from tests.auth import login

    _, officer = demo
    client = login(Client(), User.objects.get(pk=officer.pk))
    page_rows = 50 + 1 + 10  # a page, its count, the distinct values of a filter (periods …)
    pages = {
        "/reports/": (EnergyReport, page_rows),
        "/targets/list/": (Target, page_rows),
        "/targets/warnings/": (WarningRecord, page_rows),
        "/": (EnergyReport, 10 + 1 + 1),  # the queue: ten rows and its count; the latest period
    }
    counter = RowCounter()
    counter.patch(monkeypatch)
    read = {}
    for url, (model, most) in pages.items():
        total = model.objects.count()
        assert total > page_rows, (url, total)
        counter.reset()
        assert client.get(url).status_code == 200, url
        read[url] = (total, counter.by_table[model._meta.db_table], most)
    print(read)
    assert all(rows <= most for _, rows, most in read.values()), read
    assert EnergyReport.objects.filter(status=Status.SUBMITTED).exists()


# GET operations that answer a plain array: each is bounded by what it lists (not by the data
# that grows with time), or by a parameter the operation caps.
BOUNDED_ARRAYS = {
    "/api/carbon-market/compliance/{year}": "one row per key emitter with an obligation that year "
    "(the year's published list, a few hundred units per province)",
    "/api/auth/tokens": "the caller's own API tokens",
    "/api/entities/divisions": "the administrative divisions in scope (the province's tree)",
    "/api/reports/statistics/tables": "the statistics tables of the catalogue",
    "/api/reports/products": "the 205-1 energy products of the catalogue",
    "/api/targets/indicators": "the indicator catalogue",
    "/api/metering/codecs": "the registered ingest codecs",
    "/api/metering/units/{uscc}/items": "one unit's data items",
    "/api/metering/units/{uscc}/instruments": "one unit's metering instruments",
    "/api/metering/units/{uscc}/readings": "capped by its limit parameter (≤ 50 000)",
    "/api/monitoring/outlets/{outlet_id}/hourly": "one outlet, at most 62 days of hours",
}


def test_every_list_operation_is_paginated_or_bounded():
    from dualcontrol.api import api

    spec = api.get_openapi_schema()
    arrays = set()
    for path, ops in spec["paths"].items():
        get = ops.get("get") or {}
        ok = get.get("responses", {}).get(200) or get.get("responses", {}).get("200") or {}
        schema = ok.get("content", {}).get("application/json", {}).get("schema", {})
        if schema.get("type") == "array":
            arrays.add(path)
    assert arrays == set(BOUNDED_ARRAYS), arrays ^ set(BOUNDED_ARRAYS)
