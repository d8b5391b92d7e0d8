"""The /audit/ page shows the chain state to the auditor (and only to the auditor)."""

from __future__ import annotations

import dataclasses

import pytest

from dualcontrol.accounts.models import Role
from dualcontrol.audit import policy as policy_mod
from dualcontrol.audit.models import AuditEntry
from dualcontrol.cli import main
from tests.audit.helpers import entries, tamper
from tests.auth import login

pytestmark = pytest.mark.django_db


def _page(client, world, **params):
    login(client, world.users[Role.AUDITOR])
    r = client.get("/audit/", params)
    assert r.status_code == 200
    return r


def test_the_auditor_sees_the_chain_verified_up_to_the_last_entry(world, client):
    entries(3)
    r = _page(client, world)
    chain = r.context["chain"]
    assert chain.verified_now and chain.state.ok
    # the entries the auditor's own login wrote are verified too
    last = AuditEntry.objects.order_by("-id").first()
    assert chain.state.last_id == last.pk
    html = r.content.decode()
    assert 'data-state="ok"' in html and f"已校验至 #{last.pk}" in html
    assert last.entry_hash in html


def test_a_broken_chain_is_shown_with_its_first_break(world, client):
    made = entries(4)
    tamper("UPDATE audit_auditentry SET actor_name = 'admin1' WHERE id = %s", [made[1].pk])
    html = _page(client, world).content.decode()
    assert 'data-state="broken"' in html and "哈希链断裂" in html
    assert f"记录 #{made[1].pk}" in html and "内容被修改" in html


def _limit(monkeypatch, n: int) -> None:
    small = policy_mod.policy()
    monkeypatch.setattr(
        policy_mod, "policy", lambda: dataclasses.replace(small, page_max_entries=n)
    )


def test_a_large_log_shows_the_last_verify_run_and_checks_what_came_after(
    world, client, monkeypatch
):
    entries(2)
    _limit(monkeypatch, 0)
    html = _page(client, world).content.decode()  # logged in from here on
    assert 'data-state="unverified"' in html and "dualcontrol audit verify" in html
    assert main(["audit", "verify"]) == 0
    later = entries(2)
    _limit(monkeypatch, 3)  # the run's own entry and the two new ones: walked on the page
    r = client.get("/audit/")
    chain = r.context["chain"]
    run = chain.last_run
    assert not chain.verified_now and run.action == "audit.verify" and run.after["ok"]
    assert chain.state.ok and chain.state.count == 3 and chain.total > 3
    assert chain.state.first_id == run.after["last_id"] + 1
    assert chain.state.last_id == AuditEntry.objects.order_by("-id").first().pk
    html = r.content.decode()
    assert 'data-state="recorded"' in html and f"已校验至 #{run.after['last_id']}" in html
    assert f"与之链接无误（至 #{chain.state.last_id}）" in html
    # tampering after the run shows at once
    tamper("UPDATE audit_auditentry SET note = 'x' WHERE id = %s", [later[0].pk])
    html = client.get("/audit/").content.decode()
    assert 'data-state="broken"' in html and f"记录 #{later[0].pk}" in html


def test_too_many_entries_since_the_last_run_are_not_walked(world, client, monkeypatch):
    assert main(["audit", "verify"]) == 0
    entries(5)
    _limit(monkeypatch, 3)
    r = _page(client, world)
    assert r.context["chain"].state is None
    assert "尚未校验" in r.content.decode()


def test_the_audit_export_is_itself_recorded(world, client):
    entries(2)
    r = _page(client, world, export="xlsx")
    assert r["Content-Disposition"].startswith("attachment")
    export = AuditEntry.objects.filter(action="export").get()
    assert export.actor_name == "aud1" and export.object_type == "export.audit"
    assert export.after["rows"] >= 2


@pytest.mark.parametrize(
    "role",
    [
        Role.SYSTEM_ADMIN,
        Role.SECURITY_ADMIN,
        Role.PROVINCE_ADMIN,
        Role.PROVINCE_OFFICER,
        Role.CITY_OFFICER,
        Role.ENTERPRISE,
        Role.VERIFIER,
    ],
)
def test_only_the_auditor_reads_the_log(world, client, role):
    login(client, world.users[role])
    assert client.get("/audit/").status_code == 403
    # nor the log's tables in the admin
    assert client.get("/admin/audit/auditentry/").status_code in (302, 403)
    assert client.get("/admin/audit/auditcheckpoint/").status_code in (302, 403)


def test_the_auditor_reads_the_log_in_the_admin_too_but_cannot_change_it(world, client):
    made = entries(1)[0]
    login(client, world.users[Role.AUDITOR])
    assert client.get("/audit/").status_code == 200
    r = client.get(f"/admin/audit/auditentry/{made.pk}/change/")
    if r.status_code == 200:  # the auditor has admin access (is_staff): read-only
        assert b'name="_save"' not in r.content
    r = client.post(f"/admin/audit/auditentry/{made.pk}/delete/", {"post": "yes"})
    assert r.status_code in (302, 403)
    assert AuditEntry.objects.filter(pk=made.pk).exists()
