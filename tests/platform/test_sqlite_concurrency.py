"""The embedded SQLite database under concurrent writers: WAL, IMMEDIATE transactions and a busy
timeout, so that read-then-write transactions queue instead of failing with "database is locked"
(issue 13)."""

from __future__ import annotations

import threading
from copy import deepcopy

import pytest
from django.conf import settings
from django.db import connections, transaction

pytestmark = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
    reason="the embedded database's settings (PostgreSQL has its own locking)",
)


@pytest.fixture
def file_db(tmp_path, django_db_blocker):
    """A file database opened with the platform's SQLite settings (the test database is in
    memory, where WAL does not apply)."""
    alias = "concurrency"
    cfg = deepcopy(settings.DATABASES["default"])
    cfg["NAME"] = str(tmp_path / "concurrency.sqlite3")
    cfg["TEST"] = {"NAME": cfg["NAME"]}
    both = {"default": settings.DATABASES["default"], alias: cfg}
    connections.settings[alias] = connections.configure_settings(both)[alias]
    with django_db_blocker.unblock():
        with connections[alias].cursor() as c:
            c.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
            c.execute("INSERT INTO counter (id, n) VALUES (1, 0)")
        yield alias
        connections[alias].close()
    del connections.settings[alias]
    if hasattr(connections._connections, alias):
        delattr(connections._connections, alias)


def test_wal_and_immediate_transactions(file_db):
    with connections[file_db].cursor() as c:
        c.execute("PRAGMA journal_mode")
        assert c.fetchone()[0] == "wal"
    assert settings.DATABASES["default"]["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_read_then_write_transactions_queue_instead_of_failing(file_db):
    """Twenty threads, each 20 times: read the counter, then write it + 1 in one transaction.
    Without IMMEDIATE two such transactions deadlock on the lock upgrade and one fails at once
    ("database is locked"); with it they take turns, and no increment is lost."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(20)

    def worker() -> None:
        try:
            barrier.wait()
            for _ in range(20):
                with transaction.atomic(using=file_db), connections[file_db].cursor() as c:
                    c.execute("SELECT n FROM counter WHERE id = 1")
                    n = c.fetchone()[0]
                    c.execute("UPDATE counter SET n = %s WHERE id = 1", [n + 1])
        except BaseException as exc:  # the test reports every failure
            errors.append(exc)
        finally:
            connections[file_db].close()

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    with connections[file_db].cursor() as c:
        c.execute("SELECT n FROM counter WHERE id = 1")
        assert c.fetchone()[0] == 400
