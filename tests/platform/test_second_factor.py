"""Second factor (TOTP + recovery codes) and the API-token lifecycle (issue 23).

Every test goes through the real paths: the login form or the session, the setup and verify pages,
``device.verify_token`` with codes computed from the device's secret, ``POST /api/auth/token``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from dualcontrol.accounts import second_factor, tokens
from dualcontrol.accounts.models import ApiToken, Role, User
from dualcontrol.audit.models import AuditEntry
from tests.auth import api_token, device_for, login, next_code
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

REQUIRED = [
    Role.PROVINCE_ADMIN,
    Role.PROVINCE_OFFICER,
    Role.CITY_OFFICER,
    Role.SYSTEM_ADMIN,
    Role.SECURITY_ADMIN,
    Role.AUDITOR,
]
OPTIONAL = [Role.ENTERPRISE, Role.VERIFIER]


def password_login(user) -> Client:
    """A client logged in through the login form (password only)."""
    c = Client()
    r = c.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert r.status_code == 302, r.content.decode()[:500]
    return c


def code_for_secret(b32: str, drift: int = 0) -> str:
    key = base64.b32decode(b32.replace(" ", ""))
    return str(totp(key, 30, 0, 6, drift)).zfill(6)


def audit(action: str):
    return AuditEntry.objects.filter(action=action)


def call(client, method, path, body=None, token=None):
    extra = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    data = json.dumps(body) if body is not None else None
    return getattr(client, method)(path, data, content_type="application/json", **extra)


# --------------------------------------------------------------------------------------------
# policy
# --------------------------------------------------------------------------------------------


def test_policy_places_every_role_once():
    p = second_factor.policy()
    # and the national officer (issue 22), who reads every province's unit data
    assert p.required_roles == {*REQUIRED, Role.NATIONAL_OFFICER}
    assert p.optional_roles == {Role.ENTERPRISE, Role.VERIFIER, Role.PUBLIC}
    assert p.staff_and_superusers and p.recovery_codes == 10 and p.digits == 6


def test_staff_flag_requires_it_whatever_the_role(world):
    ent = world.users[Role.ENTERPRISE]
    assert not second_factor.required_for(ent)
    ent.is_staff = True
    assert second_factor.required_for(ent)
    su = User.objects.create_superuser("root2", "r@example.invalid", PASSWORD)
    assert second_factor.required_for(su)


# --------------------------------------------------------------------------------------------
# pages: who is held at the door
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", REQUIRED)
def test_required_roles_go_to_setup_then_verify(world, role):
    user = world.users[role]
    c = password_login(user)
    r = c.get("/reports/")
    assert r.status_code == 302 and r.url.startswith("/accounts/2fa/setup/")
    assert "next=%2Freports%2F" in r.url
    # the session alone does not open the API either
    assert c.get("/api/reports/").status_code == 401
    device_for(user)  # enrolled elsewhere: now the verify page
    r = c.get("/reports/")
    assert r.status_code == 302 and r.url.startswith("/accounts/2fa/verify/")
    r = c.post("/accounts/2fa/verify/?next=/reports/", {"code": next_code(device_for(user))})
    assert r.status_code == 302 and r.url == "/reports/"
    assert c.get("/").status_code in (200, 302)
    assert not c.get("/").get("Location", "").startswith("/accounts/2fa/")


@pytest.mark.parametrize("role", OPTIONAL)
def test_optional_roles_are_not_held_until_they_enrol(world, role):
    user = world.users[role]
    c = password_login(user)
    assert c.get("/").status_code == 200
    assert c.get("/api/reports/").status_code == 200
    # they may enrol from their account page …
    page = c.get("/accounts/2fa/").content.decode()
    assert "/accounts/2fa/setup/" in page
    device_for(user)
    # … and then every login asks for the code
    c2 = password_login(user)
    r = c2.get("/")
    assert r.status_code == 302 and r.url.startswith("/accounts/2fa/verify/")


def test_open_paths_before_the_second_factor(world):
    c = password_login(world.users[Role.CITY_OFFICER])
    setup = c.get("/accounts/2fa/setup/")
    assert setup.status_code == 200
    assert 'href="/reports/"' not in setup.content.decode()  # no navigation before the code
    assert c.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"}).status_code == 302
    assert c.get("/accounts/2fa/").status_code == 302  # the status page is behind it
    assert c.get("/accounts/tokens/").status_code == 302
    r = c.post("/accounts/logout/")
    assert r.status_code == 302 and "/accounts/2fa/" not in r.url


def test_setup_shows_secret_as_text_then_recovery_codes_once(world):
    user = world.users[Role.CITY_OFFICER]
    c = password_login(user)
    page = c.get("/accounts/2fa/setup/").content.decode()
    secret = re.search(r'id="otp-secret" class="secret">([A-Z2-7 ]+)<', page).group(1)
    uri = re.search(r'id="otp-uri" class="secret">([^<]+)<', page).group(1)
    assert uri.startswith("otpauth://totp/") and "secret=" + secret.replace(" ", "") in uri
    assert "<img" not in page  # no QR image from an outside service
    # a reload keeps the same secret (the user may have typed it already)
    again = c.get("/accounts/2fa/setup/").content.decode()
    assert secret in again
    bad = c.post(
        "/accounts/2fa/setup/",
        {"code": "000000" if code_for_secret(secret) != "000000" else "111111"},
    )
    assert bad.status_code == 400 and "不正确" in bad.content.decode()
    assert audit("second_factor.verify_failed").filter(actor=user).count() == 1
    device = TOTPDevice.objects.get(user=user)
    device.throttling_failure_timestamp = timezone.now() - dt.timedelta(seconds=5)
    device.save()
    done = c.post("/accounts/2fa/setup/", {"code": code_for_secret(secret)})
    assert done.status_code == 200
    html = done.content.decode()
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", html)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert TOTPDevice.objects.get(user=user).confirmed
    assert audit("second_factor.enrol").filter(object_id=str(user.pk)).count() == 1
    # verified: the platform opens; the setup page does not show the secret again
    assert c.get("/reports/").status_code == 200
    r = c.get("/accounts/2fa/setup/")
    assert r.status_code == 302 and secret not in c.get(r.url).content.decode()
    # a password-only session cannot replace the device
    other = password_login(user)
    r = other.get("/accounts/2fa/setup/")
    assert r.status_code == 302 and r.url.startswith("/accounts/2fa/verify/")
    assert_nothing_secret(secrets=[secret.replace(" ", ""), device.key, *codes])


def test_wrong_code_refused_and_throttled(world):
    user = world.users[Role.PROVINCE_OFFICER]
    device = device_for(user)
    c = password_login(user)
    right = next_code(device)
    wrong = f"{(int(right) + 1) % 1000000:06d}"
    r = c.post("/accounts/2fa/verify/", {"code": wrong})
    assert r.status_code == 400 and "不正确" in r.content.decode()
    # the right code right after a wrong one: throttled (django-otp's delay, 1 s then 2, 4 …)
    r = c.post("/accounts/2fa/verify/", {"code": right})
    assert r.status_code == 400 and "错误次数过多" in r.content.decode()
    assert c.get("/").status_code == 302
    failures = list(audit("second_factor.verify_failed").order_by("id"))
    assert [f.after["throttled"] for f in failures] == [False, True]
    assert all(f.after["kind"] == "totp" and f.actor == user for f in failures)
    # the delay over, the right code passes
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - dt.timedelta(seconds=5)
    )
    r = c.post("/accounts/2fa/verify/", {"code": next_code(device)})
    assert r.status_code == 302 and c.get("/").status_code == 200
    # a code is accepted once: replaying it in a fresh session fails
    used = TOTPDevice.objects.get(pk=device.pk)
    replay = totp(used.bin_key, 30, 0, 6, used.last_t - (int(timezone.now().timestamp()) // 30))
    c2 = password_login(user)
    r = c2.post("/accounts/2fa/verify/", {"code": f"{replay:06d}"})
    assert r.status_code == 400


def test_recovery_code_works_once(world):
    user = world.users[Role.AUDITOR]
    c = password_login(user)
    second_factor.pending_device(user)
    pending = TOTPDevice.objects.get(user=user, confirmed=False)
    _device, codes = second_factor.confirm_enrolment(user=user, code=next_code(pending))
    r = c.post(
        "/accounts/2fa/verify/?next=/audit/", {"code": codes[0].upper()[:4] + "-" + codes[0][4:]}
    )
    assert r.status_code == 302 and r.url == "/audit/"
    assert c.get("/audit/").status_code == 200
    entry = audit("second_factor.recovery_code_used").get()
    assert entry.after == {"via": "web", "remaining": 9}
    c2 = password_login(user)
    r = c2.post("/accounts/2fa/verify/", {"code": codes[0]})
    assert r.status_code == 400 and "恢复码不正确或已使用" in r.content.decode()
    # a wrong recovery code does not throttle the TOTP device
    assert TOTPDevice.objects.get(user=user).throttling_failure_count == 0
    # a new set replaces the old one (shown once, audited)
    login(c2, user)
    page = c2.post("/accounts/2fa/", {"action": "renew"}).content.decode()
    fresh = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", page)
    assert len(fresh) == 10 and second_factor.recovery_codes_left(user) == 10
    assert audit("second_factor.recovery_codes_renewed").count() == 1
    c3 = password_login(user)
    StaticDevice.objects.filter(user=user).update(throttling_failure_timestamp=None)
    assert c3.post("/accounts/2fa/verify/", {"code": codes[1]}).status_code == 400
    assert_nothing_secret(secrets=[*codes, *fresh])


def test_admin_site_needs_the_second_factor(world):
    sysadmin = world.users[Role.SYSTEM_ADMIN]
    c = Client()
    r = c.post("/admin/login/", {"username": sysadmin.username, "password": PASSWORD})
    assert r.status_code == 302
    r = c.get("/admin/")
    assert r.status_code == 302 and r.url.startswith("/accounts/2fa/")
    assert c.get("/admin/accounts/user/").status_code == 302
    login(c, sysadmin)
    assert c.get("/admin/").status_code == 200
    # the devices are not edited in the admin (the audited pages do it)
    assert c.get("/admin/otp_totp/totpdevice/").status_code == 404


# --------------------------------------------------------------------------------------------
# reset by the security administrator
# --------------------------------------------------------------------------------------------


def test_reset_by_security_admin_only_and_audited(world):
    city = world.users[Role.CITY_OFFICER]
    victim = login(Client(), city)
    assert victim.get("/").status_code == 200
    url = f"/accounts/2fa/reset/{city.pk}/"
    for role in (Role.PROVINCE_ADMIN, Role.SYSTEM_ADMIN, Role.AUDITOR, Role.ENTERPRISE):
        other = login(Client(), world.users[role])
        assert other.get(url).status_code == 403
        assert other.post(url, {"reason": "x"}).status_code == 403
        assert other.get("/accounts/2fa/users/").status_code == 403
    assert TOTPDevice.objects.filter(user=city).exists()
    sec = world.users[Role.SECURITY_ADMIN]
    c = login(Client(), sec)
    listing = c.get("/accounts/2fa/users/?state=enrolled").content.decode()
    assert city.username in listing and url in listing
    assert c.get("/accounts/2fa/users/?export=xlsx").status_code == 200
    assert c.get(url).status_code == 200
    r = c.post(url, {"reason": "  "})
    assert r.status_code == 400 and "请填写重置原因" in r.content.decode()
    assert c.post(f"/accounts/2fa/reset/{sec.pk}/", {"reason": "mine"}).status_code == 400
    r = c.post(url, {"reason": "手机丢失，已电话核实本人"})
    assert r.status_code == 302
    assert not TOTPDevice.objects.filter(user=city).exists()
    entry = audit("second_factor.reset").get()
    assert entry.actor == sec and entry.note == "手机丢失，已电话核实本人"
    assert entry.object_id == str(city.pk) and entry.after == {"devices_removed": 1}
    # the victim's verified session is verified no more: enrol again
    r = victim.get("/")
    assert r.status_code == 302 and r.url.startswith("/accounts/2fa/setup/")


# --------------------------------------------------------------------------------------------
# API: the token needs the second factor
# --------------------------------------------------------------------------------------------


def test_api_token_needs_otp_for_officers(world):
    city = world.users[Role.CITY_OFFICER]
    c = Client()
    body = {"username": city.username, "password": PASSWORD}
    r = call(c, "post", "/api/auth/token", body)
    assert r.status_code == 401 and "enrol" in r.json()["detail"]
    device = device_for(city)
    r = call(c, "post", "/api/auth/token", body)
    assert r.status_code == 401 and "`otp`" in r.json()["detail"]
    right = next_code(device)
    r = call(c, "post", "/api/auth/token", {**body, "otp": f"{(int(right) + 1) % 10**6:06d}"})
    assert r.status_code == 401 and "wrong" in r.json()["detail"]
    r = call(c, "post", "/api/auth/token", {**body, "otp": right})
    assert r.status_code == 401 and "retry in" in r.json()["detail"]  # throttled
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - dt.timedelta(seconds=5)
    )
    r = call(c, "post", "/api/auth/token", {**body, "otp": next_code(device)})
    assert r.status_code == 200 and r.json()["role"] == Role.CITY_OFFICER
    assert call(c, "get", "/api/reports/", token=r.json()["token"]).status_code == 200
    assert [e.after["via"] for e in audit("second_factor.verify_failed")] == ["api", "api"]
    # wrong password: the same answer as before, whatever the code
    r = call(c, "post", "/api/auth/token", {**body, "password": "nope", "otp": next_code(device)})
    assert r.status_code == 401 and r.json()["detail"] == "invalid username or password"
    # optional role without a device: password alone
    ent = world.users[Role.ENTERPRISE]
    r = call(c, "post", "/api/auth/token", {"username": ent.username, "password": PASSWORD})
    assert r.status_code == 200


# --------------------------------------------------------------------------------------------
# tokens: revoked at logout, password change, by owner and security admin; cap
# --------------------------------------------------------------------------------------------


def test_tokens_revoked_at_web_logout(world):
    ent = world.users[Role.ENTERPRISE]
    c = Client()
    t1, t2 = api_token(c, ent, PASSWORD), api_token(c, ent, PASSWORD)
    other = api_token(c, world.users["other_enterprise"], PASSWORD)
    web = login(Client(), ent)
    assert web.post("/accounts/logout/").status_code == 302
    for t in (t1, t2):
        assert call(c, "get", "/api/reports/", token=t).status_code == 401
    assert call(c, "get", "/api/reports/", token=other).status_code == 200
    assert sorted(e.after["reason"] for e in audit("api_token.revoke")) == ["logout", "logout"]
    assert ApiToken.objects.filter(user=ent).count() == 2  # revoked, not deleted


def test_api_logout_revokes_the_calling_token_only(world):
    city = world.users[Role.CITY_OFFICER]
    c = Client()
    t1, t2 = api_token(c, city, PASSWORD), api_token(c, city, PASSWORD)
    r = call(c, "post", "/api/auth/logout", token=t1)
    assert r.status_code == 200 and r.json() == {"revoked": 1}
    assert call(c, "get", "/api/reports/", token=t1).status_code == 401
    assert call(c, "get", "/api/reports/", token=t2).status_code == 200
    assert call(c, "post", "/api/auth/logout", token=t1).status_code == 401


def test_tokens_revoked_at_password_change_whatever_the_path(world):
    ent = world.users[Role.ENTERPRISE]
    c = Client()
    t1 = api_token(c, ent, PASSWORD)
    # saving the user without a new password keeps the token
    ent.first_name = "改名"
    ent.save()
    ent.last_login = timezone.now()
    ent.save(update_fields=["last_login"])
    # re-encoding the same password (a hasher upgrade at login) keeps it too
    ent.set_password(PASSWORD)
    ent.save()
    assert call(c, "get", "/api/reports/", token=t1).status_code == 200
    # the ORM path (admin form, shell, reset …)
    ent.set_password("Another-Pass-2026")
    ent.save()
    assert call(c, "get", "/api/reports/", token=t1).status_code == 401
    assert audit("api_token.revoke").get().after["reason"] == "password_change"
    # the self-service page
    t2 = api_token(c, ent, "Another-Pass-2026")
    web = login(Client(), ent)
    r = web.post(
        "/accounts/password/",
        {
            "old_password": "Another-Pass-2026",
            "new_password1": "Third-Pass-2026x",
            "new_password2": "Third-Pass-2026x",
        },
    )
    assert r.status_code == 302, r.content.decode()[:800]
    assert call(c, "get", "/api/reports/", token=t2).status_code == 401


def test_owner_lists_and_revokes_on_page_and_api(world):
    ent = world.users[Role.ENTERPRISE]
    c = Client()
    t1, t2, t3 = (api_token(c, ent, PASSWORD) for _ in range(3))
    mine = {t.prefix: t for t in ApiToken.objects.filter(user=ent)}
    web = login(Client(), ent)
    page = web.get("/accounts/tokens/").content.decode()
    assert all(p in page for p in mine) and "吊销" in page
    assert web.get("/accounts/tokens/?export=xlsx").status_code == 200
    r = web.post(f"/accounts/tokens/{mine[t1[:8]].pk}/revoke/")
    assert r.status_code == 302
    assert call(c, "get", "/api/reports/", token=t1).status_code == 401
    # API: list own tokens, revoke by prefix
    listed = call(c, "get", "/api/auth/tokens", token=t2).json()
    assert {x["prefix"]: x["state"] for x in listed} == {
        t1[:8]: "revoked",
        t2[:8]: "live",
        t3[:8]: "live",
    }
    assert call(c, "delete", f"/api/auth/tokens/{t3[:8]}", token=t2).json() == {"revoked": 1}
    assert call(c, "get", "/api/reports/", token=t3).status_code == 401
    assert call(c, "delete", f"/api/auth/tokens/{t3[:8]}", token=t2).status_code == 404
    # nobody else's token: neither through the page nor the API
    foreign = api_token(c, world.users["other_enterprise"], PASSWORD)
    foreign_pk = ApiToken.objects.get(prefix=foreign[:8]).pk
    assert web.post(f"/accounts/tokens/{foreign_pk}/revoke/").status_code == 404
    assert call(c, "delete", f"/api/auth/tokens/{foreign[:8]}", token=t2).status_code == 404
    assert foreign[:8] not in web.get("/accounts/tokens/").content.decode()
    reasons = sorted(e.after["reason"] for e in audit("api_token.revoke"))
    assert reasons == ["owner", "owner"]


def test_security_admin_sees_and_revokes_any_token(world):
    ent = world.users[Role.ENTERPRISE]
    c = Client()
    t = api_token(c, ent, PASSWORD)
    token = ApiToken.objects.get(prefix=t[:8])
    sec = login(Client(), world.users[Role.SECURITY_ADMIN])
    page = sec.get("/accounts/tokens/?user=ent1").content.decode()
    assert t[:8] in page and "ent1" in page
    assert sec.post(f"/accounts/tokens/{token.pk}/revoke/", {"reason": "离职"}).status_code == 302
    assert call(c, "get", "/api/reports/", token=t).status_code == 401
    entry = audit("api_token.revoke").get()
    assert (
        entry.actor == world.users[Role.SECURITY_ADMIN]
        and entry.after["reason"] == "security_admin"
    )
    assert entry.note == "离职"
    # the admin action, refused for the system administrator
    t2 = api_token(c, ent, PASSWORD)
    pk2 = ApiToken.objects.get(prefix=t2[:8]).pk
    sysadmin = login(Client(), world.users[Role.SYSTEM_ADMIN])
    r = sysadmin.post(
        "/admin/accounts/apitoken/",
        {"action": "revoke", "_selected_action": [pk2]},
    )
    assert call(c, "get", "/api/reports/", token=t2).status_code == 200
    r = sec.post("/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [pk2]})
    assert r.status_code == 302
    assert call(c, "get", "/api/reports/", token=t2).status_code == 401
    assert audit("api_token.revoke").count() == 2


def test_live_tokens_are_capped(world):
    ent = world.users[Role.ENTERPRISE]
    _lifetime, cap = tokens.rules()
    c = Client()
    issued = [api_token(c, ent, PASSWORD) for _ in range(cap + 1)]
    assert tokens.live(ApiToken.objects.filter(user=ent)).count() == cap
    assert call(c, "get", "/api/reports/", token=issued[0]).status_code == 401
    assert all(call(c, "get", "/api/reports/", token=t).status_code == 200 for t in issued[1:])
    entry = audit("api_token.revoke").get()
    assert entry.after == {"prefix": issued[0][:8], "reason": "cap"}
    assert audit("api_token.issue").count() == cap + 1


def test_expired_token_refused(world):
    ent = world.users[Role.ENTERPRISE]
    c = Client()
    t = api_token(c, ent, PASSWORD)
    ApiToken.objects.filter(prefix=t[:8]).update(expires=timezone.now() - dt.timedelta(seconds=1))
    assert call(c, "get", "/api/reports/", token=t).status_code == 401


# --------------------------------------------------------------------------------------------
# pages for every role; the demo
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role",
    [*REQUIRED, *OPTIONAL],
)
def test_account_pages_for_every_role(world, role):
    c = login(Client(), world.users[role])
    status = c.get("/accounts/2fa/")
    assert status.status_code == 200 and "账号安全" in status.content.decode()
    assert c.get("/accounts/tokens/").status_code == 200
    expected = 200 if role == Role.SECURITY_ADMIN else 403
    assert c.get("/accounts/2fa/users/").status_code == expected
    anon = Client()
    for path in ("/accounts/2fa/", "/accounts/tokens/", "/accounts/2fa/setup/"):
        r = anon.get(path)
        assert r.status_code == 302 and r.url.startswith("/accounts/login/")
    assert anon.get("/accounts/2fa/users/").status_code == 302


def test_demo_accounts_get_a_fixed_secret_and_the_command_prints_the_code(world, capsys):
    from dualcontrol.cli import main

    demo = User.objects.create_user(
        "demo-x", password=PASSWORD, role=Role.CITY_OFFICER, division=world.city, is_demo=True
    )
    device = second_factor.enrol_demo_device(demo)
    assert device.confirmed and device.key == second_factor.demo_key_hex("demo-x")
    again = second_factor.enrol_demo_device(demo)
    assert again.key == device.key and TOTPDevice.objects.filter(user=demo).count() == 1
    assert main(["demo-otp", "demo-x"]) == 0
    printed = capsys.readouterr().out
    assert printed.split()[0] == second_factor.current_code(device)
    # the printed code passes the verify page
    c = password_login(demo)
    assert c.post("/accounts/2fa/verify/", {"code": printed.split()[0]}).status_code == 302
    # real accounts: never
    assert main(["demo-otp", world.users[Role.CITY_OFFICER].username]) == 2
    assert "not a demo account" in capsys.readouterr().err
    with pytest.raises(PermissionDenied, match="demo accounts"):
        second_factor.enrol_demo_device(world.users[Role.CITY_OFFICER])
    from dualcontrol.commands.demo_otp import demo_lines

    lines = demo_lines(["demo-x"])
    assert lines and second_factor.base32_secret(device) in lines[0]


# --------------------------------------------------------------------------------------------
# nothing secret in the audit log
# --------------------------------------------------------------------------------------------


def assert_nothing_secret(*, secrets):
    rows = [
        json.dumps([e.before, e.after, e.note, e.object_repr], ensure_ascii=False, default=str)
        for e in AuditEntry.objects.all()
    ]
    for s in secrets:
        assert s and not any(s.lower() in r.lower() for r in rows), s


def test_nothing_secret_in_audit_entries(world):
    city = world.users[Role.CITY_OFFICER]
    raw = [api_token(Client(), city, PASSWORD) for _ in range(2)]
    device = device_for(city)
    c = password_login(city)
    c.post("/accounts/2fa/verify/", {"code": "zzzzzzzz"})
    login(c, city)
    c.post("/accounts/logout/")
    assert audit("api_token.issue").count() == 2 and audit("api_token.revoke").count() == 2
    assert_nothing_secret(secrets=[*raw, device.key, second_factor.base32_secret(device), PASSWORD])
