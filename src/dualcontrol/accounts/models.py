"""Users with a role and a scope (region, unit, department), and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    # the national level (issue 22): reads every province of the installation, changes nothing
    NATIONAL_OFFICER = "national_officer", _("国家级人员")
    PROVINCE_ADMIN = "province_admin", _("省级管理员")
    PROVINCE_OFFICER = "province_officer", _("省级部门人员")
    CITY_OFFICER = "city_officer", _("州（市）/县人员")
    ENTERPRISE = "enterprise", _("企业填报人")
    VERIFIER = "verifier", _("第三方核查人员")
    PUBLIC = "public", _("公众")
    # 等保 2.0 三员: separated system, security and audit administrators
    SYSTEM_ADMIN = "system_admin", _("系统管理员")
    SECURITY_ADMIN = "security_admin", _("安全管理员")
    AUDITOR = "auditor", _("安全审计员")


class User(AbstractUser):
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices, default=Role.PUBLIC)
    division = models.ForeignKey(
        "regions.Division",
        verbose_name=_("所属区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    department = models.ForeignKey(
        "regions.Department",
        verbose_name=_("所属部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    entity = models.ForeignKey(
        "entities.Entity",
        verbose_name=_("所属单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    assigned_entities = models.ManyToManyField(
        "entities.Entity", verbose_name=_("核查分配的单位"), blank=True, related_name="verifiers"
    )
    is_demo = models.BooleanField(_("演示账号"), default=False)
    # set when an administrator creates the account or sets its password: until the user picks
    # their own, every page leads to the password change (accounts.passwords)
    must_change_password = models.BooleanField(
        _("须修改初始密码"),
        default=False,
        help_text=_("管理员创建账号或重置密码后自动勾选；用户自行修改密码后清除。"),
    )

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def clean(self) -> None:
        super().clean()
        if self.role == Role.CITY_OFFICER and self.division_id is None:
            raise ValidationError({"division": _("州（市）/县人员必须指定所属区划")})
        if self.role == Role.ENTERPRISE and self.entity_id is None:
            raise ValidationError({"entity": _("企业填报人必须指定所属单位")})
        if self.role == Role.PROVINCE_OFFICER and self.department_id is None:
            raise ValidationError({"department": _("省级部门人员必须指定所属部门")})
        if self.role in (Role.PROVINCE_ADMIN, Role.PROVINCE_OFFICER):
            if self.division_id is not None and self.division.parent_id is not None:
                raise ValidationError({"division": _("省级人员的所属区划须为省级区划")})
            if self.division_id is None and not self._province_known():
                raise ValidationError({"division": _("本平台有多个省份：省级人员必须指定所属省份")})

    def _province_known(self) -> bool:
        """Without a division, the department's province, or the installation's only province."""
        if self.department_id is not None and self.department.division_id is not None:
            return True
        from dualcontrol.regions.models import Division

        roots = Division.objects.filter(parent__isnull=True).values_list("code", flat=True)
        return len(set(roots)) <= 1


class PasswordHistory(models.Model):
    """A user's earlier password hashes (never the password): a new one may repeat none of the last N.

    Written on every change of ``User.password`` (self-service, admin, CLI): see
    :mod:`dualcontrol.accounts.passwords`.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(_("密码哈希"), max_length=128)
    created = models.DateTimeField(_("设置时间"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("历史密码")
        verbose_name_plural = _("历史密码")

    def __str__(self) -> str:
        return f"{self.user} {self.created:%Y-%m-%d %H:%M}"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for the REST API; only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created = models.DateTimeField(auto_now_add=True)
    expires = models.DateTimeField()
    last_used = models.DateTimeField(null=True, blank=True)
    # revoked, never deleted (logout, password change, owner, security administrator, cap):
    # see dualcontrol.accounts.tokens
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    revoked_reason = models.CharField(_("吊销原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    def __str__(self) -> str:
        return f"{self.user} {self.prefix}…"

    def state(self, now: Any = None) -> str:
        """``revoked``, ``expired`` or ``live``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires <= (now or timezone.now()):
            return "expired"
        return "live"

    @staticmethod
    def new_key() -> str:
        return secrets.token_urlsafe(32)
