"""Password policy (GB/T 22239-2019 8.1.4.1 a): validators, history, self-service change for every
role, forced change of an administrator-set password.  Numbers from login_policy.yaml."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client

from dualcontrol.accounts.lockout import SECURITY_GROUP
from dualcontrol.accounts.models import PasswordHistory, Role, User
from dualcontrol.accounts.passwords import character_classes
from dualcontrol.audit.models import AuditEntry
from tests.auth import login
from tests.factories import PASSWORD, user

pytestmark = pytest.mark.django_db

GOOD = "Vq8tLmx2rp-river"


def codes(password: str, who: User | None) -> list[str]:
    try:
        validate_password(password, who)
    except ValidationError as exc:
        return sorted(e.code for e in exc.error_list)
    return []


def test_character_classes():
    assert character_classes("abc") == {"lower"}
    assert character_classes("Ab1-") == {"upper", "lower", "digit", "other"}
    assert character_classes("密码Ab") == {"upper", "lower", "other"}


def test_demo1234_refused():
    who = user("zhang.wei", Role.ENTERPRISE)
    found = codes("demo1234", who)
    assert "password_too_short" in found and "password_too_simple" in found


def test_username_refused_itself_and_inside():
    who = user("zhang.wei.2026", Role.ENTERPRISE)
    # the username alone has 3 classes and 14 characters: only the username rule refuses it
    assert codes("zhang.wei.2026", who) == ["password_contains_username"]
    assert codes("ZHANG.WEI.2026-Qx", who) == ["password_contains_username"]
    assert codes(GOOD, who) == []


def test_length_and_classes():
    who = user("li.na", Role.ENTERPRISE)
    assert settings.LOGIN_POLICY.min_length == 10 and settings.LOGIN_POLICY.min_classes == 3
    assert codes("Vq8-tLm", who) == ["password_too_short"]
    assert codes("vqxtlmzrpwk", who) == ["password_too_simple"]  # one class
    assert codes("vq8tlm2rpw", who) == ["password_too_simple"]  # two classes
    assert codes("Vq8tLmx2rp", who) == []  # three classes, ten characters
    assert codes("vq8tlm2rp-", who) == []  # lower, digit, other


def test_common_password_refused():
    who = user("wang.fang", Role.ENTERPRISE)
    assert "password_too_common" in codes("Password123", who)


def test_history_of_last_n_passwords():
    n = settings.LOGIN_POLICY.history
    assert n == 5
    who = user("chen.jie", Role.ENTERPRISE)  # starts with PASSWORD
    used = [f"Hist-{i}-pass-x" for i in range(1, n + 1)]
    for pw in used:
        who.set_password(pw)
        who.save()
    # the last n passwords (the current one included) are refused, the older one is allowed
    for pw in used:
        assert codes(pw, who) == ["password_reused"], pw
    assert codes(PASSWORD, who) == []
    rows = list(PasswordHistory.objects.filter(user=who))
    assert len(rows) == n
    # hashes only, never the password itself
    assert all(r.password.startswith("md5$") for r in rows)
    assert not any(pw in r.password for r in rows for pw in used)


def test_history_sees_every_way_of_changing_the_hash():
    who = user("zhao.lei", Role.ENTERPRISE)
    assert PasswordHistory.objects.filter(user=who).count() == 1
    who.password = make_password("Direct-assign-99")  # e.g. a script
    who.save()
    assert PasswordHistory.objects.filter(user=who).count() == 2
    assert codes("Direct-assign-99", who) == ["password_reused"]
    who.last_login = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    who.save(update_fields=["last_login"])
    who.save()  # unchanged hash: nothing new
    assert PasswordHistory.objects.filter(user=who).count() == 2


def test_validators_listed_as_help():
    from django.contrib.auth.password_validation import password_validators_help_texts

    text = " ".join(password_validators_help_texts())
    assert "10" in text and "至少 3 类" in text and "用户名" in text and "最近 5 次" in text


# --- self-service change, every role ------------------------------------------------------------

ROLES = [
    Role.PROVINCE_ADMIN,
    Role.PROVINCE_OFFICER,
    Role.CITY_OFFICER,
    Role.ENTERPRISE,
    Role.VERIFIER,
    Role.SYSTEM_ADMIN,
    Role.SECURITY_ADMIN,
    Role.AUDITOR,
]


def change(c: Client, old: str, new: str, again: str | None = None):
    return c.post(
        "/accounts/password/",
        {"old_password": old, "new_password1": new, "new_password2": again or new},
    )


@pytest.mark.parametrize("role", ROLES)
def test_every_role_changes_its_own_password(world, role):
    who = world.users[role]
    c = login(Client(), who)
    page = c.get("/")
    assert 'href="/accounts/password/"' in page.content.decode()  # the link in the user menu
    assert c.get("/accounts/password/").status_code == 200
    r = change(c, PASSWORD, GOOD)
    assert r.status_code == 302 and r.url == "/accounts/password/done/"
    assert c.get(r.url).status_code == 200  # still logged in
    who.refresh_from_db()
    assert who.check_password(GOOD)
    entry = AuditEntry.objects.get(action="password.change")
    assert entry.actor == who
    assert GOOD not in json.dumps([entry.before, entry.after], ensure_ascii=False)


def test_public_user_changes_password(db):
    who = user("citizen.one", Role.PUBLIC)
    c = login(Client(), who)
    assert change(c, PASSWORD, GOOD).status_code == 302
    who.refresh_from_db()
    assert who.check_password(GOOD)


def test_anonymous_sent_to_login():
    r = Client().get("/accounts/password/")
    assert r.status_code == 302 and r.url.startswith("/accounts/login/")


def test_page_refuses_a_weak_password_listing_every_problem(world):
    who = world.users[Role.ENTERPRISE]
    c = login(Client(), who)
    r = change(c, PASSWORD, "demo1234")
    assert r.status_code == 200
    page = r.content.decode()
    assert 'class="problems"' in page and "至少 3 类" in page and "10" in page
    r = change(c, PASSWORD, who.username.upper() + "-Qx-2026")
    assert "用户名" in r.content.decode()
    r = change(c, PASSWORD, PASSWORD)  # the current password
    assert "最近 5 次" in r.content.decode()
    r = change(c, "not-my-password", GOOD)
    assert r.status_code == 200
    who.refresh_from_db()
    assert who.check_password(PASSWORD)
    assert not AuditEntry.objects.filter(action="password.change").exists()


# --- forced change of an administrator-set password ---------------------------------------------

INITIAL = "Initial-Pass-2026"


def admin_creates(world) -> User:
    admin = login(Client(), world.users[Role.SYSTEM_ADMIN])
    r = admin.post(
        "/admin/accounts/user/add/",
        {
            "username": "newbie",
            "usable_password": "true",
            "password1": INITIAL,
            "password2": INITIAL,
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    newbie = User.objects.get(username="newbie")
    assert newbie.must_change_password
    # give it a role with pages and API calls of its own
    User.objects.filter(pk=newbie.pk).update(role=Role.ENTERPRISE, entity=world.unit)
    newbie.refresh_from_db()
    return newbie


def test_admin_created_account_must_change_its_password(world):
    newbie = admin_creates(world)
    c = Client()
    r = c.post("/accounts/login/", {"username": "newbie", "password": INITIAL})
    assert r.status_code == 302
    for path in ("/", "/reports/", "/entities/", "/admin/"):
        r = c.get(path)
        assert r.status_code == 302 and r.url == "/accounts/password/", path
    page = c.get("/accounts/password/").content.decode()
    assert "须先设置自己的新密码" in page
    # allowed meanwhile: the second-factor pages, the language switch, logout
    r = c.get("/accounts/2fa/")
    assert not (r.status_code == 302 and r.url == "/accounts/password/")
    # API calls answer 403 with a message: session …
    r = c.get("/api/entities/")
    assert r.status_code == 403 and r.json()["code"] == "password_change_required"
    # … and bearer token (if the token endpoint issues one at all)
    t = Client().post(
        "/api/auth/token",
        json.dumps({"username": "newbie", "password": INITIAL}),
        content_type="application/json",
    )
    if t.status_code == 200:
        r = Client().get("/api/entities/", HTTP_AUTHORIZATION=f"Bearer {t.json()['token']}")
        assert r.status_code == 403 and "修改" in r.json()["detail"]
    else:
        assert t.status_code == 403
    # the initial password cannot be kept
    assert "最近 5 次" in change(c, INITIAL, INITIAL).content.decode()
    r = change(c, INITIAL, GOOD)
    assert r.status_code == 302
    newbie.refresh_from_db()
    assert not newbie.must_change_password
    assert c.get("/reports/").status_code == 200
    assert c.get("/api/entities/").status_code == 200
    assert AuditEntry.objects.get(action="password.change").after["was_forced"] is True


def test_logout_allowed_while_forced(world):
    admin_creates(world)
    c = Client()
    c.post("/accounts/login/", {"username": "newbie", "password": INITIAL})
    r = c.post("/accounts/logout/")
    assert r.status_code == 302 and "/accounts/password/" not in r.url
    assert "_auth_user_id" not in c.session


def test_admin_reset_forces_a_change(world):
    target = world.users[Role.ENTERPRISE]
    sysadmin = world.users[Role.SYSTEM_ADMIN]
    admin = login(Client(), sysadmin)
    r = admin.post(
        f"/admin/accounts/user/{target.pk}/password/",
        {"usable_password": "true", "password1": INITIAL, "password2": INITIAL},
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    target.refresh_from_db()
    assert target.check_password(INITIAL) and target.must_change_password
    entry = AuditEntry.objects.get(action="password.admin_set")
    assert entry.actor == sysadmin and entry.object_id == str(target.pk)
    assert INITIAL not in json.dumps([entry.before, entry.after], ensure_ascii=False)
    # the admin form applies the policy too
    r = admin.post(
        f"/admin/accounts/user/{target.pk}/password/",
        {"usable_password": "true", "password1": "demo1234", "password2": "demo1234"},
    )
    assert r.status_code == 200
    target.refresh_from_db()
    assert target.check_password(INITIAL)
    c = Client()
    c.post("/accounts/login/", {"username": target.username, "password": INITIAL})
    assert c.get("/reports/").url == "/accounts/password/"


def test_admin_setting_own_password_is_not_forced(world):
    sysadmin = world.users[Role.SYSTEM_ADMIN]
    admin = login(Client(), sysadmin)
    r = admin.post(
        f"/admin/accounts/user/{sysadmin.pk}/password/",
        {"usable_password": "true", "password1": GOOD, "password2": GOOD},
    )
    assert r.status_code == 302
    sysadmin.refresh_from_db()
    assert sysadmin.check_password(GOOD) and not sysadmin.must_change_password


def test_demo_accounts_not_forced_and_security_admin_grouped():
    from dualcontrol.demo.builder import DEMO_USERS, build

    build(dt.date(2026, 11, 21), units=1, months_limit=1)
    demo = User.objects.filter(username__in=DEMO_USERS)
    assert demo.count() == len(DEMO_USERS)
    assert not demo.filter(must_change_password=True).exists()
    assert User.objects.get(username="demo-security").groups.filter(name=SECURITY_GROUP).exists()
