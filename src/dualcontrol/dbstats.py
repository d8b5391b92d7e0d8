"""Planner statistics after bulk writes (issue 18).

A database that has just received thousands of rows still plans with the statistics of the empty
tables it had before (PostgreSQL waits for autovacuum; SQLite has none until ``ANALYZE``): the
first queries then plan for 3 rows where there are 200 000.  The demo build and every bulk import
end with :func:`analyze` — on the tables they wrote, or on the whole database.
"""

from __future__ import annotations

import logging

from django.db import connection, transaction
from django.db.models import Model

log = logging.getLogger(__name__)


def analyze(*models: type[Model]) -> list[str]:
    """``ANALYZE`` the tables of ``models`` (every table when none is given); the tables analysed."""
    tables = [m._meta.db_table for m in models]
    quoted = [connection.ops.quote_name(t) for t in tables]
    with connection.cursor() as cursor:
        if not quoted:
            cursor.execute("ANALYZE")
        elif connection.vendor == "postgresql":
            cursor.execute("ANALYZE " + ", ".join(quoted))
        else:
            for table in quoted:
                cursor.execute(f"ANALYZE {table}")
    log.info("analyzed %s", ", ".join(tables) or "every table")
    return tables


def analyze_after_commit(*models: type[Model]) -> None:
    """:func:`analyze` once the surrounding transaction commits (at once outside one)."""
    transaction.on_commit(lambda: analyze(*models))
