"""``exchange export --push``: the package goes to the peer's ``POST /api/exchange/packages`` over
HTTP (Django's live server), the peer's answer is printed, and a refused package exits non-zero
with the reason.

One test database holds one platform, the province 530000.  For the accepted case the exporting
side plays its city 530100: :func:`services.identity` answers the city on the command's thread
only (the live server's thread still sees the province), the city division is made a root (a
city platform's root is its prefecture), and each side has the other registered as a peer with
the one signing key of this test installation.  Everything
else — export, signature, HTTP, token, verification, the import and its log — is the real path.
"""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from django.utils import timezone

from dualcontrol.accounts.models import ApiToken, Role, hash_token
from dualcontrol.cli import main
from dualcontrol.commands.exchange import endpoint_of
from dualcontrol.core import exchange as core
from dualcontrol.exchange import services
from dualcontrol.exchange.models import PackageRecord

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path


def token_of(user) -> str:
    raw = ApiToken.new_key()
    ApiToken.objects.create(
        user=user,
        key_hash=hash_token(raw),
        prefix=raw[:8],
        expires=timezone.now() + dt.timedelta(hours=1),
    )
    return raw


def test_the_endpoint_of_a_base_url() -> None:
    assert endpoint_of("https://n.example.cn") == "https://n.example.cn/api/exchange/packages"
    assert endpoint_of("https://n.example.cn/") == "https://n.example.cn/api/exchange/packages"
    assert endpoint_of("http://h:8/api/exchange/packages") == "http://h:8/api/exchange/packages"
    with pytest.raises(Exception, match="http"):
        endpoint_of("ftp://x")


def test_a_package_the_peer_refuses_exits_non_zero_with_the_reason(world, live_server, capsys):
    """The province pushes to 'the national platform' at a URL that is in fact another
    province's platform (this one): the peer answers 422, not addressed to it."""
    keys = core.new_keypair()
    services.add_peer(code="000000", name="国家平台", level="national", public_key=keys.public_b64)
    token = token_of(world.users[Role.PROVINCE_ADMIN])
    rc = main(
        [
            "exchange",
            "export",
            "--to",
            "national",
            "--year",
            "2025",
            "--push",
            live_server.url,
            "--token",
            token,
        ]
    )
    out, err = capsys.readouterr()
    assert rc == 1
    answer = json.loads(out)
    assert answer["status"] == 422
    assert answer["answer"]["outcome"] == "refused"
    assert "000000" in answer["answer"]["reason"]  # addressed to the national platform
    assert "refused" in err and answer["answer"]["reason"] in err
    received = PackageRecord.objects.get(direction="in")
    assert received.outcome == "refused"
    from dualcontrol.audit.models import AuditEntry

    push = AuditEntry.objects.get(action="exchange.push")
    assert push.after["status"] == 422 and push.after["outcome"] == "refused"


def test_a_city_package_is_pushed_to_its_province_and_imported(
    world, live_server, capsys, monkeypatch
):
    me = services.ensure_key()
    services.add_peer(code="530000", name="云南省平台", level="province", public_key=me.public_b64)
    services.add_peer(code="530100", name="昆明市平台", level="city", public_key=me.public_b64)
    real_identity = services.identity
    command_thread = threading.current_thread()

    def identity():
        if threading.current_thread() is command_thread:
            return {"code": "530100", "level": "city", "name": "昆明市"}
        return real_identity()

    monkeypatch.setattr(services, "identity", identity)
    # the city platform's root is its prefecture (the province platform's root stays 530000)
    world.city.__class__.objects.filter(code="530100").update(parent=None)
    token = token_of(world.users[Role.PROVINCE_OFFICER])
    argv = ["exchange", "export", "--to", "530000", "--year", "2025", "--push", live_server.url]
    monkeypatch.setenv("DUALCONTROL_EXCHANGE_TOKEN", token)
    assert main(argv) == 0, capsys.readouterr()
    answer = json.loads(capsys.readouterr().out)
    assert answer["status"] == 200
    assert answer["answer"]["outcome"] == "imported", answer
    assert answer["answer"]["sender_code"] == "530100"
    received = PackageRecord.objects.get(direction="in")
    sent = PackageRecord.objects.get(direction="out")
    assert (received.package_id, received.outcome) == (sent.package_id, "imported")

    # a wrong token: the peer refuses the request (not the package); the command fails with
    # the status
    monkeypatch.setenv("DUALCONTROL_EXCHANGE_TOKEN", "not-a-token")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "answered 401" in err or "answered 403" in err
    # the URL registered with the peer is used when --push names none
    services.add_peer(
        code="530000",
        name="云南省平台",
        level="province",
        public_key=me.public_b64,
        url=live_server.url + "/",
    )
    monkeypatch.setenv("DUALCONTROL_EXCHANGE_TOKEN", token)
    assert main(["exchange", "export", "--to", "530000", "--year", "2025", "--push"]) == 0
    assert json.loads(capsys.readouterr().out)["answer"]["outcome"] == "imported"
    assert PackageRecord.objects.filter(direction="in", outcome="imported").count() == 2


def test_push_needs_a_token_and_a_url(world, capsys, monkeypatch):
    keys = core.new_keypair()
    services.add_peer(code="000000", name="国家平台", level="national", public_key=keys.public_b64)
    monkeypatch.delenv("DUALCONTROL_EXCHANGE_TOKEN", raising=False)
    argv = ["exchange", "export", "--to", "national", "--year", "2025", "--push"]
    assert main(argv) == 2
    assert "token" in capsys.readouterr().err
    assert main([*argv, "--token", "t"]) == 2
    assert "no URL" in capsys.readouterr().err
    assert not PackageRecord.objects.exists()  # nothing signed or logged for a push that cannot go
    assert main([*argv, "http://127.0.0.1:1", "--token", "t"]) == 2
    assert "cannot reach" in capsys.readouterr().err
