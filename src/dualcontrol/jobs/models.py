"""The mail outbox and the jobs started from pages.

Queued tasks, failures and schedules themselves are django-q2's tables (``django_q``); these two
tables are the platform's own: what must survive a mail server outage (:class:`OutboxMessage`)
and what a user waits for after pressing a button (:class:`Job`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    RETRYING = "retrying", _("发送失败，等待重试")
    SENT = "sent", _("已发送")
    DEAD = "dead", _("已放弃（需管理员处理）")


DUE_STATUSES = (OutboxStatus.PENDING, OutboxStatus.RETRYING)


class OutboxMessage(models.Model):
    """One mail to send: written in the caller's transaction, sent by the worker, retried with
    back-off (``jobs_policy.yaml``) until sent or given up."""

    to = models.JSONField(_("收件人"), default=list)
    subject = models.CharField(_("主题"), max_length=255)
    body = models.TextField(_("内容"))
    from_email = models.CharField(_("发件人"), max_length=254, blank=True)
    created = models.DateTimeField(_("创建时间"), default=timezone.now)
    status = models.CharField(
        _("状态"), max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试时间"), null=True, blank=True)
    last_error = models.TextField(_("最近一次错误"), blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    # who asked for it, e.g. "targets.alert:123": the caller marks its own row when delivered
    origin = models.CharField(_("来源"), max_length=100, blank=True, db_index=True)
    # optional callback (dotted path inside the dualcontrol package) called with the message
    on_sent = models.CharField(max_length=200, blank=True)
    # a worker's claim while it sends (expires: a crashed worker's message is tried again)
    claimed_until = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("发件箱邮件")
        verbose_name_plural = _("发件箱邮件")
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due")]

    def __str__(self) -> str:
        return f"{self.subject} → {', '.join(self.to)}"


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("运行中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class Job(models.Model):
    """A long action started from a page (e.g. the month's warning run): queued for the worker,
    followed by its requester on ``/jobs/<id>/``."""

    kind = models.CharField(_("任务类型"), max_length=64)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    requested_by_name = models.CharField(_("发起人"), max_length=150, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED
    )
    task_id = models.CharField(_("队列任务"), max_length=64, blank=True)
    result = models.JSONField(_("结果"), null=True, blank=True)
    error = models.TextField(_("错误"), blank=True)
    created = models.DateTimeField(_("提交时间"), default=timezone.now)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    # how far a running job has come (rows written of all rows), for the progress bar
    progress_done = models.PositiveIntegerField(_("已处理"), null=True, blank=True)
    progress_total = models.PositiveIntegerField(_("总数"), null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("后台任务")
        verbose_name_plural = _("后台任务")

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)

    @property
    def progress_pct(self) -> int | None:
        if not self.progress_total or self.progress_done is None:
            return None
        return min(100, self.progress_done * 100 // self.progress_total)
