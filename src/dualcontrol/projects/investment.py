"""Use cases of investment projects, the review gate, monitoring and capacity elimination (issue 20).

The only code that writes :class:`InvestmentProject`, :class:`ReviewRecord`, the elimination tables and
:class:`SectorSuspension`.  Keyword arguments, access checked (:mod:`dualcontrol.access.projects`),
``ValidationError`` with every problem, one transaction, an audit entry per write.

**The gate.**  Approving the energy review (节能审查, with the carbon evaluation since 2025-09-01) of a
project is refused while its region (or a region above it, or its unit) is under an open 限批 of the
assessment app (``Consequence.restricts_approvals``), while its sector is suspended in the region for a
missed elimination target (:class:`SectorSuspension`), or when the project takes the region over a total
cap or period budget of its targets (the scenario core).  A province officer may approve anyway with an
explicit override and a reason; the held attempt and the override are both recorded and audited.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from dualcontrol.access import projects as project_access
from dualcontrol.access.rules import allows
from dualcontrol.audit.services import record, snapshot
from dualcontrol.core import scenarios as core
from dualcontrol.core.progress import PaceDefinition, ProgressDefinition
from dualcontrol.entities.models import Entity, Industry
from dualcontrol.projects.models import (
    EliminationItem,
    EliminationList,
    EliminationTarget,
    Evidence,
    GateDecision,
    InvestmentProject,
    Kind,
    Project,
    Replacement,
    ReviewRecord,
    ReviewStatus,
    SectorSuspension,
    Stage,
)
from dualcontrol.reference.project_gating import Gating, gating
from dualcontrol.regions.models import Division

INVESTMENT_TYPE = "investment"
PLACES = Decimal("0.001")
#: the day the carbon evaluation joins the energy review (国家发展改革委令2025年第31号)
CARBON_EVALUATION_FROM = dt.date(2025, 9, 1)

INVESTMENT_FIELDS = [
    "stage",
    "capacity_value",
    "capacity_unit",
    "sector_code",
    "energy_equivalent_tce",
    "energy_equal_value_tce",
    "electricity_kwh",
    "coal_t",
    "fuels",
    "is_increment",
    "co2_t",
    "value_added_10k_yuan",
    "operation_date",
    "two_high",
    "two_high_possible",
    "two_high_basis",
    "separately_accounted",
    "separate_list_ref",
    "review_status",
    "review_authority",
    "review_rule",
    "review_document_no",
    "reviewed_on",
    "review_conclusion",
    "review_conditions",
    "carbon_conclusion",
    "replacement",
    "replaced_capacity",
    "replaced_energy_tce",
    "replacement_source",
    "replacement_zone",
    "replacement_case",
    "gating_version",
]


def _actor(user: Any) -> Any:
    return user if getattr(user, "is_authenticated", False) else None


def _dec(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        d = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        return None
    return d.quantize(PLACES) if d.is_finite() else None


def _f(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _state(inv: InvestmentProject) -> dict[str, Any]:
    data = snapshot(inv, INVESTMENT_FIELDS)
    data["project"] = snapshot(
        inv.project, ["name", "division", "entity", "owner_name", "industry", "planned_start"]
    )
    return data


# --------------------------------------------------------------------------------------------
# Classification (两高, review authority, replacement)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Classification:
    two_high: core.TwoHighResult
    authority: core.ReviewAuthority | None
    window_guidance: bool
    replacement_ratio: core.ReplacementRatio | None
    replacement_required: float | None
    replacement_sufficient: bool | None
    replacement_note: str
    problems: tuple[str, ...] = ()


def classify(inv: InvestmentProject, day: dt.date, rules: Gating | None = None) -> Classification:
    """两高 by the industry, review authority by the annual energy, the replacement ratio in force."""
    rules = rules or gating()
    industry = inv.project.industry.code if inv.project.industry_id else ""
    two_high = core.classify_two_high(industry, rules.two_high, day)
    problems: list[str] = []
    try:
        authority: core.ReviewAuthority | None = core.review_authority(
            energy_tce=float(inv.energy_equivalent_tce),
            electricity_kwh=_f(inv.electricity_kwh),
            coal_t=_f(inv.coal_t),
            day=day,
            rules=rules.review_rules,
            platform_provincial_min_tce=rules.platform_provincial_min_tce,
        )
    except core.ScenarioError as exc:
        authority = None
        problems.append(str(exc))
    ratio = None
    required = sufficient = None
    note = ""
    if inv.sector_code and inv.sector_code in {r.sector for r in rules.ratios}:
        try:
            ratio = core.replacement_ratio(
                rules.ratios,
                sector=inv.sector_code,
                zone=inv.replacement_zone or "other",
                case=inv.replacement_case or "standard",
                day=day,
            )
        except core.ScenarioError as exc:
            note = str(exc)
        if ratio is not None and inv.capacity_value is not None:
            required = core.required_replacement(float(inv.capacity_value), ratio)
            if inv.replaced_capacity is not None:
                sufficient = core.replacement_sufficient(
                    float(inv.capacity_value), float(inv.replaced_capacity), ratio
                )
    elif inv.sector_code in rules.replacement_not_found:
        note = rules.replacement_not_found[inv.sector_code]
    window = two_high.is_two_high and float(inv.energy_equivalent_tce) >= rules.window_guidance_tce
    return Classification(
        two_high=two_high,
        authority=authority,
        window_guidance=window,
        replacement_ratio=ratio,
        replacement_required=required,
        replacement_sufficient=sufficient,
        replacement_note=note,
        problems=tuple(problems),
    )


def _apply_classification(inv: InvestmentProject, day: dt.date) -> Classification:
    rules = gating()
    c = classify(inv, day, rules)
    inv.two_high = c.two_high.is_two_high
    inv.two_high_possible = c.two_high.possible
    inv.two_high_basis = [
        {
            "rule_set": m.rule_set,
            "class": m.class_code,
            "name_zh": m.class_name_zh,
            "certain": m.certain,
        }
        for m in c.two_high.matches
    ]
    inv.review_authority = c.authority.authority.value if c.authority else ""
    inv.review_rule = c.authority.rule.code if c.authority else ""
    inv.gating_version = rules.version
    return c


# --------------------------------------------------------------------------------------------
# Registration
# --------------------------------------------------------------------------------------------

AMOUNT_FIELDS = (
    "capacity_value",
    "energy_equivalent_tce",
    "energy_equal_value_tce",
    "electricity_kwh",
    "coal_t",
    "co2_t",
    "value_added_10k_yuan",
    "replaced_capacity",
    "replaced_energy_tce",
)


#: the optional details :func:`register_investment` takes (the page's form and the API pass the
#: filled-in ones)
DETAIL_FIELDS = (
    "capacity_value",
    "capacity_unit",
    "sector_code",
    "energy_equal_value_tce",
    "electricity_kwh",
    "coal_t",
    "is_increment",
    "operation_date",
    "separately_accounted",
    "separate_list_ref",
    "replacement",
    "replaced_capacity",
    "replaced_energy_tce",
    "replacement_source",
    "replacement_zone",
    "replacement_case",
)


@transaction.atomic
def register_investment(
    *,
    user: Any,
    name: str,
    division: Division,
    planned_start: dt.date,
    planned_completion: dt.date,
    energy_equivalent_tce: Any,
    co2_t: Any,
    value_added_10k_yuan: Any = 0,
    entity: Entity | None = None,
    owner_name: str = "",
    industry: Industry | None = None,
    stage: str = Stage.PROPOSED,
    description: str = "",
    registry_code: str = "",
    today: dt.date | None = None,
    is_synthetic: bool = False,
    **details: Any,
) -> InvestmentProject:
    """Register a fixed-asset investment project (province staff anywhere; a city officer in its
    region).  ``details``: capacity_value, capacity_unit, sector_code, energy_equal_value_tce,
    electricity_kwh, coal_t, fuels, is_increment, operation_date, separately_accounted,
    separate_list_ref, replacement, replaced_capacity, replaced_energy_tce, replacement_source,
    replacement_zone, replacement_case."""
    if user is not None and not allows(user, "projects.manage"):
        raise PermissionDenied
    if division is None or not project_access.can_register_in(user, division):
        raise PermissionDenied
    allowed = {*DETAIL_FIELDS, "fuels"}  # fuels: a fuel mix (the demo gives one)
    unknown = set(details) - allowed
    if unknown:
        raise ValueError(f"unknown fields: {sorted(unknown)}")
    errors: dict[str, str] = {}
    values: dict[str, Any] = {k: v for k, v in details.items()}
    raw = {
        **{k: details.get(k) for k in AMOUNT_FIELDS if k in details},
        "energy_equivalent_tce": energy_equivalent_tce,
        "co2_t": co2_t,
        "value_added_10k_yuan": value_added_10k_yuan,
    }
    for key, value in raw.items():
        amount = _dec(value)
        if value not in (None, "") and amount is None:
            errors[key] = _("请输入数值")
        elif amount is not None and amount < 0:
            errors[key] = _("不能为负数")
        values[key] = amount
    if values.get("energy_equivalent_tce") is None and "energy_equivalent_tce" not in errors:
        errors["energy_equivalent_tce"] = _("请填写年综合能源消费量（当量值）")
    if values.get("co2_t") is None:
        values["co2_t"] = Decimal(0)
    if values.get("value_added_10k_yuan") is None:
        values["value_added_10k_yuan"] = Decimal(0)
    if not (name or "").strip():
        errors["name"] = _("请填写项目名称")
    if entity is None and not (owner_name or "").strip():
        errors["owner_name"] = _("请选择项目单位或填写项目单位名称")
    if entity is not None and not entity.division.path.startswith(division.path):
        errors["entity"] = _("项目单位不在所选地区内")
    if planned_start is None or planned_completion is None:
        errors["planned_start"] = _("请填写计划开工和完成日期")
    elif planned_completion < planned_start:
        errors["planned_completion"] = _("计划完成日期早于计划开工日期")
    if stage not in Stage.values:
        errors["stage"] = _("状态无效")
    if values.get("replacement", "") not in Replacement.values:
        errors["replacement"] = _("替代来源无效")
    rules = gating()
    if values.get("replacement_zone") and values["replacement_zone"] not in rules.zones:
        errors["replacement_zone"] = _("置换区域无效")
    if values.get("replacement_case") and values["replacement_case"] not in rules.cases:
        errors["replacement_case"] = _("置换情形无效")
    if values.get("separately_accounted") and not (values.get("separate_list_ref") or "").strip():
        errors["separate_list_ref"] = _("能耗单列项目须注明国家重大项目清单依据")
    if errors:
        raise ValidationError(errors)
    project = Project.objects.create(
        kind=Kind.INVESTMENT,
        type_code=INVESTMENT_TYPE,
        name=name.strip(),
        registry_code=(registry_code or "").strip(),
        entity=entity,
        owner_name=(owner_name or "").strip(),
        division=division,
        industry=industry if industry is not None else (entity.industry if entity else None),
        description=(description or "").strip(),
        planned_start=planned_start,
        planned_completion=planned_completion,
        created_by=_actor(user),
        is_synthetic=is_synthetic,
    )
    inv = InvestmentProject(project=project, stage=stage, **values)
    _apply_classification(inv, today or timezone.localdate())
    inv.save()
    record(actor=user, action="projects.investment.register", obj=project, after=_state(inv))
    return inv


@transaction.atomic
def set_stage(*, user: Any, investment: InvestmentProject, stage: str) -> InvestmentProject:
    """拟建 → 在建 → 存量."""
    inv = InvestmentProject.objects.select_for_update().get(pk=investment.pk)
    if not project_access.can_manage(user, inv.project):
        raise PermissionDenied
    if stage not in Stage.values:
        raise ValidationError({"stage": _("状态无效")})
    before = _state(inv)
    inv.stage = stage
    inv.save(update_fields=["stage"])
    record(
        actor=user,
        action="projects.investment.stage",
        obj=inv.project,
        before=before,
        after=_state(inv),
    )
    return inv


class WrongState(ValidationError):
    """A request refused because of the object's state (already under review, already decided);
    the pages show it like any refusal, the API answers 409."""


@transaction.atomic
def submit_review(
    *, user: Any, investment: InvestmentProject, today: dt.date | None = None
) -> InvestmentProject:
    """节能审查受理: the project (with its 节能报告 on file) enters the review; an exempt project is
    recorded as 不单独进行节能审查 instead."""
    inv = (
        InvestmentProject.objects.select_for_update()
        .select_related("project")
        .get(pk=investment.pk)
    )
    if not project_access.can_report(user, inv.project):
        raise PermissionDenied
    if inv.review_status not in (ReviewStatus.NOT_SUBMITTED, ReviewStatus.REJECTED):
        raise WrongState(_("该项目已在审查中或已审查"))
    before = _state(inv)
    c = _apply_classification(inv, today or timezone.localdate())
    if c.authority is not None and c.authority.authority is core.Authority.EXEMPT:
        inv.review_status = ReviewStatus.EXEMPT
    else:
        inv.review_status = ReviewStatus.SUBMITTED
    inv.save()
    record(
        actor=user,
        action="projects.investment.submit_review",
        obj=inv.project,
        before=before,
        after=_state(inv),
    )
    return inv


# --------------------------------------------------------------------------------------------
# The region's figures and the project's effect (scenario core)
# --------------------------------------------------------------------------------------------


@dataclass
class RegionInputs:
    division: Division
    base: core.RegionBase
    growth: core.Growth
    targets: core.ScenarioTargets
    growth_source: str
    target_sources: dict[str, str] = field(default_factory=dict)


def _annual_stats(division: Division) -> dict[int, Any]:
    from dualcontrol.targets.models import RegionalStatistic

    rows = RegionalStatistic.objects.filter(
        division=division, month__isnull=True, quarter__isnull=True, industry__isnull=True
    )
    return {r.year: r for r in rows}


def _period_targets(division: Division, year: int) -> dict[str, Any]:
    """The region's five-year targets of the period containing ``year`` (issued or signed)."""
    from dualcontrol.targets.models import Target

    qs = Target.objects.filter(
        division=division,
        entity__isnull=True,
        industry__isnull=True,
        period_kind="five_year",
        base_year__lt=year,
        end_year__gte=year,
    ).exclude(status="draft")
    return {t.indicator: t for t in reversed(list(qs.order_by("-base_year", "-id")))}


def region_inputs(
    division: Division, today: dt.date, growth: core.Growth | None = None
) -> RegionInputs | None:
    """Base year, trend growth and targets of ``division`` for the period that contains ``today``
    (or the next period starting this year); None when the region has no base-year statistics."""
    targets = _period_targets(division, today.year) or _period_targets(division, today.year + 1)
    stats = _annual_stats(division)
    if not targets:
        return None
    any_target = next(iter(targets.values()))
    base_year, end_year = any_target.base_year, any_target.end_year
    row = stats.get(base_year)
    if row is None:
        return None
    co2 = row.value("co2_t")
    if not co2 or float(row.energy_tce) <= 0 or float(row.gdp_10k_yuan) <= 0:
        return None
    base = core.RegionBase(base_year, float(row.energy_tce), float(co2), float(row.gdp_10k_yuan))
    source = _("用户输入")
    if growth is None:
        growth, source = trend_growth(stats, base_year)

    def frac(ind: str) -> float | None:
        t = targets.get(ind)
        return None if t is None else float(t.base_value) / 100

    def amount(ind: str) -> float | None:
        t = targets.get(ind)
        return None if t is None else float(t.base_value)

    inc = amount("energy_increment")
    first = targets.get("co2_intensity_reduction") or targets.get("energy_intensity_reduction")
    progress_def = ProgressDefinition.LOG
    pace = PaceDefinition.LINEAR
    if first is not None:
        if first.progress_definition in ProgressDefinition.__members__.values():
            progress_def = ProgressDefinition(first.progress_definition)
        if first.pace_definition in PaceDefinition.__members__.values():
            pace = PaceDefinition(first.pace_definition)
    st = core.ScenarioTargets(
        end_year=end_year,
        energy_intensity_reduction_frac=frac("energy_intensity_reduction"),
        co2_intensity_reduction_frac=frac("co2_intensity_reduction"),
        energy_total_cap_tce=amount("energy_total")
        if "energy_total" in targets
        else (None if inc is None else base.energy_tce + inc),
        co2_total_cap_t=amount("co2_total"),
        energy_budget_tce=amount("energy_budget"),
        co2_budget_t=amount("carbon_budget"),
        progress_definition=progress_def,
        pace_definition=pace,
    )
    return RegionInputs(
        division=division,
        base=base,
        growth=growth,
        targets=st,
        growth_source=source,
        target_sources={k: t.source_document for k, t in targets.items()},
    )


def trend_growth(stats: Mapping[int, Any], base_year: int) -> tuple[core.Growth, str]:
    """Growth without the projects: the base year's real GDP growth and the average annual growth of
    energy and CO2 over the (up to five) years before it — a platform assumption, editable."""
    row = stats[base_year]
    gdp = float(row.gdp_real_growth_pct) / 100 if row.gdp_real_growth_pct is not None else 0.0
    earlier = [y for y in stats if base_year - 5 <= y < base_year]
    e_rate = c_rate = 0.0
    if earlier:
        y0 = min(earlier)
        first = stats[y0]
        n = base_year - y0
        if float(first.energy_tce) > 0:
            e_rate = (float(row.energy_tce) / float(first.energy_tce)) ** (1 / n) - 1
        c0, c1 = first.value("co2_t"), row.value("co2_t")
        if c0 and c1:
            c_rate = (float(c1) / float(c0)) ** (1 / n) - 1
    note = _("平台假设：GDP 按基期年实际增速，能耗和 CO2 按基期前最多五年的年均增速")
    return core.Growth(gdp_frac=gdp, energy_frac=e_rate, co2_frac=c_rate), note


def scenario_project(inv: InvestmentProject, rules: Gating | None = None) -> core.ScenarioProject:
    """The project as the scenario core sees it (separately accounted energy: not counted)."""
    rules = rules or gating()
    p = inv.project
    when = inv.operation_date or p.planned_completion
    share = (
        core.first_year_share_from_month(when.month)
        if rules.by_operation_month and inv.operation_date
        else None
    )
    energy = 0.0 if inv.separately_accounted else float(inv.energy_equivalent_tce)
    if inv.replacement and inv.replaced_energy_tce:
        energy -= float(inv.replaced_energy_tce)
    return core.ScenarioProject(
        name=p.name,
        start_year=when.year,
        energy_tce=energy,
        co2_t=float(inv.co2_t),
        value_added_10k_yuan=float(inv.value_added_10k_yuan),
        first_year_share_frac=share,
    )


def effect_region(division: Division, today: dt.date) -> RegionInputs | None:
    """The region whose targets a project in ``division`` counts toward: the division itself or the
    nearest region above it with base-year statistics and period targets."""
    d: Division | None = division
    while d is not None:
        found = region_inputs(d, today)
        if found is not None:
            return found
        d = d.parent
    return None


def effect(projects: Sequence[core.ScenarioProject], inputs: RegionInputs) -> core.Comparison:
    return core.compare(
        base=inputs.base,
        growth=inputs.growth,
        targets=inputs.targets,
        projects=projects,
        ramp=gating().ramp,
    )


def comparison_json(comp: core.Comparison) -> dict[str, Any]:
    def scen(s: core.Scenario) -> dict[str, Any]:
        a = s.attainment
        return {
            "years": [
                {
                    "year": y.year,
                    "energy_tce": round(y.energy_tce, 1),
                    "co2_t": round(y.co2_t, 1),
                    "gdp_10k_yuan": round(y.gdp_10k_yuan, 1),
                    "energy_intensity_tce_per_10k_yuan": round(
                        y.energy_intensity_tce_per_10k_yuan, 6
                    ),
                    "co2_intensity_t_per_10k_yuan": round(y.co2_intensity_t_per_10k_yuan, 6),
                    "energy_intensity_reduction_pct": round(
                        y.energy_intensity_reduction_frac * 100, 3
                    ),
                    "co2_intensity_reduction_pct": round(y.co2_intensity_reduction_frac * 100, 3),
                    "energy_progress_pct": None
                    if y.energy_progress_frac is None
                    else round(y.energy_progress_frac * 100, 2),
                    "co2_progress_pct": None
                    if y.co2_progress_frac is None
                    else round(y.co2_progress_frac * 100, 2),
                    "cumulative_energy_tce": round(y.cumulative_energy_tce, 1),
                    "cumulative_co2_t": round(y.cumulative_co2_t, 1),
                }
                for y in s.years
            ],
            "attainment": {
                "energy_intensity": a.energy_intensity,
                "co2_intensity": a.co2_intensity,
                "energy_total": a.energy_total,
                "co2_total": a.co2_total,
                "energy_budget": a.energy_budget,
                "co2_budget": a.co2_budget,
                "over_budget": a.over_budget,
            },
        }

    return {"without": scen(comp.without), "with": scen(comp.with_projects)}


# --------------------------------------------------------------------------------------------
# The gate
# --------------------------------------------------------------------------------------------


@dataclass
class Gate:
    restrictions: list[dict[str, Any]]
    suspensions: list[dict[str, Any]]
    over_budget: bool
    over_budget_without: bool
    effect: dict[str, Any] | None
    region: Division | None
    notes: list[str]

    @property
    def holds(self) -> bool:
        return bool(self.restrictions or self.suspensions or self.over_budget)

    def as_json(self) -> dict[str, Any]:
        return {
            "holds": self.holds,
            "restrictions": self.restrictions,
            "suspensions": self.suspensions,
            "over_budget": self.over_budget,
            "over_budget_without": self.over_budget_without,
            "region": self.region.code if self.region else None,
            "effect": self.effect,
            "notes": self.notes,
        }


def _ancestors(division: Division) -> list[Division]:
    out = []
    d: Division | None = division
    while d is not None:
        out.append(d)
        d = d.parent
    return out


def gate_check(inv: InvestmentProject, today: dt.date | None = None) -> Gate:
    """What holds the project's review: 限批, 暂停核准 of its sector, over the region's budget."""
    from dualcontrol.assessment.models import OPEN_STATUSES, Consequence

    today = today or timezone.localdate()
    p = inv.project
    chain = _ancestors(p.division)
    cons = Consequence.objects.filter(restricts_approvals=True, status__in=OPEN_STATUSES).filter(
        Q(division__in=chain) | (Q(entity_id=p.entity_id) if p.entity_id else Q(pk__in=[]))
    )
    restrictions = [
        {
            "id": c.pk,
            "subject": c.subject_name,
            "title_zh": c.title_zh,
            "year": c.year,
            "issued_on": c.issued_on.isoformat(),
            "source": c.source[:300],
        }
        for c in cons.select_related("division", "entity")
    ]
    rules = gating()
    industry = p.industry.code if p.industry_id else ""
    sectors = {s.code for s in rules.sectors_of_industry(industry)}
    if inv.sector_code:
        sectors.add(inv.sector_code)
    susp = SectorSuspension.objects.filter(
        division__in=chain, sector_code__in=sectors, lifted_on__isnull=True
    ).select_related("division")
    suspensions = [
        {
            "id": s.pk,
            "division": s.division.name,
            "sector": s.sector_code,
            "year": s.year,
            "title_zh": s.title_zh,
        }
        for s in susp
    ]
    notes: list[str] = []
    inputs = effect_region(p.division, today)
    over = over_without = False
    eff = None
    if inputs is None:
        notes.append(_("所在地区没有基期统计数据或期间目标，无法测算对目标的影响。"))
    else:
        try:
            comp = effect([scenario_project(inv, rules)], inputs)
        except core.ScenarioError as exc:
            notes.append(str(exc))
        else:
            over = comp.with_projects.attainment.over_budget
            over_without = comp.without.attainment.over_budget
            eff = comparison_json(comp)
            eff["targets"] = {
                "end_year": inputs.targets.end_year,
                "energy_intensity_reduction_pct": _pct(
                    inputs.targets.energy_intensity_reduction_frac
                ),
                "co2_intensity_reduction_pct": _pct(inputs.targets.co2_intensity_reduction_frac),
                "energy_total_cap_tce": inputs.targets.energy_total_cap_tce,
                "co2_total_cap_t": inputs.targets.co2_total_cap_t,
                "energy_budget_tce": inputs.targets.energy_budget_tce,
                "co2_budget_t": inputs.targets.co2_budget_t,
            }
            eff["growth"] = {
                "gdp_pct": round(inputs.growth.gdp_frac * 100, 3),
                "energy_pct": round(inputs.growth.energy_frac * 100, 3),
                "co2_pct": round(inputs.growth.co2_frac * 100, 3),
                "source": inputs.growth_source,
            }
            eff["base_year"] = inputs.base.year
            eff["ramp_up"] = rules.ramp.source
            if over_without:
                notes.append(_("不含本项目时该地区已超出总量或预算目标。"))
    return Gate(
        restrictions=restrictions,
        suspensions=suspensions,
        over_budget=over,
        over_budget_without=over_without,
        effect=eff,
        region=inputs.division if inputs else None,
        notes=notes,
    )


def _pct(frac: float | None) -> float | None:
    return None if frac is None else round(frac * 100, 4)


class GateHeld(ValidationError):
    """The review was held at the gate (the attempt is recorded); an override with a reason can pass."""

    def __init__(self, gate: Gate, record_id: int) -> None:
        super().__init__(
            _(
                "该地区处于限批、暂停核准或超出预算状态，审查不能通过（可由省级人员说明理由后越过闸口）。"
            )
        )
        self.gate = gate
        self.record_id = record_id


def decide_review(
    *,
    user: Any,
    investment: InvestmentProject,
    decision: str,
    conclusion: str = "",
    conditions: str = "",
    carbon_conclusion: str = "",
    document_no: str = "",
    override: bool = False,
    override_reason: str = "",
    now: dt.datetime | None = None,
    is_synthetic: bool = False,
) -> ReviewRecord:
    """节能审查（含碳排放评价）结论.  Approval passes the gate or needs ``override`` with a reason
    (province staff); a held attempt is recorded and audited, then :class:`GateHeld` is raised."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    inv = InvestmentProject.objects.select_related("project", "project__division").get(
        pk=investment.pk
    )
    if user is not None and not allows(user, "projects.review"):
        raise PermissionDenied
    if not project_access.can_review(user, inv.project, inv.review_authority):
        raise PermissionDenied
    if inv.review_status != ReviewStatus.SUBMITTED:
        raise WrongState({"decision": _("只有已受理、待审查的项目可以作出审查结论")})
    errors: dict[str, str] = {}
    if decision not in (GateDecision.APPROVED, GateDecision.REJECTED):
        errors["decision"] = _("结论无效")
    if not (conclusion or "").strip():
        errors["conclusion"] = _("请填写审查结论")
    if today >= CARBON_EVALUATION_FROM and not (carbon_conclusion or "").strip():
        errors["carbon_conclusion"] = _(
            "2025年9月1日起碳排放评价结果纳入节能审查意见（国家发展改革委令2025年第31号），请填写碳排放评价结果"
        )
    if override and not (override_reason or "").strip():
        errors["override_reason"] = _("越过闸口须说明理由")
    if errors:
        raise ValidationError(errors)
    if override and user is not None and not allows(user, "projects.override"):
        raise PermissionDenied
    gate = gate_check(inv, today)
    evidence_ids = list(Evidence.objects.filter(project=inv.project).values_list("pk", flat=True))
    common = dict(
        investment=inv,
        decided_by=_actor(user),
        decided_by_name=getattr(user, "username", "") or "system",
        decided_at=now,
        conclusion=conclusion.strip(),
        conditions=(conditions or "").strip(),
        carbon_conclusion=(carbon_conclusion or "").strip(),
        document_no=(document_no or "").strip(),
        gate=gate.as_json(),
        evidence_ids=evidence_ids,
        rules_version=gating().version,
        is_synthetic=is_synthetic,
    )
    if decision == GateDecision.APPROVED and gate.holds and not override:
        with transaction.atomic():
            held = ReviewRecord.objects.create(decision=GateDecision.HELD, **common)
            record(
                actor=user,
                action="projects.investment.review_held",
                obj=inv.project,
                after={"record": held.pk, "gate": gate.as_json()},
            )
        raise GateHeld(gate, held.pk)
    with transaction.atomic():
        inv = InvestmentProject.objects.select_for_update().get(pk=inv.pk)
        before = _state(inv)
        used_override = bool(override and decision == GateDecision.APPROVED and gate.holds)
        rec = ReviewRecord.objects.create(
            decision=decision,
            override=used_override,
            override_reason=override_reason.strip() if used_override else "",
            **common,
        )
        inv.review_status = (
            ReviewStatus.APPROVED if decision == GateDecision.APPROVED else ReviewStatus.REJECTED
        )
        inv.reviewed_on = today
        inv.review_conclusion = rec.conclusion
        inv.review_conditions = rec.conditions
        inv.carbon_conclusion = rec.carbon_conclusion
        inv.review_document_no = rec.document_no
        inv.save()
        record(
            actor=user,
            action="projects.investment.review_override"
            if used_override
            else f"projects.investment.review_{decision}",
            obj=inv.project,
            before=before,
            after={**_state(inv), "record": rec.pk, "gate": gate.as_json()},
            note=rec.override_reason,
        )
    return rec


# --------------------------------------------------------------------------------------------
# Monitoring operating projects
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Monitoring:
    year: int | None
    months: int
    actual_energy_tce: float | None
    actual_co2_t: float | None
    overruns: tuple[core.Overrun, ...]
    note: str

    @property
    def flagged(self) -> bool:
        return any(o.triggered for o in self.overruns)


def monitor(inv: InvestmentProject, year: int | None = None) -> Monitoring:
    """Actual consumption from the unit's reports (rollups, year to date, annualised ×12/months —
    platform rule) against the approved figures, with the re-review trigger (configurable)."""
    from dualcontrol.rollups.models import UnitMonth

    rules = gating().re_review
    p = inv.project
    if not p.entity_id:
        return Monitoring(None, 0, None, None, (), _("项目单位不在报告单位名录中，没有报表数据。"))
    qs = UnitMonth.objects.filter(entity_id=p.entity_id, ytd_months__gt=0)
    if year is not None:
        qs = qs.filter(year=year)
    last = qs.order_by("-year", "-month").first()
    if last is None:
        return Monitoring(year, 0, None, None, (), _("尚无该单位的报表数据。"))
    months = int(last.ytd_months)
    energy = float(last.ytd_energy_tce) * 12 / months
    co2 = float(last.ytd_co2_t) * 12 / months
    overruns = []
    for measure, approved, actual in (
        ("energy", float(inv.energy_equivalent_tce), energy),
        ("co2", float(inv.co2_t), co2),
    ):
        if measure not in rules.measures or approved <= 0:
            continue
        overruns.append(
            core.overrun(
                measure=measure,
                approved=approved,
                actual=actual,
                trigger_frac=rules.overrun_frac,
                inclusive=rules.inclusive,
            )
        )
    note = (
        rules.source
        if rules.overrun_frac is not None
        else _("未配置复审触发条件（国家层面未找到）。")
    )
    return Monitoring(last.year, months, energy, co2, tuple(overruns), note)


# --------------------------------------------------------------------------------------------
# Capacity elimination
# --------------------------------------------------------------------------------------------


def _sector_or_error(code: str) -> Any:
    s = gating().sector(code)
    if s is None:
        raise ValidationError({"sector_code": _("未知行业：%(c)s") % {"c": code}})
    return s


@transaction.atomic
def set_elimination_target(
    *,
    user: Any,
    division: Division,
    year: int,
    sector_code: str,
    capacity: Any,
    unit: str = "",
    source_document: str,
    is_synthetic: bool = False,
) -> EliminationTarget:
    """年度淘汰落后产能目标 (province staff)."""
    if user is not None and not allows(user, "projects.override"):
        raise PermissionDenied
    sector = _sector_or_error(sector_code)
    amount = _dec(capacity)
    errors = {}
    if amount is None or amount <= 0:
        errors["capacity"] = _("请填写正数")
    unit = (unit or sector.unit).strip()
    if not unit:
        errors["unit"] = _("请填写单位")
    if not (source_document or "").strip():
        errors["source_document"] = _("请填写下达文件")
    if errors:
        raise ValidationError(errors)
    obj, created = EliminationTarget.objects.update_or_create(
        division=division,
        year=year,
        sector_code=sector_code,
        defaults=dict(
            capacity=amount,
            unit=unit,
            source_document=source_document.strip(),
            is_synthetic=is_synthetic,
        ),
    )
    record(
        actor=user,
        action="projects.elimination.target",
        obj=obj,
        after=snapshot(obj),
        note="created" if created else "updated",
    )
    return obj


@transaction.atomic
def create_elimination_list(
    *,
    user: Any,
    year: int,
    division: Division,
    title: str,
    items: Iterable[Mapping[str, Any]],
    is_synthetic: bool = False,
) -> EliminationList:
    """A draft 淘汰落后产能企业名单 with its items (unit, line/equipment, capacity, deadline)."""
    if user is not None and not allows(user, "projects.override"):
        raise PermissionDenied
    problems: list[str] = []
    rows = list(items)
    if not (title or "").strip():
        problems.append(_("请填写名单标题"))
    if not rows:
        problems.append(_("名单没有条目"))
    clean = []
    for i, r in enumerate(rows, start=1):
        sector = gating().sector(str(r.get("sector_code", "")))
        amount = _dec(r.get("capacity"))
        where = _("第%(n)s条") % {"n": i}
        div = r.get("division")
        if sector is None:
            problems.append(f"{where}：{_('未知行业')}")
        if amount is None or amount <= 0:
            problems.append(f"{where}：{_('产能须为正数')}")
        if not (r.get("line_equipment") or "").strip():
            problems.append(f"{where}：{_('请填写淘汰生产线（设备）')}")
        if not isinstance(r.get("deadline"), dt.date):
            problems.append(f"{where}：{_('请填写淘汰期限')}")
        if not isinstance(div, Division) or not div.path.startswith(division.path):
            problems.append(f"{where}：{_('地区不在发布地区内')}")
        if r.get("entity") is None and not (r.get("owner_name") or "").strip():
            problems.append(f"{where}：{_('请填写企业')}")
        unit = (r.get("unit") or (sector.unit if sector else "")).strip()
        if not unit:
            problems.append(f"{where}：{_('请填写单位')}")
        clean.append((r, amount, unit))
    if problems:
        raise ValidationError(problems)
    lst = EliminationList.objects.create(
        year=year, division=division, title=title.strip(), is_synthetic=is_synthetic
    )
    for r, amount, unit in clean:
        EliminationItem.objects.create(
            elimination_list=lst,
            entity=r.get("entity"),
            owner_name=(r.get("owner_name") or "").strip(),
            division=r["division"],
            sector_code=r["sector_code"],
            line_equipment=r["line_equipment"].strip(),
            capacity=amount,
            unit=unit,
            deadline=r["deadline"],
            is_synthetic=is_synthetic,
        )
    record(
        actor=user,
        action="projects.elimination.list_create",
        obj=lst,
        after={"title": lst.title, "year": year, "items": len(clean)},
    )
    return lst


@transaction.atomic
def publish_elimination_list(
    *, user: Any, elimination_list: EliminationList, now: dt.datetime | None = None
) -> EliminationList:
    """公布名单 (by name): a published list cannot be published again."""
    if user is not None and not allows(user, "projects.override"):
        raise PermissionDenied
    lst = EliminationList.objects.select_for_update().get(pk=elimination_list.pk)
    if lst.published_at is not None:
        raise ValidationError(_("名单已公布"))
    lst.published_at = now or timezone.now()
    lst.published_by = _actor(user)
    lst.save(update_fields=["published_at", "published_by"])
    record(
        actor=user,
        action="projects.elimination.publish",
        obj=lst,
        after={"published_at": lst.published_at.isoformat(), "items": lst.items.count()},
    )
    return lst


@transaction.atomic
def accept_elimination_item(
    *, user: Any, item: EliminationItem, accepted_on: dt.date, note: str = ""
) -> EliminationItem:
    """现场检查验收 of one item (staff of its region)."""
    obj = EliminationItem.objects.select_for_update().get(pk=item.pk)
    if user is not None and not (
        allows(user, "projects.manage") and project_access.can_register_in(user, obj.division)
    ):
        raise PermissionDenied
    if obj.accepted_on is not None:
        raise ValidationError(_("该条目已验收"))
    if accepted_on is None:
        raise ValidationError({"accepted_on": _("请填写验收日期")})
    before = snapshot(obj)
    obj.accepted_on = accepted_on
    obj.acceptance_note = (note or "").strip()[:255]
    obj.save(update_fields=["accepted_on", "acceptance_note"])
    record(
        actor=user,
        action="projects.elimination.accept",
        obj=obj,
        before=before,
        after=snapshot(obj),
    )
    return obj


@dataclass(frozen=True)
class TargetCheck:
    target: EliminationTarget
    accepted: Decimal
    met: bool
    suspension: SectorSuspension | None


@transaction.atomic
def check_elimination_targets(
    *, user: Any, year: int, today: dt.date | None = None
) -> list[TargetCheck]:
    """After the year's end: each region's accepted capacity (published lists of the year, accepted by
    31 December, in or below the region) against its target; a shortfall records 暂停核准 of the
    sector (:class:`SectorSuspension`, ``elimination.consequence`` in the gating data)."""
    if user is not None and not allows(user, "projects.override"):
        raise PermissionDenied
    today = today or timezone.localdate()
    end = dt.date(year, 12, 31)
    if today <= end:
        raise ValidationError(_("年度结束后才能考核淘汰目标"))
    cons = gating().consequence
    out = []
    for t in EliminationTarget.objects.filter(year=year).select_related("division"):
        accepted = EliminationItem.objects.filter(
            elimination_list__year=year,
            elimination_list__published_at__isnull=False,
            division__path__startswith=t.division.path,
            sector_code=t.sector_code,
            unit=t.unit,
            accepted_on__isnull=False,
            accepted_on__lte=end,
        ).aggregate(s=Sum("capacity"))["s"] or Decimal(0)
        met = accepted >= t.capacity
        susp = None
        if not met:
            sector = gating().sector(t.sector_code)
            susp, created = SectorSuspension.objects.get_or_create(
                division=t.division,
                sector_code=t.sector_code,
                year=year,
                defaults=dict(
                    title_zh=f"{cons['title_zh']}（{sector.name_zh if sector else t.sector_code}）",
                    reason=_("%(y)s年淘汰目标 %(t)s %(u)s，已验收 %(a)s %(u)s")
                    % {"y": year, "t": t.capacity, "a": accepted, "u": t.unit},
                    source=cons["source"],
                    issued_on=today,
                    is_synthetic=t.is_synthetic,
                ),
            )
            if created:
                record(
                    actor=user,
                    action="projects.elimination.suspend",
                    obj=susp,
                    after=snapshot(susp),
                )
        out.append(TargetCheck(t, accepted, met, susp))
    return out


def elimination_items(year: int, items: Any = None) -> Any:
    """The items of the published lists of ``year`` (a queryset, ordered)."""
    qs = items if items is not None else EliminationItem.objects.all()
    return (
        qs.filter(elimination_list__year=year, elimination_list__published_at__isnull=False)
        .select_related("elimination_list", "division", "entity")
        .order_by("division__code", "sector_code", "id")
    )


def elimination_row(it: EliminationItem) -> dict[str, Any]:
    sector = gating().sector(it.sector_code)
    published = it.elimination_list.published_at
    return {
        "list": it.elimination_list.title,
        "published_at": published.date().isoformat() if published else None,
        "region_code": it.division.code,
        "region": it.division.name,
        "unit": it.owner_label,
        "uscc": it.entity.uscc if it.entity_id and it.entity else "",
        "sector": sector.name_zh if sector else it.sector_code,
        "line_equipment": it.line_equipment,
        "capacity": float(it.capacity),
        "capacity_unit": it.unit,
        "deadline": it.deadline.isoformat(),
        "accepted_on": it.accepted_on.isoformat() if it.accepted_on else None,
        "acceptance": it.acceptance_note,
    }


def elimination_rows(year: int, items: Any = None) -> list[dict[str, Any]]:
    """The published lists' items of ``year`` as plain rows (CLI, Excel)."""
    return [elimination_row(it) for it in elimination_items(year, items)]


# --------------------------------------------------------------------------------------------
# Display helpers (pages): Chinese words for codes and English source notes of the data files
# --------------------------------------------------------------------------------------------


def authority_display(a: core.ReviewAuthority | None) -> dict[str, Any] | None:
    """审查权限 in words: the authority, the rule, the threshold and the reasons (Chinese); the data
    file's own text stays available as ``tooltip``."""
    if a is None:
        return None
    labels = {
        core.Authority.EXEMPT: _("不单独进行节能审查"),
        core.Authority.PROVINCIAL: _("省级节能审查机关"),
        core.Authority.LOCAL: _("省级以下节能审查机关（按本省分级管理规定）"),
        core.Authority.UNKNOWN: _("未确定"),
    }
    reasons: list[str] = []
    for r in a.reasons:
        if r == "exempt":
            continue
        if "NOT FOUND" in r:
            reasons.append(
                _("未确定：该办法的省级审查门槛未找到官方数值，可在 project_gating.yaml 配置")
            )
        elif r.endswith("not given: the exemption cannot be established"):
            what = {
                "energy_tce": _("年综合能源消费量"),
                "electricity_kwh": _("年电力消费量"),
                "coal_t": _("年煤炭消费量"),
            }.get(r.split(" ", 1)[0], r.split(" ", 1)[0])
            reasons.append(_("未填写%(what)s，无法认定可不单独进行节能审查") % {"what": what})
        else:
            reasons.append(r)
    return {
        "label": labels.get(a.authority, str(a.authority)),
        "rule": a.rule.title_zh,
        "threshold_tce": a.threshold_tce,
        "platform_rule": a.threshold_is_platform_rule,
        "reasons": reasons,
        # the reasons in words (the rule's own text, with its NOT FOUND, stays in the data)
        "tooltip": "；".join(str(r) for r in reasons),
    }


def rule_set_short_name(title_zh: str) -> str:
    """生态环境部《关于……》（2021年6月） → 生态环境部2021年 (the issuer and the year)."""
    issuer = title_zh.split("《", 1)[0].strip()
    year = re.search(r"(19|20)\d{2}", title_zh)
    if issuer and year:
        return _("%(issuer)s%(year)s年") % {"issuer": issuer, "year": year.group(0)}
    return title_zh


def two_high_display(
    result: core.TwoHighResult, rules: Gating | None = None
) -> list[dict[str, Any]]:
    """The 两高 matches with the source documents' short names (the full title as tooltip)."""
    rules = rules or gating()
    titles = {rs.code: rs.title_zh for rs in rules.two_high}
    return [
        {
            "name": m.class_name_zh,
            "source": rule_set_short_name(titles.get(m.rule_set, m.rule_set)),
            "title": titles.get(m.rule_set, m.rule_set),
            "certain": m.certain,
        }
        for m in result.matches
    ]


def ramp_display(rules: Gating | None = None) -> dict[str, str]:
    """投产当年计入比例 in a short Chinese sentence with the figures; the original as tooltip."""
    rules = rules or gating()
    share = f"{rules.ramp.first_year_share_frac:g}"
    text = _(
        "投产当年计入比例 %(share)s（平台规则，未找到官方规定）：项目投产当年按该比例计入年能耗、"
        "二氧化碳排放和增加值，次年起全额计入"
    ) % {"share": share}
    if rules.by_operation_month:
        text += _("；有投产日期的按当年剩余月数计算（第 m 月投产计入 (13−m)/12）")
    return {"text": text + _("。"), "source": rules.ramp.source}


ATTAINMENT_KEYS = (
    "energy_intensity",
    "co2_intensity",
    "energy_total",
    "co2_total",
    "energy_budget",
    "co2_budget",
    "over_budget",
)


def attainment_display(
    without: Mapping[str, bool | None], with_projects: Mapping[str, bool | None]
) -> list[dict[str, Any]]:
    """期末目标完成 (without → with) in words; ``over_budget`` reads 是/否 (超出 is the bad case)."""
    names = {
        "energy_intensity": _("能耗强度降低目标"),
        "co2_intensity": _("碳排放强度降低目标"),
        "energy_total": _("能源消费总量目标"),
        "co2_total": _("二氧化碳排放总量目标"),
        "energy_budget": _("能源消费预算"),
        "co2_budget": _("碳排放预算"),
        "over_budget": _("超出总量或预算"),
    }

    def word(key: str, v: bool | None) -> str:
        if v is None:
            return "—"
        if key == "over_budget":
            return _("超出") if v else _("未超出")
        return _("达成") if v else _("未达成")

    def bad(key: str, v: bool | None) -> bool:
        return bool(v) if key == "over_budget" else v is False

    out = []
    for key in ATTAINMENT_KEYS:
        a, b = without.get(key), with_projects.get(key)
        if a is None and b is None:
            continue
        out.append(
            {
                "key": key,
                "name": names[key],
                "without": word(key, a),
                "with": word(key, b),
                "without_bad": bad(key, a),
                "with_bad": bad(key, b),
            }
        )
    return out


def measure_label(measure: str) -> str:
    return {"energy": _("年综合能源消费量（tce）"), "co2": _("年二氧化碳排放量（t）")}.get(
        measure, measure
    )


def _english_text(text: str) -> bool:
    """A note of the data file written in English (a run of Latin words), not fit for a Chinese page."""
    return re.search(r"[A-Za-z]{4,}\s+[A-Za-z]{2,}", text or "") is not None


def chinese_or_empty(text: str) -> str:
    return "" if _english_text(text) else text


def replacement_note_display(note: str) -> str:
    if not note:
        return ""
    if "NOT FOUND" in note:
        return _("该行业的置换比例未找到官方数值，不校核置换是否足够")
    return chinese_or_empty(note) or _("置换比例说明见数据文件")


def monitoring_note_display(mon: Monitoring, rules: Gating | None = None) -> str:
    rules = rules or gating()
    rr = rules.re_review
    if rr.overrun_frac is None or mon.note != rr.source:
        return chinese_or_empty(mon.note)
    return _(
        "平台规则（参照四川省通知，省级规定，国家层面未找到）：年实际能耗或碳排放超过批复水平 "
        "%(pct)s%%%(incl)s 触发复审，可配置"
    ) % {"pct": f"{rr.overrun_frac * 100:g}", "incl": _("及以上") if rr.inclusive else ""}


def document_title(source: str) -> str:
    """The Chinese document title a source note starts with (before its date, URL or remarks)."""
    text = (source or "").strip()
    if not text or text[0].isascii():
        return ""
    return re.split(r"\s*[(（]|\s+http|;", text, maxsplit=1)[0].strip()


def elimination_sources_display(rules: Gating | None = None) -> list[dict[str, str]]:
    """The elimination page's source notes in Chinese; the data file's text as tooltip."""
    rules = rules or gating()
    src = rules.elimination_sources
    return [
        {
            "text": _(
                "行业范围：工业和信息化部公告2014年第45号；计量单位：国务院2010年5月4日通知和2011年名单"
                "（未列单位的按条目填写）；国民经济行业代码对应关系为平台映射"
            ),
            "source": src.get("sectors_source", ""),
        },
        {
            "text": _("名单栏目：企业名单、淘汰落后生产线（设备）及产能（2011年名单）"),
            "source": src.get("list_fields_source", ""),
        },
        {
            "text": _("验收：各省组织现场检查验收并发布任务完成公告（工信部联产业〔2011〕46号）"),
            "source": src.get("acceptance_source", ""),
        },
    ]
