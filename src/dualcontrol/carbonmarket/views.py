"""Carbon-market pages: the registry overview, the list of key emitters, an emitter's page (account,
reports, allocation, compliance), emission reports and their verification, allocation, the
compliance table (staff and public) and the ledger with its four-eyes queue.

Thin: reads in :mod:`.queries` and :mod:`.ledger`, writes in :mod:`.services`, access through
:mod:`dualcontrol.access.carbon`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from dualcontrol.access import carbon as access
from dualcontrol.access.rules import allows, rule_required
from dualcontrol.accounts.models import User
from dualcontrol.carbonmarket import ledger, queries, services
from dualcontrol.carbonmarket.forms import (
    ActionForm,
    IssueForm,
    MonthForm,
    ReasonForm,
    ReportForm,
    SurrenderForm,
    TransferForm,
    VerifyForm,
)
from dualcontrol.carbonmarket.models import (
    Account,
    AllocationProposal,
    AllocationStatus,
    EmissionReport,
    LedgerEntry,
    LedgerTransaction,
    PendingStatus,
    ReportStatus,
    Sector,
)
from dualcontrol.entities.models import Entity
from dualcontrol.exports import xlsx_response
from dualcontrol.reference.carbon_market import market_rules


def _problems(request: HttpRequest, exc: ValidationError) -> None:
    for m in exc.messages:
        messages.error(request, m)


def _year(request: HttpRequest, default: int) -> int:
    try:
        year = int(request.GET.get("year") or default)
    except ValueError:
        return default
    return year if 2013 <= year <= 2100 else default


@rule_required("carbon.view")
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if allows(user, "carbon.file") and getattr(user, "entity_id", None):
        return redirect("carbonmarket:unit", pk=user.entity_id)
    if allows(user, "carbon.verify"):
        return redirect("carbonmarket:reports")
    year = _year(request, queries.default_year())
    return render(
        request,
        "carbonmarket/home.html",
        {
            "title": _("碳排放权交易（全国碳市场省级管理）"),
            "year": year,
            "years": queries.years(),
            "overview": queries.overview(user, year),
            "rules": market_rules(),
            "deadlines": market_rules().deadlines(year),
            "nav": "home",
        },
    )


@rule_required("carbon.view", post="carbon.manage")
def emitters(request: HttpRequest) -> HttpResponse:
    year = _year(request, queries.default_year() + 1)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "propose":
                made = services.propose_emitters(year=year, user=request.user)
                messages.success(request, _("拟纳入 %(n)s 家。") % {"n": len(made)})
            elif request.POST.get("action") == "publish":
                n = services.publish_emitters(year=year, user=request.user)
                messages.success(request, _("已公布名录，新纳入 %(n)s 家。") % {"n": n})
        except ValidationError as exc:
            _problems(request, exc)
        return redirect(f"{request.path}?year={year}")
    qs = access.visible_emitters(request.user).filter(year=year)
    sector = request.GET.get("sector", "")
    if sector in Sector.values:
        qs = qs.filter(sector=sector)
    if request.GET.get("export") == "xlsx":
        return xlsx_response(
            f"重点排放单位名录_{year}.xlsx",
            _("重点排放单位名录"),
            [
                _("单位名称"),
                _("统一社会信用代码"),
                _("地区"),
                _("行业"),
                _("纳入依据排放量（tCO2e）"),
                _("依据"),
                _("状态"),
            ],
            (
                [
                    e.entity.name,
                    e.entity.uscc,
                    e.entity.division.name,
                    e.get_sector_display(),
                    e.basis_co2e_t,
                    e.basis,
                    e.get_status_display(),
                ]
                for e in qs.iterator()
            ),
            user=request.user,
        )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "carbonmarket/emitters.html",
        {
            "title": _("重点排放单位名录"),
            "year": year,
            "page": page,
            "filters": {"year": year, "sector": sector},
            "sectors": Sector.choices,
            "counts": queries.listing_counts(request.user, year),
            "rules": market_rules(),
            "nav": "emitters",
        },
    )


def _unit(request: HttpRequest, pk: int) -> Entity:
    entity = access.visible_units(request.user).filter(pk=pk).first()
    if entity is None:
        raise Http404
    return entity


@rule_required("carbon.view")
def unit(request: HttpRequest, pk: int) -> HttpResponse:
    entity = _unit(request, pk)
    account = Account.objects.filter(entity=entity, kind="holding").first()
    can_file = access.can_file(request.user, entity)
    surrender_form = SurrenderForm(prefix="s")
    transfer_form = TransferForm(prefix="t")
    month_form = MonthForm(prefix="m")
    if request.method == "POST":
        if not can_file:
            raise PermissionDenied
        action = request.POST.get("action")
        try:
            if action == "surrender":
                surrender_form = SurrenderForm(request.POST, prefix="s")
                if surrender_form.is_valid():
                    d = surrender_form.cleaned_data
                    tx = services.surrender(
                        entity=entity,
                        year=d["year"],
                        unit_type=d["unit_type"],
                        vintage=d["vintage"],
                        amount=d["amount"],
                        user=request.user,
                    )
                    messages.success(request, _("已清缴（交易 #%(n)s）。") % {"n": tx.seq})
                    return redirect("carbonmarket:unit", pk=pk)
            elif action == "month":
                month_form = MonthForm(request.POST, prefix="m")
                if month_form.is_valid():
                    d = month_form.cleaned_data
                    row = services.file_month(
                        entity=entity,
                        year=d["year"],
                        month=d["month"],
                        fuel_co2_t=d["fuel_co2_t"],
                        process_co2e_t=d["process_co2e_t"] or Decimal(0),
                        user=request.user,
                    )
                    messages.success(
                        request,
                        _("%(y)s 年 %(m)s 月数据已存证（截止 %(d)s）。")
                        % {"y": row.year, "m": row.month, "d": row.deadline.isoformat()},
                    )
                    return redirect("carbonmarket:unit", pk=pk)
            elif action == "transfer":
                transfer_form = TransferForm(request.POST, prefix="t")
                if transfer_form.is_valid() and account is not None:
                    d = transfer_form.cleaned_data
                    target = Account.objects.filter(code=d["to_account"].strip()).first()
                    if target is None:
                        raise ValidationError([_("转入账户 %(c)s 不存在") % {"c": d["to_account"]}])
                    services.request_transfer(
                        from_account=account,
                        to_account=target,
                        unit_type=d["unit_type"],
                        vintage=d["vintage"],
                        amount=d["amount"],
                        note=d["note"],
                        user=request.user,
                    )
                    messages.success(request, _("转让申请已提交，待省级主管部门另一名人员复核。"))
                    return redirect("carbonmarket:unit", pk=pk)
        except ValidationError as exc:
            _problems(request, exc)
    if request.GET.get("export") == "xlsx" and account is not None:
        entries = (
            LedgerEntry.objects.filter(account=account)
            .select_related("transaction")
            .order_by("transaction__seq")
        )
        return xlsx_response(
            f"账户流水_{account.code}.xlsx",
            _("账户流水"),
            [
                _("序号"),
                _("日期"),
                _("类型"),
                _("品种"),
                _("年度"),
                _("数量"),
                _("履约年度"),
                _("说明"),
                _("哈希"),
            ],
            (
                [
                    e.transaction.seq,
                    e.transaction.date,
                    e.transaction.get_type_display(),
                    e.unit_type,
                    e.vintage,
                    e.amount,
                    e.transaction.year,
                    e.transaction.note,
                    e.transaction.hash,
                ]
                for e in entries.iterator()
            ),
            user=request.user,
        )
    context = queries.unit_page(entity, account, today=timezone.localdate())
    context.update(
        {
            "title": entity.name,
            "entity": entity,
            "account": account,
            "can_file": can_file,
            "surrender_form": surrender_form,
            "transfer_form": transfer_form,
            "month_form": month_form,
            "nav": "unit",
        }
    )
    return render(request, "carbonmarket/unit.html", context)


@rule_required("carbon.view")
def reports(request: HttpRequest) -> HttpResponse:
    qs = access.visible_reports(request.user)
    year = request.GET.get("year", "")
    status = request.GET.get("status", "")
    if year.isdigit():
        qs = qs.filter(year=int(year))
    if status in ReportStatus.values:
        qs = qs.filter(status=status)
    if request.GET.get("export") == "xlsx":
        return xlsx_response(
            "排放报告.xlsx",
            _("排放报告"),
            [
                _("单位"),
                _("年度"),
                _("行业"),
                _("报告直接排放（tCO2e）"),
                _("核查确认（tCO2e）"),
                _("状态"),
                _("核查机构"),
            ],
            (
                [
                    r.entity.name,
                    r.year,
                    r.get_sector_display(),
                    r.direct_co2e_t,
                    r.verified_co2e_t,
                    r.get_status_display(),
                    r.verifier.username if r.verifier_id else "",
                ]
                for r in qs.iterator()
            ),
            user=request.user,
        )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    entity = None
    if allows(request.user, "carbon.file") and getattr(request.user, "entity_id", None):
        entity = request.user.entity
    return render(
        request,
        "carbonmarket/reports.html",
        {
            "title": _("核查任务") if allows(request.user, "carbon.verify") else _("排放报告"),
            "page": page,
            "filters": {"year": year, "status": status},
            "statuses": ReportStatus.choices,
            "entity": entity,
            "next_year": timezone.localdate().year - 1,
            "nav": "reports",
        },
    )


@rule_required("carbon.file")
def report_edit(request: HttpRequest) -> HttpResponse:
    entity = getattr(request.user, "entity", None)
    if entity is None:
        raise PermissionDenied
    year = _year(request, timezone.localdate().year - 1)
    report = EmissionReport.objects.filter(entity=entity, year=year).first()
    initial: dict[str, Any] = {}
    if report is not None:
        initial = {f: getattr(report, f) for f in services.REPORT_FIELDS}
    form = ReportForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            report = services.save_report(
                entity=entity, year=year, data=form.cleaned_data, user=request.user
            )
            if request.POST.get("action") == "submit":
                services.submit_report(report=report, user=request.user)
                messages.success(request, _("报告已报送。"))
            else:
                messages.success(request, _("草稿已保存。"))
            return redirect("carbonmarket:report", pk=report.pk)
        except ValidationError as exc:
            _problems(request, exc)
    return render(
        request,
        "carbonmarket/report_form.html",
        {
            "title": _("%(y)s 年度温室气体排放报告") % {"y": year},
            "form": form,
            "year": year,
            "report": report,
            "deadline": market_rules().deadlines(year).report,
            "nav": "reports",
        },
    )


@rule_required("carbon.view")
def report(request: HttpRequest, pk: int) -> HttpResponse:
    obj = access.visible_reports(request.user).filter(pk=pk).first()
    if obj is None:
        raise Http404
    verify_form = VerifyForm(prefix="v")
    reason_form = ReasonForm(prefix="r")
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "submit":
                services.submit_report(report=obj, user=request.user)
                messages.success(request, _("报告已报送。"))
            elif action == "assign":
                verifier = User.objects.filter(pk=request.POST.get("verifier") or 0).first()
                services.assign_verifier(report=obj, verifier=verifier, user=request.user)
                messages.success(request, _("已指派核查机构。"))
            elif action == "verify":
                verify_form = VerifyForm(request.POST, prefix="v")
                if not verify_form.is_valid():
                    raise ValidationError([_("请检查核查结论的填写。")])
                services.record_verification(
                    report=obj,
                    verified_co2e_t=verify_form.cleaned_data["verified_co2e_t"],
                    findings=verify_form.cleaned_data["findings"],
                    user=request.user,
                )
                messages.success(request, _("核查结论已提交。"))
            elif action == "accept":
                services.accept_report(report=obj, user=request.user)
                messages.success(request, _("已确认核查结果，应清缴量已记录。"))
            elif action == "return":
                reason_form = ReasonForm(request.POST, prefix="r")
                if not reason_form.is_valid():
                    raise ValidationError([_("请写明退回原因")])
                services.return_report(
                    report=obj, reason=reason_form.cleaned_data["reason"], user=request.user
                )
                messages.success(request, _("已退回。"))
            else:
                raise Http404
            return redirect("carbonmarket:report", pk=pk)
        except PermissionDenied:
            raise
        except ValidationError as exc:
            _problems(request, exc)
    return render(
        request,
        "carbonmarket/report.html",
        {
            "title": _("%(n)s %(y)s 年度排放报告") % {"n": obj.entity.name, "y": obj.year},
            "report": obj,
            "can_file": access.can_file(request.user, obj.entity),
            "can_manage": access.can_manage(request.user),
            "can_verify": access.can_verify(request.user, obj),
            "verifiers": queries.verifier_choices() if access.can_manage(request.user) else [],
            "verify_form": verify_form,
            "reason_form": reason_form,
            "nav": "reports",
        },
    )


@rule_required("carbon.manage")
def allocation(request: HttpRequest) -> HttpResponse:
    year = _year(request, queries.default_year())
    issue_form = IssueForm(prefix="i")
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "issue_province":
                issue_form = IssueForm(request.POST, prefix="i")
                if not issue_form.is_valid():
                    raise ValidationError([_("请填写签发数量和依据。")])
                tx = services.issue_to_province(
                    year=year,
                    amount=issue_form.cleaned_data["amount"],
                    note=issue_form.cleaned_data["note"],
                    user=request.user,
                )
                messages.success(request, _("已记录签发（交易 #%(n)s）。") % {"n": tx.seq})
            else:
                proposal = get_object_or_404(
                    AllocationProposal.objects.filter(
                        entity__in=access.visible_units(request.user).values("pk")
                    ),
                    pk=request.POST.get("pk") or 0,
                )
                if action == "approve":
                    services.approve_allocation(proposal=proposal, user=request.user)
                    messages.success(request, _("已核定。"))
                elif action == "issue":
                    services.issue_allocation(proposal=proposal, user=request.user)
                    messages.success(request, _("已发放至单位账户。"))
                else:
                    raise Http404
        except ValidationError as exc:
            _problems(request, exc)
        return redirect(f"{request.path}?year={year}")
    qs = AllocationProposal.objects.filter(
        year=year, entity__in=access.visible_units(request.user).values("pk")
    ).select_related("entity", "transaction")
    if request.GET.get("export") == "xlsx":
        return xlsx_response(
            f"配额分配_{year}.xlsx",
            _("配额分配"),
            [
                _("单位"),
                _("行业"),
                _("方法"),
                _("配额量（tCO2）"),
                _("状态"),
                _("基准值状态"),
                _("规则版本"),
            ],
            (
                [
                    p.entity.name,
                    p.get_sector_display(),
                    p.method,
                    p.amount_t,
                    p.get_status_display(),
                    p.benchmark_status,
                    p.rule_version,
                ]
                for p in qs.iterator()
            ),
            user=request.user,
        )
    gov = Account.objects.filter(code=services.PROVINCE_ACCOUNT).first()
    return render(
        request,
        "carbonmarket/allocation.html",
        {
            "title": _("%(y)s 年度配额分配") % {"y": year},
            "year": year,
            "years": queries.years(),
            "proposals": qs,
            "totals": [
                {**t, "label": dict(AllocationStatus.choices).get(t["status"], t["status"])}
                for t in qs.values("status").annotate(n=Count("pk"), t=Sum("amount_t"))
            ],
            "gov": gov,
            "gov_balance": ledger.balances_of([gov])[gov.code] if gov else None,
            "issue_form": issue_form,
            "nav": "allocation",
        },
    )


@rule_required("carbon.view")
def compliance_latest(request: HttpRequest) -> HttpResponse:
    return redirect("carbonmarket:compliance", year=queries.default_year())


@rule_required("carbon.view", post="carbon.manage")
def compliance(request: HttpRequest, year: int) -> HttpResponse:
    if not 2000 <= year <= 2100:
        raise Http404
    if request.method == "POST":
        entity = get_object_or_404(
            access.visible_units(request.user), pk=request.POST.get("entity") or 0
        )
        form = ActionForm(request.POST)
        if form.is_valid():
            try:
                services.record_action(
                    entity=entity, year=year, user=request.user, **form.cleaned_data
                )
                messages.success(request, _("处理已记录。"))
            except ValidationError as exc:
                _problems(request, exc)
        else:
            messages.error(request, _("请检查处理内容的填写。"))
        return redirect("carbonmarket:compliance", year=year)
    visible = set(access.visible_units(request.user).values_list("pk", flat=True))
    rows = services.compliance_table(year, entity_ids=visible)
    if request.GET.get("export") == "xlsx":
        return xlsx_response(
            f"履约情况_{year}.xlsx",
            _("履约情况"),
            queries.COMPLIANCE_HEADERS,
            (queries.compliance_cells(r) for r in rows),
            user=request.user,
        )
    return render(
        request,
        "carbonmarket/compliance.html",
        {
            "title": _("%(y)s 年度配额清缴履约情况") % {"y": year},
            "year": year,
            "years": queries.obligation_years(),
            "cap_pct": market_rules().ledger.offset_cap_frac * 100,
            "rows": rows,
            "summary": queries.compliance_summary(rows),
            "deadline": market_rules().deadlines(year).surrender,
            "action_form": ActionForm(),
            "can_manage": access.can_manage(request.user),
            "rules": market_rules(),
            "nav": "compliance",
        },
    )


def public_compliance(request: HttpRequest, year: int | None = None) -> HttpResponse:
    """公开: the compliance table of a year's listed emitters (no login)."""
    years = queries.public_years()
    if year is None:
        if not years:
            return render(
                request,
                "carbonmarket/public.html",
                {"title": _("碳排放配额清缴情况"), "rows": [], "years": []},
            )
        year = years[0]
    if year not in years:  # also any year out of range
        raise Http404
    rows = queries.public_rows(year)
    if request.GET.get("export") == "xlsx":
        return xlsx_response(
            f"碳排放配额清缴情况_{year}.xlsx",
            _("碳排放配额清缴情况"),
            queries.PUBLIC_HEADERS,
            (queries.public_cells(r) for r in rows),
        )
    return render(
        request,
        "carbonmarket/public.html",
        {
            "title": _("%(y)s 年度重点排放单位碳排放配额清缴情况") % {"y": year},
            "year": year,
            "years": years,
            "rows": rows,
            "summary": queries.compliance_summary(rows),
            "deadline": market_rules().deadlines(year).surrender,
            "rules": market_rules(),
        },
    )


@rule_required("carbon.manage")
def ledger_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        pending = get_object_or_404(
            access.visible_pending(request.user), pk=request.POST.get("pk") or 0
        )
        try:
            if request.POST.get("action") in ("approve", "reject"):
                done = services.decide(
                    pending=pending,
                    approve=request.POST["action"] == "approve",
                    user=request.user,
                    reason=request.POST.get("reason", ""),
                )
                if done.status == PendingStatus.FAILED:
                    messages.error(request, _("执行被拒绝：%(r)s") % {"r": done.reason})
                else:
                    messages.success(request, done.get_status_display())
            else:
                raise Http404
        except PermissionDenied as exc:
            messages.error(request, str(exc))
        except ValidationError as exc:
            _problems(request, exc)
        return redirect("carbonmarket:ledger")
    txs = access.ledger_scope(
        request.user,
        LedgerTransaction.objects.prefetch_related("entries__account"),
        "entries__account",
    ).order_by("-seq")
    kind = request.GET.get("type", "")
    if kind:
        txs = txs.filter(type=kind)
    if request.GET.get("export") == "xlsx":
        return xlsx_response(
            "登记簿.xlsx",
            _("登记簿（总账）"),
            [
                _("序号"),
                _("类型"),
                _("日期"),
                _("账户"),
                _("品种"),
                _("年度"),
                _("数量"),
                _("申请人"),
                _("复核人"),
                _("履约年度"),
                _("说明"),
                _("前一哈希"),
                _("哈希"),
            ],
            (
                [
                    t.seq,
                    t.get_type_display(),
                    t.date,
                    e.account.code,
                    e.unit_type,
                    e.vintage,
                    e.amount,
                    t.requested_by,
                    t.approved_by,
                    t.year,
                    t.note,
                    t.previous_hash,
                    t.hash,
                ]
                for t in txs.order_by("seq").iterator(chunk_size=500)
                for e in t.entries.all()
            ),
            user=request.user,
        )
    page = Paginator(txs, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "carbonmarket/ledger.html",
        {
            "title": _("登记簿（总账）"),
            "page": page,
            "filters": {"type": kind},
            "pending": access.visible_pending(request.user)
            .filter(status=PendingStatus.PENDING)
            .select_related("from_account", "to_account", "requested_by", "corrects"),
            "chain": ledger.verify() if request.GET.get("verify") else None,
            "totals": queries.ledger_totals(),
            "nav": "ledger",
        },
    )


@rule_required("carbon.manage")
def correct(request: HttpRequest, seq: int) -> HttpResponse:
    tx = get_object_or_404(
        access.ledger_scope(request.user, LedgerTransaction.objects.all(), "entries__account"),
        seq=seq,
    )
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.request_correction(
                tx=tx, reason=form.cleaned_data["reason"], user=request.user
            )
            messages.success(request, _("更正申请已提交，待另一名人员复核。"))
            return redirect("carbonmarket:ledger")
        except ValidationError as exc:
            _problems(request, exc)
    return render(
        request,
        "carbonmarket/correct.html",
        {"title": _("更正交易 #%(n)s") % {"n": tx.seq}, "tx": tx, "form": form, "nav": "ledger"},
    )
