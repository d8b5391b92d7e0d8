"""Entries written before the chain existed are chained by migration 0003, in id order, their
secrets (user snapshots with password hashes) redacted first."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from dualcontrol.audit.chain import GENESIS, hash_of, verify
from dualcontrol.audit.models import AuditChainHead, AuditEntry


@pytest.mark.django_db(transaction=True)
def test_existing_entries_are_chained_and_redacted():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes("audit")
    executor.migrate([("audit", "0001_initial")])
    old = MigrationExecutor(connection).loader.project_state([("audit", "0001_initial")]).apps
    Entry = old.get_model("audit", "AuditEntry")
    rows = [
        Entry.objects.create(
            actor_name="admin1",
            action="admin.change",
            object_type="accounts.user",
            object_id="7",
            object_repr="city1",
            before={"username": "city1", "password": "pbkdf2_sha256$870000$salt$old="},
            after={"username": "city1", "password": "pbkdf2_sha256$870000$salt$new="},
            note="",
        ),
        Entry.objects.create(
            actor_name="system",
            action="catalogue.seed",
            object_type="reference",
            after={"rows": 12, "ratio": 0.5},
            note="token=abc123 seeded",
        ),
        Entry.objects.create(actor_name="ent1", action="report.save", object_type="reporting.x"),
    ]
    MigrationExecutor(connection).migrate(latest)

    chained = list(AuditEntry.objects.order_by("id"))
    assert [e.pk for e in chained] == [r.pk for r in rows]
    assert chained[0].prev_hash == GENESIS
    assert chained[1].prev_hash == chained[0].entry_hash
    assert chained[2].prev_hash == chained[1].entry_hash
    assert all(e.entry_hash == hash_of(e) for e in chained)
    assert chained[0].before == {"username": "city1", "password": "[redacted]"}
    assert chained[0].after["password"] == "[redacted]"
    assert chained[1].note == "token=[redacted] seeded" and chained[1].after == {
        "rows": 12,
        "ratio": 0.5,
    }
    head = AuditChainHead.objects.get()
    assert (head.last_id, head.last_hash, head.length) == (rows[-1].pk, chained[-1].entry_hash, 3)
    state = verify()
    assert state.ok and state.count == 3
    # new entries continue the chain
    from dualcontrol.audit.services import record

    new = record(actor=None, action="test.after", object_type="tests")
    assert new.prev_hash == chained[-1].entry_hash and verify().count == 4
