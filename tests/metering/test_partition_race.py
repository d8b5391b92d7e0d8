"""Concurrent writers of a new month create its partition once, and none of them fails (issue 13:
4 of 40 concurrent uploads failed at a month boundary)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, connections

from dualcontrol.metering import storage

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="partitions are PostgreSQL's"),
]


def test_forty_writers_of_a_new_month(transactional_db):
    month = dt.date(2031, 7, 1)
    barrier = threading.Barrier(40)
    created: list[list[str]] = []
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            barrier.wait()
            created.append(storage.ensure_partitions([month]))
        except BaseException as exc:  # the test reports every failure
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sum(len(c) for c in created) == 1
    assert storage.partition_name(month) in dict(storage.partitions())
