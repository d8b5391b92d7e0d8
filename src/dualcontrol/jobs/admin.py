"""Admin: the outbox and page jobs are read-only records (a failed mail is sent again with the
audited action); django-q2's own tables (schedules, queue, successes, failures) keep their admin,
with every save, delete and resubmission recorded in the audit log."""

from __future__ import annotations

from typing import Any

import django_q.admin as q_admin
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_q.models import Failure, OrmQ, Schedule, Success

from dualcontrol.audit.admin import AuditedAdmin
from dualcontrol.audit.services import record
from dualcontrol.jobs import services
from dualcontrol.jobs.models import Job, OutboxMessage, OutboxStatus


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.action(description=_("立即重新发送选中的失败邮件"))
def retry_messages(model_admin: Any, request: Any, queryset: Any) -> None:
    done = 0
    for message in queryset.filter(status__in=[OutboxStatus.DEAD, OutboxStatus.RETRYING]):
        try:
            services.retry_message(message=message, user=request.user)
        except ValidationError as exc:  # pragma: no cover - filtered above
            model_admin.message_user(request, "；".join(exc.messages), messages.ERROR)
        else:
            done += 1
    model_admin.message_user(request, _("%(n)s 封邮件将重新发送。") % {"n": done})


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ("created", "subject", "status", "attempts", "next_attempt_at", "sent_at")
    list_filter = ("status",)
    search_fields = ("subject", "origin", "last_error")
    date_hierarchy = "created"
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]
    actions = [retry_messages]  # refused (PermissionDenied) for anyone but the system administrator


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = ("created", "kind", "requested_by_name", "status", "finished_at")
    list_filter = ("kind", "status")
    readonly_fields = [f.name for f in Job._meta.fields]


# ---- django-q2's tables: the same admin, audited ----------------------------------------------


@admin.action(description=_("重新提交选中的任务"))
def resubmit_audited(model_admin: Any, request: Any, queryset: Any) -> None:
    for task in queryset:
        record(
            actor=request.user,
            action="admin.task.resubmit",
            obj=task,
            after={"func": task.func, "group": task.group},
        )
    q_admin.resubmit_task(model_admin, request, queryset)


class AuditedScheduleAdmin(AuditedAdmin, q_admin.ScheduleAdmin):
    pass


class AuditedTaskAdmin(AuditedAdmin, q_admin.TaskAdmin):
    actions = [resubmit_audited]


class AuditedFailAdmin(AuditedAdmin, q_admin.FailAdmin):
    actions = [resubmit_audited]


class AuditedQueueAdmin(AuditedAdmin, q_admin.QueueAdmin):
    pass


for _model, _admin in (
    (Schedule, AuditedScheduleAdmin),
    (Success, AuditedTaskAdmin),
    (Failure, AuditedFailAdmin),
    (OrmQ, AuditedQueueAdmin),
):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    admin.site.register(_model, _admin)
