"""Issue 14: stopping the demo server with Ctrl-C is the ordinary way out — exit 0 (no
"make: *** Error"), no traceback, and the background worker stopped in order, not left behind."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db

# a stand-in for the django-q2 cluster: stops on SIGTERM, as its main process does
WORKER = (
    "import signal, sys, time\n"
    "signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))\n"
    "print('ready', flush=True)\n"
    "time.sleep(60)\n"
)


def _worker() -> subprocess.Popen[bytes]:
    p = subprocess.Popen(
        [sys.executable, "-c", WORKER], start_new_session=True, stdout=subprocess.PIPE
    )
    assert p.stdout is not None and p.stdout.readline() == b"ready\n"
    return p


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt(), SystemExit(0)])
def test_ctrl_c_stops_server_and_worker_with_status_0(interrupt, capsys, monkeypatch):
    from dualcontrol.cli import main
    from dualcontrol.commands import platform

    started: list[subprocess.Popen[bytes]] = []

    def worker() -> subprocess.Popen[bytes]:
        started.append(_worker())
        return started[0]

    def runserver(*_a, **_k):  # runserver answers Ctrl-C with sys.exit(0)
        raise interrupt

    monkeypatch.setattr(platform, "_demo_worker", worker)
    monkeypatch.setattr("django.core.management.call_command", runserver)
    with override_settings(ENV="demo"):
        assert main(["serve", "127.0.0.1:0"]) == 0
    out = capsys.readouterr()
    assert "stopped" in out.out and "Traceback" not in out.err
    assert started and started[0].poll() == 0  # stopped by SIGTERM, in order


def test_the_demo_worker_has_its_own_process_group(monkeypatch):
    """Ctrl-C in the terminal must not reach the cluster's processes (they would leave its main
    process waiting for them); the server stops it."""
    from dualcontrol.commands import platform

    seen = {}

    class Popen:
        pid = 1

        def __init__(self, args, **kwargs):
            seen.update(kwargs, args=args)

    monkeypatch.setattr(platform.subprocess, "Popen", Popen)
    platform._demo_worker()
    assert seen["start_new_session"] is True and seen["args"][-1] == "worker"
