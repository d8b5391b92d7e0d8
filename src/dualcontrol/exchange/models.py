"""Peers (the platforms one level up or down, with their public keys) and the log of every package
exported or imported (with its digest: the receiver's memory for duplicates and replays)."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    NATIONAL = "national", _("国家")
    PROVINCE = "province", _("省级")
    CITY = "city", _("市级")


class Peer(models.Model):
    """Another platform: its division code (000000 = national), level and Ed25519 public key."""

    code = models.CharField(_("区划代码"), max_length=6, unique=True)
    name = models.CharField(_("名称"), max_length=128)
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices)
    public_key = models.CharField(_("公钥（Ed25519，base64）"), max_length=64)
    key_id = models.CharField(_("公钥标识"), max_length=16)
    active = models.BooleanField(_("启用"), default=True)
    url = models.URLField(_("在线交换地址"), blank=True)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["level", "code"]
        verbose_name = _("交换对象")
        verbose_name_plural = _("交换对象")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Direction(models.TextChoices):
    OUT = "out", _("发出")
    IN = "in", _("收到")


class Outcome(models.TextChoices):
    EXPORTED = "exported", _("已导出")
    IMPORTED = "imported", _("已导入")
    DUPLICATE = "duplicate", _("重复（未改动）")
    REFUSED = "refused", _("已拒收")


class PackageRecord(models.Model):
    direction = models.CharField(max_length=3, choices=Direction.choices)
    package_id = models.CharField(max_length=36, blank=True)
    sender_code = models.CharField(max_length=6, blank=True)
    recipient_code = models.CharField(max_length=6, blank=True)
    sequence = models.PositiveIntegerField(null=True, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    reason = models.TextField(blank=True)
    counts = models.JSONField(default=dict)
    contents = models.JSONField(default=dict, blank=True)
    applied = models.JSONField(default=dict, blank=True)
    size_bytes = models.PositiveIntegerField(default=0)
    at = models.DateTimeField(auto_now_add=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering: ClassVar = ["-at", "-pk"]
        indexes: ClassVar = [models.Index(fields=["direction", "sender_code", "outcome"])]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["direction", "package_id"],
                condition=models.Q(outcome__in=["exported", "imported"]),
                name="exchange_package_once",
            )
        ]
