"""Monitoring under hostile input (issue 13): the database side of authenticated HJ 212 stations,
corrections stored as versions (old kept, change audited), the station password kept out of
pages and the audit log, and packet values escaped on every monitoring page.

Runs on SQLite and on PostgreSQL (``DATABASE_URL``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from dualcontrol.accounts.models import Role
from dualcontrol.audit.models import AuditEntry
from dualcontrol.core.hj212 import build_packet, encode_cp, parse_packet
from dualcontrol.core.hj212_stream import Framer
from dualcontrol.ingest.hj212_server import Hj212Server, receiver_policy
from dualcontrol.monitoring import services
from dualcontrol.monitoring.demo import demo_station_password
from dualcontrol.monitoring.models import Alarm, HourReading, Receipt, ReceiptVersion
from dualcontrol.monitoring.sink import DatabaseSink, OutletCredentials
from dualcontrol.reference.hj212 import hj212_tables
from tests.auth import login
from tests.monitoring.helpers import hour_record, make_outlet

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 5, 12, 0)  # receiver clock, station local time (Beijing)
HOUR = dt.datetime(2026, 12, 5, 10, 0)  # the hour the attack is about
PW = "Gx7!q2"


def upload(pw: str, cod: str, qn: int) -> bytes:
    cp = encode_cp(data_time=HOUR, values={"w01018": {"Avg": cod, "Flag": "N"}})
    return build_packet(
        qn=f"20261205110000{qn:03d}", st="32", cn="2061", pw=pw, mn="ATK0001", flag=5, cp=cp
    )


async def exchange(server: Hj212Server, packet: bytes, source: str) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port, local_addr=(source, 0))
    writer.write(packet)
    await writer.drain()
    framer = Framer()
    frames: list[bytes] = []
    while not frames:
        data = await asyncio.wait_for(reader.read(65_536), 10)
        assert data, "closed without an answer"
        frames = [f for f in framer.feed(data) if isinstance(f, bytes)]
    writer.close()
    return frames[0]


@pytest.mark.django_db(transaction=True)
def test_forged_packet_refused_genuine_stored_correction_versioned_and_audited(world):
    """Issue 13, reproduced: a forged packet (wrong PW, registered outlet, COD 5.0) used to be
    stored first, and the genuine 250.0 of the same hour was then answered as a duplicate and
    thrown away."""
    make_outlet(world.unit, mn="ATK0001", station_password=PW)
    cfg = receiver_policy().config(batch_delay_s=0.01, close_linger_s=0.05, raise_open_files=False)

    async def scenario() -> tuple[list[bytes], Hj212Server]:
        sink = DatabaseSink()
        server = Hj212Server(
            sink,
            tables=hj212_tables(),
            config=cfg,
            credentials=OutletCredentials(),
            station_clock=lambda: NOW,
        )
        await server.start("127.0.0.1", 0)
        try:
            answers = [
                await exchange(server, upload("000000", "5.0", 1), "127.0.0.66"),  # forged
                await exchange(server, upload(PW, "250.0", 2), "127.0.0.2"),  # genuine
                await exchange(server, upload(PW, "250.0", 3), "127.0.0.2"),  # re-sent
                await exchange(server, upload(PW, "262.5", 4), "127.0.0.2"),  # corrected
            ]
        finally:
            await server.stop()
            await sink.aclose()
        return answers, server

    answers, server = asyncio.run(asyncio.wait_for(scenario(), 60))
    replies = [parse_packet(a) for a in answers]
    assert (replies[0].cn, replies[0].params["QnRtn"]) == ("9011", "3")  # PW错误
    assert [r.cn for r in replies[1:]] == ["9014", "9014", "9014"]
    assert server.stats.refused_by_source == {"127.0.0.66": {"wrong_pw": 1}}
    hour = HOUR.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert HourReading.objects.get(mn="ATK0001", data_time=hour, code="w01018").avg == 262.5
    receipt = Receipt.objects.get(mn="ATK0001", cn="2061", data_time=hour)
    assert receipt.revision == 2 and receipt.qn == "20261205110000004"
    [old] = ReceiptVersion.objects.filter(mn="ATK0001")
    assert (old.revision, old.qn, old.values) == (
        1,
        "20261205110000002",
        {"w01018": {"avg": 250.0, "flag": "N"}},
    )
    [entry] = AuditEntry.objects.filter(action="monitoring.data.correct")
    assert entry.before["values"]["w01018"]["avg"] == 250.0
    assert entry.after["values"]["w01018"]["avg"] == 262.5
    assert (entry.before["revision"], entry.after["revision"]) == (1, 2)
    # no value of the forged packet anywhere, and the password in no audit entry
    assert not HourReading.objects.filter(avg=5.0).exists()
    assert not ReceiptVersion.objects.filter(values__w01018__avg=5.0).exists()
    for e in AuditEntry.objects.all():
        assert PW not in json.dumps([e.before, e.after, e.note, e.object_repr], default=str)


def client_for(world, role) -> Client:
    c = Client()
    login(c, world.users[role])
    return c


@pytest.mark.django_db
def test_station_password_is_validated_masked_in_forms_and_admin_and_redacted_in_audit(world):
    with pytest.raises(ValidationError) as refused:
        make_outlet(world.unit, mn="PWD0001", station_password="Ab3;")
    assert "station_password" in refused.value.message_dict
    with pytest.raises(ValidationError):
        make_outlet(world.unit, mn="PWD0001", station_password="1234567")  # > 6 (HJ 212)
    outlet = make_outlet(world.unit, mn="PWD0001", station_password="Zq81x9")
    services.update_outlet(user=None, outlet=outlet, station_password="Yk2207")
    assert OutletCredentials().load()["PWD0001"] == "Yk2207"
    entries = AuditEntry.objects.filter(object_type="monitoring.outlet", object_id=str(outlet.pk))
    assert [e.action for e in entries.order_by("pk")] == [
        "monitoring.outlet.create",
        "monitoring.outlet.update",
    ]
    for e in entries:
        text = json.dumps([e.before, e.after], default=str)
        assert "Zq81x9" not in text and "Yk2207" not in text
    assert entries.get(action="monitoring.outlet.update").after["station_password"] == "[redacted]"
    # the edit page never shows it; a blank field keeps it
    officer = client_for(world, Role.PROVINCE_OFFICER)
    page = officer.get(f"/monitoring/outlets/{outlet.pk}/edit/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Yk2207" not in html and 'type="password"' in html
    form = {"mn": "PWD0001", "name": "改名", "kind": "water", "active": "on"}
    assert officer.post(f"/monitoring/outlets/{outlet.pk}/edit/", form).status_code == 302
    outlet.refresh_from_db()
    assert (outlet.name, outlet.station_password) == ("改名", "Yk2207")
    admin = client_for(world, Role.SYSTEM_ADMIN)
    for path in (f"/admin/monitoring/outlet/{outlet.pk}/change/", "/admin/monitoring/outlet/"):
        response = admin.get(path)
        assert response.status_code == 200 and "Yk2207" not in response.content.decode()
    assert "******" in admin.get(f"/admin/monitoring/outlet/{outlet.pk}/change/").content.decode()


def test_demo_station_passwords_are_valid_hj212_passwords():
    pw = demo_station_password("DEMO5301020001W")
    assert re.fullmatch(r"[0-9]{6}", pw) and pw == demo_station_password("DEMO5301020001W")
    assert services.PW_PATTERN.fullmatch(pw)


HOSTILE = "x</script><b>"
HOSTILE_MN = "<i>mn</i>"


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.PROVINCE_OFFICER, Role.CITY_OFFICER, Role.ENTERPRISE])
def test_packet_values_are_escaped_on_every_monitoring_page(world, role):
    """A pollutant code ``x</script><b>`` from a packet used to render as markup (it closed the
    chart's JSON script element) for province, city and unit viewers."""
    outlet = make_outlet(world.unit, mn="ESC0001", name="排放口")
    day = dt.date(2026, 3, 10)
    records = [
        hour_record(
            outlet.mn,
            dt.datetime(2026, 3, 10, h),
            {HOSTILE: ("-5" if h < 3 else "7", "N"), "w01018": ("40", "N")},
        )
        for h in range(12)
    ]
    records.append(hour_record(HOSTILE_MN, dt.datetime(2026, 3, 10, 1), {HOSTILE: ("1", "N")}))
    DatabaseSink().store(records)
    services.evaluate_alarms(day=day, now=dt.datetime(2026, 3, 11, tzinfo=UTC))
    alarm = Alarm.objects.filter(outlet=outlet, code=HOSTILE).first()  # 负值 (and stuck)
    assert alarm is not None
    c = client_for(world, role)
    pages = [
        "/monitoring/",
        "/monitoring/alarms/",
        f"/monitoring/alarms/{alarm.pk}/",
        f"/monitoring/outlets/{outlet.pk}/?month=2026-03&end=2026-03-10&days=1",
        f"/monitoring/outlets/{outlet.pk}/chart/?end=2026-03-10&days=1",
        "/monitoring/shutdowns/",
    ]
    shown = 0
    for path in pages:
        response = c.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        assert HOSTILE not in html and HOSTILE_MN not in html, path
        assert "</script><b>" not in html, path
        escaped = ("x&lt;/script&gt;&lt;b&gt;", "x\\u003C/script\\u003E\\u003Cb\\u003E")
        shown += any(e in html for e in escaped)
    assert shown >= 3  # the code is shown (escaped) on the alarm list, alarm and outlet pages
    chart = c.get(f"/monitoring/outlets/{outlet.pk}/chart/?end=2026-03-10&days=1")
    specs = re.findall(
        r'<script type="application/json" class="mon-chart">(.*?)</script>',
        chart.content.decode(),
        re.S,
    )
    assert any(json.loads(spec)["title"].startswith(HOSTILE) for spec in specs)
    if role == Role.PROVINCE_OFFICER:  # the unregistered stations' list shows MNs from packets
        assert "&lt;i&gt;mn&lt;/i&gt;" in c.get("/monitoring/").content.decode()
