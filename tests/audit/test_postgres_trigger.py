"""PostgreSQL refuses UPDATE, DELETE and TRUNCATE on the audit log (migration 0004); once an owner
forcibly disables the trigger, verify still finds the change at the right entry."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from dualcontrol.audit.chain import verify
from tests.audit.helpers import TRIGGER, entries, is_postgres

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not is_postgres(),
        reason="the append-only trigger exists on PostgreSQL only (set DATABASE_URL to run)",
    ),
]


def _refused(sql: str, params=()) -> str:
    with pytest.raises(DatabaseError) as exc, transaction.atomic(), connection.cursor() as c:
        c.execute(sql, params)
    return str(exc.value)


def test_raw_update_is_refused(world):
    made = entries(2)
    message = _refused(
        "UPDATE audit_auditentry SET actor_name = 'forged' WHERE id = %s", [made[0].pk]
    )
    assert "append-only" in message and "UPDATE" in message
    assert verify().ok


def test_raw_delete_is_refused_even_when_old(world):
    made = entries(2)
    assert "append-only" in _refused("DELETE FROM audit_auditentry WHERE id = %s", [made[1].pk])
    # the prune setting alone does not open the table: entries younger than six months stay
    with transaction.atomic(), connection.cursor() as c:
        c.execute("SET LOCAL dualcontrol.audit_prune = 'on'")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            c.execute("DELETE FROM audit_auditentry WHERE id = %s", [made[1].pk])
    assert verify().ok


def test_checkpoints_are_append_only_too(world):
    from dualcontrol.audit.models import AuditCheckpoint

    with transaction.atomic(), connection.cursor() as c:
        c.execute(
            "INSERT INTO audit_auditcheckpoint (at, actor_name, cutoff, retention_days, "
            "through_id, through_at, last_hash, pruned) VALUES (now(), 'x', now(), 365, 1, now(), "
            "'h', 1)"
        )
    cp = AuditCheckpoint.objects.get()
    assert "append-only" in _refused("UPDATE audit_auditcheckpoint SET pruned = 0")
    assert "append-only" in _refused("DELETE FROM audit_auditcheckpoint WHERE id = %s", [cp.pk])


def test_truncate_is_refused_for_the_application_role(world):
    entries(1)
    with transaction.atomic(), connection.cursor() as c:
        # a role like the application's (not a superuser) with every table privilege
        c.execute("CREATE ROLE dualcontrol_audit_test_app NOLOGIN")
        c.execute("GRANT ALL ON audit_auditentry TO dualcontrol_audit_test_app")
        c.execute("SET LOCAL ROLE dualcontrol_audit_test_app")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            c.execute("TRUNCATE audit_auditentry")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            c.execute("UPDATE audit_auditentry SET note = 'x'")
        transaction.set_rollback(True)  # the role goes with the transaction


def test_with_the_trigger_disabled_a_forged_actor_is_found_at_its_entry(world):
    made = entries(5)
    with connection.cursor() as c:
        c.execute(f"ALTER TABLE audit_auditentry DISABLE TRIGGER {TRIGGER}")
        c.execute("UPDATE audit_auditentry SET actor_name = 'admin1' WHERE id = %s", [made[3].pk])
        c.execute(f"ALTER TABLE audit_auditentry ENABLE TRIGGER {TRIGGER}")
    state = verify()
    assert (state.ok, state.broken.kind, state.broken.entry_id) == (False, "edited", made[3].pk)


def test_with_the_trigger_disabled_a_deletion_is_found_at_the_next_entry(world):
    made = entries(5)
    with connection.cursor() as c:
        c.execute(f"ALTER TABLE audit_auditentry DISABLE TRIGGER {TRIGGER}")
        c.execute("DELETE FROM audit_auditentry WHERE id = %s", [made[1].pk])
        c.execute(f"ALTER TABLE audit_auditentry ENABLE TRIGGER {TRIGGER}")
    state = verify()
    assert (state.broken.kind, state.broken.entry_id) == ("deleted", made[2].pk)
