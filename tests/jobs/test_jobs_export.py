"""A large export is a job: the page answers at once, the worker writes the file, its requester
downloads it (nobody else), the download is audited and old files are pruned."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from dualcontrol.accounts.models import Role
from dualcontrol.audit.models import AuditEntry
from dualcontrol.jobs import policy as jobs_policy_module
from dualcontrol.jobs import tasks
from dualcontrol.jobs.models import Job
from dualcontrol.reporting import services as reporting
from tests.auth import login
from tests.factories import coal_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def reports(world):
    out = []
    for unit, who in ((world.unit, Role.ENTERPRISE), (world.other_unit, "other_enterprise")):
        for month in (9, 10):
            out.append(
                reporting.save_report(
                    entity=unit,
                    period_type="monthly",
                    year=2026,
                    month=month,
                    rows=[coal_row()],
                    user=world.users[who],
                    submit=True,
                )
            )
    return out


@pytest.fixture
def small_inline_limit(monkeypatch):
    real = jobs_policy_module.jobs_policy()
    policy = dataclasses.replace(real, exports=dataclasses.replace(real.exports, inline_max_rows=2))
    monkeypatch.setattr(jobs_policy_module, "jobs_policy", lambda: policy)
    return policy


def test_a_small_export_is_answered_at_once(world, reports, small_inline_limit):
    c = login(Client(), world.users[Role.ENTERPRISE])  # sees its own 2 reports
    r = c.get("/reports/?export=xlsx")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxml")
    assert not Job.objects.exists()


def test_a_large_export_is_a_job_for_its_requester_only(world, reports, small_inline_limit):
    admin = world.users[Role.PROVINCE_ADMIN]
    c = login(Client(), admin)
    r = c.get("/reports/?export=xlsx&year=2026")
    job = Job.objects.get()
    assert r.status_code == 302 and r.url == f"/jobs/{job.pk}/"
    assert (job.kind, job.params, job.requested_by) == (
        "reports.export",
        {"filters": {"year": "2026", "month": "", "status": "", "division": "", "q": ""}},
        admin,
    )
    assert c.get(f"/jobs/{job.pk}/download/").status_code == 404  # not done yet
    result = tasks.run_job(job.pk)
    assert result["rows"] == 4
    page = c.get(f"/jobs/{job.pk}/").content.decode()
    assert f"/jobs/{job.pk}/download/" in page and "已导出 4 份报表" in page
    r = c.get(f"/jobs/{job.pk}/download/")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(b"".join(r.streaming_content))).active
    assert ws.max_row == 6 and ws.cell(2, 1).value == "单位名称"  # row 1: the title
    assert AuditEntry.objects.filter(action="export", object_repr__contains="reports.xlsx").exists()
    # another officer (even one who could see the reports) does not get the requester's file
    other = login(Client(), world.users[Role.PROVINCE_OFFICER])
    assert other.get(f"/jobs/{job.pk}/download/").status_code == 404
    assert other.get(f"/jobs/{job.pk}/").status_code == 404


def test_the_job_keeps_the_requesters_scope(world, reports, small_inline_limit):
    city = world.users[Role.CITY_OFFICER]
    job = Job.objects.create(
        kind="reports.export",
        params={"filters": {"year": "", "month": "", "status": "", "division": "", "q": ""}},
        requested_by=city,
    )
    assert tasks.run_job(job.pk)["rows"] == 2  # the city's own unit only


def test_old_export_files_are_pruned(world, reports, small_inline_limit):
    job = Job.objects.create(
        kind="reports.export",
        params={"filters": {}},
        requested_by=world.users[Role.PROVINCE_ADMIN],
    )
    path = tasks.run_job(job.pk)["file"]
    assert default_storage.exists(path)
    assert tasks.prune_exports()["removed"] == 0
    Job.objects.filter(pk=job.pk).update(finished_at=timezone.now() - dt.timedelta(days=8))
    assert tasks.prune_exports()["removed"] == 1
    assert not default_storage.exists(path)


def test_a_running_export_shows_its_progress(world, reports):
    """The job writes how many rows it has done of how many; the job page shows a progress bar
    while it runs (issue 14)."""
    job = Job.objects.create(
        kind="reports.export",
        params={"filters": {}},
        requested_by=world.users[Role.PROVINCE_OFFICER],
        status="running",
    )
    seen = []
    rows = tasks.counted(job, iter(range(10)), 10, steps=5)
    for _row in rows:
        job.refresh_from_db()
        seen.append(job.progress_done)
    job.refresh_from_db()
    assert (job.progress_done, job.progress_total, job.progress_pct) == (10, 10, 100)
    assert seen[0] == 0 and seen[-1] == 8 and seen == sorted(seen)  # written every 2 rows
    Job.objects.filter(pk=job.pk).update(progress_done=3)
    c = login(Client(), world.users[Role.PROVINCE_OFFICER])
    page = c.get(f"/jobs/{job.pk}/").content.decode()
    assert '<progress value="3" max="10">' in page and "3 / 10（30%）" in page


def test_the_export_job_reports_every_row(world, reports):
    job = Job.objects.create(
        kind="reports.export",
        params={"filters": {}},
        requested_by=world.users[Role.PROVINCE_OFFICER],
    )
    result = tasks.JOB_KINDS["reports.export"].run(job)
    job.refresh_from_db()
    assert job.progress_total == result["rows"] == job.progress_done == len(reports)
