"""Packages between platform levels: signed (Ed25519), schema-checked, tamper and replay refused,
idempotent; export of what the higher level needs, import of targets from above."""

from __future__ import annotations

import copy
import json
import uuid
from decimal import Decimal

import pytest

from dualcontrol.cli import main
from dualcontrol.core import exchange as core
from dualcontrol.exchange import services
from dualcontrol.exchange.models import PackageRecord, Peer
from dualcontrol.targets.models import Target

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path


def package(sender: str, level: str, recipient: str, *, direction: str, seq: int, contents):
    return {
        "format": core.FORMAT,
        "version": core.VERSION,
        "package_id": str(uuid.uuid4()),
        "sender": {"code": sender, "level": level, "name": "x"},
        "recipient": {"code": recipient, "level": "province", "name": "云南省"},
        "direction": direction,
        "sequence": seq,
        "created_at": "2026-12-05T20:00:00+08:00",
        "period": {"year": 2025},
        "contents": contents,
        "counts": {k: len(v) for k, v in contents.items()},
    }


def as_bytes(p) -> bytes:
    return json.dumps(p, ensure_ascii=False).encode("utf-8")


@pytest.fixture
def national(world):
    keys = core.new_keypair()
    services.add_peer(code="000000", name="国家平台", level="national", public_key=keys.public_b64)
    return keys


@pytest.fixture
def city(world):
    keys = core.new_keypair()
    services.add_peer(code="530100", name="昆明市平台", level="city", public_key=keys.public_b64)
    return keys


TARGET = {
    "indicator": "energy_intensity_reduction",
    "division": "530000",
    "parent_division": None,
    "period_kind": "five_year",
    "base_year": 2025,
    "end_year": 2030,
    "base_value": "14.5",
    "incentive_value": None,
    "unit": "%",
    "source_document": "国家下达“十五五”目标（测试）",
}


def test_a_package_from_above_creates_its_targets_once(national):
    p = core.sign(
        package(
            "000000", "national", "530000", direction="down", seq=1, contents={"targets": [TARGET]}
        ),
        national,
    )
    rec = services.import_package(data=as_bytes(p))
    assert rec.outcome == "imported", rec.reason
    assert rec.applied["targets_created"] == 1
    t = Target.objects.get(
        indicator="energy_intensity_reduction", division__code="530000", end_year=2030
    )
    assert t.base_value == Decimal("14.5")
    assert p["package_id"] in t.source_document
    again = services.import_package(data=as_bytes(p))  # idempotent
    assert again.outcome == "duplicate"
    assert Target.objects.filter(end_year=2030, division__code="530000").count() == 1
    p2 = core.sign({**p, "package_id": str(uuid.uuid4()), "sequence": 2}, national)
    rec2 = services.import_package(data=as_bytes(p2))
    assert rec2.outcome == "imported" and rec2.applied["targets_existing"] == 1


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda p: p["contents"]["regional_statistics"][0].update(energy_tce="1"), "signature"),
        (lambda p: p.update(sequence=99), "signature"),
        (lambda p: p["signature"].update(value="AAAA"), "signature"),
        (lambda p: p["recipient"].update(code="630000"), "addressed to"),
        (lambda p: p["sender"].update(code="530300"), "not a known peer"),
        (lambda p: p.update(version=2), "格式"),
        (lambda p: p["contents"].update(surprise=[]), "格式"),
    ],
)
def test_a_tampered_package_is_refused_whole_with_the_reason(city, change, reason):
    stat = {
        "division": "530100",
        "industry": None,
        "year": 2025,
        "month": None,
        "energy_tce": "1234.5",
        "gdp_10k_yuan": "100",
        "gdp_real_growth_pct": None,
        "derived": {},
        "source": "test",
    }
    p = core.sign(
        package(
            "530100",
            "city",
            "530000",
            direction="up",
            seq=1,
            contents={"regional_statistics": [stat]},
        ),
        city,
    )
    bad = copy.deepcopy(p)
    change(bad)
    before = (Target.objects.count(), PackageRecord.objects.filter(outcome="imported").count())
    rec = services.import_package(data=as_bytes(bad))
    assert rec.outcome == "refused"
    assert reason in rec.reason, rec.reason
    assert (
        Target.objects.count(),
        PackageRecord.objects.filter(outcome="imported").count(),
    ) == before
    assert services.import_package(data=as_bytes(p)).outcome == "imported"


def test_a_replayed_package_is_refused(city):
    first = core.sign(package("530100", "city", "530000", direction="up", seq=5, contents={}), city)
    assert services.import_package(data=as_bytes(first)).outcome == "imported"
    old = core.sign(package("530100", "city", "530000", direction="up", seq=4, contents={}), city)
    rec = services.import_package(data=as_bytes(old))
    assert rec.outcome == "refused" and "not above the last one" in rec.reason
    altered = core.sign({**first, "counts": {"x": 1}}, city)  # same id, other content
    rec = services.import_package(data=as_bytes(altered))
    assert rec.outcome == "refused" and "different package with this package_id" in rec.reason


def test_not_json_and_schema_errors_are_listed(city):
    assert "不是 UTF-8 JSON" in services.import_package(data=b"\xff{").reason
    rec = services.import_package(data=b'{"format": "dualcontrol-exchange"}')
    assert rec.outcome == "refused" and "version" in rec.reason and "signature" in rec.reason


def test_export_to_the_national_platform_is_signed_and_valid(national):
    data, _rec = services.export_package(to="national", year=2025)
    p = json.loads(data)
    assert services.schema_problems(p) == []
    assert p["direction"] == "up" and p["sequence"] == 1
    assert p["sender"]["code"] == "530000" and p["recipient"]["code"] == "000000"
    me = services.ensure_key()
    peer = core.Peer("530000", "province", me.public_raw)
    # the national platform verifies it with the province's public key
    assert core.verify(p, own_code="000000", peers={"530000": peer}) == peer
    _data2, rec2 = services.export_package(to="national", year=2025)
    assert rec2.sequence == 2
    assert set(p["contents"]) >= {
        "regional_statistics",
        "targets",
        "key_units",
        "carbon_emitters",
        "assessment_results",
    }


def test_cli_identity_peers_export_import(national, tmp_path, capsys):
    assert main(["exchange", "identity"]) == 0
    ident = json.loads(capsys.readouterr().out)
    assert ident["code"] == "530000" and len(core.public_key_from_b64(ident["public_key"])) == 32
    out = tmp_path / "pkg.json"
    assert (
        main(["exchange", "export", "--to", "national", "--year", "2025", "--out", str(out)]) == 0
    )
    assert json.loads(out.read_text(encoding="utf-8"))["recipient"]["code"] == "000000"
    # a package from above through the CLI
    p = core.sign(
        package(
            "000000", "national", "530000", direction="down", seq=1, contents={"targets": [TARGET]}
        ),
        national,
    )
    f = tmp_path / "down.json"
    f.write_bytes(as_bytes(p))
    capsys.readouterr()
    assert main(["exchange", "import", str(f)]) == 0
    assert json.loads(capsys.readouterr().out)["outcome"] == "imported"
    p["contents"]["targets"][0]["base_value"] = "1"
    f.write_bytes(as_bytes(p))
    assert main(["exchange", "import", str(f)]) == 1
    assert "signature" in json.loads(capsys.readouterr().out)["reason"]
    assert Peer.objects.count() == 1


def test_the_log_page_and_the_api_by_role(city, world, client):
    from django.test import Client

    from dualcontrol.accounts.models import Role
    from tests.auth import login

    p = core.sign(package("530100", "city", "530000", direction="up", seq=1, contents={}), city)
    for role, page, post in (
        (Role.PROVINCE_ADMIN, 200, 200),
        (Role.PROVINCE_OFFICER, 200, 200),
        (Role.CITY_OFFICER, 403, 403),
        (Role.ENTERPRISE, 403, 403),
        (Role.VERIFIER, 403, 403),
        (Role.SYSTEM_ADMIN, 403, 403),
    ):
        c = login(Client(), world.users[role])
        assert c.get("/exchange/").status_code == page, role
        r = c.post("/api/exchange/packages", as_bytes(p), content_type="application/json")
        assert r.status_code == post, (role, r.content)
    c = login(Client(), world.users[Role.PROVINCE_OFFICER])
    r = c.post("/api/exchange/packages", as_bytes(p), content_type="application/json")
    assert r.json()["outcome"] == "duplicate"
    tampered = {**p, "sequence": 7}
    r = c.post("/api/exchange/packages", as_bytes(tampered), content_type="application/json")
    assert r.status_code == 422 and "signature" in r.json()["reason"]
    log = c.get("/api/exchange/packages?direction=in").json()
    assert log["count"] == 4  # imported by the administrator, then duplicates, then refused
    assert [i["outcome"] for i in log["items"]] == ["refused", "duplicate", "duplicate", "imported"]
    assert "已拒收" in c.get("/exchange/").content.decode()
    from io import BytesIO

    from openpyxl import load_workbook

    wb = load_workbook(BytesIO(c.get("/exchange/?export=xlsx").content))
    assert wb.active.max_row == 6  # title + header + 4 records
    assert Client().get("/exchange/").status_code == 302


def test_rule_sets_from_above_are_checked_applied_once_and_updated(national):
    """Issue 22: a package from above brings warning rule sets; a bad one refuses the package
    whole; the same version twice changes nothing; a new version replaces the definition."""
    from dualcontrol.audit.models import AuditEntry
    from dualcontrol.targets.models import WarningRuleSet
    from dualcontrol.targets.warnings import sync_rule_sets

    sync_rule_sets()
    base = WarningRuleSet.objects.get(is_default=True)
    rule_set = {
        "kind": "warning",
        "code": "national-2026",
        "name": "国家下达预警规则（测试）",
        "version": "2026.1",
        "definition": {**base.definition, "name": "national-2026"},
        "source": "国家平台（测试）",
    }

    def send(seq, sets):
        p = core.sign(
            package(
                "000000", "national", "530000", direction="down", seq=seq,
                contents={"rule_sets": sets},
            ),
            national,
        )  # fmt: skip
        return services.import_package(data=as_bytes(p))

    bad = {**rule_set, "definition": {"name": "national-2026", "levels": "no"}}
    refused = send(1, [rule_set, bad])
    assert refused.outcome == "refused" and "national-2026" in refused.reason
    assert not WarningRuleSet.objects.filter(name="national-2026").exists()
    rec = send(2, [rule_set])
    assert rec.outcome == "imported" and rec.applied["rule_sets_created"] == 1
    stored = WarningRuleSet.objects.get(name="national-2026")
    assert stored.version == "2026.1" and stored.to_core() is not None
    assert AuditEntry.objects.filter(action="exchange.rule_set.create").count() == 1
    assert send(3, [rule_set]).applied["rule_sets_existing"] == 1
    newer = {**rule_set, "version": "2026.2"}
    assert send(4, [newer]).applied["rule_sets_updated"] == 1
    assert WarningRuleSet.objects.get(name="national-2026").version == "2026.2"


def test_a_package_to_a_city_carries_the_rule_sets(city, world):
    from dualcontrol.targets.warnings import sync_rule_sets

    sync_rule_sets()
    data, _rec = services.export_package(to="530100", year=2025)
    sent = json.loads(data)
    assert sent["direction"] == "down"
    assert {rs["code"] for rs in sent["contents"]["rule_sets"]} >= {"ndrc-2021"}
