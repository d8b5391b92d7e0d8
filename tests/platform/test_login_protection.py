"""Login protection (GB/T 22239-2019 8.1.4.1 b): lockout on every login path, audit, session
limits, API rate limits.  Numbers from reference/data/login_policy.yaml (via settings)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import Group
from django.db.models import F
from django.test import Client
from django.utils import timezone

from dualcontrol.accounts import sessions
from dualcontrol.accounts.lockout import SECURITY_GROUP, security_group
from dualcontrol.accounts.models import Role
from dualcontrol.accounts.policy import load_login_policy
from dualcontrol.audit.models import AuditEntry
from tests.auth import api_token, login
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

WRONG = "Wrong-guess-0815"
LIMIT = settings.AXES_FAILURE_LIMIT


def web_login(c: Client, username: str, password: str) -> Any:
    return c.post("/accounts/login/", {"username": username, "password": password})


def admin_login(c: Client, username: str, password: str) -> Any:
    return c.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password, "next": "/admin/"},
    )


def api_login(c: Client, username: str, password: str) -> Any:
    body = json.dumps({"username": username, "password": password})
    return c.post("/api/auth/token", body, content_type="application/json")


def logged_in(c: Client, r: Any, path: str) -> bool:
    if path == "api":
        return r.status_code == 200 and "token" in r.json()
    return r.status_code == 302 and "_auth_user_id" in c.session


# (path, sender, user key): the admin path needs a staff account
PATHS = [
    ("web", web_login, Role.ENTERPRISE),
    ("admin", admin_login, Role.SECURITY_ADMIN),
    ("api", api_login, Role.ENTERPRISE),
]


def cool_off_passes() -> None:
    """Move every failure counter back past the cool-off (what waiting would do)."""
    AccessAttempt.objects.update(
        attempt_time=F("attempt_time") - settings.AXES_COOLOFF_TIME - dt.timedelta(seconds=1)
    )


def test_policy_numbers_come_from_the_data_file():
    policy = load_login_policy()
    assert settings.AXES_FAILURE_LIMIT == policy.failure_limit == 5
    assert dt.timedelta(minutes=policy.cool_off_minutes) == settings.AXES_COOLOFF_TIME
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.SESSION_IDLE_TIMEOUT == 30 * 60
    assert settings.SESSION_ABSOLUTE_TIMEOUT == settings.SESSION_COOKIE_AGE == 8 * 3600
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.AXES_ENABLED is True


@pytest.mark.parametrize("path,send,role", PATHS, ids=[p[0] for p in PATHS])
def test_lockout_on_every_login_path(world, path, send, role):
    user = world.users[role]
    c = Client()
    for _ in range(LIMIT - 1):
        r = send(c, user.username, WRONG)
        assert r.status_code in (200, 401), r.status_code
        assert not logged_in(c, r, path)
    r = send(c, user.username, WRONG)  # the LIMIT-th failure locks
    assert r.status_code == 429
    # while locked, the right password is refused too
    r = send(c, user.username, PASSWORD)
    assert r.status_code == 429 and not logged_in(c, r, path)
    assert int(r["Retry-After"]) > (settings.AXES_COOLOFF_TIME.total_seconds() - 60)
    if path == "api":
        body = r.json()
        assert body["code"] == "locked_out" and "安全管理员" in body["detail"]
    else:
        page = r.content.decode()
        assert "登录已锁定" in page and "安全管理员" in page
    # the lock holds username + address: the same account from another address still works
    other = Client(REMOTE_ADDR="10.9.8.7")
    assert logged_in(other, send(other, user.username, PASSWORD), path)
    # after the cool-off the right password works again
    cool_off_passes()
    c = Client()
    assert logged_in(c, send(c, user.username, PASSWORD), path)

    failed = AuditEntry.objects.filter(action="login.failed", object_repr=user.username)
    assert failed.count() == LIMIT + 1
    assert all(e.after["username"] == user.username for e in failed)
    assert all(e.after["ip"] == "127.0.0.1" for e in failed)
    assert {e.after["path"] for e in failed} <= {
        "/accounts/login/",
        "/admin/login/",
        "/api/auth/token",
    }
    assert failed.filter(after__locked_out=True).count() == 2
    locked = AuditEntry.objects.get(action="login.locked_out")
    assert locked.after["username"] == user.username and locked.after["failures"] == LIMIT
    # a web or admin login opens a session (login.success); the API issues a token instead
    success = "api_token.issue" if path == "api" else "login.success"
    assert AuditEntry.objects.filter(action=success, actor=user).count() == 2
    # no password (right or wrong) is ever stored in the audit log
    for e in AuditEntry.objects.all():
        text = json.dumps([e.before, e.after, e.note, e.object_repr], ensure_ascii=False)
        assert PASSWORD not in text and WRONG not in text


def test_success_clears_the_failure_count(world):
    user = world.users[Role.ENTERPRISE]
    c = Client()
    for _ in range(LIMIT - 1):
        web_login(c, user.username, WRONG)
    assert logged_in(c, web_login(c, user.username, PASSWORD), "web")
    c = Client()
    for _ in range(LIMIT - 1):
        assert web_login(c, user.username, WRONG).status_code == 200
    assert logged_in(c, web_login(c, user.username, PASSWORD), "web")


def test_unknown_username_is_counted_and_audited(world):
    c = Client()
    for _ in range(LIMIT):
        r = web_login(c, "nobody-here", WRONG)
    assert r.status_code == 429
    assert AuditEntry.objects.filter(action="login.failed", object_repr="nobody-here").count() == (
        LIMIT
    )


def test_login_and_logout_audited(world):
    user = world.users[Role.ENTERPRISE]
    c = Client()
    web_login(c, user.username, PASSWORD)
    entry = AuditEntry.objects.get(action="login.success")
    assert entry.actor == user
    assert entry.after == {"ip": "127.0.0.1", "path": "/accounts/login/"}
    c.post("/accounts/logout/")
    assert AuditEntry.objects.filter(action="logout", actor=user).count() == 1


# --- security administrators see and clear locks ------------------------------------------------


def lock(user: Any, address: str = "127.0.0.1") -> None:
    c = Client(REMOTE_ADDR=address)
    for _ in range(LIMIT):
        web_login(c, user.username, WRONG)
    assert AccessAttempt.objects.filter(username=user.username, ip_address=address).exists()


def test_security_admin_clears_a_lock(world):
    victim = world.users[Role.ENTERPRISE]
    lock(victim)
    sec = login(Client(), world.users[Role.SECURITY_ADMIN])
    page = sec.get("/accounts/security/lockouts/")
    assert page.status_code == 200
    text = page.content.decode()
    assert victim.username in text and "已锁定" in text
    attempt = AccessAttempt.objects.get(username=victim.username)
    r = sec.post(f"/accounts/security/lockouts/{attempt.pk}/unlock/")
    assert r.status_code == 302
    assert not AccessAttempt.objects.filter(username=victim.username).exists()
    entry = AuditEntry.objects.get(action="login.unlock")
    assert entry.actor == world.users[Role.SECURITY_ADMIN]
    assert entry.before["username"] == victim.username and entry.before["failures"] == LIMIT
    c = Client()
    assert logged_in(c, web_login(c, victim.username, PASSWORD), "web")


@pytest.mark.parametrize(
    "role",
    [
        Role.PROVINCE_ADMIN,
        Role.PROVINCE_OFFICER,
        Role.CITY_OFFICER,
        Role.ENTERPRISE,
        Role.VERIFIER,
        Role.SYSTEM_ADMIN,
        Role.AUDITOR,
    ],
)
def test_lock_page_refused_to_other_roles(world, role):
    lock(world.users[Role.ENTERPRISE])
    c = login(Client(), world.users[role])
    assert c.get("/accounts/security/lockouts/").status_code == 403
    attempt = AccessAttempt.objects.get()
    assert c.post(f"/accounts/security/lockouts/{attempt.pk}/unlock/").status_code == 403
    assert AccessAttempt.objects.exists()


def test_lock_page_sends_anonymous_to_login(world):
    r = Client().get("/accounts/security/lockouts/")
    assert r.status_code == 302 and "/accounts/login/" in r.url


def test_security_group_from_migration():
    group = Group.objects.get(name=SECURITY_GROUP)
    perms = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
    assert perms == {
        "axes.view_accessattempt",
        "axes.delete_accessattempt",
        "axes.view_accessfailurelog",
        "axes.view_accesslog",
    }
    assert security_group() == group  # idempotent


def test_security_group_member_clears_lock_in_admin(world):
    victim = world.users[Role.ENTERPRISE]
    lock(victim)
    sec_user = world.users[Role.SECURITY_ADMIN]
    sec = login(Client(), sec_user)
    assert sec.get("/admin/axes/accessattempt/").status_code == 403  # no group yet
    sec_user.groups.add(security_group())
    assert sec.get("/admin/axes/accessattempt/").status_code == 200
    assert sec.get("/admin/axes/accessfailurelog/").status_code == 200
    attempt = AccessAttempt.objects.get()
    assert sec.get(f"/admin/axes/accessattempt/{attempt.pk}/change/").status_code == 200
    r = sec.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert r.status_code == 302
    assert not AccessAttempt.objects.exists()
    entry = AuditEntry.objects.get(action="login.unlock")
    assert entry.actor == sec_user and entry.note == "admin"
    # the logs are read-only, even for the group
    log = sec.get("/admin/axes/accessfailurelog/")
    assert "delete_selected" not in log.content.decode()


# --- session limits ------------------------------------------------------------------------------


def shift_session(c: Client, **seconds: float) -> None:
    s = c.session
    for key, delta in seconds.items():
        s[key] = float(s[key]) - delta
    s.save()


def test_idle_timeout_logs_out(world):
    user = world.users[Role.ENTERPRISE]
    c = Client()
    web_login(c, user.username, PASSWORD)
    assert c.get("/reports/").status_code == 200
    shift_session(c, **{sessions.LAST_SEEN: settings.SESSION_IDLE_TIMEOUT - 60})
    assert c.get("/reports/").status_code == 200  # 29 minutes idle: still in
    shift_session(c, **{sessions.LAST_SEEN: settings.SESSION_IDLE_TIMEOUT + 1})
    r = c.get("/reports/")
    assert r.status_code == 302 and r.url.startswith("/accounts/login/?next=/reports/")
    assert "_auth_user_id" not in c.session
    entry = AuditEntry.objects.get(action="session.expired")
    assert entry.actor == user and entry.after["reason"] == "idle"
    assert not AuditEntry.objects.filter(action="logout").exists()
    page = c.get(r.url).content.decode()
    assert "30 分钟未操作" in page


def test_absolute_limit_ends_an_active_session(world, monkeypatch):
    user = world.users[Role.ENTERPRISE]
    c = Client()
    web_login(c, user.username, PASSWORD)
    start = timezone.now()
    clock = {"now": start}
    monkeypatch.setattr("django.utils.timezone.now", lambda: clock["now"])
    # active every 20 minutes until the end of a working day: the idle limit never strikes
    step = dt.timedelta(minutes=20)
    limit = dt.timedelta(seconds=settings.SESSION_ABSOLUTE_TIMEOUT)
    while clock["now"] + step - start < limit:
        clock["now"] += step
        assert c.get("/reports/").status_code == 200, clock["now"] - start
    assert clock["now"] - start == limit - step
    clock["now"] = start + dt.timedelta(seconds=settings.SESSION_ABSOLUTE_TIMEOUT + 1)
    r = c.get("/reports/")
    assert r.status_code == 302 and "/accounts/login/" in r.url
    entry = AuditEntry.objects.get(action="session.expired")
    assert entry.after["reason"] == "absolute"
    assert "8 小时" in c.get(r.url).content.decode()


def test_idle_session_api_call_answers_401(world):
    user = world.users[Role.ENTERPRISE]
    c = Client()
    web_login(c, user.username, PASSWORD)
    assert c.get("/api/entities/").status_code == 200
    shift_session(c, **{sessions.LAST_SEEN: settings.SESSION_IDLE_TIMEOUT + 1})
    r = c.get("/api/entities/")
    assert r.status_code == 401 and r.json()["code"] == "session_expired_idle"


def test_limits_configurable(world, settings):
    settings.SESSION_IDLE_TIMEOUT = 5 * 60
    user = world.users[Role.ENTERPRISE]
    c = Client()
    web_login(c, user.username, PASSWORD)
    shift_session(c, **{sessions.LAST_SEEN: 6 * 60})
    assert c.get("/reports/").status_code == 302


# --- API rate limits -----------------------------------------------------------------------------


def test_anonymous_api_throttled(world, settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "anon": "3/min"}
    c = Client()
    for _ in range(3):
        assert c.get("/api/public/publications").status_code == 200
    r = c.get("/api/public/publications")
    assert r.status_code == 429
    assert r.json()["code"] == "throttled" and int(r["Retry-After"]) >= 1
    # another address has its own allowance
    assert Client(REMOTE_ADDR="10.1.1.1").get("/api/public/publications").status_code == 200


def test_authenticated_api_throttled_per_user(world, settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "auth": "2/min"}
    c = Client()
    token = api_token(c, world.users[Role.ENTERPRISE], PASSWORD)
    h = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert c.get("/api/entities/", **h).status_code == 200
    assert c.get("/api/entities/", **h).status_code == 200
    assert c.get("/api/entities/", **h).status_code == 429
    other = api_token(Client(), world.users[Role.VERIFIER], PASSWORD)
    assert c.get("/api/entities/", HTTP_AUTHORIZATION=f"Bearer {other}").status_code == 200


def test_token_endpoint_throttled(world, settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "login": "2/min"}
    c = Client()
    user = world.users[Role.ENTERPRISE]
    assert api_login(c, user.username, WRONG).status_code == 401
    assert api_login(c, user.username, WRONG).status_code == 401
    assert api_login(c, user.username, PASSWORD).status_code == 429
    # refused before authentication: two failures counted, no lock
    assert AccessAttempt.objects.get().failures_since_start == 2


def test_default_rates_leave_normal_use_alone(world):
    c = Client()
    for _ in range(30):
        assert c.get("/api/public/publications").status_code == 200


def test_behind_a_proxy_the_forwarded_address_counts(world, settings):
    settings.PROXY_COUNT = 1
    user = world.users[Role.ENTERPRISE]
    via_proxy = {"REMOTE_ADDR": "10.0.0.1"}
    c = Client(**via_proxy, HTTP_X_FORWARDED_FOR="198.51.100.7")
    for _ in range(LIMIT):
        web_login(c, user.username, WRONG)
    assert AccessAttempt.objects.get().ip_address == "198.51.100.7"
    assert web_login(c, user.username, PASSWORD).status_code == 429
    # another client behind the same proxy is not locked out
    other = Client(**via_proxy, HTTP_X_FORWARDED_FOR="198.51.100.8")
    assert logged_in(other, web_login(other, user.username, PASSWORD), "web")


def test_malformed_policy_refused_with_every_problem(monkeypatch):
    from dualcontrol.accounts import policy
    from dualcontrol.reference import ReferenceDataError

    _, good = policy.load_yaml(policy.POLICY_FILE)
    bad = {
        **good,
        "lockout": {**good["lockout"], "failure_limit": 0},
        "password": {**good["password"], "min_classes": 5},
        "api_throttle": {**good["api_throttle"], "anon": "lots"},
    }
    monkeypatch.setattr(policy, "load_yaml", lambda name: ("v", bad))
    with pytest.raises(ReferenceDataError) as exc:
        policy.load_login_policy()
    text = str(exc.value)
    assert "lockout.failure_limit" in text
    assert "password.min_classes" in text
    assert "api_throttle.anon" in text
