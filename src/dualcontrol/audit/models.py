"""Append-only audit log: who, when, what, before and after, for every service-layer write.

Hand-written rather than a library (django-auditlog, django-simple-history): the platform needs one
writer inside the caller's transaction, a redaction list, a hash chain over every entry and an
append-only table enforced by PostgreSQL — none of which those libraries provide together.

Each entry stores ``prev_hash`` (the previous entry's hash) and ``entry_hash`` (SHA-256 of its own
canonical form, see :mod:`dualcontrol.audit.chain`); appending goes through one locked chain head,
so concurrent writers cannot fork the chain.  ``dualcontrol audit verify`` walks it.
"""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(RuntimeError):
    """Audit entries are never changed or deleted."""


class AuditQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: object) -> int:
        raise AppendOnlyError("audit entries are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit entries are append-only")

    def bulk_create(self, *args: object, **kwargs: object) -> list[AuditEntry]:
        raise AppendOnlyError("audit entries are appended one by one through the chain")

    def bulk_update(self, *args: object, **kwargs: object) -> int:
        raise AppendOnlyError("audit entries are append-only")


class AuditEntry(models.Model):
    at = models.DateTimeField(_("时间"), default=timezone.now, editable=False, db_index=True)
    # a reference that never cascades: deleting a user neither deletes nor rewrites its entries
    # (no database constraint, nothing done on delete); actor_name keeps the account name
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_name = models.CharField(_("操作人账号"), max_length=150, blank=True)
    action = models.CharField(_("操作"), max_length=64, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=64, db_index=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True, db_index=True)
    object_repr = models.CharField(_("对象"), max_length=255, blank=True)
    before = models.JSONField(_("修改前"), null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(_("修改后"), null=True, blank=True, encoder=DjangoJSONEncoder)
    note = models.TextField(_("说明"), blank=True)
    prev_hash = models.CharField(_("前一条的哈希"), max_length=64, editable=False)
    entry_hash = models.CharField(_("本条哈希"), max_length=64, editable=False, db_index=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action} {self.object_repr}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None or not self._state.adding:
            raise AppendOnlyError("audit entries are append-only")
        from dualcontrol.audit.chain import append

        append(self, using=str(kwargs.get("using") or "default"))

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit entries are append-only")


class AuditChainHead(models.Model):
    """One row: the end of the chain.  Appends lock it (so they are serialised) and move it on;
    verify compares it with the last entry (so deleting the newest entries is seen too)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_id = models.BigIntegerField(null=True, blank=True)
    last_hash = models.CharField(max_length=64)
    length = models.BigIntegerField(default=0)  # entries ever appended (pruned ones included)

    class Meta:
        verbose_name = _("审计链头")
        verbose_name_plural = _("审计链头")

    def __str__(self) -> str:
        return f"#{self.last_id} {self.last_hash[:12]}"


class AuditCheckpoint(models.Model):
    """Written by ``dualcontrol audit prune``: where the kept chain starts.  Verify starts from the
    latest checkpoint: the first kept entry must link to ``last_hash``."""

    at = models.DateTimeField(_("时间"), default=timezone.now)
    actor_name = models.CharField(_("操作人"), max_length=150)
    cutoff = models.DateTimeField(_("清理截止时间"))
    retention_days = models.PositiveIntegerField(_("保留天数"))
    through_id = models.BigIntegerField(_("清理至编号"))
    through_at = models.DateTimeField(_("最后清理记录的时间"))
    last_hash = models.CharField(_("最后清理记录的哈希"), max_length=64)
    pruned = models.BigIntegerField(_("清理条数"))

    class Meta:
        ordering = ["-through_id"]
        verbose_name = _("审计清理检查点")
        verbose_name_plural = _("审计清理检查点")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d} ≤#{self.through_id} ({self.pruned})"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None or not self._state.adding:
            raise AppendOnlyError("audit checkpoints are append-only")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit checkpoints are append-only")
