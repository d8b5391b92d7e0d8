"""Pages of the key-unit registry: the registry with tiers and proposals, a unit's page, status
reports (file, upload, review), the province's lists (with Excel/CSV exports), shares at 标杆,
audits.

Thin: reads in :mod:`.queries`, writes in :mod:`.services`, scope through
:mod:`dualcontrol.access.keyunits` (outside the scope → 404).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dualcontrol import uploads_annotate
from dualcontrol.access import keyunits as access
from dualcontrol.access.rules import allows, rule_required
from dualcontrol.access.scope import visible_entities
from dualcontrol.exports import XLSX, csv_text, xlsx_response
from dualcontrol.keyunits import queries, services
from dualcontrol.keyunits.models import (
    AuditOrder,
    AuditReason,
    Designation,
    DesignationStatus,
    ListKind,
    PublishedList,
    StatusReport,
    Tier,
)
from dualcontrol.keyunits.rules import KeyUnitRules, load_rules
from dualcontrol.keyunits.workbook import UPLOAD_KIND
from dualcontrol.redirects import safe_next
from dualcontrol.reporting.models import Status as RStatus

PAGE_SIZE = 50
ENERGY_ROWS = 8
PRODUCT_ROWS = 5


def _year(request: HttpRequest) -> int:
    default = queries.latest_year(timezone.localdate())
    try:
        year = int(request.GET.get("year") or request.POST.get("year") or default)
    except ValueError:
        return default
    return year if 2000 <= year <= default + 1 else default


def _common(request: HttpRequest, nav: str) -> dict[str, Any]:
    user = request.user
    return {
        "nav": nav,
        "may_manage": allows(user, "keyunits.manage"),
        "may_designate": allows(user, "keyunits.designate"),
        "may_file": allows(user, "keyunits.file"),
        "list_kinds": ListKind.choices,
    }


# --------------------------------------------------------------------------------------------
# display: the rule notes in short Chinese sentences (the data file keeps its source text, shown
# in full as the note's tooltip), list cells formatted per column

_DOC = re.compile(
    r"《[^》]+》(?:第[一二三四五六七八九十百零]+条)?"
    r"|[\u4e00-\u9fff]+〔\d{4}〕\d+号"
    r"|节约能源法\s*第[一二三四五六七八九十百零]+条"
)


def _docs(source: str) -> str:
    """The documents a source text cites (titles, document numbers, articles), joined."""
    found: list[str] = []
    for m in _DOC.findall(source):
        text = re.sub(r"\s+", " ", m).strip()
        if text not in found and not any(text in f for f in found):
            found.append(text)
    return "、".join(found)


def _platform(source: str) -> bool:
    return "platform rule" in source.lower()


def _note(sentence: str, source: str) -> dict[str, str]:
    docs = _docs(source)
    parts = [sentence]
    if docs:
        parts.append(_("依据：%(d)s。") % {"d": docs})
    if _platform(source):
        parts.append(_("平台规则，可在 keyunit_rules.yaml 中配置。"))
    return {"text": "".join(parts), "source": source}


def rule_notes(rules: KeyUnitRules) -> dict[str, dict[str, str]]:
    """Short Chinese notes on the workflow rules for the pages (figures from the rules)."""
    fixed = "；".join(
        f"{queries.product_label(p)} {d.isoformat()}" for p, d in rules.upgrade_deadlines.items()
    )
    grades = "、".join(
        _("超限额") if g == "over" else _("%(g)s级") % {"g": g} for g in rules.frontrunner_grades
    )
    return {
        "deadline": _note(
            _("报告年度次年 %(m)s 月 %(d)s 日前报送（国家未规定日期）。")
            % {"m": rules.deadline_month, "d": rules.deadline_day},
            rules.deadline_source,
        ),
        "audit": _note(
            _("审计报告期限：责令之日起 %(n)s 日（国家未规定时限，第五十四条为“限期整改”）。")
            % {"n": rules.audit_due_days}
            if _platform(rules.audit_due_source)
            else _("审计报告期限：责令之日起 %(n)s 日。") % {"n": rules.audit_due_days},
            rules.audit_due_source,
        ),
        "upgrade": _note(
            (_("改造升级时限：%(f)s；") % {"f": fixed} if fixed else "")
            + _("其他产品为评定年度后第 %(n)s 年年底。") % {"n": rules.upgrade_default_years},
            rules.upgrade_source,
        ),
        "frontrunner": _note(
            _(
                "遴选规则：年综合能源消费量超过 %(tce)s 吨标准煤、产品能效达到 %(g)s 的单位中，"
                "每种产品指标取单位产品能耗最低的 %(n)s 家（并列的均列入）。"
            )
            % {
                "tce": queries.plain(rules.frontrunner_min_energy_tce),
                "g": grades,
                "n": rules.frontrunner_per_product,
            },
            rules.frontrunner_source,
        ),
        "benchmark": _note(
            _("目标：%(y)s 年达到标杆水平的产能比例超过 %(t)s%%。")
            % {
                "y": rules.benchmark_target_year,
                "t": queries.plain(rules.benchmark_target_frac * 100),
            },
            rules.benchmark_source,
        ),
    }


def _cell(header: str, value: Any) -> str:
    """A list cell as shown on the page: 吨标准煤 and 元 with 2 decimals, 元/千瓦时 with 4,
    千瓦时 whole, other measured values without trailing zeros; text as it is."""
    if value is None or value == "":
        return "—"
    if not isinstance(value, Decimal):
        return str(value)
    if "元/千瓦时" in header:
        places = 4
    elif "吨标准煤" in header or "（元）" in header:
        places = 2
    elif "千瓦时" in header:
        places = 0
    else:
        return queries.plain(value)
    return f"{value.quantize(Decimal(1).scaleb(-places)):f}"


def _cell_class(header: str, value: Any) -> str:
    if header.endswith("版本"):
        return "ver"
    return "num" if isinstance(value, Decimal | int) and header != "年度" else ""


def _refused(request: HttpRequest, exc: Exception) -> None:
    if isinstance(exc, services.ReportRejected):
        for p in exc.problems[:50]:
            messages.error(request, str(p))
    else:
        messages.error(request, str(exc))


def _act(request: HttpRequest, act: Callable[[], object], success: str) -> bool:
    try:
        act()
    except services.PermissionDenied as exc:
        raise _forbidden(exc) from exc
    except (services.WorkflowError, services.ReportRejected, ValueError) as exc:
        _refused(request, exc)
        return False
    messages.success(request, success)
    return True


def _forbidden(exc: Exception) -> Exception:
    from django.core.exceptions import PermissionDenied

    return PermissionDenied(str(exc))


# --------------------------------------------------------------------------------------------
# registry


@rule_required("keyunits.view")
def home(request: HttpRequest) -> HttpResponse:
    """The registry of the year: designations by tier (scoped), the proposals to confirm."""
    user = request.user
    if allows(user, "keyunits.file") and getattr(user, "entity_id", None):
        return redirect("keyunits:unit", pk=user.entity_id)
    year = _year(request)
    f = {k: request.GET.get(k, "").strip() for k in ("tier", "status", "q")}
    qs = access.scoped(user, Designation.objects.filter(year=year)).select_related(
        "entity", "entity__division", "entity__industry"
    )
    if f["tier"] in Tier.values:
        qs = qs.filter(tier=f["tier"])
    if f["status"] in DesignationStatus.values:
        qs = qs.filter(status=f["status"])
    if f["q"]:
        qs = qs.filter(entity__name__icontains=f["q"])
    qs = qs.order_by("status", "tier", "entity__division__path", "entity__name")
    if request.GET.get("export") == "xlsx":
        return xlsx_response(
            f"key-units-{year}.xlsx",
            _("重点用能单位名单"),
            [*queries.DESIGNATION_HEADERS, "状态"],
            ([*queries.designation_row(d), d.get_status_display()] for d in qs),
            user=user,
        )
    counts = {
        s: access.scoped(user, Designation.objects.filter(year=year, status=s)).count()
        for s in DesignationStatus.values
    }
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    for d in rows:
        d.basis_label = queries.basis_source_label(d.basis_source)
    return render(
        request,
        "keyunits/home.html",
        {
            **_common(request, "home"),
            "year": year,
            "page": page,
            "rows": rows,
            "filters": {**f, "year": str(year)},
            "counts": counts,
            "tiers": Tier.choices,
            "statuses": DesignationStatus.choices,
            "published": PublishedList.objects.filter(
                kind=ListKind.DESIGNATIONS, year=year
            ).first(),
        },
    )


@rule_required("keyunits.designate")
@require_POST
def propose(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    try:
        r = services.propose_designations(year=year, user=request.user)
    except services.WorkflowError as exc:
        _refused(request, exc)
    else:
        messages.success(
            request,
            _("%(y)s 年：新提出或更新 %(n)s 个拟纳入单位，%(u)s 个未变，%(b)s 个未达门槛。")
            % {"y": year, "n": r.proposed, "u": r.unchanged, "b": r.below},
        )
    return redirect(f"{_url('keyunits:home')}?year={year}")


def _url(name: str, *args: Any) -> str:
    from django.urls import reverse

    return reverse(name, args=args)


@rule_required("keyunits.designate")
@require_POST
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    d = get_object_or_404(Designation, pk=pk)
    action = request.POST.get("action", "")
    reason = request.POST.get("reason", "")
    if action == "confirm":
        _act(
            request,
            lambda: services.confirm_designation(designation=d, user=request.user, reason=reason),
            _("已确认。"),
        )
    elif action == "remove":
        _act(
            request,
            lambda: services.remove_designation(designation=d, user=request.user, reason=reason),
            _("已移出。"),
        )
    else:
        messages.error(request, _("未知操作。"))
    return redirect(f"{_url('keyunits:home')}?year={d.year}")


@rule_required("keyunits.designate")
@require_POST
def compute(request: HttpRequest) -> HttpResponse:
    """Recompute the year's grades or surcharges, or order audits for units over a limit."""
    year = _year(request)
    what = request.POST.get("what", "")
    user = request.user
    try:
        if what == "grades":
            g = services.compute_grades(year=year, user=user)
            messages.success(
                request,
                _("已评定 %(n)s 条产品能耗，%(s)s 条无限额标准未评定。")
                % {"n": g.graded, "s": len(g.skipped)},
            )
        elif what == "surcharges":
            s = services.compute_surcharges(year=year, user=user)
            messages.success(
                request,
                _("已计算 %(n)s 条电价加价（%(c)s 条需加价），%(r)s 条无适用规则。")
                % {"n": s.computed, "c": s.charged, "r": s.no_rule},
            )
        elif what == "audits":
            a = services.order_audits_for_over_limit(year=year, user=user)
            messages.success(request, _("已责令 %(n)s 个单位实施能源审计。") % {"n": len(a)})
        else:
            messages.error(request, _("未知操作。"))
    except (services.WorkflowError, ValueError) as exc:
        _refused(request, exc)
    return redirect(safe_next(request, f"{_url('keyunits:lists')}?year={year}", field="back"))


# --------------------------------------------------------------------------------------------
# a unit


def _unit(request: HttpRequest, pk: int) -> Any:
    return get_object_or_404(visible_entities(request.user), pk=pk)


@rule_required("keyunits.view")
def unit(request: HttpRequest, pk: int) -> HttpResponse:
    entity = _unit(request, pk)
    user = request.user
    rules = load_rules()
    grades = list(entity.product_grades.order_by("-year", "product", "indicator"))
    for g in grades:
        g.distance_text = queries.grade_distance_text(g)
    surcharges = list(entity.surcharges.order_by("-year", "product"))
    for s in surcharges:
        s.product_label = queries.product_label(s.product)
        s.indicator_label = queries.indicator_label(s.product, s.indicator)
        s.tier_label = queries.surcharge_tier_label(s.tier)
        s.unit = queries.indicator_unit(s.product, s.indicator)
        s.rule_title = queries.surcharge_rule_title(s.rule)
    return render(
        request,
        "keyunits/unit.html",
        {
            **_common(request, "unit"),
            "entity": entity,
            "designations": entity.key_designations.order_by("-year"),
            "manager": getattr(entity, "energy_manager", None)
            if hasattr(entity, "energy_manager")
            else None,
            "reports": entity.status_reports.order_by("-year"),
            "grades": grades,
            "audits": entity.energy_audits.order_by("-ordered_at"),
            "surcharges": surcharges,
            "can_file": access.can_file(user, entity),
            "can_manage": access.can_manage(user, entity),
            "reasons": AuditReason.choices,
            "year": queries.latest_year(timezone.localdate()),
            "rules": rules,
            "notes": rule_notes(rules),
        },
    )


@rule_required("keyunits.view", post="keyunits.manage")
def order_audit(request: HttpRequest, pk: int) -> HttpResponse:
    entity = _unit(request, pk)
    if request.method != "POST":
        return redirect("keyunits:unit", pk=pk)
    try:
        year = int(request.POST.get("year", ""))
    except ValueError:
        messages.error(request, _("请填写年度。"))
        return redirect("keyunits:unit", pk=pk)
    _act(
        request,
        lambda: services.order_audit(
            entity=entity,
            year=year,
            reason=request.POST.get("reason", ""),
            detail=request.POST.get("detail", ""),
            user=request.user,
        ),
        _("已责令实施能源审计。"),
    )
    return redirect("keyunits:unit", pk=pk)


@rule_required("keyunits.file")
def manager(request: HttpRequest) -> HttpResponse:
    entity = get_object_or_404(visible_entities(request.user), pk=request.user.entity_id or 0)
    current = getattr(entity, "energy_manager", None) if hasattr(entity, "energy_manager") else None
    if request.method == "POST":
        valid_until = None
        raw = request.POST.get("valid_until", "").strip()
        if raw:
            try:
                valid_until = dt.date.fromisoformat(raw)
            except ValueError:
                messages.error(request, _("证书有效期格式应为 YYYY-MM-DD。"))
                return redirect("keyunits:manager")
        if _act(
            request,
            lambda: services.save_energy_manager(
                entity=entity,
                user=request.user,
                name=request.POST.get("name", ""),
                certificate_no=request.POST.get("certificate_no", ""),
                valid_until=valid_until,
                phone=request.POST.get("phone", ""),
            ),
            _("已保存能源管理负责人。"),
        ):
            return redirect("keyunits:unit", pk=entity.pk)
    return render(
        request,
        "keyunits/manager.html",
        {**_common(request, "manager"), "entity": entity, "manager": current},
    )


# --------------------------------------------------------------------------------------------
# status reports


@rule_required("keyunits.view")
def reports(request: HttpRequest) -> HttpResponse:
    """Status reports in scope (review queue: ``status=submitted``)."""
    user = request.user
    year = _year(request)
    status = request.GET.get("status", "")
    qs = access.scoped(user, StatusReport.objects.filter(year=year)).select_related(
        "entity", "entity__division"
    )
    if status in RStatus.values:
        qs = qs.filter(status=status)
    qs = qs.order_by("status", "entity__name")
    if request.GET.get("export") == "xlsx":
        return xlsx_response(
            f"status-reports-{year}.xlsx",
            _("能源利用状况报告"),
            [
                "统一社会信用代码",
                "单位名称",
                "年度",
                "状态",
                "综合能源消费量（吨标准煤）",
                "节能量（吨标准煤）",
                "截止日期",
            ],
            (
                [
                    r.entity.uscc,
                    r.entity.name,
                    r.year,
                    r.get_status_display(),
                    r.energy_tce,
                    r.savings_tce,
                    r.deadline.isoformat(),
                ]
                for r in qs
            ),
            user=user,
        )
    missing = (
        access.scoped(
            user, Designation.objects.filter(year=year, status=DesignationStatus.CONFIRMED)
        )
        .exclude(
            entity_id__in=StatusReport.objects.filter(
                year=year, status__in=[RStatus.SUBMITTED, RStatus.ACCEPTED]
            ).values("entity_id")
        )
        .count()
    )
    return render(
        request,
        "keyunits/reports.html",
        {
            **_common(request, "reports"),
            "year": year,
            "page": Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page")),
            "filters": {"year": str(year), "status": status},
            "statuses": RStatus.choices,
            "missing": missing,
            "deadline": load_rules().status_deadline(year),
            "notes": rule_notes(load_rules()),
        },
    )


def _report(request: HttpRequest, pk: int) -> StatusReport:
    return get_object_or_404(
        access.scoped(request.user, StatusReport.objects.select_related("entity")), pk=pk
    )


@rule_required("keyunits.view", post="keyunits.manage")
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report(request, pk)
    user = request.user
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "accept":
            _act(
                request,
                lambda: services.accept_status_report(report=report, user=user),
                _("报告已通过。"),
            )
        elif action == "return":
            _act(
                request,
                lambda: services.return_status_report(
                    report=report, user=user, reason=request.POST.get("reason", "")
                ),
                _("报告已退回。"),
            )
        else:
            messages.error(request, _("未知操作。"))
        return redirect("keyunits:report", pk=pk)
    from dualcontrol.keyunits import efficiency as eff

    names = {(i.product, i.indicator): i for i in eff.lines()}
    lines = []
    for ln in report.product_lines.all():
        info = names.get((ln.product, ln.indicator))
        corr_names = {c.name: c.name_zh for c in info.line.corrections} if info else {}
        corrections = [
            (corr_names.get(k) or k, v) for k, v in sorted((ln.corrections or {}).items())
        ]
        lines.append((ln, info, corrections))
    events = list(report.events.select_related("actor"))
    for e in events:
        e.label = queries.event_label(e.action)
    return render(
        request,
        "keyunits/report.html",
        {
            **_common(request, "reports"),
            "report": report,
            "uses": report.energy_uses.all(),
            "lines": lines,
            "events": events,
            "revisions": report.revisions.all(),
            "can_review": access.can_manage(user, report.entity)
            and report.status == RStatus.SUBMITTED,
            "can_file": access.can_file(user, report.entity)
            and report.status in (RStatus.DRAFT, RStatus.RETURNED),
        },
    )


@rule_required("keyunits.file")
@require_POST
def report_submit(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report(request, pk)
    _act(
        request,
        lambda: services.submit_status_report(report=report, user=request.user),
        _("报告已提交审核。"),
    )
    return redirect("keyunits:report", pk=pk)


def _content_from_post(post: Any) -> services.StatusContent:
    uses = []
    for i in range(int(post.get("energy_rows") or ENERGY_ROWS)):
        values = [post.get(f"e{i}-{k}", "").strip() for k in ("kind", "unit", "quantity", "tce")]
        if any(values):
            uses.append(services.EnergyUseRow(*values))
    lines = []
    for i in range(int(post.get("product_rows") or PRODUCT_ROWS)):
        keys = ("product", "indicator", "output", "output_unit", "value", "unit", "kwh", "corr")
        v = {k: post.get(f"p{i}-{k}", "").strip() for k in keys}
        if any(v.values()):
            corrections = {}
            for part in v["corr"].replace("；", ";").split(";"):
                if "=" in part:
                    name, value = part.split("=", 1)
                    corrections[name.strip()] = value.strip()
            lines.append(
                services.ProductRow(
                    product=v["product"],
                    indicator=v["indicator"],
                    output=v["output"],
                    value=v["value"],
                    output_unit=v["output_unit"],
                    unit=v["unit"],
                    electricity_kwh=v["kwh"] or None,
                    corrections=corrections,
                )
            )
    return services.StatusContent(
        energy_uses=uses,
        product_lines=lines,
        savings_tce=post.get("savings_tce", "").strip() or None,
        measures=post.get("measures", ""),
        manager_name=post.get("manager_name", ""),
        manager_certificate=post.get("manager_certificate", ""),
    )


@rule_required("keyunits.file")
def file_report(request: HttpRequest) -> HttpResponse:
    """The unit fills in its status report for the last year (or corrects a returned one)."""
    entity = get_object_or_404(visible_entities(request.user), pk=request.user.entity_id or 0)
    year = _year(request)
    existing = StatusReport.objects.filter(entity=entity, year=year).first()
    if request.method == "POST":
        try:
            content = _content_from_post(request.POST)
            report = services.save_status_report(
                entity=entity,
                year=year,
                content=content,
                user=request.user,
                submit=request.POST.get("submit") == "1",
            )
        except (services.ReportRejected, services.WorkflowError, ValueError) as exc:
            _refused(request, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("keyunits:report", pk=report.pk)
    manager_ = (
        getattr(entity, "energy_manager", None) if hasattr(entity, "energy_manager") else None
    )
    uses = list(existing.energy_uses.all()) if existing else []
    lines = list(existing.product_lines.all()) if existing else []
    for ln in lines:
        ln.product_label = queries.product_label(ln.product)
        ln.indicator_label = queries.indicator_label(ln.product, ln.indicator)
    returned = (
        existing.events.filter(action="returned").order_by("-at", "-id").first()
        if existing is not None and existing.status == RStatus.RETURNED
        else None
    )
    from dualcontrol.keyunits import efficiency as eff

    known = eff.lines(dt.date(year, 12, 31))
    return render(
        request,
        "keyunits/file.html",
        {
            **_common(request, "file"),
            "entity": entity,
            "year": year,
            "report": existing,
            "manager": manager_,
            "manager_name": (existing.manager_name if existing else "")
            or (manager_.name if manager_ else ""),
            "manager_certificate": (existing.manager_certificate if existing else "")
            or (manager_.certificate_no if manager_ else ""),
            "energy_rows": [(i, uses[i] if i < len(uses) else None) for i in range(ENERGY_ROWS)],
            "product_rows": [
                (
                    i,
                    lines[i] if i < len(lines) else None,
                    "; ".join(f"{k}={v}" for k, v in (lines[i].corrections or {}).items())
                    if i < len(lines)
                    else "",
                )
                for i in range(PRODUCT_ROWS)
            ],
            "n_energy": ENERGY_ROWS,
            "n_products": PRODUCT_ROWS,
            "deadline": load_rules().status_deadline(year),
            "returned": returned,
            "product_names": sorted({i.product_name for i in known}),
            "indicator_names": sorted({i.indicator_name for i in known}),
        },
    )


@rule_required("keyunits.file")
def upload_report(request: HttpRequest) -> HttpResponse:
    entity = get_object_or_404(visible_entities(request.user), pk=request.user.entity_id or 0)
    year = _year(request)
    refusal: uploads_annotate.Refusal | None = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("请选择文件。"))
        else:
            data = upload.read()
            try:
                report = services.upload_status_report(
                    entity=entity,
                    year=year,
                    data=data,
                    filename=upload.name or "",
                    user=request.user,
                    submit=request.POST.get("submit") == "1",
                )
            except services.ReportRejected as exc:
                # every problem, capped on the page, all of them in the annotated copy
                refusal = uploads_annotate.refusal(
                    exc.problems,
                    data=data,
                    filename=upload.name or "",
                    kind=UPLOAD_KIND,
                    user=request.user,
                )
            except services.WorkflowError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _("已上传。"))
                return redirect("keyunits:report", pk=report.pk)
    return render(
        request,
        "keyunits/upload.html",
        {**_common(request, "upload"), "entity": entity, "year": year, "refusal": refusal},
    )


@rule_required("keyunits.file")
def template(request: HttpRequest) -> HttpResponse:
    from dualcontrol.keyunits.workbook import template_bytes

    entity = visible_entities(request.user).filter(pk=request.user.entity_id or 0).first()
    year = _year(request)
    response = HttpResponse(template_bytes(entity=entity, year=year), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, f"status-report-{year}.xlsx")
    return response


# --------------------------------------------------------------------------------------------
# lists, shares, audits


@rule_required("keyunits.view")
def lists(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    published = {p.kind: p for p in PublishedList.objects.filter(year=year)}
    user = request.user
    counts = {
        kind: access.scoped(user, spec.rows(year)).count() for kind, spec in queries.specs().items()
    }
    return render(
        request,
        "keyunits/lists.html",
        {
            **_common(request, "lists"),
            "year": year,
            "items": [
                (kind, label, counts.get(kind, 0), published.get(kind))
                for kind, label in ListKind.choices
            ],
            "audits": access.scoped(user, queries.audits(year)).count(),
        },
    )


@rule_required("keyunits.view", post="keyunits.designate")
def list_page(request: HttpRequest, kind: str) -> HttpResponse:
    specs = queries.specs()
    if kind not in specs:
        raise Http404
    spec = specs[kind]
    year = _year(request)
    user = request.user
    if request.method == "POST":
        _act(
            request,
            lambda: services.publish_list(kind=kind, year=year, user=user),
            _("名单已公布。"),
        )
        return redirect(f"{_url('keyunits:list', kind)}?year={year}")
    qs = access.scoped(user, spec.rows(year))
    fmt = request.GET.get("export", "")
    if fmt == "xlsx":
        return xlsx_response(
            f"{kind}-{year}.xlsx", spec.title, spec.headers, (spec.row(x) for x in qs), user=user
        )
    if fmt == "csv":
        from dualcontrol.audit.services import record_export

        rows = [spec.row(x) for x in qs]
        response = HttpResponse(
            csv_text(spec.headers, rows), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = content_disposition_header(True, f"{kind}-{year}.csv")
        record_export(
            user=user, what=spec.title, filename=f"{kind}-{year}.csv", fmt="csv", rows=len(rows)
        )
        response.audit_recorded = True  # type: ignore[attr-defined]
        return response
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "keyunits/list.html",
        {
            **_common(request, "lists"),
            "kind": kind,
            "title": spec.title,
            "headers": spec.headers,
            "rows": [
                (
                    x,
                    [
                        (_cell(h, v), _cell_class(h, v))
                        for h, v in zip(spec.headers, spec.row(x), strict=True)
                    ],
                )
                for x in page.object_list
            ],
            "page": page,
            "filters": {"year": str(year)},
            "year": year,
            "published": PublishedList.objects.filter(kind=kind, year=year).first(),
            "notes": rule_notes(load_rules()),
        },
    )


@rule_required("keyunits.view")
def shares(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    by = request.GET.get("by", "industry")
    by = by if by in ("industry", "region") else "industry"
    from dualcontrol.keyunits.models import ProductGrade

    scope = access.scoped(request.user, ProductGrade.objects.all())
    rows = queries.benchmark_shares(year, by, scope)
    rules = load_rules()
    if request.GET.get("export") == "xlsx":
        return xlsx_response(
            f"benchmark-share-{by}-{year}.xlsx",
            _("达到标杆水平的产能比例"),
            [
                "代码",
                "名称",
                "产品线",
                "产量合计",
                "达到标杆的产量",
                "比例（%）",
                "低于基准的产品线",
            ],
            (
                [
                    s.key,
                    s.name,
                    s.lines,
                    s.output_total,
                    s.output_benchmark,
                    s.share_pct,
                    s.below_baseline,
                ]
                for s in rows
            ),
            user=request.user,
        )
    return render(
        request,
        "keyunits/shares.html",
        {
            **_common(request, "shares"),
            "year": year,
            "by": by,
            "rows": rows,
            "target_pct": rules.benchmark_target_frac * 100,
            "rules": rules,
            "notes": rule_notes(rules),
        },
    )


@rule_required("keyunits.view")
def audits(request: HttpRequest) -> HttpResponse:
    user = request.user
    status = request.GET.get("status", "")
    qs = access.scoped(user, queries.audits()).order_by("-ordered_at", "-id")
    if status:
        qs = qs.filter(status=status)
    if request.GET.get("export") == "xlsx":
        return xlsx_response(
            "energy-audits.xlsx",
            _("能源审计"),
            queries.AUDIT_HEADERS,
            (queries.audit_row(a) for a in qs),
            user=user,
        )
    return render(
        request,
        "keyunits/audits.html",
        {
            **_common(request, "audits"),
            "page": Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page")),
            "filters": {"status": status},
            "today": timezone.localdate(),
        },
    )


@rule_required("keyunits.view", post="keyunits.manage")
def audit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    audit = get_object_or_404(access.scoped(request.user, AuditOrder.objects.all()), pk=pk)
    user = request.user
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "report":
            _act(
                request,
                lambda: services.record_audit_report(
                    audit=audit, user=user, reference=request.POST.get("reference", "")
                ),
                _("已登记审计报告。"),
            )
        elif action == "close":
            _act(
                request,
                lambda: services.close_audit(
                    audit=audit, user=user, note=request.POST.get("note", "")
                ),
                _("已办结。"),
            )
        else:
            messages.error(request, _("未知操作。"))
        return redirect("keyunits:audit", pk=pk)
    return render(
        request,
        "keyunits/audit.html",
        {
            **_common(request, "audits"),
            "audit": audit,
            "can_manage": access.can_manage(user, audit.entity),
            "today": timezone.localdate(),
        },
    )
