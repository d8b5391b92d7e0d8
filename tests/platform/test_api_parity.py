"""API parity: every page that accepts a POST is listed in docs/api.md with the API operation(s) that
make the same write, and every operation listed exists in the OpenAPI document, with the refusal
responses described.  A row whose operation is "—" is an open gap: reported as an expected failure
(strict, so the row must be updated when the operation arrives)."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
OP = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/api/[^`]+)`")
SERVICE = re.compile(r"`(\w+)\.(\w*services)\.(\w+)`")
# a view that handles a POST (a form, an action button, an upload)
POST_VIEW = re.compile(
    r'request\.method == "POST"|require_POST|require_http_methods|request\.POST|post='
)


def _tables() -> tuple[dict[str, tuple[list[tuple[str, str]], str]], set[str]]:
    """(page write → (operations, service cell)) of the parity table; the URL names of the
    "not officer data writes" table."""
    text = DOC.read_text(encoding="utf-8")
    parity_part, _sep, other_part = text.partition("## Not officer data writes")
    parity_part = parity_part.partition("## Page writes and their API operations")[2]
    rows: dict[str, tuple[list[tuple[str, str]], str]] = {}
    for line in parity_part.splitlines():
        m = re.match(r"\| `([\w:-]+)` \|([^|]*)\|([^|]*)\|([^|]*)\|", line)
        if m:
            assert m.group(1) not in rows, f"{m.group(1)} listed twice"
            rows[m.group(1)] = (OP.findall(m.group(3)), m.group(4))
    others = set(re.findall(r"^\| `([\w:-]+)` \|", other_part, flags=re.M))
    return rows, others


def _page_writes() -> dict[str, str]:
    """URL name → route of every page view (not the API, admin, static) that handles a POST."""
    out: dict[str, str] = {}

    def walk(patterns, prefix="", ns=""):  # type: ignore[no-untyped-def]
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(
                    p.url_patterns,
                    prefix + str(p.pattern),
                    ns + (f"{p.namespace}:" if p.namespace else ""),
                )
            elif isinstance(p, URLPattern) and p.name:
                route = prefix + str(p.pattern)
                if route.startswith(("api/", "admin/", "static/", "media/")):
                    continue
                try:
                    src = inspect.getsource(inspect.unwrap(p.callback))
                except (OSError, TypeError):
                    continue
                if POST_VIEW.search(src):
                    out[ns + p.name] = route

    walk(get_resolver().url_patterns)
    return out


ROWS, OTHERS = _tables()


def _spec() -> dict:
    from dualcontrol.api import api

    return api.get_openapi_schema()


def test_the_table_is_read():
    assert len(ROWS) > 60 and len(OTHERS) >= 5
    assert sum(1 for ops, _s in ROWS.values() if ops) > 40


def test_every_page_write_is_listed():
    writes = _page_writes()
    assert len(writes) > 60  # the walk finds the page writes
    missing = sorted(set(writes) - set(ROWS) - OTHERS)
    assert not missing, f"page writes not in docs/api.md: {missing}"
    gone = sorted((set(ROWS) | OTHERS) - set(writes))
    assert not gone, f"docs/api.md lists URL names that take no POST (or no longer exist): {gone}"


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            name,
            marks=[]
            if ops
            else pytest.mark.xfail(strict=True, reason="open gap: no API operation yet"),
        )
        for name, (ops, _svc) in ROWS.items()
    ],
)
def test_page_write_has_an_api_operation(name):
    ops, _service = ROWS[name]
    assert ops, f"{name}: no API operation"
    paths = _spec()["paths"]
    for method, path in ops:
        assert path in paths, f"{name}: {method} {path} is not in the OpenAPI document"
        assert method.lower() in paths[path], f"{name}: {path} has no {method}"


@pytest.mark.parametrize("name", list(ROWS))
def test_the_service_named_exists(name):
    _ops, service = ROWS[name]
    for app, mod, fn in SERVICE.findall(service):
        module = importlib.import_module(f"dualcontrol.{app}.{mod}")
        assert callable(getattr(module, fn, None)), f"{name}: {app}.{mod}.{fn} does not exist"


# operations that predate the parity work and keep their own refusal bodies (``detail`` with or
# without a problem list); every other write operation describes 403, 409 and 422 with the one
# problem-list schema
OLDER = {
    ("POST", "/api/targets/warnings/run"),
    ("POST", "/api/targets/alerts/{alert_id}/read"),
    ("POST", "/api/monitoring/alarms/{alarm_id}/explain"),
    ("POST", "/api/monitoring/alarms/{alarm_id}/close"),
    ("POST", "/api/monitoring/alarms/{alarm_id}/reopen"),
    ("POST", "/api/key-units/status-reports"),
    ("POST", "/api/key-units/status-reports/{report_id}/submit"),
    ("POST", "/api/key-units/status-reports/{report_id}/return"),
    ("POST", "/api/key-units/status-reports/{report_id}/accept"),
    ("POST", "/api/metering/units/{uscc}/items"),
    ("POST", "/api/metering/units/{uscc}/instruments"),
    ("POST", "/api/metering/units/{uscc}/faults"),
    ("POST", "/api/metering/faults/{fault_id}/accept"),
    ("POST", "/api/metering/faults/{fault_id}/return"),
    ("POST", "/api/metering/faults/{fault_id}/close"),
    ("POST", "/api/reports/"),
    ("POST", "/api/reports/{report_id}/submit"),
    ("POST", "/api/reports/{report_id}/return"),
    ("POST", "/api/reports/{report_id}/accept"),
    ("POST", "/api/reports/statistics"),
    ("POST", "/api/reports/statistics/{filing_id}/submit"),
    ("POST", "/api/reports/statistics/{filing_id}/return"),
    ("POST", "/api/reports/statistics/{filing_id}/accept"),
    ("POST", "/api/tasks/{task_id}/progress"),
    ("POST", "/api/carbon-market/surrender"),
    ("POST", "/api/carbon-market/transfers"),
    ("POST", "/api/carbon-market/pending/{pending_id}"),
    ("POST", "/api/rights/listings"),
    ("POST", "/api/rights/trades/{trade_id}/accept"),
}
NEW_WRITES = sorted({(method, path) for ops, _svc in ROWS.values() for method, path in ops} - OLDER)


def test_older_operations_are_still_listed():
    listed = {(method, path) for ops, _svc in ROWS.values() for method, path in ops}
    assert not OLDER - listed, sorted(OLDER - listed)


@pytest.mark.parametrize(("method", "path"), NEW_WRITES)
def test_new_write_operations_describe_their_refusals(method, path):
    op = _spec()["paths"][path][method.lower()]
    responses = {str(k): v for k, v in op["responses"].items()}
    for status in ("403", "409", "422"):
        schema = responses[status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ProblemsOut"}, (method, path, status)
    assert op.get("description") or op.get("summary")


def test_the_problem_list_schema():
    problem = _spec()["components"]["schemas"]["ProblemOut"]
    assert {"sheet", "row", "column", "field", "reason"} <= set(problem["properties"])
