"""Logging a test client in as a user, the way the platform's login paths do.

``login`` opens the session and, for a user who must pass the second factor (or has enrolled one),
passes it for real: a TOTP device is enrolled when the user has none, its code is computed from the
device's secret with ``django_otp.oath.totp`` and posted to ``/accounts/2fa/verify/``, where
``device.verify_token`` checks it (throttling and the no-replay rule included).  Nothing bypasses
the check.
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from dualcontrol.accounts import second_factor


def device_for(user: Any) -> TOTPDevice:
    """The user's confirmed TOTP device, enrolled (with a random secret) when absent."""
    device = second_factor.confirmed_device(user)
    if device is None:
        p = second_factor.policy()
        device = TOTPDevice.objects.create(
            user=user, name="test", confirmed=True, digits=p.digits, step=p.step_seconds
        )
    return device


def next_code(device: TOTPDevice) -> str:
    """The code an authenticator app would show that the server will accept now.

    A TOTP code is accepted once: a second login within the same 30 s takes the next time step,
    which the device's tolerance (±1 step around its learnt drift) allows — as a phone whose clock
    runs a little ahead would.
    """
    device.refresh_from_db()
    now_t = (int(time.time()) - device.t0) // device.step
    t = max(now_t + device.drift, device.last_t + 1)
    code = totp(device.bin_key, device.step, device.t0, device.digits, t - now_t)
    return str(code).zfill(device.digits)


def pass_second_factor(client: Client, user: Any) -> Client:
    """Pass the second factor in ``client``'s (password-authenticated) session."""
    device = device_for(user)
    r = client.post("/accounts/2fa/verify/", {"code": next_code(device)})
    assert r.status_code == 302 and "/accounts/2fa/" not in r.url, (
        f"second factor refused for {user}: {r.status_code} {r.content.decode()[:500]}"
    )
    return client


def login(client: Client, user: Any) -> Client:
    """Log ``client`` in as ``user`` (and pass the second factor where due); returns the client."""
    client.force_login(user)
    if second_factor.must_verify(user):
        pass_second_factor(client, user)
    return client


def api_token(client: Client, user: Any, password: str) -> str:
    """A bearer token from ``POST /api/auth/token`` (with the current code where due)."""
    body: dict[str, Any] = {"username": user.username, "password": password}
    if second_factor.must_verify(user):
        body["otp"] = next_code(device_for(user))
    r = client.post("/api/auth/token", json.dumps(body), content_type="application/json")
    assert r.status_code == 200, r.content
    return str(r.json()["token"])


def api_client(user: Any, password: str | None = None) -> Client:
    """A test client that sends ``user``'s bearer token with every request."""
    from tests.factories import PASSWORD

    c = Client()
    c.defaults["HTTP_AUTHORIZATION"] = f"Bearer {api_token(c, user, password or PASSWORD)}"
    return c
