"""Writes of the assessment pages through the REST API: the pages' services, rules and audit;
refusals as JSON problem lists (403 refused, 409 wrong state, 422 bad input)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from dualcontrol.accounts.models import Role
from dualcontrol.assessment import services
from dualcontrol.assessment.models import (
    AssessmentRecord,
    AssessmentRound,
    RecordStatus,
    ScoringSheet,
)
from dualcontrol.audit.models import AuditEntry
from tests.assessment.assessment_builders import run_region_round
from tests.auth import api_client

pytestmark = pytest.mark.django_db


_client = api_client


def _post(c: Client, path: str, body: dict | None = None):
    return c.post(path, json.dumps(body or {}), content_type="application/json")


@pytest.fixture
def open_round(regional):
    world, _ = regional
    rnd = services.create_round(
        user=world.users[Role.PROVINCE_ADMIN],
        year=2014,
        sheet=ScoringSheet.objects.get(name="gf-2007-36"),
    )
    return world, rnd, rnd.records.get(division=world.city)


def test_create_round(regional):
    world, _ = regional
    sheet = ScoringSheet.objects.get(name="gf-2007-36")
    r = _post(
        _client(world.users[Role.PROVINCE_ADMIN]),
        "/api/assessment/rounds",
        {"year": 2013, "sheet_id": sheet.pk},
    )
    assert r.status_code == 201, r.content
    assert AssessmentRound.objects.filter(pk=r.json()["id"], year=2013).exists()
    assert AuditEntry.objects.filter(action="assessment.round.create").count() == 1
    # the same year and sheet again: every problem of the service listed
    again = _post(
        _client(world.users[Role.PROVINCE_ADMIN]),
        "/api/assessment/rounds",
        {"year": 2013, "sheet_id": sheet.pk},
    )
    assert again.status_code == 422 and again.json()["problems"]
    bad = _post(
        _client(world.users[Role.PROVINCE_ADMIN]),
        "/api/assessment/rounds",
        {"year": 2013, "sheet_id": 987654},
    )
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "sheet_id"
    refused = _post(
        _client(world.users[Role.ENTERPRISE]),
        "/api/assessment/rounds",
        {"year": 2012, "sheet_id": sheet.pk},
    )
    assert refused.status_code == 403
    assert AssessmentRound.objects.count() == 1


def test_self_assessment_scoring_and_sign_off(open_round):
    world, _rnd, rec = open_round
    city = _client(world.users[Role.CITY_OFFICER])
    admin = _client(world.users[Role.PROVINCE_ADMIN])
    base = f"/api/assessment/records/{rec.pk}"
    # the reviewers cannot score before the self-assessment is submitted (409, the state)
    early = _post(admin, base + "/score", {"items": {"measures": {"score": 50}}})
    assert early.status_code == 409
    r = _post(city, base + "/self", {"items": {"measures": {"score": "57", "note": "已落实"}}})
    assert r.status_code == 200, r.content
    assert _post(city, base + "/submit").status_code == 200
    # the city may not score its own record (the service's rule)
    assert _post(city, base + "/score", {"items": {"measures": {"score": 50}}}).status_code == 403
    bad = _post(admin, base + "/score", {"items": {"measures": {"score": "abc"}, "nope": {}}})
    assert bad.status_code == 422
    assert {p["field"] for p in bad.json()["problems"]} == {"nope"}
    bad = _post(admin, base + "/score", {"items": {"measures": {"score": "abc"}}})
    assert bad.status_code == 422 and bad.json()["problems"]
    r = _post(admin, base + "/score", {"items": {"measures": {"score": 52, "note": "基本到位"}}})
    assert r.status_code == 200 and r.json()["status"] == RecordStatus.SCORED
    r = _post(admin, base + "/sign-off", {"issued_on": "2015-06-15"})
    assert r.status_code == 200, r.content
    rec.refresh_from_db()
    assert rec.status == RecordStatus.SIGNED_OFF and rec.measures_score == 52
    actions = set(AuditEntry.objects.filter(object_id=str(rec.pk)).values_list("action", flat=True))
    assert {
        "assessment.record.self_assess",
        "assessment.record.submit",
        "assessment.record.score",
        "assessment.record.sign_off",
    } <= actions
    # reopen needs a reason
    assert _post(admin, base + "/reopen", {"reason": " "}).status_code == 422
    assert _post(admin, base + "/reopen", {"reason": "数据更正"}).status_code == 200


def test_round_sign_off(open_round):
    world, rnd, _rec = open_round
    admin = world.users[Role.PROVINCE_ADMIN]
    for rec in rnd.records.all():
        officer = world.users[Role.CITY_OFFICER if rec.division == world.city else "other_city"]
        services.save_self_assessment(record=rec, user=officer, scores={"measures": ("50", "")})
        services.submit_self_assessment(record=rec, user=officer)
        services.score_measures(record=rec, user=admin, scores={"measures": ("50", "")})
    refused = _post(
        _client(world.users[Role.ENTERPRISE]),
        f"/api/assessment/rounds/{rnd.pk}/sign-off",
        {"issued_on": "2015-06-15"},
    )
    assert refused.status_code == 403
    bad = _post(_client(admin), f"/api/assessment/rounds/{rnd.pk}/sign-off", {"issued_on": "x"})
    assert bad.status_code == 422
    r = _post(
        _client(admin), f"/api/assessment/rounds/{rnd.pk}/sign-off", {"issued_on": "2015-06-15"}
    )
    assert r.status_code == 200 and r.json() == {"signed_off": 2}
    assert AssessmentRecord.objects.filter(round=rnd, status=RecordStatus.SIGNED_OFF).count() == 2
    assert AuditEntry.objects.filter(action="assessment.record.sign_off").count() == 2


def test_evidence_and_interview(open_round):
    from dualcontrol.assessment.models import Consequence, Evidence
    from tests.assessment.assessment_builders import pdf_upload

    world, _rnd, rec = open_round
    city = _client(world.users[Role.CITY_OFFICER])
    base = f"/api/assessment/records/{rec.pk}"
    r = city.post(base + "/evidence", {"item_key": "measures", "file": pdf_upload("自评报告.pdf")})
    assert r.status_code == 201, r.content
    assert r.json()["name"] == "自评报告.pdf"
    assert AuditEntry.objects.filter(action="assessment.evidence.add").count() == 1
    bad = city.post(
        base + "/evidence",
        {"item_key": "measures", "file": pdf_upload("script.exe")},
    )
    assert bad.status_code == 422 and bad.json()["problems"]
    other = _client(world.users["other_city"])
    r = other.post(base + "/evidence", {"item_key": "measures", "file": pdf_upload()})
    assert r.status_code == 404
    assert Evidence.objects.filter(record=rec).count() == 1

    admin = _client(world.users[Role.PROVINCE_ADMIN])
    assert _post(city, base + "/interview", {"held_on": "2015-03-01"}).status_code == 403
    bad = _post(admin, base + "/interview", {})
    assert bad.status_code == 422 and bad.json()["problems"]
    r = _post(admin, base + "/interview", {"held_on": "2015-03-01", "note": "约谈纪要"})
    assert r.status_code == 201, r.content
    assert Consequence.objects.filter(record=rec).exists()
    assert AuditEntry.objects.filter(action="assessment.consequence.interview").count() == 1


def test_consequence_respond_and_close(regional):
    from dualcontrol.assessment.models import Consequence, ConsequenceStatus

    world, _ = regional
    run_region_round(world)
    c = Consequence.objects.filter(division=world.city, restricts_approvals=True).first()
    assert c is not None
    city = _client(world.users[Role.CITY_OFFICER])
    admin = _client(world.users[Role.PROVINCE_ADMIN])
    path = f"/api/assessment/consequences/{c.pk}"
    assert _post(admin, path + "/respond", {"text": "x"}).status_code == 403  # the region reports
    assert _post(city, path + "/respond", {"text": " "}).status_code == 422
    r = _post(city, path + "/respond", {"text": "已完成整改"})
    assert r.status_code == 200, r.content
    assert AuditEntry.objects.filter(action="assessment.consequence.respond").count() == 1
    assert _post(city, path + "/close", {"note": "x"}).status_code == 403
    assert _post(admin, path + "/close", {"note": " "}).status_code == 422
    r = _post(admin, path + "/close", {"note": "解除限批", "closed_on": "2016-12-01"})
    assert r.status_code == 200, r.content
    c.refresh_from_db()
    assert c.status == ConsequenceStatus.CLOSED
    assert AuditEntry.objects.filter(action="assessment.consequence.close").count() == 1
    other = _client(world.users["other_city"])
    assert _post(other, path + "/respond", {"text": "x"}).status_code == 404
