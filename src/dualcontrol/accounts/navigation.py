"""The main navigation: which sections each role sees (links to views that exist)."""

from __future__ import annotations

from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from dualcontrol.accounts.models import Role

PROVINCE = {Role.PROVINCE_ADMIN, Role.PROVINCE_OFFICER}
STAFF = PROVINCE | {Role.CITY_OFFICER}
ALL = STAFF | {Role.ENTERPRISE, Role.VERIFIER}

# (label, url name, roles)
ITEMS: list[tuple[Any, str, set[str]]] = [
    (_("首页"), "home", ALL),
    (_("目标与预警"), "targets:dashboard", STAFF),
    (_("能源报表"), "reporting:list", ALL),
    (_("审核"), "reporting:review", STAFF),
    (_("统计自报"), "reporting:statistics", STAFF),
    (_("在线填报"), "reporting:new", {Role.ENTERPRISE}),
    (_("Excel 上传"), "reporting:upload", {Role.ENTERPRISE}),
    (_("能耗在线监测"), "metering:list", ALL),
    (_("污染源监控"), "monitoring:list", ALL),
    (_("减排项目"), "projects:ledger", STAFF),
    (_("减排项目"), "projects:list", {Role.ENTERPRISE, Role.VERIFIER}),
    (_("任务跟踪"), "tasks:plans", STAFF),
    (_("考核"), "assessment:list", ALL),
    (_("公报公告"), "publishing:manage", PROVINCE),
    (_("报告单位"), "entities:list", ALL),
    (_("审计日志"), "audit:list", {Role.AUDITOR}),
    (_("后台任务"), "jobs:home", {Role.SYSTEM_ADMIN}),
    (_("登录锁定"), "accounts:lockouts", {Role.SECURITY_ADMIN}),
    (_("动态口令"), "accounts:otp-users", {Role.SECURITY_ADMIN}),
    (_("API 令牌"), "accounts:tokens", {Role.SECURITY_ADMIN}),
    (_("系统管理"), "admin:index", {Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN}),
]
PUBLIC_ITEMS: list[tuple[Any, str]] = [
    (_("公开信息"), "public-home"),
    (_("公报"), "publishing:bulletins"),
    (_("考核结果"), "publishing:results"),
    (_("超标名单"), "publishing:exceedances"),
]


def _url(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def nav_for(role: str, authenticated: bool) -> list[tuple[Any, str]]:
    if not authenticated:
        items = [(label, _url(name)) for label, name in PUBLIC_ITEMS]
    else:
        items = [(label, _url(name)) for label, name, roles in ITEMS if role in roles]
    return [(label, url) for label, url in items if url]
