"""``dualcontrol ingest hj212`` (receiver + database sink until stopped, audited) and
``dualcontrol monitoring alarms|rates``; the monitoring part of the demo."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import socket
import threading
import time
from zoneinfo import ZoneInfo

import pytest

from dualcontrol.audit.models import AuditEntry
from dualcontrol.cli import main
from dualcontrol.commands.ingest import run_hj212
from dualcontrol.ingest.hj212_server import station_packet
from dualcontrol.monitoring import services
from dualcontrol.monitoring.models import Alarm, Outlet, Receipt
from dualcontrol.monitoring.sink import DatabaseSink
from tests.monitoring.helpers import hour_record, make_outlet


class ThreadStop:
    """A stop signal for ``serve`` that another thread may set (stands in for SIGTERM)."""

    def __init__(self) -> None:
        self.flag = threading.Event()

    def set(self) -> None:
        self.flag.set()

    async def wait(self) -> None:
        while not self.flag.is_set():
            await asyncio.sleep(0.02)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def station_now() -> dt.datetime:
    """Now in station local time (Beijing), to the minute: DataTime inside the window."""
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None, second=0, microsecond=0)


@pytest.mark.django_db(transaction=True)
def test_ingest_command_receives_stores_answers_and_audits(world):
    make_outlet(world.unit, mn="CMD0000001", station_password="cmd212")
    port = free_port()
    args = argparse.Namespace(
        listen=f"127.0.0.1:{port}",
        batch_size=50,
        batch_delay=0.01,
        max_connections=100,
        idle_timeout=0,
        log_every=0.05,
    )
    stop = ThreadStop()
    result: dict[str, object] = {}
    thread = threading.Thread(
        target=lambda: result.setdefault("rc", run_hj212(args, stop=stop)), daemon=True
    )
    thread.start()
    start = station_now() - dt.timedelta(hours=1)
    packets = [station_packet("CMD0000001", i, start=start, pw="cmd212") for i in range(20)]
    forged = station_packet("CMD0000001", 99, start=start, pw="000000")
    deadline = time.monotonic() + 20
    while True:
        try:
            conn = socket.create_connection(("127.0.0.1", port), timeout=5)
            break
        except OSError:
            assert time.monotonic() < deadline, "receiver did not start"
            time.sleep(0.05)
    with conn:
        conn.sendall(b"".join(packets[:10]) + b"##junk\r\n" + forged + b"".join(packets))
        got = b""
        while got.count(b"CN=9014") < 30:
            chunk = conn.recv(65536)
            assert chunk, "connection closed before all answers"
            got += chunk
    stop.set()
    thread.join(20)
    assert result.get("rc") == 0
    assert Receipt.objects.filter(mn="CMD0000001").count() == 20
    start, stop_entry = AuditEntry.objects.filter(action="monitoring.ingest").order_by("pk")
    assert start.after["event"] == "start" and stop_entry.after["event"] == "stop"
    assert stop_entry.after["sink"]["stored"] == 20
    assert stop_entry.after["server"]["packets_bad_total"] == 1
    assert stop_entry.after["server"]["packets_refused"] == {"wrong_pw": 1}
    assert b"CN=9011;PW=000000;MN=CMD0000001;Flag=4;CP=&&QnRtn=3&&" in got


def test_ingest_command_refuses_a_bad_listen_address(capsys):
    assert main(["ingest", "hj212", "--listen", "nowhere"]) == 2
    assert "HOST:PORT" in capsys.readouterr().err


@pytest.mark.django_db
def test_alarms_and_rates_commands(world, capsys):
    outlet = make_outlet(world.unit, mn="CLI0001", connected_on=dt.date(2026, 3, 1))
    services.set_limit(
        user=None,
        outlet=outlet,
        code="w01018",
        limit_value=100,
        unit="mg/L",
        standard="test",
        valid_from=dt.date(2026, 1, 1),
    )
    DatabaseSink().store(
        [
            hour_record(
                "CLI0001",
                dt.datetime(2026, 3, 2, h),
                {"w01018": ("120" if h == 5 else f"{h}", "N")},
            )
            for h in range(24)
        ]
    )
    assert main(["monitoring", "alarms", "--date", "2026-03-02"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["day"] == "2026-03-02" and out["by_kind"] == {"exceedance": 1}
    assert Alarm.objects.get().kind == "exceedance"
    assert main(["monitoring", "alarms", "--date", "2026-03-02", "--mn", "NOPE"]) == 2
    assert "NOPE" in capsys.readouterr().err
    assert main(["monitoring", "alarms", "--date", "03/02/2026"]) == 2
    capsys.readouterr()
    assert main(["monitoring", "rates", "--month", "2026-03"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    rate = json.loads(line)
    # March 2026: 24 received on the 2nd; expected from 1 March to today (or all of March)
    assert rate["mn"] == "CLI0001" and rate["received"] == 24 and rate["valid"] == 24
    assert rate["meets_line"] is False


@pytest.mark.django_db
def test_demo_extension_is_fast_synthetic_and_has_alarms(world):
    from dualcontrol.demo.builder import _make_users  # noqa: F401  (the users it looks for)
    from dualcontrol.entities.models import Entity
    from dualcontrol.monitoring.demo import extend_demo

    Entity.objects.filter(pk__in=[world.unit.pk, world.other_unit.pk]).update(
        is_synthetic=True, is_key_discharger=True
    )
    # its speed is measured in benchmarks/, not here (a loaded machine made a bound here flaky)
    summary = extend_demo(today=dt.date(2026, 3, 10))
    assert summary["outlets"] == 2
    assert all(o.is_synthetic and o.mn.startswith("DEMO") for o in Outlet.objects.all())
    assert Outlet.objects.get(entity=world.unit).kind == "gas"  # a cement works (GB/T 4754 30)
    kinds = set(Alarm.objects.values_list("kind", flat=True))
    assert {"exceedance", "offline"} <= kinds
    assert Receipt.objects.filter(mn="DEMO5301990001W").count() == 6  # the unregistered logger


def test_ingest_workers_share_the_port_and_stop_cleanly(tmp_path):
    """``--workers 2``: two receiver processes on one port (SO_REUSEPORT) store every packet
    once and stop on SIGTERM with the supervisor (own SQLite file: child processes cannot see
    the test database)."""
    import os
    import signal
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DUALCONTROL_ENV="test", DUALCONTROL_DATA_DIR=str(tmp_path))
    cli = [sys.executable, "-m", "dualcontrol.cli"]
    subprocess.run([*cli, "migrate"], env=env, check=True, capture_output=True, timeout=120)
    register = (
        "from dualcontrol.cli import setup_django; setup_django()\n"
        "from tests.factories import division, entity\n"
        "from tests.monitoring.helpers import make_outlet\n"
        "unit = entity(division('539901', '测试市', 'city'))\n"
        "for n in range(30):\n"
        "    make_outlet(unit, mn=f'WRK{n:06d}', station_password='wrk212')\n"
    )
    subprocess.run(
        [sys.executable, "-c", register], env=env, check=True, capture_output=True, timeout=120
    )
    port = free_port()
    supervisor = subprocess.Popen(
        [*cli, "ingest", "hj212", "--listen", f"127.0.0.1:{port}", "--workers", "2",
         "--batch-delay", "0.01", "--log-every", "0"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        from dualcontrol.ingest.hj212_server import run_load

        deadline = time.monotonic() + 60
        while True:  # both workers listening: a connection succeeds
            try:
                socket.create_connection(("127.0.0.1", port), timeout=5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "receivers did not start"
                time.sleep(0.1)
        time.sleep(1.0)  # the second worker too
        load = asyncio.run(
            run_load("127.0.0.1", port, stations=30, packets_per_station=10, window=5,
                     mn_prefix="WRK", timeout_s=60, pw="wrk212",
                     start=station_now() - dt.timedelta(hours=2))
        )  # fmt: skip
    finally:
        supervisor.send_signal(signal.SIGTERM)
        output = supervisor.communicate(timeout=120)[0].decode()
    assert supervisor.returncode == 0, output
    assert load.errors == () and load.answers_received == 300
    import sqlite3

    with sqlite3.connect(tmp_path / "dualcontrol.sqlite3") as db:
        (stored,) = db.execute(
            "SELECT count(*) FROM monitoring_receipt WHERE mn LIKE 'WRK%'"
        ).fetchone()
        audit = [
            row[0]
            for row in db.execute(
                "SELECT after FROM audit_auditentry WHERE action = 'monitoring.ingest'"
            )
        ]
    assert stored == 300  # count sent = count stored, over both workers
    assert len(audit) == 4  # each worker audits its start and stop
    assert "2 receivers on" in output


def test_ingest_workers_need_a_fixed_port(capsys):
    assert main(["ingest", "hj212", "--listen", "127.0.0.1:0", "--workers", "2"]) == 2
    assert "fixed port" in capsys.readouterr().err
    assert main(["ingest", "hj212", "--listen", "127.0.0.1:6000", "--workers", "0"]) == 2
