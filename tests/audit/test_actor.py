"""Deleting or renaming a user never touches its audit entries (issue 23: a deletion rewrote three)."""

from __future__ import annotations

import pytest

from dualcontrol.accounts.models import Role, User
from dualcontrol.audit.chain import verify
from dualcontrol.audit.models import AuditEntry
from tests.audit.helpers import entries
from tests.auth import login
from tests.factories import user

pytestmark = pytest.mark.django_db


def _rows(actor: User) -> list[dict]:
    return list(AuditEntry.objects.filter(actor_name=actor.username).order_by("id").values())


def test_deleting_a_user_leaves_its_entries_unchanged(world):
    gone = user("leaver", Role.CITY_OFFICER, division=world.city)
    entries(3, actor=gone)
    before = _rows(gone)
    assert len(before) == 3 and all(r["actor_id"] == gone.pk for r in before)
    pk = gone.pk
    gone.delete()
    after = list(AuditEntry.objects.filter(actor_id=pk).order_by("id").values())
    assert after == before  # same actor id, same name, same hashes: nothing was written
    assert verify().ok


def test_renaming_a_user_leaves_its_entries_unchanged(world):
    officer = world.users[Role.CITY_OFFICER]
    entries(2, actor=officer)
    before = _rows(officer)
    officer.username = "city1-renamed"
    officer.save()
    assert list(AuditEntry.objects.filter(actor_id=officer.pk).order_by("id").values()) == before
    assert all(r["actor_name"] == "city1" for r in before)
    assert verify().ok


def test_deleting_a_user_in_the_admin_keeps_the_entries_and_records_the_deletion(world, client):
    gone = user("leaver2", Role.VERIFIER)
    gone.assigned_entities.set([world.unit])
    entries(2, actor=gone)
    before = _rows(gone)
    admin = world.users[Role.SYSTEM_ADMIN]
    login(client, admin)
    r = client.post(f"/admin/accounts/user/{gone.pk}/delete/", {"post": "yes"})
    assert r.status_code == 302, r.content[:500]
    assert not User.objects.filter(pk=gone.pk).exists()
    assert _rows(gone) == before
    deletion = AuditEntry.objects.get(action="admin.delete", object_id=str(gone.pk))
    assert deletion.actor_name == admin.username
    assert deletion.before["assigned_entities"] == [world.unit.pk]
    assert deletion.before["password"] == "[redacted]"
    assert verify().ok
