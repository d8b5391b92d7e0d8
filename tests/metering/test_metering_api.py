"""The ingest endpoint and its codec: per-reading errors, idempotency, manual monthly entries,
whole-message errors, the pluggable codec registry, and the read endpoints' figures."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from metering_world import COAL, ELEC, build

from dualcontrol.metering import codecs
from dualcontrol.metering.models import IngestBatch, Reading

pytestmark = pytest.mark.django_db


@pytest.fixture
def mw(world):
    return build(world)


@pytest.fixture
def ent(mw):
    c = Client()
    r = c.post(
        "/api/auth/token",
        json.dumps({"username": "ent1", "password": "test-pass-123"}),
        content_type="application/json",
    )
    c.defaults["HTTP_AUTHORIZATION"] = f"Bearer {r.json()['token']}"
    return c


def slot(hours_ago: float) -> dt.datetime:
    t = timezone.localtime() - dt.timedelta(hours=hours_ago)
    return t.replace(minute=t.minute // 15 * 15, second=0, microsecond=0)


def post(client, body, codec=None):
    path = "/api/metering/readings" + (f"?codec={codec}" if codec else "")
    data = body if isinstance(body, bytes) else json.dumps(body)
    return client.post(path, data, content_type="application/json")


def test_batch_with_errors_keeps_the_valid_readings(mw, ent):
    t = slot(2)
    body = {
        "readings": [
            {"item": ELEC, "ts": t.isoformat(), "value": 10.5},
            {"item": ELEC.lower(), "ts": (t + dt.timedelta(minutes=15)).isoformat(), "value": "11"},
            {"item": ELEC, "ts": (t + dt.timedelta(minutes=7)).isoformat(), "value": 1},
            {"item": ELEC, "ts": "yesterday", "value": 1},
            {"item": ELEC, "ts": t.isoformat(), "value": True},
            {"item": "0000000002223009", "ts": t.isoformat(), "value": 1},
            {"ts": t.isoformat(), "value": 1},
            "not an object",
            {"item": ELEC, "ts": (t + dt.timedelta(days=2)).isoformat(), "value": 1},
            {"item": ELEC, "ts": t.isoformat(), "value": 1e9},
            {"item": ELEC, "ts": t.isoformat(), "value": 1, "frequency": 5},
            {"item": ELEC, "ts": t.replace(tzinfo=None).isoformat(sep=" "), "value": 99},
        ]
    }
    r = post(ent, body)
    assert r.status_code == 200, r.content
    ack = r.json()
    assert ack["received"] == 12 and ack["stored"] == 2
    assert {e["index"]: e["reason"] for e in ack["rejected"]} == {
        2: "off_grid",
        3: "bad_timestamp",
        4: "bad_value",
        5: "unknown_item",
        6: "missing_item",
        7: "bad_entry",
        8: "future",
        9: "out_of_range",
        10: "bad_frequency",
    }
    assert ack["duplicates"] == [{"index": 11, "stored_value": 10.5}]  # naive time = local time
    assert all(e["message"] for e in ack["rejected"])
    assert IngestBatch.objects.get().codec == "dualcontrol-json-v1"
    # resend: acknowledged as duplicates, nothing stored twice
    again = post(ent, body).json()
    assert again["stored"] == 0 and len(again["duplicates"]) == 3
    assert Reading.objects.filter(item=mw.items["elec"]).count() == 2


def test_manual_monthly_entries_and_all_refused(mw, ent):
    month = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    r = post(ent, {"manual": [{"item": ELEC, "month": month, "value": 2880.5}]})
    assert r.status_code == 200 and r.json()["stored"] == 1
    reading = Reading.objects.get(item=mw.items["elec_month"])
    assert reading.source == 5 and reading.value == 2880.5
    r = post(ent, {"readings": [{"item": COAL, "ts": slot(0).isoformat(), "value": 1}]})
    assert r.status_code == 422 and r.json()["rejected"][0]["reason"] in ("period_open", "off_grid")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b"\xff\xfe", 400),
        (b"[]", 400),
        (b'{"readings": {}}', 400),
        (b'{"unit": 5, "readings": []}', 400),
    ],
)
def test_unreadable_messages(mw, ent, body, status):
    assert post(ent, body).status_code == status
    assert not IngestBatch.objects.exists()


def test_unknown_codec_and_codec_list(mw, ent):
    r = post(ent, {"readings": []}, codec="gbt37947")
    assert r.status_code == 400 and "dualcontrol-json-v1" in r.json()["detail"]
    listed = ent.get("/api/metering/codecs").json()
    assert listed == [
        {
            "name": "dualcontrol-json-v1",
            "description": codecs.JsonV1.description,
            "content_type": "application/json",
            "default": True,
        }
    ]


def test_a_codec_can_be_plugged_in(mw, ent, monkeypatch):
    class Csv:
        name = "test-csv"
        description = "item,ts,value lines"
        content_type = "text/csv"

        def decode(self, body):
            from dualcontrol.metering.services import RawReading

            out = []
            for i, line in enumerate(body.decode().splitlines()):
                item, ts, value = line.split(",")
                out.append(
                    RawReading(
                        index=i, item=item, ts=codecs.parse_timestamp(ts), value=float(value)
                    )
                )
            return codecs.DecodedBatch(unit=None, readings=out)

        def encode(self, result):
            return codecs.JsonV1().encode(result)

    monkeypatch.setitem(codecs._CODECS, "test-csv", Csv())
    body = f"{ELEC},{slot(3).isoformat()},5.5".encode()
    r = ent.post("/api/metering/readings?codec=test-csv", body, content_type="text/csv")
    assert r.status_code == 200 and r.json()["stored"] == 1
    assert IngestBatch.objects.get().codec == "test-csv"


def test_batch_size_limit(mw, ent, monkeypatch):
    import dataclasses

    from dualcontrol.metering import api

    rules = api.metering_rules()
    monkeypatch.setattr(
        api, "metering_rules", lambda: dataclasses.replace(rules, max_readings_per_batch=2)
    )
    body = {"readings": [{"item": ELEC, "ts": slot(h).isoformat(), "value": 1} for h in (2, 3, 4)]}
    assert post(ent, body).status_code == 413


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.one_of(
        st.binary(max_size=200),
        st.recursive(
            st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
            lambda children: (
                st.lists(children, max_size=4)
                | st.dictionaries(
                    st.sampled_from(
                        [
                            "readings",
                            "unit",
                            "item",
                            "ts",
                            "value",
                            "month",
                            "frequency",
                            "source",
                            "manual",
                        ]
                    ),
                    children,
                    max_size=5,
                )
            ),
            max_leaves=20,
        ).map(lambda v: json.dumps(v).encode()),
    )
)
def test_the_codec_never_raises_anything_but_its_own_error(body):
    try:
        decoded = codecs.get(None).decode(body)
    except codecs.CodecError:
        return
    for r in decoded.readings:
        assert r.problem is not None or (r.ts is not None and r.value is not None and r.item)


def test_openapi_documents_the_ingest_body(mw):
    spec = Client().get("/api/openapi.json").json()
    op = spec["paths"]["/api/metering/readings"]["post"]
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["readings"]
    assert "/api/metering/units/{uscc}/reconciliation" in spec["paths"]


def test_quality_and_readings_endpoints(mw, ent):
    t = slot(30)
    post(
        ent,
        {
            "readings": [
                {"item": ELEC, "ts": (t + dt.timedelta(minutes=15 * k)).isoformat(), "value": k}
                for k in range(4)
            ]
        },
    )
    month = t.strftime("%Y-%m")
    q = ent.get(f"/api/metering/units/{mw.unit.uscc}/quality?month={month}").json()
    item = next(i for i in q["items"] if i["code"] == ELEC and i["frequency"] == 0)
    assert item["received"] == 4 and q["minimum_pct"] == 90.0
    start = (t - dt.timedelta(minutes=1)).isoformat()
    end = (t + dt.timedelta(hours=2)).isoformat()
    got = ent.get(
        f"/api/metering/units/{mw.unit.uscc}/readings", {"start": start, "end": end, "item": ELEC}
    ).json()
    assert [g["value"] for g in got] == [0, 1, 2, 3]
    assert (
        ent.get(
            f"/api/metering/units/{mw.unit.uscc}/readings", {"start": end, "end": start}
        ).status_code
        == 422
    )


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"readings": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
        b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    ],
)
def test_deeply_nested_json_is_the_codecs_error(body):
    """Issue 13: nesting past the JSON parser's depth was a RecursionError (500), not a refusal."""
    with pytest.raises(codecs.CodecError, match=r"nested too deeply|must be"):
        codecs.get(None).decode(body)
