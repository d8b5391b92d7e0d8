"""The main navigation: a section is shown when its rule (dualcontrol.access.rules) allows."""

from __future__ import annotations

from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from dualcontrol.access.rules import allows

# (label, url name, rule of dualcontrol.access.rules)
ITEMS: list[tuple[Any, str, str]] = [
    (_("首页"), "home", "home"),
    (_("目标与预警"), "targets:dashboard", "targets.view"),
    (_("能源报表"), "reporting:list", "reports.view"),
    (_("审核"), "reporting:review", "reports.review"),
    (_("统计自报"), "reporting:statistics", "statistics.file"),
    (_("在线填报"), "reporting:new", "reports.file"),
    (_("Excel 上传"), "reporting:upload", "reports.file"),
    (_("能耗在线监测"), "metering:list", "metering.view"),
    (_("污染源监控"), "monitoring:list", "monitoring.view"),
    (_("减排项目"), "projects:ledger", "projects.manage"),
    (_("重点用能单位"), "keyunits:home", "keyunits.view"),
    (_("碳市场"), "carbonmarket:home", "carbon.view"),
    (_("权益交易"), "rights:home", "rights.view"),
    (_("任务跟踪"), "tasks:plans", "tasks.view"),
    (_("考核"), "assessment:list", "assessment.view"),
    (_("公报公告"), "publishing:manage", "publishing.manage"),
    (_("报告单位"), "entities:list", "entities.view"),
    (_("上下级交换"), "exchange:log", "exchange.manage"),
    (_("审计日志"), "audit:list", "audit.read"),
    (_("后台任务"), "jobs:home", "jobs.manage"),
    (_("登录锁定"), "accounts:lockouts", "security.manage"),
    (_("动态口令"), "accounts:otp-users", "security.manage"),
    (_("API 令牌"), "accounts:tokens", "security.manage"),
    (_("系统管理"), "admin:index", "admin.site"),
]
# where a role sees a section through another page than the one above
ALTERNATIVES: dict[str, tuple[str, str]] = {
    # units and verifiers see their own projects (the ledger is for staff)
    "projects:ledger": ("projects:list", "projects.view"),
}
PUBLIC_ITEMS: list[tuple[Any, str]] = [
    (_("公开信息"), "public-home"),
    (_("公报"), "publishing:bulletins"),
    (_("考核结果"), "publishing:results"),
    (_("超标名单"), "publishing:exceedances"),
    (_("碳市场履约"), "carbonmarket:public"),
    (_("碳普惠"), "rights:public"),
]


def _url(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


# links shown in the bar itself; the rest open from "更多" (issue 14: the bar wrapped onto two
# lines at 1440 px with the sixteen links of a province administrator)
NAV_IN_BAR = 7


def split_nav(items: list[tuple[Any, str]]) -> tuple[list[tuple[Any, str]], list[tuple[Any, str]]]:
    """(links in the bar, links under 更多); a menu of one link is not worth a menu."""
    if len(items) <= NAV_IN_BAR + 1:
        return items, []
    return items[:NAV_IN_BAR], items[NAV_IN_BAR:]


def nav_for(user: Any) -> list[tuple[Any, str]]:
    if not getattr(user, "is_authenticated", False):
        items = [(label, _url(name)) for label, name in PUBLIC_ITEMS]
    else:
        items = []
        for label, name, rule in ITEMS:
            if allows(user, rule):
                items.append((label, _url(name)))
            elif name in ALTERNATIVES and allows(user, ALTERNATIVES[name][1]):
                items.append((label, _url(ALTERNATIVES[name][0])))
    return [(label, url) for label, url in items if url]
