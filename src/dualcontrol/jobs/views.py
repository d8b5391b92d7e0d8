"""Pages of background work: the system administrator's overview (``/jobs/``: outbox, queue,
failures, timetable), "send again" for failed mails, and the status page a user follows after
starting a job (``/jobs/<id>/``, polled with htmx until the job is finished)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dualcontrol.access.rules import rule_required
from dualcontrol.exports import xlsx_response
from dualcontrol.jobs import services
from dualcontrol.jobs.models import JobStatus, OutboxMessage, OutboxStatus
from dualcontrol.jobs.tasks import JOB_KINDS

# badge colours of the platform stylesheet
OUTBOX_BADGE = {
    OutboxStatus.PENDING: "submitted",
    OutboxStatus.RETRYING: "draft",
    OutboxStatus.SENT: "accepted",
    OutboxStatus.DEAD: "returned",
}
JOB_BADGE = {
    JobStatus.QUEUED: "draft",
    JobStatus.RUNNING: "submitted",
    JobStatus.DONE: "accepted",
    JobStatus.FAILED: "returned",
}
FAILED = "failed"  # filter value: retrying or dead


def _outbox(request: HttpRequest) -> tuple[Any, dict[str, str]]:
    f = {k: request.GET.get(k, "").strip() for k in ("status", "q")}
    qs = OutboxMessage.objects.all()
    if f["status"] == FAILED:
        qs = qs.filter(status__in=[OutboxStatus.RETRYING, OutboxStatus.DEAD])
    elif f["status"] in OutboxStatus.values:
        qs = qs.filter(status=f["status"])
    else:
        f["status"] = ""
    if f["q"]:
        qs = qs.filter(subject__icontains=f["q"]) | qs.filter(origin__icontains=f["q"])
    return qs, f


@rule_required("jobs.manage")
def home(request: HttpRequest) -> HttpResponse:
    from django_q.models import Failure, OrmQ

    qs, filters = _outbox(request)
    if request.GET.get("export") == "xlsx":
        headers = [
            _("创建时间"),
            _("收件人"),
            _("主题"),
            _("来源"),
            _("状态"),
            _("尝试次数"),
            _("下次尝试时间"),
            _("发送时间"),
            _("最近一次错误"),
        ]
        rows = (
            [
                m.created.strftime("%Y-%m-%d %H:%M:%S"),
                ", ".join(m.to),
                m.subject,
                m.origin,
                m.get_status_display(),
                m.attempts,
                m.next_attempt_at.strftime("%Y-%m-%d %H:%M:%S") if m.next_attempt_at else "",
                m.sent_at.strftime("%Y-%m-%d %H:%M:%S") if m.sent_at else "",
                m.last_error,
            ]
            for m in qs.iterator(chunk_size=1000)
        )
        return xlsx_response("outbox.xlsx", "outbox", headers, rows)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    counts = services.outbox_counts()
    return render(
        request,
        "jobs/home.html",
        {
            "page": page,
            "filters": filters,
            "counts": [
                (value, label, counts.get(value, 0), OUTBOX_BADGE[OutboxStatus(value)])
                for value, label in OutboxStatus.choices
            ],
            "statuses": [(FAILED, _("发送失败（重试中或已放弃）")), *OutboxStatus.choices],
            "badges": OUTBOX_BADGE,
            "job_badges": JOB_BADGE,
            "queued": OrmQ.objects.order_by("lock")[:50],
            "queued_count": OrmQ.objects.count(),
            "failures": Failure.objects.order_by("-stopped")[:20],
            "schedules": services.schedule_rows(),
            "jobs": services.visible_jobs(request.user).select_related("requested_by")[:20],
            "kinds": {k: v.title for k, v in JOB_KINDS.items()},
        },
    )


@rule_required("jobs.manage")
@require_POST
def outbox_retry(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(OutboxMessage, pk=pk)
    try:
        services.retry_message(message=message, user=request.user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(
            request,
            _("邮件“%(subject)s”将在下一次发送时（约一分钟内）重新发送。")
            % {"subject": message.subject},
        )
    back = request.POST.get("status", "")
    url = reverse("jobs:home")
    return redirect(url + f"?status={back}" if back in (FAILED, *OutboxStatus.values) else url)


@rule_required("jobs.view")
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A job's status: its requester (and the system administrator) see it; others get 404."""
    job = get_object_or_404(services.visible_jobs(request.user), pk=pk)
    kind = JOB_KINDS.get(job.kind)
    context = {
        "job": job,
        "kind_title": kind.title if kind else job.kind,
        "badge": JOB_BADGE.get(JobStatus(job.status), ""),
        "summary": kind.describe(job.result)
        if kind and job.status == JobStatus.DONE and job.result
        else "",
        "link": kind.link(job) if kind else "",
    }
    if request.headers.get("HX-Request"):
        return render(request, "jobs/_status.html", context)
    return render(request, "jobs/detail.html", context)


@rule_required("jobs.view")
def job_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The file an export job wrote: for its requester (and the system administrator)."""
    from django.core.files.storage import default_storage
    from django.http import FileResponse, Http404

    from dualcontrol.audit.services import record_export

    job = get_object_or_404(services.visible_jobs(request.user), pk=pk, status=JobStatus.DONE)
    path = (job.result or {}).get("file") if isinstance(job.result, dict) else None
    if not path or not default_storage.exists(path):
        raise Http404
    filename = str(job.result.get("filename") or "export.xlsx")
    record_export(
        user=request.user,
        what=f"job:{job.kind}",
        filename=filename,
        rows=job.result.get("rows"),
        params={"job": job.pk},
    )
    return FileResponse(default_storage.open(path, "rb"), as_attachment=True, filename=filename)
