"""Two writers appending at the same time cannot fork the chain (the chain head is locked)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from dualcontrol.audit.chain import verify
from dualcontrol.audit.models import AuditEntry
from dualcontrol.audit.services import record
from tests.audit.helpers import is_postgres


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    not is_postgres(),
    reason="needs concurrent connections to PostgreSQL (SQLite has one write lock for the whole "
    "database; its in-memory test database cannot be shared between threads)",
)
def test_concurrent_writers_do_not_fork_the_chain():
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def writer(name: str) -> None:
        try:
            start.wait()
            for i in range(15):
                with transaction.atomic():
                    record(
                        actor=name, action="test.concurrent", object_type="tests", object_id=str(i)
                    )
                    time.sleep(0.002)  # hold the transaction open while the others try to append
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(f"w{n}",)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    hashes = list(AuditEntry.objects.order_by("id").values_list("prev_hash", flat=True))
    assert len(hashes) == 45 and len(set(hashes)) == 45  # no two entries share a predecessor
    state = verify()
    assert state.ok and state.count == 45
    assert connection.vendor == "postgresql"
