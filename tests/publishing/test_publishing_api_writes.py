"""The province desk through the REST API (/api/publishing/): the desk's services, rule
``publishing.manage`` and audit; refusals as JSON problem lists."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from dualcontrol.accounts.models import Role
from dualcontrol.audit.models import AuditEntry
from dualcontrol.publishing.models import Publication, PublicationStatus
from tests.assessment.assessment_builders import run_region_round
from tests.auth import api_client

pytestmark = pytest.mark.django_db


_client = api_client


def _post(c: Client, path: str, body: dict):
    return c.post(path, json.dumps(body), content_type="application/json")


def test_publish_results_and_withdraw(regional):
    world, _ = regional
    rnd = run_region_round(world)
    admin = _client(world.users[Role.PROVINCE_ADMIN])
    city = _client(world.users[Role.CITY_OFFICER])
    path = f"/api/publishing/results/{rnd.pk}"
    assert _post(city, path, {"published_on": "2016-06-20"}).status_code == 403
    assert _post(admin, path, {"published_on": "x"}).status_code == 422
    r = _post(admin, path, {"published_on": "2016-06-20"})
    assert r.status_code == 201, r.content
    pubs = r.json()["publications"]
    assert pubs and all(p["published_on"] == "2016-06-20" for p in pubs)
    assert AuditEntry.objects.filter(action__startswith="publication.publish").exists()
    pub_id = pubs[0]["id"]
    # withdraw: a reason is required (every problem listed), the right needed
    bad = _post(admin, f"/api/publishing/publications/{pub_id}/withdraw", {"note": ""})
    assert bad.status_code == 422 and bad.json()["problems"][0]["reason"]
    assert (
        _post(city, f"/api/publishing/publications/{pub_id}/withdraw", {"note": "x"}).status_code
        == 403
    )
    r = _post(admin, f"/api/publishing/publications/{pub_id}/withdraw", {"note": "数据更正"})
    assert r.status_code == 200
    assert Publication.objects.get(pk=pub_id).status == PublicationStatus.WITHDRAWN
    assert AuditEntry.objects.filter(action="publication.withdraw").count() == 1


def test_publish_bulletin_refusals(regional):
    world, _ = regional
    admin = _client(world.users[Role.PROVINCE_ADMIN])
    r = _post(_client(world.users[Role.ENTERPRISE]), "/api/publishing/bulletins/2015", {})
    assert r.status_code == 403
    r = _post(admin, "/api/publishing/bulletins/1990", {})
    assert r.status_code == 422 and r.json()["problems"]
    assert not Publication.objects.exists()
