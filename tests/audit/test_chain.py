"""The hash chain: each entry linked to the one before; verify finds the first broken link
(edited, deleted, reordered, newest deleted) at the right entry — on SQLite by plain SQL, on
PostgreSQL with the append-only trigger forcibly disabled first (see helpers.tamper)."""

from __future__ import annotations

import hashlib
import itertools
import json

import pytest

from dualcontrol.accounts.models import Role
from dualcontrol.audit.chain import GENESIS, canonical, hash_of, verify
from dualcontrol.audit.models import AuditChainHead, AuditEntry
from dualcontrol.cli import main
from tests.audit.helpers import entries, tamper

pytestmark = pytest.mark.django_db


def test_each_entry_hashes_its_content_and_links_to_the_previous_one(world):
    made = entries(4, actor=world.users[Role.AUDITOR])
    stored = list(AuditEntry.objects.order_by("id"))
    assert stored[0].prev_hash == GENESIS
    for before, entry in itertools.pairwise(stored):
        assert entry.prev_hash == before.entry_hash
        assert entry.entry_hash == hash_of(entry) != before.entry_hash
    # the canonical form is compact sorted JSON of exactly the documented fields
    last = AuditEntry.objects.get(pk=made[-1].pk)
    data = json.loads(
        canonical(
            at=last.at,
            actor_id=last.actor_id,
            actor_name=last.actor_name,
            action=last.action,
            object_type=last.object_type,
            object_id=last.object_id,
            object_repr=last.object_repr,
            before=last.before,
            after=last.after,
            note=last.note,
            prev_hash=last.prev_hash,
        )
    )
    assert set(data) == {
        "v",
        "at",
        "actor_id",
        "actor_name",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "before",
        "after",
        "note",
        "prev_hash",
    }
    assert data["actor_name"] == "aud1" and data["actor_id"] == world.users[Role.AUDITOR].pk
    assert data["before"]["big"] == 10**20  # an integral float hashes as the integer jsonb returns
    assert (
        last.entry_hash
        == hashlib.sha256(
            json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
        ).hexdigest()
    )
    head = AuditChainHead.objects.get()
    assert (head.last_id, head.last_hash) == (last.pk, last.entry_hash)


def test_a_normal_run_verifies(world, capsys):
    entries(6)
    total = AuditEntry.objects.count()
    state = verify()
    assert state.ok and state.broken is None
    assert state.count == total and state.last_id == AuditEntry.objects.order_by("-id").first().pk
    assert main(["audit", "verify"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"OK: {total} entries verified")
    # the run is recorded, and the chain still verifies with it
    run = AuditEntry.objects.filter(action="audit.verify").get()
    assert run.after["ok"] is True and run.after["count"] == total
    assert run.actor_name.startswith("cli")
    assert verify().ok and verify().count == total + 1


def _broken(capsys) -> tuple[int, str]:
    code = main(["audit", "verify", "--no-record"])
    return code, capsys.readouterr().out


def test_an_edited_actor_is_found_at_its_entry(world, capsys):
    made = entries(5)
    victim = made[2]
    tamper("UPDATE audit_auditentry SET actor_name = %s WHERE id = %s", ["admin1", victim.pk])
    state = verify()
    assert not state.ok and state.broken.kind == "edited"
    assert state.broken.entry_id == victim.pk and state.last_id == made[1].pk
    code, out = _broken(capsys)
    assert code == 1
    assert out.startswith(f"BROKEN at entry #{victim.pk} (")
    assert "edited" in out


def test_edited_json_content_is_found(world):
    made = entries(3)
    tamper(
        "UPDATE audit_auditentry SET after = %s WHERE id = %s",
        [json.dumps({"n": 999}), made[1].pk],
    )
    state = verify()
    assert (state.broken.kind, state.broken.entry_id) == ("edited", made[1].pk)


def test_a_deleted_entry_is_found_at_its_successor(world, capsys):
    made = entries(5)
    tamper("DELETE FROM audit_auditentry WHERE id = %s", [made[2].pk])
    state = verify()
    assert not state.ok and state.broken.kind == "deleted"
    assert state.broken.entry_id == made[3].pk
    assert f"#{made[2].pk}" in state.broken.detail
    code, out = _broken(capsys)
    assert code == 1 and f"BROKEN at entry #{made[3].pk}" in out and "deleted" in out


def test_deleting_the_first_entries_is_found(world):
    made = entries(3)
    first = AuditEntry.objects.order_by("id").first()
    tamper("DELETE FROM audit_auditentry WHERE id = %s", [first.pk])
    state = verify()
    assert state.broken.kind == "deleted"
    assert state.broken.entry_id == AuditEntry.objects.order_by("id").first().pk
    assert made


def test_deleting_the_newest_entries_is_found_by_the_head(world):
    made = entries(4)
    tamper("DELETE FROM audit_auditentry WHERE id >= %s", [made[2].pk])
    state = verify()
    assert not state.ok and state.broken.kind == "head"
    assert state.broken.entry_id == made[3].pk and state.last_id == made[1].pk


def test_swapped_entries_are_reported_as_reordered(world):
    made = entries(5)
    a, b = made[1].pk, made[2].pk
    # the contents change places, the ids stay
    tamper(f"UPDATE audit_auditentry SET id = -1 WHERE id = {a}")
    tamper(f"UPDATE audit_auditentry SET id = {a} WHERE id = {b}")
    tamper(f"UPDATE audit_auditentry SET id = {b} WHERE id = -1")
    state = verify()
    assert not state.ok and state.broken.kind == "reordered"
    assert state.broken.entry_id == a and f"#{b}" in state.broken.detail


def test_an_entry_rewritten_with_a_recomputed_hash_is_found_at_the_next_link(world):
    made = entries(4)
    victim = AuditEntry.objects.get(pk=made[1].pk)
    victim.actor_name = "someone-else"
    forged = hash_of(victim)
    tamper(
        "UPDATE audit_auditentry SET actor_name = %s, entry_hash = %s WHERE id = %s",
        ["someone-else", forged, victim.pk],
    )
    state = verify()
    assert not state.ok and state.broken.kind == "rewritten"
    assert state.broken.entry_id == made[2].pk


def test_only_the_first_break_is_reported(world):
    made = entries(6)
    tamper("UPDATE audit_auditentry SET note = 'x' WHERE id = %s", [made[4].pk])
    tamper("UPDATE audit_auditentry SET note = 'y' WHERE id = %s", [made[1].pk])
    assert verify().broken.entry_id == made[1].pk


def test_appends_after_tampering_still_chain_to_the_head(world):
    made = entries(3)
    tamper("UPDATE audit_auditentry SET note = 'x' WHERE id = %s", [made[0].pk])
    later = entries(1)[0]
    assert AuditEntry.objects.get(pk=later.pk).prev_hash == made[-1].entry_hash
    assert verify().broken.entry_id == made[0].pk


def test_the_orm_cannot_change_or_bulk_write_entries(world):
    from dualcontrol.audit.models import AppendOnlyError

    made = entries(1)[0]
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.bulk_create([AuditEntry(action="x", object_type="y")])
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=made.pk).update(note="x")
    direct = AuditEntry.objects.create(action="direct", object_type="tests.thing")
    assert direct.prev_hash == made.entry_hash and verify().ok  # a direct create is chained too
