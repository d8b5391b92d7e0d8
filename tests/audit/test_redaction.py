"""No secret is ever stored: the redaction list (audit_policy.yaml) applies inside record()."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from dualcontrol.accounts.models import Role, User
from dualcontrol.audit.models import AuditEntry
from dualcontrol.audit.policy import policy, redact, redact_text
from dualcontrol.audit.services import record, snapshot
from tests.auth import login

MARK = "[redacted]"


def _all_text() -> str:
    return json.dumps(
        list(AuditEntry.objects.values("object_repr", "before", "after", "note")),
        ensure_ascii=False,
    )


def test_secret_keys_are_redacted_at_any_depth_case_insensitively():
    value = {
        "Password": "pw",
        "nested": {"KEY_HASH": "abc", "list": [{"Secret": "s", "keep": 1}], "otp": "123456"},
        "recovery-codes": ["a", "b"],
        "new_password1": "x",
        "api_token": "t",
        "token_prefix": "Ab12Cd34",  # identifies a token, not secret
        "revoked_tokens": 3,
        "key": "3.1",  # a task number / scoring item elsewhere
        "name": "张三",
        "password_empty": "",
        "token": None,
    }
    out = redact(value)
    assert out["Password"] == MARK and out["nested"]["KEY_HASH"] == MARK
    assert out["nested"]["list"][0] == {"Secret": MARK, "keep": 1}
    assert out["nested"]["otp"] == MARK and out["recovery-codes"] == MARK
    assert out["new_password1"] == MARK and out["api_token"] == MARK
    assert out["token_prefix"] == "Ab12Cd34" and out["revoked_tokens"] == 3
    assert out["key"] == "3.1" and out["name"] == "张三"
    assert out["password_empty"] == "" and out["token"] is None  # nothing hidden there
    # a second-factor device's seed is its ``key``
    assert redact({"key": "3132abcd"}, object_type="otp_totp.totpdevice") == {"key": MARK}


def test_password_hashes_are_redacted_whatever_their_key():
    assert redact({"old": "md5$salt$0123abcd"}) == {"old": MARK}
    assert redact(["pbkdf2_sha256$870000$salt$hash="]) == [MARK]
    assert redact_text("reset: password=hunter2 then token: abc, code 5") == (
        f"reset: password={MARK} then token: {MARK}, code 5"
    )
    assert MARK in redact_text("was argon2$argon2id$v=19$xyz now")
    assert (
        redact_text("已重置密码：Abc-123，验证码 = 654321")
        == f"已重置密码：{MARK}，验证码 = {MARK}"
    )


@pytest.mark.django_db
def test_record_stores_nothing_secret(world):
    entry = record(
        actor=world.users[Role.SYSTEM_ADMIN],
        action="test.secret",
        obj=world.users[Role.CITY_OFFICER],
        before=snapshot(world.users[Role.CITY_OFFICER]),
        after={"password": "new", "otp": "654321", "detail": {"secret": "s"}},
        note={"token": "raw-token", "reason": "轮换"},
    )
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.before["password"] == MARK and stored.before["username"] == "city1"
    assert stored.after == {"password": MARK, "otp": MARK, "detail": {"secret": MARK}}
    assert json.loads(stored.note) == {"token": MARK, "reason": "轮换"}
    assert world.users[Role.CITY_OFFICER].password not in _all_text()


@pytest.mark.django_db
def test_no_password_hash_in_any_row_after_creating_and_changing_a_user_in_the_admin(world, client):
    admin = world.users[Role.SYSTEM_ADMIN]
    login(client, admin)
    r = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "newofficer",
            "password1": "Yunnan-2026-strong!",
            "password2": "Yunnan-2026-strong!",
            "usable_password": "true",
            "_continue": "1",
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    created = User.objects.get(username="newofficer")
    page = client.get(f"/admin/accounts/user/{created.pk}/change/")
    form = page.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None or name == "password":
            continue
        if hasattr(value, "all"):
            value = [o.pk for o in value.all()]
        if isinstance(value, list | tuple):
            data[name] = [getattr(v, "pk", v) for v in value]
        elif isinstance(value, dt.datetime):  # the admin's split date/time widget
            local = timezone.localtime(value)
            data[f"{name}_0"], data[f"{name}_1"] = local.date().isoformat(), f"{local:%H:%M:%S}"
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = getattr(value, "pk", value)
    data.update({"first_name": "新", "role": Role.CITY_OFFICER, "division": world.city.pk})
    r = client.post(f"/admin/accounts/user/{created.pk}/change/", data)
    assert r.status_code == 302, r.context["adminform"].form.errors if r.context else r
    created.refresh_from_db()
    assert created.first_name == "新" and created.password.startswith("md5$")
    text = _all_text()
    assert created.password not in text and admin.password not in text
    assert "md5$" not in text
    add = AuditEntry.objects.get(action="admin.add", object_id=str(created.pk))
    change = AuditEntry.objects.get(action="admin.change", object_id=str(created.pk))
    assert add.after["password"] == MARK
    assert change.before["first_name"] == "" and change.after["first_name"] == "新"
    assert change.after["password"] == MARK


def test_the_policy_file_loads_with_its_sources():
    p = policy()
    assert "password" in p.keys and "key_hash" in p.keys and "recovery_codes" in p.keys
    assert p.marker == MARK and p.page_max_entries > 0
    assert p.version.startswith("audit_policy.yaml@")


@pytest.mark.django_db
def test_a_malformed_redaction_list_is_refused(monkeypatch):
    from dualcontrol.audit import policy as mod

    def broken(name):
        return "x@0", {"redaction": {"keys": [], "key_patterns": ["("]}, "verification": {}}

    mod._build.cache_clear()
    monkeypatch.setattr(mod, "load_yaml", broken)
    try:
        with pytest.raises(ImproperlyConfigured) as exc:
            mod.policy()
        text = str(exc.value)
        assert "key_patterns" in text and "keys is empty" in text and "page_max_entries" in text
    finally:
        mod._build.cache_clear()
