"""Schemathesis against the OpenAPI document: generated requests to every operation, as the
province officer (the widest scope), a city officer and an enterprise's reporter (who may write),
answer anything but a server error (issue 13).

Bounded and reproducible: a fixed number of examples per operation, derandomised (the same
inputs every run), no example database.  ``API_FUZZ_EXAMPLES`` raises the count for a longer
run by hand.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings

from dualcontrol.accounts.models import Role
from tests.auth import api_token
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "8"))


@pytest.mark.parametrize("role", [Role.PROVINCE_OFFICER, Role.CITY_OFFICER, Role.ENTERPRISE])
def test_no_operation_answers_a_server_error(world, client, settings, role):
    from dualcontrol.wsgi import application

    # the throttles would answer most of the run with 429 (they have their own tests)
    settings.API_THROTTLE_RATES = {k: "1000000/min" for k in settings.API_THROTTLE_RATES}

    token = api_token(client, world.users[role], PASSWORD)
    headers = {"Authorization": f"Bearer {token}"}
    # the WSGI app is called directly: like Django's test client, keep the request signals from
    # closing the test's database connection (PostgreSQL; it holds the test's transaction)
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        _run(application, headers)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _run(application, headers) -> None:  # type: ignore[no-untyped-def]
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)
    # the login operations last: their logout revokes the token the others use
    operations = sorted(
        (result.ok() for result in schema.get_all_operations()),
        key=lambda op: op.path.startswith("/api/auth/"),
    )
    assert len(operations) >= 60
    failures: list[str] = []
    calls = 0
    statuses: Counter[int] = Counter()

    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case) -> None:  # type: ignore[no-untyped-def]
            nonlocal calls
            calls += 1
            response = case.call(headers=headers)
            statuses[response.status_code] += 1
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} → {response.status_code} "
                    f"query={case.query} body={str(case.body)[:300]}\n{response.text[:600]}"
                )

        run()
    print(calls, sorted(statuses.items()))
    assert calls >= len(operations)
    assert not failures, "\n\n".join(failures[:20]) + f"\n… {len(failures)} in all"
