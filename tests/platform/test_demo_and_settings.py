"""The demo province builds reproducibly, its synthetic reports pass the 205-1 rules, and
production settings refuse the default secret key and the demo."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
from django.http import HttpRequest
from django.test import Client, override_settings

from dualcontrol.demo.builder import DEMO_USERS, DemoRefused, build, latest_complete_month
from dualcontrol.entities.models import Entity
from dualcontrol.regions.models import Division
from dualcontrol.reporting import services
from dualcontrol.reporting.models import EnergyReport, Status

pytestmark = pytest.mark.django_db


def test_latest_complete_month():
    assert latest_complete_month(dt.date(2026, 11, 21)) == (2026, 10)
    assert latest_complete_month(dt.date(2026, 1, 1)) == (2025, 12)


def test_demo_province_small_build():
    summary = build(dt.date(2026, 11, 21), units=6, months_limit=3)
    # Yunnan: 1 province, 16 prefecture-level and 129 county-level divisions (GB/T 2260, vintage 2025-12-31)
    yunnan = Division.objects.filter(path__startswith="530000/")
    assert yunnan.filter(level="prefecture").count() == 16
    assert yunnan.filter(level="county").count() == 129
    assert summary.entities == 6 and summary.reports == 18
    assert all(e.is_synthetic for e in Entity.objects.all())
    periods = sorted({(r.year, r.month) for r in EnergyReport.objects.all()})
    assert periods == [(2026, 8), (2026, 9), (2026, 10)]
    # every synthetic report satisfies the same rules as a filed one
    products = services.catalogue()
    for report in EnergyReport.objects.all():
        assert services.validate_rows(services.rows_of(report), products) == []
    assert EnergyReport.objects.exclude(status=Status.ACCEPTED).exists()
    with pytest.raises(DemoRefused, match="already"):
        build(dt.date(2026, 11, 21), units=1, months_limit=1)
    c = Client()
    for username in DEMO_USERS:
        # axes needs the request of a login attempt (it counts failures per user and address)
        assert c.login(request=HttpRequest(), username=username, password="demo12345")


@pytest.mark.django_db(transaction=True)
def test_demo_is_reproducible():
    from django.core.management import call_command

    build(dt.date(2026, 11, 21), units=3, months_limit=1)
    first = sorted((e.uscc, e.name, str(e.annual_energy_tce)) for e in Entity.objects.all())
    totals = sorted(str(r.energy_tce) for r in EnergyReport.objects.all())
    call_command("flush", interactive=False, verbosity=0)
    build(dt.date(2026, 11, 21), units=3, months_limit=1)
    assert sorted((e.uscc, e.name, str(e.annual_energy_tce)) for e in Entity.objects.all()) == first
    assert sorted(str(r.energy_tce) for r in EnergyReport.objects.all()) == totals


@override_settings(DEMO_MODE=False)
def test_demo_refused_in_production_mode():
    with pytest.raises(DemoRefused, match="production"):
        build(dt.date(2026, 11, 21), units=1, months_limit=1)


def _import_settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DUALCONTROL_"))}
    full.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import dualcontrol.settings"],
        env=full,
        capture_output=True,
        text=True,
    )


def test_production_refuses_the_default_secret_key():
    r = _import_settings(
        {"DUALCONTROL_ENV": "production", "DJANGO_ALLOWED_HOSTS": "energy.example.gov.cn"}
    )
    assert r.returncode != 0 and "refuses the default secret key" in r.stderr
    ok = _import_settings(
        {
            "DUALCONTROL_ENV": "production",
            "DJANGO_ALLOWED_HOSTS": "energy.example.gov.cn",
            "DJANGO_SECRET_KEY": "k3y-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ",
            # production refuses SQLite (tests/platform/test_production.py); never connected to
            "DATABASE_URL": "postgres://app@db.invalid:5432/dualcontrol",
        }
    )
    assert ok.returncode == 0, ok.stderr


def test_cli_demo_refused_in_production(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DUALCONTROL_"))}
    env.update(
        {
            "DUALCONTROL_ENV": "production",
            "DJANGO_ALLOWED_HOSTS": "x",
            "DJANGO_SECRET_KEY": "k3y-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ",
            "DUALCONTROL_DATA_DIR": str(tmp_path),
            # refused before any connection (production refuses SQLite, so no file database)
            "DATABASE_URL": "postgres://app@db.invalid:5432/dualcontrol",
        }
    )
    r = subprocess.run(
        [sys.executable, "-m", "dualcontrol.cli", "demo"], env=env, capture_output=True, text=True
    )
    assert r.returncode == 2 and "never in production" in r.stderr
