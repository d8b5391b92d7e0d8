"""Pages of investment projects (issue 20): the list by status and region, the project page with the
review workflow and the gate (the project's effect shown before deciding), the elimination list and
the scenario workbench.  Thin: writes in :mod:`.investment`, access in :mod:`dualcontrol.access`.
"""

from __future__ import annotations

import json
from itertools import groupby
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from dualcontrol.access import projects as project_access
from dualcontrol.access.rules import allows, rule_required
from dualcontrol.access.scope import visible_divisions
from dualcontrol.core import scenarios as core
from dualcontrol.exports import xlsx_response
from dualcontrol.projects import investment
from dualcontrol.projects.models import (
    Evidence,
    InvestmentProject,
    Kind,
    ReviewStatus,
    Stage,
)
from dualcontrol.projects.rules import project_rules
from dualcontrol.projects.views import _common
from dualcontrol.reference.project_gating import gating

PAGE_SIZE = 50


def investment_queryset(user: Any, f: dict[str, str]) -> QuerySet[InvestmentProject]:
    visible = project_access.visible_projects(user).filter(kind=Kind.INVESTMENT)
    qs = InvestmentProject.objects.filter(project__in=visible.values("pk")).select_related(
        "project", "project__division", "project__entity", "project__industry"
    )
    if f.get("stage") in Stage.values:
        qs = qs.filter(stage=f["stage"])
    if f.get("two_high") in ("1", "0"):
        qs = qs.filter(two_high=f["two_high"] == "1")
    if f.get("review_status") in ReviewStatus.values:
        qs = qs.filter(review_status=f["review_status"])
    if (f.get("division") or "").isdigit():
        qs = qs.filter(project__division__path__contains=f"{f['division']}/")
    return qs.order_by("project__division__code", "project__name", "pk")


@rule_required("projects.view")
def investment_list(request: HttpRequest) -> HttpResponse:
    f = {
        k: request.GET.get(k, "").strip()
        for k in ("stage", "two_high", "division", "review_status")
    }
    qs = investment_queryset(request.user, f)
    headers = [
        _("项目编号"),
        _("项目名称"),
        _("项目单位"),
        _("所在区划代码"),
        _("所在区划"),
        _("状态"),
        _("两高"),
        _("年综合能源消费量（当量值，吨标准煤）"),
        _("年二氧化碳排放量（吨）"),
        _("年增加值（万元）"),
        _("节能审查"),
        _("能耗单列"),
    ]

    def row(inv: InvestmentProject) -> list[Any]:
        p = inv.project
        return [
            p.pk,
            p.name,
            p.owner_label,
            p.division.code,
            p.division.name,
            inv.get_stage_display(),
            _("是") if inv.two_high else (_("待认定") if inv.two_high_possible else _("否")),
            float(inv.energy_equivalent_tce),
            float(inv.co2_t),
            float(inv.value_added_10k_yuan),
            inv.get_review_status_display(),
            _("是") if inv.separately_accounted else "",
        ]

    if request.GET.get("export") == "xlsx":
        return xlsx_response(
            "investment-projects.xlsx",
            _("固定资产投资项目"),
            headers,
            (row(i) for i in qs.iterator()),
            user=request.user,
        )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    groups = [
        (key, list(items))
        for key, items in groupby(page.object_list, key=lambda i: i.project.division)
    ]
    counts = {s: qs.filter(stage=s).count() for s in Stage.values}
    return render(
        request,
        "projects/investments.html",
        {
            **_common(request),
            "groups": groups,
            "page": page,
            "f": f,
            "stages": Stage.choices,
            "review_statuses": ReviewStatus.choices,
            "counts": [(label, counts[v]) for v, label in Stage.choices],
            "query": request.GET.urlencode(),
        },
    )


def _visible_investment(request: HttpRequest, pk: int) -> Any:
    project = project_access.visible_projects(request.user).filter(pk=pk).first()
    if project is None:
        raise Http404
    return project


@rule_required("projects.view", post="projects.review")
def investment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    project = _visible_investment(request, pk)
    if project.kind != Kind.INVESTMENT or not hasattr(project, "investment"):
        return redirect("projects:detail", pk=project.pk)
    inv = project.investment
    today = timezone.localdate()
    user = request.user
    can_review = allows(user, "projects.review") and project_access.can_review(
        user, project, inv.review_authority
    )
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "submit":
                investment.submit_review(user=user, investment=inv)
                messages.success(request, _("已受理，进入节能审查。"))
            elif action in ("approved", "rejected"):
                investment.decide_review(
                    user=user,
                    investment=inv,
                    decision=action,
                    conclusion=request.POST.get("conclusion", ""),
                    conditions=request.POST.get("conditions", ""),
                    carbon_conclusion=request.POST.get("carbon_conclusion", ""),
                    document_no=request.POST.get("document_no", ""),
                    override=request.POST.get("override") == "1",
                    override_reason=request.POST.get("override_reason", ""),
                )
                messages.success(request, _("审查结论已记录。"))
            else:
                raise ValidationError(_("未知操作"))
        except investment.GateHeld as held:
            messages.error(request, held.messages[0])
        except ValidationError as exc:
            for m in exc.messages:
                messages.error(request, m)
        return redirect("projects:investment", pk=project.pk)
    gate = investment.gate_check(inv, today)
    c = investment.classify(inv, today)
    mon = investment.monitor(inv) if inv.stage == Stage.EXISTING else None
    chart = None
    if gate.effect:
        years = [y["year"] for y in gate.effect["without"]["years"]]
        chart = {
            "labels": years,
            "unit": _("吨CO2/万元"),
            "series": [
                {
                    "name": _("不含本项目"),
                    "data": [
                        y["co2_intensity_t_per_10k_yuan"] for y in gate.effect["without"]["years"]
                    ],
                },
                {
                    "name": _("含本项目"),
                    "data": [
                        y["co2_intensity_t_per_10k_yuan"] for y in gate.effect["with"]["years"]
                    ],
                    "dashed": True,
                },
            ],
        }
    kinds = project_rules().evidence
    rules = gating()
    ratio_quote = (
        investment.chinese_or_empty(c.replacement_ratio.quote) if c.replacement_ratio else ""
    )
    return render(
        request,
        "projects/investment.html",
        {
            **_common(request),
            "authority": investment.authority_display(c.authority),
            "two_high": investment.two_high_display(c.two_high, rules),
            "ramp": investment.ramp_display(rules),
            "ratio_quote": ratio_quote,
            "replacement_note": investment.replacement_note_display(c.replacement_note),
            "monitoring_note": investment.monitoring_note_display(mon, rules) if mon else "",
            "overruns": [(o, investment.measure_label(o.measure)) for o in mon.overruns]
            if mon
            else [],
            "project": project,
            "inv": inv,
            "gate": gate,
            "cls": c,
            "monitoring": mon,
            "reviews": inv.reviews.select_related("decided_by").all(),
            "evidence": [
                (e, kinds[e.kind].label if e.kind in kinds else e.kind)
                for e in Evidence.objects.filter(project=project).order_by("kind", "uploaded_at")
            ],
            "can_review": can_review and inv.review_status == ReviewStatus.SUBMITTED,
            "can_submit": project_access.can_report(user, project)
            and inv.review_status in (ReviewStatus.NOT_SUBMITTED, ReviewStatus.REJECTED),
            "can_override": allows(user, "projects.override"),
            "can_report": project_access.can_report(user, project),
            "chart": chart,
            "rules": rules,
            "carbon_required": today >= investment.CARBON_EVALUATION_FROM,
        },
    )


@rule_required("projects.view")
def elimination_page(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year") or today.year)
        if not 1900 <= year <= 2200:
            raise ValueError
    except ValueError:
        year = today.year
    items = investment.elimination_items(
        year, project_access.visible_elimination_items(request.user)
    )
    rows = [investment.elimination_row(i) for i in items]
    headers = [
        _("地区代码"),
        _("地区"),
        _("企业名称"),
        _("行业"),
        _("淘汰生产线（设备）"),
        _("产能"),
        _("单位"),
        _("淘汰期限"),
        _("验收日期"),
        _("验收情况"),
        _("名单"),
    ]
    keys = [
        "region_code",
        "region",
        "unit",
        "sector",
        "line_equipment",
        "capacity",
        "capacity_unit",
        "deadline",
        "accepted_on",
        "acceptance",
        "list",
    ]
    if request.GET.get("export") == "xlsx":
        return xlsx_response(
            f"elimination-{year}.xlsx",
            _("淘汰落后产能名单"),
            headers,
            ([r[k] for k in keys] for r in rows),
            user=request.user,
        )
    from dualcontrol.projects.models import EliminationTarget, SectorSuspension

    divs = visible_divisions(request.user)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    rules = gating()
    sectors = {s.code: s.name_zh for s in rules.elimination_sectors.values()}
    targets = list(
        EliminationTarget.objects.filter(year=year, division__in=divs).select_related("division")
    )
    consequence = rules.consequence
    source_title = investment.document_title(consequence.get("source", ""))
    return render(
        request,
        "projects/elimination.html",
        {
            **_common(request),
            "year": year,
            "page": page,
            "targets": [(t, sectors.get(t.sector_code, t.sector_code)) for t in targets],
            "suspensions": SectorSuspension.objects.filter(division__in=divs).select_related(
                "division"
            ),
            "consequence": consequence,
            "consequence_title": source_title,
            "sources": investment.elimination_sources_display(rules),
        },
    )


def _float(text: str, default: float) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return default
    return value


@rule_required("projects.manage")
def scenario_page(request: HttpRequest) -> HttpResponse:
    """情景分析 workbench: a region, a set of projects, a growth assumption → with / without."""
    today = timezone.localdate()
    divs = (
        visible_divisions(request.user)
        .filter(level__in=("province", "prefecture"))
        .order_by("code")
    )
    code = request.GET.get("region") or (divs.first().code if divs.exists() else "")
    region = divs.filter(code=code).first()
    if region is None and code:
        raise Http404
    sets = {
        "planned": (
            _("拟建、在建项目（未审查或审查中）"),
            [ReviewStatus.NOT_SUBMITTED, ReviewStatus.SUBMITTED],
        ),
        "approved": (_("已通过审查的项目"), [ReviewStatus.APPROVED, ReviewStatus.EXEMPT]),
        "all": (
            _("全部未否决项目"),
            [s for s in ReviewStatus.values if s != ReviewStatus.REJECTED],
        ),
    }
    chosen = request.GET.get("set") or "all"
    if chosen not in sets:
        chosen = "all"
    ctx: dict[str, Any] = {
        **_common(request),
        "divisions": divs,
        "region": region,
        "sets": [(k, v[0]) for k, v in sets.items()],
        "chosen": chosen,
        "ramp": investment.ramp_display(),
    }
    inputs = investment.region_inputs(region, today) if region else None
    if inputs is None:
        ctx["problem"] = _("所选地区没有基期统计数据或期间目标。")
        return render(request, "projects/scenario.html", ctx)
    g = inputs.growth
    growth = core.Growth(
        gdp_frac=_float(request.GET.get("gdp", ""), g.gdp_frac * 100) / 100,
        energy_frac=_float(request.GET.get("energy", ""), g.energy_frac * 100) / 100,
        co2_frac=_float(request.GET.get("co2", ""), g.co2_frac * 100) / 100,
    )
    inputs.growth = growth
    invs = list(
        investment_queryset(request.user, {"division": region.code}).filter(
            review_status__in=sets[chosen][1]
        )
    )
    projects = [investment.scenario_project(i) for i in invs]
    try:
        comp = investment.effect(projects, inputs)
    except core.ScenarioError as exc:
        ctx["problem"] = str(exc)
        return render(request, "projects/scenario.html", ctx)
    eff = investment.comparison_json(comp)
    ctx.update(
        {
            "inputs": inputs,
            "growth_pct": {
                "gdp": round(growth.gdp_frac * 100, 3),
                "energy": round(growth.energy_frac * 100, 3),
                "co2": round(growth.co2_frac * 100, 3),
            },
            "projects": invs,
            "rows": list(zip(eff["without"]["years"], eff["with"]["years"], strict=True)),
            "attainment": investment.attainment_display(
                eff["without"]["attainment"], eff["with"]["attainment"]
            ),
            "targets": inputs.targets,
            "co2_target_pct": None
            if inputs.targets.co2_intensity_reduction_frac is None
            else round(inputs.targets.co2_intensity_reduction_frac * 100, 2),
            "chart": json.dumps(
                {
                    "labels": [y["year"] for y in eff["without"]["years"]],
                    "unit": _("吨CO2/万元"),
                    "series": [
                        {
                            "name": _("不含项目"),
                            "data": [
                                y["co2_intensity_t_per_10k_yuan"] for y in eff["without"]["years"]
                            ],
                        },
                        {
                            "name": _("含项目"),
                            "data": [
                                y["co2_intensity_t_per_10k_yuan"] for y in eff["with"]["years"]
                            ],
                            "dashed": True,
                        },
                    ],
                },
                ensure_ascii=False,
            ),
        }
    )
    return render(request, "projects/scenario.html", ctx)


@rule_required("projects.manage")
def investment_new(request: HttpRequest) -> HttpResponse:
    """登记固定资产投资项目: the form, then the 两高 classification and review authority."""
    from dualcontrol.access.scope import visible_entities
    from dualcontrol.projects.forms import InvestmentForm

    divisions = project_access.registrable_divisions(request.user).order_by("code")
    form = InvestmentForm(
        request.POST or None,
        divisions=divisions,
        entities=visible_entities(request.user).order_by("name"),
    )
    if request.method == "POST" and form.is_valid():
        c = form.cleaned_data
        details = {k: c[k] for k in InvestmentForm.DETAILS if c.get(k) not in (None, "")}
        if c.get("is_increment"):
            details["is_increment"] = True
        if c.get("separately_accounted"):
            details["separately_accounted"] = True
        details.setdefault("replacement", c.get("replacement") or "")
        try:
            inv = investment.register_investment(
                user=request.user,
                name=c["name"],
                division=c["division"],
                entity=c.get("entity"),
                owner_name=c.get("owner_name") or "",
                industry=c.get("industry"),
                stage=c["stage"],
                planned_start=c["planned_start"],
                planned_completion=c["planned_completion"],
                energy_equivalent_tce=c["energy_equivalent_tce"],
                co2_t=c.get("co2_t"),
                value_added_10k_yuan=c.get("value_added_10k_yuan"),
                description=c.get("description") or "",
                **details,
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc.messages)
        else:
            messages.success(
                request,
                _("已登记“%(n)s”。") % {"n": inv.project.name}
                + (_("认定为两高项目。") if inv.two_high else ""),
            )
            return redirect("projects:investment", pk=inv.project.pk)
    return render(
        request,
        "projects/investment_form.html",
        {**_common(request), "form": form, "title": _("登记固定资产投资项目")},
    )
