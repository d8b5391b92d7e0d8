"""Rights pages: overview of accounts, one holder's account, energy-use rights and the regions'
budgets, emission rights, green certificates, carbon-sink and carbon-inclusive credits, the
bulletin board, and the public price statistics.

Thin: reads in :mod:`.queries`, writes in :mod:`.services`, access through
:mod:`dualcontrol.access.rights`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from dualcontrol.access import rights as access
from dualcontrol.access.rules import rule_required
from dualcontrol.access.scope import visible_divisions
from dualcontrol.carbonmarket import ledger
from dualcontrol.entities.models import Entity
from dualcontrol.exports import xlsx_response
from dualcontrol.reference.rights import rights_rules
from dualcontrol.regions.models import Division
from dualcontrol.rights import queries, services
from dualcontrol.rights.models import (
    Behaviour,
    CertificateCancellation,
    CreditProject,
    EmissionRight,
    EnergyRight,
    Holder,
    HolderKind,
    Listing,
    ListingStatus,
    Permit,
    ProjectCover,
    TradeStatus,
)

EMR = ("EMR-COD", "EMR-NH3N", "EMR-SO2", "EMR-NOX")


def _year(request: HttpRequest) -> int:
    default = timezone.localdate().year - 1
    try:
        year = int(request.GET.get("year") or request.POST.get("year") or default)
    except ValueError:
        return default
    return year if 2000 <= year <= 2100 else default


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _run(request: HttpRequest, fn: Callable[[], Any], done: str) -> None:
    """Call a service; its refusals become messages."""
    try:
        fn()
    except ValidationError as exc:
        for m in exc.messages:
            messages.error(request, m)
    except PermissionDenied as exc:
        messages.error(request, str(exc) or _("无权操作"))
    else:
        messages.success(request, done)


def _entity(request: HttpRequest, field: str = "entity") -> Entity:
    entity = Entity.objects.filter(uscc=(request.POST.get(field) or "").strip()).first()
    if entity is None:
        raise ValidationError([_("未找到该统一社会信用代码的单位")])
    return entity


def _unit_name(code: str) -> str:
    """The unit type's Chinese name (the code where the rules do not know it)."""
    spec = ledger.rules().unit_types.get(code)
    return spec.name_zh if spec else code


def _places(code: str) -> str:
    """floatformat argument: the unit type's own decimals (EUR 2, EMR 3, GEC/CSC/PHP 0)."""
    spec = ledger.rules().unit_types.get(code)
    return f"{spec.decimals}g" if spec else "-3g"


def _units(codes: Any) -> list[dict[str, str]]:
    """Legend of unit type codes: code, Chinese name, measurement unit, decimals."""
    out = []
    for code in codes:
        spec = ledger.rules().unit_types.get(code)
        out.append(
            {
                "code": code,
                "name": spec.name_zh if spec else code,
                "unit": spec.unit if spec else "",
                "places": _places(code),
            }
        )
    return out


def _annotate(objs: Any, field: str = "unit_type") -> Any:
    """Give each object its unit type's Chinese name and decimals (``unit_name``, ``places``)."""
    for o in objs:
        code = getattr(o, field, "") if not isinstance(o, dict) else o.get(field, "")
        if isinstance(o, dict):
            o["unit_name"], o["places"] = _unit_name(code), _places(code)
        else:
            o.unit_name, o.places = _unit_name(code), _places(code)
    return objs


def _offset_note(codes: tuple[str, ...]) -> str:
    """Which of ``codes`` cannot offset an obligation now (``counts_toward`` empty in the rules)."""
    specs = ledger.rules().unit_types
    names = [
        f"{specs[c].name_zh}（{c}）" for c in codes if c in specs and not specs[c].counts_toward
    ]
    if not names:
        return ""
    return _("%(names)s现行不可用于抵销清缴义务") % {"names": "、".join(names)}


def _ctx(request: HttpRequest, nav: str, title: str, **extra: Any) -> dict[str, Any]:
    return {
        "title": title,
        "nav": nav,
        "rules": rights_rules(),
        "own": services.holder_for_user(request.user),
        "can_manage": access.can_manage(request.user),
        **extra,
    }


# ----------------------------------------------------------------------------- overview


@rule_required("rights.view")
def home(request: HttpRequest) -> HttpResponse:
    qs = access.visible_holders(request.user).order_by("kind", "name", "pk")
    kind = request.GET.get("kind", "")
    if kind in HolderKind.values:
        qs = qs.filter(kind=kind)
    if request.GET.get("export") == "xlsx":
        holders = list(qs)
        bal = queries.balances(holders)
        return xlsx_response(
            "权益账户.xlsx",
            _("权益账户"),
            [
                _("账户"),
                _("持有人"),
                _("类型"),
                _("地区"),
                *[f"{u['code']} {u['name']}（{u['unit']}）" for u in _units(queries.RIGHTS_UNITS)],
            ],
            (
                [
                    h.account.code,
                    h.name,
                    h.get_kind_display(),
                    h.region.name,
                    *[bal[h.pk].get(u, 0) for u in queries.RIGHTS_UNITS],
                ]
                for h in holders
            ),
            user=request.user,
        )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    bal = queries.balances(list(page))
    rows = [(h, [(bal[h.pk].get(u), _places(u)) for u in queries.RIGHTS_UNITS]) for h in page]
    return render(
        request,
        "rights/home.html",
        _ctx(
            request,
            "home",
            _("用能权、排污权、绿证与碳普惠"),
            page=page,
            rows=rows,
            units=_units(queries.RIGHTS_UNITS),
            kinds=HolderKind.choices,
            kind=kind,
            needs_approval=services.needs_approval(),
        ),
    )


@rule_required("rights.view")
def holder(request: HttpRequest, pk: int) -> HttpResponse:
    h = access.visible_holders(request.user).filter(pk=pk).first()
    if h is None:
        raise Http404
    can_act = access.can_act(request.user, h)
    if request.method == "POST":
        if not can_act:
            raise PermissionDenied
        p = request.POST
        action = p.get("action")
        if action == "surrender":
            _run(
                request,
                lambda: services.surrender(
                    holder=h,
                    unit_type=p.get("unit_type", ""),
                    vintage=_int(p.get("vintage")),
                    year=_int(p.get("year")) or 0,
                    amount=p.get("amount", ""),
                    user=request.user,
                ),
                _("已清缴。"),
            )
        elif action == "cancel":
            _run(
                request,
                lambda: services.cancel_certificates(
                    holder=h,
                    vintage=_int(p.get("vintage")) or 0,
                    amount_mwh=p.get("amount", ""),
                    year=_int(p.get("year")) or 0,
                    user=request.user,
                ),
                _("绿证已注销。"),
            )
        elif action == "redeem":
            _run(
                request,
                lambda: services.redeem(
                    holder=h,
                    unit_type=p.get("unit_type", "PHP"),
                    vintage=_int(p.get("vintage")),
                    amount=p.get("amount", ""),
                    purpose=p.get("purpose", ""),
                    user=request.user,
                ),
                _("已兑换（注销）。"),
            )
        return redirect("rights:holder", pk=h.pk)
    behaviours = rights_rules().behaviours
    return render(
        request,
        "rights/holder.html",
        _ctx(
            request,
            "holder",
            h.name,
            holder=h,
            holdings=_annotate(queries.holdings(h)),
            compliance=_annotate(
                queries.compliance(Holder.objects.filter(pk=h.pk), ("EUR", *EMR, "CEA"))
            ),
            entries=_annotate(list(queries.transactions_of(h))),
            can_act=can_act,
            covers=ProjectCover.objects.filter(holder=h),
            cancellations=CertificateCancellation.objects.filter(holder=h),
            behaviours=[
                (b, behaviours[b.code].name_zh if b.code in behaviours else b.code)
                for b in Behaviour.objects.filter(holder=h)[:50]
            ],
            units=_units(("EUR", *EMR, "GEC", "CSC", "PHP")),
            year=_year(request),
        ),
    )


# ----------------------------------------------------------------------------- energy-use rights


@rule_required("rights.view", post="rights.manage")
def energy(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    user = request.user
    if request.method == "POST":
        p = request.POST
        action = p.get("action")
        if action == "budget":
            division = Division.objects.filter(code=p.get("division", "")).first()
            _run(
                request,
                lambda: services.set_energy_budget(
                    division=division or _missing(_("地区")),
                    year=year,
                    budget_tce=p.get("budget_tce", ""),
                    basis=p.get("basis", ""),
                    user=user,
                ),
                _("已登记用能预算。"),
            )
        elif action == "grant":
            _run(
                request,
                lambda: services.grant_energy_rights(
                    entity=_entity(request),
                    year=year,
                    kind=p.get("kind", ""),
                    amount_tce=p.get("amount_tce", ""),
                    basis=p.get("basis", ""),
                    user=user,
                ),
                _("已确权。"),
            )
        elif action == "cover":
            _run(
                request,
                lambda: services.cover_project(
                    entity=_entity(request),
                    project_ref=p.get("project_ref", ""),
                    project_name=p.get("project_name", ""),
                    year=year,
                    energy_tce=p.get("energy_tce", ""),
                    method=p.get("method", "purchase"),
                    user=user,
                ),
                _("已登记项目用能权。"),
            )
        elif action == "obligation":
            _run(
                request,
                lambda: services.record_energy_obligation(
                    entity=_entity(request),
                    year=year,
                    reported_tce=p.get("reported_tce") or None,
                    user=user,
                ),
                _("已确定应清缴用能权。"),
            )
        return redirect(f"{request.path}?year={year}")
    holders = access.visible_holders(user)
    rights = EnergyRight.objects.filter(holder__in=holders, year=year).select_related(
        "holder", "transaction"
    )
    if request.GET.get("export") == "xlsx":
        return xlsx_response(
            f"用能权确权_{year}.xlsx",
            _("用能权确权"),
            [
                _("单位"),
                _("账户"),
                _("地区"),
                _("年度"),
                _("类型"),
                _("数量（tce）"),
                _("单价（元/tce）"),
                _("有偿使用费（元）"),
                _("依据"),
                _("登记交易"),
            ],
            (
                [
                    r.holder.name,
                    r.holder.account.code,
                    r.holder.region.name,
                    r.year,
                    r.get_kind_display(),
                    r.amount_tce,
                    r.price_yuan_per_tce if r.price_yuan_per_tce is not None else _("未配置"),
                    r.fee_yuan if r.fee_yuan is not None else _("未配置"),
                    r.basis,
                    r.transaction.seq,
                ]
                for r in rights.iterator()
            ),
            user=user,
        )
    regions = visible_divisions(user).exclude(level="county")
    return render(
        request,
        "rights/energy.html",
        _ctx(
            request,
            "energy",
            _("用能权与用能预算"),
            year=year,
            effect=queries.region_effect(year, regions),
            rights=Paginator(rights, 50).get_page(request.GET.get("page")),
            covers=ProjectCover.objects.filter(holder__in=holders, year=year).select_related(
                "holder", "right", "trade"
            ),
            compliance=[r for r in queries.compliance(holders, ("EUR",)) if r["row"].year == year],
            regions=regions,
        ),
    )


def _missing(what: str) -> Any:
    raise ValidationError([_("请选择%(what)s") % {"what": what}])


# ----------------------------------------------------------------------------- emission rights


@rule_required("rights.view", post="rights.manage")
def emissions(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    user = request.user
    if request.method == "POST":
        p = request.POST
        action = p.get("action")
        if action == "permit":
            _run(
                request,
                lambda: services.record_permit(
                    entity=_entity(request),
                    permit_number=p.get("permit_number", ""),
                    unit_type=p.get("unit_type", ""),
                    permitted_t_per_year=p.get("permitted", ""),
                    valid_from=_date(p.get("valid_from")) or _missing(_("有效期起")),
                    valid_to=_date(p.get("valid_to")) or _missing(_("有效期止")),
                    user=user,
                ),
                _("已登记排污许可。"),
            )
        elif action == "allocate":
            permit = Permit.objects.filter(pk=_int(p.get("permit"))).first()
            _run(
                request,
                lambda: services.allocate_emission_rights(
                    permit=permit or _missing(_("许可证")), year=year, user=user
                ),
                _("已分配排污权。"),
            )
        elif action == "obligation":
            _run(
                request,
                lambda: services.record_emission_obligation(
                    entity=_entity(request),
                    unit_type=p.get("unit_type", ""),
                    year=year,
                    reported_t=p.get("reported_t") or None,
                    user=user,
                ),
                _("已确定应清缴排污权。"),
            )
        return redirect(f"{request.path}?year={year}")
    holders = access.visible_holders(user)
    entities = holders.exclude(entity__isnull=True).values("entity_id")
    permits = Permit.objects.filter(entity__in=entities).select_related("entity")
    allocations = EmissionRight.objects.filter(holder__in=holders, year=year).select_related(
        "holder", "permit", "transaction"
    )
    if request.GET.get("export") == "xlsx":
        return xlsx_response(
            f"排污权分配_{year}.xlsx",
            _("排污权分配"),
            [
                _("单位"),
                _("账户"),
                _("地区"),
                _("污染物"),
                _("许可证"),
                _("数量（t）"),
                _("使用费（元）"),
                _("登记交易"),
            ],
            (
                [
                    a.holder.name,
                    a.holder.account.code,
                    a.holder.region.name,
                    a.get_unit_type_display(),
                    a.permit.permit_number,
                    a.amount_t,
                    a.fee_yuan if a.fee_yuan is not None else _("未配置"),
                    a.transaction.seq,
                ]
                for a in allocations.iterator()
            ),
            user=user,
        )
    return render(
        request,
        "rights/emissions.html",
        _ctx(
            request,
            "emissions",
            _("排污权"),
            year=year,
            permits=Paginator(permits, 50).get_page(request.GET.get("page")),
            allocations=allocations,
            compliance=_annotate(
                [r for r in queries.compliance(holders, EMR) if r["row"].year == year]
            ),
            pollutants=rights_rules().pollutants.values(),
        ),
    )


# ----------------------------------------------------------------------------- certificates


@rule_required("rights.view")
def certificates(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    holders = access.visible_holders(request.user)
    cancellations = CertificateCancellation.objects.filter(
        holder__in=holders, year=year
    ).select_related("holder", "transaction")
    units = Entity.objects.filter(
        pk__in=cancellations.exclude(holder__entity__isnull=True).values("holder__entity_id")
    ).order_by("name")
    adjusted = [(e, services.accounted_energy(e, year)) for e in units]
    if request.GET.get("export") == "xlsx":
        return xlsx_response(
            f"绿证与用能核算_{year}.xlsx",
            _("绿证抵扣"),
            [
                _("单位"),
                _("统一社会信用代码"),
                _("205-1 综合能源消费量（tce，当量值）"),
                _("注销绿证（MWh）"),
                _("扣除（tce）"),
                _("扣除后（tce）"),
            ],
            (
                [
                    e.name,
                    e.uscc,
                    a["official_tce"] if a["official_tce"] is not None else _("无已通过年报"),
                    a["certificates_mwh"],
                    a["adjustment"].deduction_tce if a["adjustment"] else "",
                    a["adjustment"].adjusted_tce if a["adjustment"] else "",
                ]
                for e, a in adjusted
            ),
            user=request.user,
        )
    return render(
        request,
        "rights/certificates.html",
        _ctx(
            request,
            "certificates",
            _("绿色电力证书"),
            year=year,
            cancellations=cancellations,
            adjusted=adjusted,
            tce_per_mwh=services.electricity_tce_per_mwh(),
        ),
    )


# ----------------------------------------------------------------------------- credits


@rule_required("rights.view", post="rights.manage")
def credits(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        p = request.POST
        action = p.get("action")
        if action == "person":
            division = Division.objects.filter(code=p.get("division", "")).first()
            _run(
                request,
                lambda: services.open_person(
                    name=p.get("name", ""),
                    person_ref=p.get("person_ref", ""),
                    division=division or _missing(_("地区")),
                    organisation=p.get("organisation") == "1",
                    user=user,
                ),
                _("已开立碳普惠账户。"),
            )
        elif action == "behaviour":
            h = Holder.objects.filter(account__code=p.get("account", "")).first()
            _run(
                request,
                lambda: services.record_behaviour(
                    holder=h or _missing(_("账户")),
                    code=p.get("code", ""),
                    quantity=p.get("quantity", ""),
                    day=_date(p.get("day")) or timezone.localdate(),
                    user=user,
                ),
                _("已记录低碳行为。"),
            )
        elif action == "issue":
            project = CreditProject.objects.filter(pk=_int(p.get("project"))).first()
            _run(
                request,
                lambda: services.issue_credits(
                    project=project or _missing(_("项目")),
                    vintage=_int(p.get("vintage")) or 0,
                    verified_t=p.get("verified_t", ""),
                    verifier=p.get("verifier", ""),
                    user=user,
                ),
                _("已核证签发。"),
            )
        return redirect(request.path)
    holders = access.visible_holders(user)
    people = holders.filter(kind__in=(HolderKind.PERSON, HolderKind.ORGANISATION)).order_by(
        "account__code"
    )
    if request.GET.get("export") == "xlsx":
        everyone = list(people.select_related("account", "region"))
        points = queries.balances(everyone)
        return xlsx_response(
            "碳普惠账户.xlsx",
            _("碳普惠账户"),
            [_("账户"), _("名称"), _("类型"), _("地区"), _("积分余额（分）")],
            (
                [
                    h.account.code,
                    h.name,
                    h.get_kind_display(),
                    h.region.name,
                    points[h.pk].get("PHP", 0),
                ]
                for h in everyone
            ),
            user=user,
        )
    page = Paginator(people, 50).get_page(request.GET.get("page"))
    bal = queries.balances(list(page))
    return render(
        request,
        "rights/credits.html",
        _ctx(
            request,
            "credits",
            _("碳汇与碳普惠"),
            offset_note=_offset_note(("CSC", "PHP")),
            projects=CreditProject.objects.filter(holder__in=holders).select_related("holder"),
            page=page,
            people=[(h, bal[h.pk].get("PHP", 0)) for h in page],
            summary=queries.points_summary(),
            regions=visible_divisions(user).exclude(level="county"),
        ),
    )


# ----------------------------------------------------------------------------- the board


@rule_required("rights.view")
def market(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        p = request.POST
        action = p.get("action")
        own = services.holder_for_user(user)
        if action == "post":
            _run(
                request,
                lambda: services.post_listing(
                    holder=own or _missing(_("本单位账户")),
                    side=p.get("side", ""),
                    unit_type=p.get("unit_type", ""),
                    vintage=_int(p.get("vintage")),
                    quantity=p.get("quantity", ""),
                    price_yuan=p.get("price_yuan", ""),
                    note=p.get("note", ""),
                    user=user,
                ),
                _("已挂牌。"),
            )
        elif action == "trade":
            listing = Listing.objects.filter(pk=_int(p.get("listing"))).first()
            other = Holder.objects.filter(account__code=p.get("counterparty", "").strip()).first()
            if listing is not None and listing.side == "bid":
                other = own
            _run(
                request,
                lambda: services.request_trade(
                    listing=listing or _missing(_("挂牌")),
                    counterparty=other or _missing(_("对方账户")),
                    quantity=p.get("quantity", ""),
                    price_yuan=p.get("price_yuan") or None,
                    user=user,
                ),
                _("已提交成交申请，待买方确认。"),
            )
        elif action in ("accept", "approve", "reject"):
            trade = access.visible_trades(user).filter(pk=_int(p.get("trade"))).first()
            if trade is None:
                raise Http404
            if action == "accept":
                _run(request, lambda: services.accept_trade(trade=trade, user=user), _("已确认。"))
            else:
                _run(
                    request,
                    lambda: services.decide_trade(
                        trade=trade,
                        approve=action == "approve",
                        reason=p.get("reason", ""),
                        user=user,
                    ),
                    _("已处理。"),
                )
        elif action == "withdraw":
            listing = Listing.objects.filter(pk=_int(p.get("listing"))).first()
            _run(
                request,
                lambda: services.withdraw_listing(
                    listing=listing or _missing(_("挂牌")), user=user
                ),
                _("已撤回。"),
            )
        return redirect(request.path)
    listings = queries.board(
        Listing.objects.filter(status=ListingStatus.OPEN).select_related("holder", "division"),
        request.GET.get("unit_type", ""),
        request.GET.get("region", ""),
    )
    trades = access.visible_trades(user)
    if request.GET.get("export") == "xlsx":
        return xlsx_response(
            "公告板成交.xlsx",
            _("公告板成交"),
            [
                _("编号"),
                _("品种"),
                _("年度"),
                _("数量"),
                _("单价（元）"),
                _("卖方"),
                _("买方"),
                _("状态"),
                _("过户日期"),
                _("登记交易"),
            ],
            (
                [
                    t.pk,
                    f"{t.unit_type} {_unit_name(t.unit_type)}",
                    t.vintage or "",
                    t.quantity,
                    t.price_yuan,
                    t.seller.name,
                    t.buyer.name,
                    t.get_status_display(),
                    t.executed_on.isoformat() if t.executed_on else "",
                    t.transaction.seq if t.transaction_id else "",
                ]
                for t in trades.iterator()
            ),
            user=user,
        )
    listing_page = Paginator(listings, 50).get_page(request.GET.get("page"))
    _annotate(listing_page.object_list)
    return render(
        request,
        "rights/market.html",
        _ctx(
            request,
            "market",
            _("交易公告板"),
            listings=listing_page,
            trades=_annotate(list(trades[:100])),
            units=_units(rights_rules().tradable),
            pending=trades.filter(status=TradeStatus.ACCEPTED) if access.can_manage(user) else [],
            tradable=rights_rules().tradable,
            needs_approval=services.needs_approval(),
        ),
    )


# ----------------------------------------------------------------------------- public


def public(request: HttpRequest) -> HttpResponse:
    """Public statistics: prices and volumes per unit type and month; carbon-inclusive totals."""
    rows = queries.price_rows()
    if request.GET.get("export") == "xlsx":
        return xlsx_response(
            "权益交易价格统计.xlsx",
            _("价格统计"),
            [
                _("品种"),
                _("月份"),
                _("成交笔数"),
                _("成交量"),
                _("成交额（元）"),
                _("均价（元，按量加权）"),
                _("最低价"),
                _("最高价"),
            ],
            (
                [
                    f"{r.unit_type} {_unit_name(r.unit_type)}",
                    r.month,
                    r.trades,
                    r.volume,
                    r.value_yuan,
                    r.average,
                    r.minimum,
                    r.maximum,
                ]
                for r in rows
            ),
        )
    return render(
        request,
        "rights/public.html",
        {
            "title": _("权益交易价格与碳普惠统计"),
            "rows": [(r, queries.unit_label(r.unit_type), _places(r.unit_type)) for r in rows],
            "summary": queries.points_summary(),
            "rules": rights_rules(),
        },
    )
