"""Writes of the targets pages through the REST API: the same services, rules and audit; every
problem of a refused request listed (422); and ``dualcontrol import targets``."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from dualcontrol.accounts.models import Role
from dualcontrol.audit.models import AuditEntry
from dualcontrol.cli import main
from dualcontrol.targets.models import RegionalStatistic, Target
from tests.auth import api_token
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    c = Client()
    token = api_token(c, user, PASSWORD)
    c.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return c


def _post(c: Client, path: str, body: dict, method: str = "post"):
    return getattr(c, method)(path, json.dumps(body), content_type="application/json")


NEW = {
    "indicator": "energy_intensity_reduction",
    "division": "530100",
    "period_kind": "five_year",
    "base_year": 2025,
    "end_year": 2030,
    "base_value": "14.5",
    "source_document": "API test plan",
}


# ---------------------------------------------------------------------------------------------
# create / edit


def test_create_target_as_province_admin_is_audited(world):
    c = _client(world.users[Role.PROVINCE_ADMIN])
    r = _post(c, "/api/targets/", NEW)
    assert r.status_code == 201, r.content
    t = Target.objects.get(pk=r.json()["id"])
    assert t.division.code == "530100" and float(t.base_value) == 14.5 and t.unit == "%"
    entry = AuditEntry.objects.get(action="target.create", object_id=str(t.pk))
    assert entry.actor == world.users[Role.PROVINCE_ADMIN]


def test_create_target_refused_for_enterprise_and_outside_a_city(world):
    r = _post(_client(world.users[Role.ENTERPRISE]), "/api/targets/", NEW)
    assert r.status_code == 403
    # a city officer may set targets below its own city only (the service's rule)
    r = _post(_client(world.users["other_city"]), "/api/targets/", NEW)
    assert r.status_code == 403
    assert r.json()["problems"][0]["reason"]
    assert not Target.objects.exists()
    assert not AuditEntry.objects.filter(action="target.create").exists()


def test_create_target_lists_every_bad_field(world):
    c = _client(world.users[Role.PROVINCE_ADMIN])
    r = _post(
        c,
        "/api/targets/",
        {**NEW, "division": "999999", "base_value": "abc", "rule_set": "nope"},
    )
    assert r.status_code == 422, r.content
    fields = {p["field"] for p in r.json()["problems"]}
    assert {"division", "base_value", "rule_set"} <= fields
    # required fields left out are listed with the bad ones
    body = {k: v for k, v in NEW.items() if k not in ("source_document", "end_year")}
    r = _post(c, "/api/targets/", {**body, "base_value": "abc"})
    assert r.status_code == 422
    assert {p["field"] for p in r.json()["problems"]} == {
        "source_document",
        "end_year",
        "base_value",
    }
    assert not Target.objects.exists()


def test_edit_target(tw):
    admin = tw.world.users[Role.PROVINCE_ADMIN]
    c = _client(admin)
    r = _post(c, f"/api/targets/{tw.city_target.pk}", {"base_value": 15.5, "note": "API"}, "patch")
    assert r.status_code == 200, r.content
    tw.city_target.refresh_from_db()
    assert float(tw.city_target.base_value) == 15.5 and tw.city_target.note == "API"
    assert AuditEntry.objects.filter(
        action="target.update", object_id=str(tw.city_target.pk)
    ).exists()
    bad = _post(c, f"/api/targets/{tw.city_target.pk}", {"end_year": "x"}, "patch")
    assert bad.status_code == 422
    r = _post(
        _client(tw.world.users[Role.ENTERPRISE]),
        f"/api/targets/{tw.city_target.pk}",
        {"note": "x"},
        "patch",
    )
    assert r.status_code == 403


# ---------------------------------------------------------------------------------------------
# decomposition


def test_adopt_decomposition_writes_the_sub_targets(tw):
    c = _client(tw.world.users[Role.PROVINCE_ADMIN])
    r = _post(c, f"/api/targets/{tw.province_target.pk}/decomposition", {"method": "tiered"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["method"] == "tiered"
    assert {t["division_code"] for t in body["targets"]} == {"530100", "530300"}
    assert AuditEntry.objects.filter(action="decomposition.adopt").count() == 1
    # refused: an unknown method (service), bad parameters, a role without the right
    for method in ("nope", "uniform"):  # uniform: an allocation method, not the workbench's
        bad = _post(c, f"/api/targets/{tw.province_target.pk}/decomposition", {"method": method})
        assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "method"
    bad = _post(
        c,
        f"/api/targets/{tw.province_target.pk}/decomposition",
        {"method": "tiered", "params": {"tiers": "x"}},
    )
    assert bad.status_code == 422
    r = _post(
        _client(tw.world.users[Role.CITY_OFFICER]),
        f"/api/targets/{tw.province_target.pk}/decomposition",
        {"method": "tiered"},
    )
    assert r.status_code in (403, 404)
    assert AuditEntry.objects.filter(action="decomposition.adopt").count() == 1


# ---------------------------------------------------------------------------------------------
# statistics import (the page's importer)

STATS = (
    "region,year,month,energy_tce,gdp_10k_yuan,gdp_real_growth_pct,source\n"
    "530100,2025,,1000000,2000000,5.2,省统计局\n"
    "530300,2025,,2000000,1500000,,省统计局\n"
)


def test_statistics_import_through_the_api(world):
    c = _client(world.users[Role.PROVINCE_ADMIN])
    r = c.post(
        "/api/targets/statistics/import",
        {"file": SimpleUploadedFile("s.csv", STATS.encode("gb18030"))},
    )
    assert r.status_code == 201, r.content
    assert r.json() == {"rows": 2}
    assert RegionalStatistic.objects.count() == 2
    assert AuditEntry.objects.filter(action="statistics.import").count() == 1


def test_statistics_import_lists_every_problem_and_writes_nothing(world):
    c = _client(world.users[Role.PROVINCE_ADMIN])
    bad = (
        "region,year,month,energy_tce,gdp_10k_yuan,source\n"
        "999999,2025,,1000,2000,x\n"
        "530100,20x5,13,abc,2000,x\n"
    )
    r = c.post(
        "/api/targets/statistics/import", {"file": SimpleUploadedFile("b.csv", bad.encode())}
    )
    assert r.status_code == 422
    where = {(p["row"], p["field"]) for p in r.json()["problems"]}
    assert {(2, "region"), (3, "year"), (3, "month"), (3, "energy_tce")} <= where
    assert all(p["sheet"] and p["column"] for p in r.json()["problems"] if p["field"])
    assert not RegionalStatistic.objects.exists()


def test_statistics_import_refused_for_city_officer(world):
    c = _client(world.users[Role.CITY_OFFICER])
    r = c.post(
        "/api/targets/statistics/import", {"file": SimpleUploadedFile("s.csv", STATS.encode())}
    )
    assert r.status_code == 403
    assert not RegionalStatistic.objects.exists()


# ---------------------------------------------------------------------------------------------
# targets file: API and CLI

TARGETS = (
    "indicator,division,period_kind,base_year,end_year,base_value,source_document,barometer\n"
    "energy_intensity_reduction,530100,five_year,2025,2030,15,省政府文件,1\n"
    "energy_intensity_reduction,530300,five_year,2025,2030,12,省政府文件,是\n"
)
BAD_TARGETS = (
    "indicator,division,period_kind,base_year,end_year,base_value,source_document,colour\n"
    "energy_intensity_reduction,999999,five_year,2025,2030,15,文件,x\n"
    "no_such_indicator,530100,five_year,20x5,2030,abc,文件,x\n"
)


def test_targets_import_through_the_api(world):
    c = _client(world.users[Role.PROVINCE_ADMIN])
    r = c.post("/api/targets/import", {"file": SimpleUploadedFile("t.csv", TARGETS.encode())})
    assert r.status_code == 201, r.content
    assert Target.objects.count() == 2
    assert AuditEntry.objects.filter(action="target.create").count() == 2
    r = _client(world.users[Role.ENTERPRISE]).post(
        "/api/targets/import", {"file": SimpleUploadedFile("t.csv", TARGETS.encode())}
    )
    assert r.status_code == 403


def test_targets_import_refused_whole_with_every_problem(world):
    c = _client(world.users[Role.PROVINCE_ADMIN])
    # the unknown column alone refuses the file; without it every bad cell is listed
    r = c.post("/api/targets/import", {"file": SimpleUploadedFile("t.csv", BAD_TARGETS.encode())})
    assert r.status_code == 422
    assert [p["field"] for p in r.json()["problems"]] == ["colour"]
    body = BAD_TARGETS.replace(",colour", "").replace(",x\n", "\n")
    r = c.post("/api/targets/import", {"file": SimpleUploadedFile("t.csv", body.encode())})
    assert r.status_code == 422
    where = {(p["row"], p["column"]) for p in r.json()["problems"]}
    assert {(2, "B"), (3, "D"), (3, "F")} <= where
    assert any(p["row"] == 3 and p["field"] == "indicator" for p in r.json()["problems"])
    assert not Target.objects.exists()


def test_city_officer_cannot_import_targets_for_another_city(world):
    c = _client(world.users[Role.CITY_OFFICER])  # 昆明市: 530300 is not below it
    r = c.post("/api/targets/import", {"file": SimpleUploadedFile("t.csv", TARGETS.encode())})
    assert r.status_code == 422
    assert [p["row"] for p in r.json()["problems"]] == [2, 3]  # the city itself is not below it
    assert not Target.objects.exists()


def test_cli_import_targets(world, tmp_path, capsys):
    f = tmp_path / "targets.csv"
    f.write_bytes(TARGETS.encode("gb18030"))
    assert main(["import", "targets", str(f)]) == 0
    assert "2 rows" in capsys.readouterr().out
    assert Target.objects.count() == 2
    assert AuditEntry.objects.filter(action="target.create", actor__isnull=True).count() == 2


def test_cli_import_targets_refuses_whole_file(world, tmp_path, capsys):
    f = tmp_path / "bad.csv"
    f.write_text(BAD_TARGETS.replace(",colour", "").replace(",x\n", "\n"), encoding="utf-8")
    assert main(["import", "targets", str(f), "--user", "admin1"]) == 2
    err = capsys.readouterr().err
    assert "nothing imported" in err
    assert "!B2" in err and "!D3" in err and "!F3" in err
    assert not Target.objects.exists()


# ---------------------------------------------------------------------------------------------
# responsibility letters


def test_generate_and_sign_a_letter(tw):
    admin = _client(tw.world.users[Role.PROVINCE_ADMIN])
    r = _post(admin, f"/api/targets/{tw.city_target.pk}/letter", {})
    assert r.status_code == 201, r.content
    letter_id = r.json()["id"]
    assert AuditEntry.objects.filter(action="letter.generate").count() == 1
    path = f"/api/targets/letters/{letter_id}/sign"
    sign = {"signed_on": "2026-03-01", "issuer_signatory": "张三", "party_signatory": "李四"}
    bad = _post(admin, path, {**sign, "issuer_signatory": " ", "party_signatory": ""})
    assert bad.status_code == 422
    assert {p["field"] for p in bad.json()["problems"]} == {"issuer_signatory", "party_signatory"}
    refused = _post(_client(tw.world.users[Role.ENTERPRISE]), path, sign)
    assert refused.status_code == 403
    r = _post(admin, path, sign)
    assert r.status_code == 200, r.content
    assert AuditEntry.objects.filter(action="letter.sign").count() == 1
    again = _post(admin, path, sign)  # already signed: refused with the reason
    assert again.status_code == 422 and again.json()["problems"][0]["reason"]
