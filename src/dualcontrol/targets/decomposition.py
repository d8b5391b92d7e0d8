"""Decomposition (目标分解) of a region's target to its sub-regions, for every catalogue indicator.

* Intensity reductions (energy, CO2 — ``decomposition.allocation: intensity``): the workbench
  methods of :mod:`dualcontrol.core.decomposition` (tiered, weighted, efficiency LP, manual) over
  the sub-regions' base-year amount of the indicator's metric (energy or CO2, less the deductions
  for the intensity control) and GDP, with the aggregate-consistency check, and the increment or
  total cap over the same amount when the region has one.
* Every other kind (caps, budgets, totals, shares, levels, amounts, peak years): the methods of
  :mod:`dualcontrol.core.allocation` with its aggregate-consistency check
  (:func:`preview_allocation`, :func:`adopt_allocation`).

Adoption stores a :class:`Decomposition` (method, parameters, result and check) and writes the
sub-regions' targets, replacing those of the previous adoption unless one is signed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from dualcontrol.access.targets import can_decompose
from dualcontrol.audit.services import record
from dualcontrol.core import allocation as kinds
from dualcontrol.core.decomposition import (
    Allocation,
    DecompositionError,
    EfficiencyScheme,
    Factor,
    Method,
    RegionInput,
    Tier,
    TierScheme,
    TotalCap,
    WeightScheme,
    decompose,
)
from dualcontrol.reference import ReferenceDataError
from dualcontrol.reference.catalogue import catalogue, deductions
from dualcontrol.reference.decomposition import efficiency_scheme, weight_scheme
from dualcontrol.regions.models import Division
from dualcontrol.targets.errors import NotAllowed, TargetError
from dualcontrol.targets.models import (
    Decomposition,
    RegionalStatistic,
    Target,
    TargetStatus,
    WarningRecord,
)
from dualcontrol.targets.warnings import compute_warnings


def _base_amount(target: Target, stat: RegionalStatistic | None) -> float | None:
    """The base-year amount of the target's metric in a statistics row (energy or CO2 …, less
    the deductions of the control the metric is for)."""
    if stat is None:
        return None
    metric = target.definition.metric
    value = stat.value(metric.amount_column)
    if value is None:
        return None
    if metric.deductions or metric.kind == "intensity":
        control = metric.deductions or "intensity"
        if metric.amount_column == "energy_tce":
            for d in deductions():
                if control in d.excluded_from:
                    value -= stat.value(d.column) or 0.0
    return value


def _base_year_statistics(
    target: Target,
) -> tuple[list[Division], dict[int, RegionalStatistic]]:
    """The sub-regions of the target's region and their base-year statistics (of the target's
    sector, if it has one)."""
    children = list(Division.objects.filter(parent=target.division).order_by("code"))
    stats = {
        s.division_id: s
        for s in RegionalStatistic.objects.filter(
            division__in=children,
            year=target.base_year,
            month__isnull=True,
            quarter__isnull=True,
            industry=target.industry,
        )
    }
    return children, stats


def _retire_previous(target: Target, parents: Q) -> list[int]:
    """The targets of the previous adoption (to be replaced), refused when one of them is signed,
    has a letter or was decomposed further; the previous decomposition is no longer current."""
    old = Target.objects.filter(parents, decomposition__isnull=False)
    if old.filter(Q(status=TargetStatus.SIGNED) | Q(letters__isnull=False)).exists():
        raise TargetError(_("原分解结果已签订或已生成责任书，不能替换"))
    if old.filter(children__isnull=False).exists():
        raise TargetError(_("原分解结果已被继续分解，不能替换"))
    Decomposition.objects.filter(parent_target=target, is_current=True).update(is_current=False)
    return list(old.values_list("pk", flat=True))


def is_intensity_reduction(target: Target) -> bool:
    ind = target.definition
    return ind.kind == "reduction" and ind.metric.kind == "intensity"


@dataclass
class WorkbenchParams:
    """What the officer sets in the decomposition workbench (percentages as typed)."""

    gdp_growth_pct_per_year: float = 6.0
    reserve_tce: float = 0.0
    tiers: list[tuple[str, float]] = field(default_factory=list)  # (id, reduction %)
    tier_of: dict[str, str] = field(default_factory=dict)  # division code → tier id
    weights: dict[str, float] = field(default_factory=dict)  # factor column → weight
    spread_pct: float | None = None
    efficiency_min: float | None = None  # × the parent's target
    efficiency_max: float | None = None
    manual_pct: dict[str, float] = field(default_factory=dict)
    growth_pct_of: dict[str, float] = field(default_factory=dict)  # per-region override

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], base: WorkbenchParams) -> WorkbenchParams:
        """Parameters stored with an adopted decomposition, over ``base`` for missing keys."""
        merged = {**base.as_dict(), **{k: v for k, v in data.items() if v is not None}}
        return cls(
            gdp_growth_pct_per_year=float(merged["gdp_growth_pct_per_year"]),
            reserve_tce=float(merged["reserve_tce"] or 0),
            tiers=[(str(t), float(p)) for t, p in merged["tiers"]],
            tier_of={str(k): str(v) for k, v in merged["tier_of"].items()},
            weights={str(k): float(v) for k, v in merged["weights"].items()},
            spread_pct=merged["spread_pct"],
            efficiency_min=merged["efficiency_min"],
            efficiency_max=merged["efficiency_max"],
            manual_pct={str(k): float(v) for k, v in merged["manual_pct"].items()},
            growth_pct_of={str(k): float(v) for k, v in merged["growth_pct_of"].items()},
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "gdp_growth_pct_per_year": self.gdp_growth_pct_per_year,
            "reserve_tce": self.reserve_tce,
            "tiers": [list(t) for t in self.tiers],
            "tier_of": self.tier_of,
            "weights": self.weights,
            "spread_pct": self.spread_pct,
            "efficiency_min": self.efficiency_min,
            "efficiency_max": self.efficiency_max,
            "manual_pct": self.manual_pct,
            "growth_pct_of": self.growth_pct_of,
        }


@dataclass(frozen=True)
class BaseRow:
    """A sub-region's base-year figures for the workbench."""

    division: Division
    energy_tce: float | None
    gdp_10k_yuan: float | None
    factors: dict[str, float]

    @property
    def intensity(self) -> float | None:
        if self.energy_tce is None or not self.gdp_10k_yuan:
            return None
        return self.energy_tce / self.gdp_10k_yuan


def sub_regions(target: Target) -> list[BaseRow]:
    """The divisions directly below the target's region, with their base-year statistics."""
    if target.division_id is None:
        return []
    children, stats = _base_year_statistics(target)
    out = []
    for d in children:
        s = stats.get(d.pk)
        out.append(
            BaseRow(
                division=d,
                energy_tce=_base_amount(target, s),
                gdp_10k_yuan=float(s.gdp_10k_yuan) if s else None,
                factors=dict(s.factors) if s else {},
            )
        )
    return out


def default_params(target: Target, rows: Sequence[BaseRow]) -> WorkbenchParams:
    """Starting values: those of the adopted decomposition if there is one; else three tiers
    around the target by base intensity and the shipped weight / efficiency presets."""
    base = preset_params(target, rows)
    current = target.decompositions.filter(is_current=True).first() if target.pk else None
    if current is not None and current.params:
        try:
            params = WorkbenchParams.from_dict(current.params, base)
        except (KeyError, TypeError, ValueError):
            return base
        adopted = {t["code"]: round(t["target_pct"], 2) for t in current.result.get("targets", [])}
        params.manual_pct = {**params.manual_pct, **adopted}
        return params
    return base


def preset_params(target: Target, rows: Sequence[BaseRow]) -> WorkbenchParams:
    """Three tiers around the target by base intensity and the shipped presets."""
    r = float(target.base_value)
    step = 0.5 if r < 10 else 1.0
    tiers = [
        ("t1", round((r + 2 * step) * 2) / 2),
        ("t2", round(r * 2) / 2),
        ("t3", round((r - 2 * step) * 2) / 2),
    ]
    ranked = sorted(
        (row for row in rows if row.intensity is not None),
        key=lambda row: -(row.intensity or 0),
    )
    tier_of = {}
    for i, row in enumerate(ranked):
        tier_of[row.division.code] = tiers[min(3 * i // max(len(ranked), 1), 2)][0]
    ws = weight_scheme()
    es = efficiency_scheme()
    return WorkbenchParams(
        gdp_growth_pct_per_year=6.0,
        reserve_tce=0.0,
        tiers=tiers,
        tier_of=tier_of,
        weights={f.column: float(f.weight) for f in ws.factors},
        spread_pct=float(ws.spread_frac) * 100,
        efficiency_min=float(es.min_frac_of_province_target),
        efficiency_max=float(es.max_frac_of_province_target),
        manual_pct={row.division.code: r for row in rows},
    )


def _frac(x: float) -> Fraction:
    return Fraction(repr(float(x)))


def total_cap_for(target: Target, reserve_tce: float) -> tuple[TotalCap | None, Target | None]:
    """The region's increment (or total) cap over the same amount and period, if a target sets
    one (energy for an energy-intensity target, CO2 for a CO2-intensity target)."""
    column = target.definition.metric.amount_column
    siblings = Target.objects.filter(
        division=target.division,
        industry__isnull=True,
        base_year=target.base_year,
        end_year=target.end_year,
        period_kind=target.period_kind,
        barometer=True,
    )
    same_amount = [i for i in catalogue().indicators.values() if i.metric.amount_column == column]
    for kind in ("increment", "total"):
        codes = [i.code for i in same_amount if i.kind == kind]
        found = siblings.filter(indicator__in=codes).first()
        if found is None:
            continue
        if kind == "increment":
            return TotalCap(_frac(float(found.base_value)), _frac(reserve_tce)), found
        base = RegionalStatistic.objects.filter(
            division=target.division,
            year=target.base_year,
            month__isnull=True,
            quarter__isnull=True,
            industry__isnull=True,
        ).first()
        amount = _base_amount(found, base)
        if amount is not None:
            cap = float(found.base_value) - amount
            return TotalCap(_frac(cap), _frac(reserve_tce)), found
    return None, None


def run_method(
    target: Target, method: str, params: WorkbenchParams, rows: Sequence[BaseRow] | None = None
) -> Allocation:
    """Allocate ``target`` to its sub-regions with ``method`` (nothing is written)."""
    if not is_intensity_reduction(target) or target.division_id is None:
        raise DecompositionError(_("工作台只分解地区的强度降低目标；其他指标请用“分配”"))
    rows = list(rows if rows is not None else sub_regions(target))
    if not rows:
        raise DecompositionError(_("该地区没有下级行政区划"))
    missing = [r.division.name for r in rows if r.energy_tce is None or not r.gdp_10k_yuan]
    if missing:
        raise DecompositionError(
            _("缺少 %(year)s 年（基期）统计数据：%(regions)s")
            % {"year": target.base_year, "regions": "、".join(missing)}
        )
    n = target.end_year - target.base_year
    m = Method(method)
    inputs = []
    for r in rows:
        g_year = params.growth_pct_of.get(r.division.code, params.gdp_growth_pct_per_year)
        growth = (1 + g_year / 100) ** n - 1
        manual = params.manual_pct.get(r.division.code)
        inputs.append(
            RegionInput(
                region=r.division.code,
                base_energy_tce=_frac(r.energy_tce or 0),
                base_gdp_10k_yuan=_frac(r.gdp_10k_yuan or 0),
                gdp_growth_frac=_frac(growth),
                factors={k: _frac(v) for k, v in r.factors.items()},
                tier=params.tier_of.get(r.division.code),
                manual_target_frac=_frac(manual / 100) if manual is not None else None,
            )
        )
    province = _frac(float(target.base_value) / 100)
    total, _cap_target = total_cap_for(target, params.reserve_tce)
    tiers = weights = efficiency = None
    if m is Method.TIERED:
        if not params.tiers:
            raise DecompositionError(_("请设定分档"))
        tiers = TierScheme(
            name="workbench",
            version="workbench",
            source="officer's tiers in the workbench",
            tiers=tuple(Tier(t, t, _frac(p / 100)) for t, p in params.tiers),
        )
        for r in inputs:
            if r.tier is None:
                raise DecompositionError(_("地区 %(r)s 未分档") % {"r": r.region})
    elif m is Method.WEIGHTED:
        preset = weight_scheme()
        factors = tuple(
            Factor(
                f.column,
                f.name_zh,
                f.direction,
                _frac(params.weights.get(f.column, float(f.weight))),
            )
            for f in preset.factors
        )
        spread = (
            params.spread_pct if params.spread_pct is not None else float(preset.spread_frac) * 100
        )
        weights = WeightScheme(
            name=preset.name,
            version=preset.version,
            source=preset.source,
            factors=factors,
            spread_frac=_frac(spread / 100),
        )
    elif m is Method.EFFICIENCY:
        preset_e = efficiency_scheme()
        efficiency = EfficiencyScheme(
            name=preset_e.name,
            version=preset_e.version,
            source=preset_e.source,
            potential=preset_e.potential,
            min_frac_of_province_target=_frac(
                params.efficiency_min
                if params.efficiency_min is not None
                else float(preset_e.min_frac_of_province_target)
            ),
            max_frac_of_province_target=_frac(
                params.efficiency_max
                if params.efficiency_max is not None
                else float(preset_e.max_frac_of_province_target)
            ),
        )
    try:
        return decompose(
            m, inputs, province, tiers=tiers, weights=weights, efficiency=efficiency, total=total
        )
    except ReferenceDataError as exc:
        raise DecompositionError(str(exc)) from exc


def allocation_summary(allocation: Allocation, rows: Sequence[BaseRow]) -> dict[str, Any]:
    """A JSON-able summary of an allocation (what the workbench shows and adoption stores)."""
    names = {r.division.code: r.division.name for r in rows}
    ic = allocation.intensity_check
    tc = allocation.total_check
    return {
        "method": allocation.method.value,
        "scheme": [allocation.scheme_name, allocation.scheme_version],
        "province_target_pct": float(allocation.province_target_frac) * 100,
        "targets": [
            {
                "code": t.region,
                "name": names.get(t.region, t.region),
                "target_pct": float(t.target_frac) * 100,
                "base_energy_tce": float(t.base_energy_tce),
                "base_gdp_10k_yuan": float(t.base_gdp_10k_yuan),
                "base_intensity": float(t.base_intensity_tce_per_10k_yuan),
                "gdp_growth_pct": float(t.gdp_growth_frac) * 100,
                "end_energy_tce": float(t.end_energy_tce),
                "increment_tce": float(t.increment_tce),
                "tier": t.tier,
                "score": None if t.score is None else float(t.score),
                "potential": None if t.potential is None else float(t.potential),
            }
            for t in allocation.targets
        ],
        "intensity_check": {
            "implied_reduction_pct": float(ic.implied_reduction_frac) * 100,
            "slack_pp": float(ic.slack_frac) * 100,
            "slack_tce": float(ic.slack_tce),
            "allowed_end_energy_tce": float(ic.allowed_end_energy_tce),
            "regional_end_energy_tce": float(ic.regional_end_energy_tce),
            "consistent": ic.consistent,
        },
        "total_check": None
        if tc is None
        else {
            "increment_cap_tce": float(tc.increment_cap_tce),
            "reserve_tce": float(tc.reserve_tce),
            "increments_tce": float(tc.increments_tce),
            "slack_tce": float(tc.slack_tce),
            "consistent": tc.consistent,
        },
    }


def adopt_decomposition(
    *,
    target: Target,
    method: str,
    params: WorkbenchParams,
    user: Any,
    is_synthetic: bool = False,
    status: str = TargetStatus.ISSUED,
    system: bool = False,
    rerate: bool = True,
) -> Decomposition:
    """Adopt an allocation: store it and write the sub-regions' intensity targets (and their
    increment targets when the parent's period has an increment cap), replacing the targets of
    the previous adoption unless one of them is already signed."""
    if not system and not can_decompose(user, target):
        raise NotAllowed(_("无权分解该目标"))
    rows = sub_regions(target)
    try:
        allocation = run_method(target, method, params, rows)
    except DecompositionError as exc:
        raise TargetError(str(exc)) from exc
    summary = allocation_summary(allocation, rows)
    by_code = {r.division.code: r.division for r in rows}
    _cap, cap_target = total_cap_for(target, params.reserve_tce)
    with transaction.atomic():
        parents = Q(parent=target) | (Q(parent=cap_target) if cap_target else Q())
        old_ids = _retire_previous(target, parents)
        dec = Decomposition.objects.create(
            parent_target=target,
            method=method,
            params=params.as_dict(),
            result=summary,
            scheme_name=allocation.scheme_name or "",
            scheme_version=allocation.scheme_version or "",
            intensity_slack_pp=summary["intensity_check"]["slack_pp"],
            intensity_slack_tce=summary["intensity_check"]["slack_tce"],
            total_slack_tce=summary["total_check"]["slack_tce"] if summary["total_check"] else None,
            is_synthetic=is_synthetic,
            adopted_by=user if getattr(user, "is_authenticated", False) else None,
        )
        WarningRecord.objects.filter(target_id__in=old_ids).delete()
        Target.objects.filter(pk__in=old_ids).delete()
        ratio = (
            float(target.incentive_value) / float(target.base_value)
            if target.incentive_value
            else None
        )
        source = _("%(parent)s 分解（%(method)s，方案 #%(id)s）") % {
            "parent": str(target),
            "method": dec.get_method_display(),
            "id": dec.pk,
        }
        common = dict(
            period_kind=target.period_kind,
            base_year=target.base_year,
            end_year=target.end_year,
            source_document=source[:500],
            pace_definition=target.pace_definition,
            progress_definition=target.progress_definition,
            rule_set=target.rule_set,
            status=status,
            decomposition=dec,
            is_synthetic=is_synthetic,
            created_by=dec.adopted_by,
        )
        new = []
        for t in summary["targets"]:
            pct = Decimal(str(round(t["target_pct"], 4)))
            new.append(
                Target(
                    indicator=target.indicator,
                    division=by_code[t["code"]],
                    industry=target.industry,
                    parent=target,
                    base_value=pct,
                    incentive_value=Decimal(str(round(t["target_pct"] * ratio, 4)))
                    if ratio
                    else None,
                    unit="%",
                    **common,
                )
            )
            if cap_target is not None:
                increment = max(t["increment_tce"], 0.0)
                base_amount = next(
                    (r.energy_tce for r in rows if r.division.code == t["code"]), None
                )
                is_total = cap_target.definition.kind == "total"
                value = increment + (base_amount or 0.0) if is_total else increment
                new.append(
                    Target(
                        indicator=cap_target.indicator,
                        division=by_code[t["code"]],
                        parent=cap_target,
                        base_value=Decimal(str(round(value, 0))),
                        unit=cap_target.unit,
                        note=_("按分解方案的强度目标与 GDP 预测推算的增量")
                        if not is_total
                        else _("按分解方案的强度目标与 GDP 预测推算（基期量 + 增量）"),
                        **common,
                    )
                )
        Target.objects.bulk_create(new)
        rerated = []
        if rerate:
            # the barometer follows the adopted targets: re-rate the months already rated
            months = sorted(
                set(
                    WarningRecord.objects.filter(
                        Q(target=target) | (Q(target=cap_target) if cap_target else Q(pk__in=[]))
                    ).values_list("year", "month")
                )
            )
            fresh = list(Target.objects.filter(decomposition=dec).select_related("division"))
            for y, m in months:
                compute_warnings(
                    year=y, month=m, user=user, targets=fresh, notify=False, system=True
                )
                rerated.append(f"{y}-{m:02d}")
        record(
            actor=user,
            action="decomposition.adopt",
            obj=dec,
            before={"replaced_targets": old_ids},
            after={
                "method": method,
                "params": params.as_dict(),
                "intensity_slack_pp": dec.intensity_slack_pp,
                "total_slack_tce": dec.total_slack_tce,
                "targets": len(new),
                "rerated_months": rerated,
            },
        )
    return dec


# ---------------------------------------------------------------------------------------------
# the other kinds: caps, budgets, totals, shares, levels, amounts, peak years (core.allocation)


@dataclass(frozen=True)
class KindPreview:
    """An allocation of a non-intensity target to its sub-regions, with its check (not stored)."""

    target: Target
    method: str
    rows: list[dict[str, Any]]
    check: kinds.AggregateCheck
    notes: tuple[str, ...]
    reserve: float
    params: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        c = self.check
        return {
            "kind": c.kind.value,
            "method": self.method,
            "targets": [
                {"code": r["code"], "name": r["name"], "base": r["base"], "value": r["value"]}
                for r in self.rows
            ],
            "check": {
                "parent": float(c.parent),
                "implied": float(c.implied),
                "reserve": float(c.reserve),
                "slack": float(c.slack),
                "consistent": c.consistent,
                "formula": c.formula,
            },
            "notes": list(self.notes),
            "catalogue_version": catalogue().version,
        }


def _to_core(target: Target, value: float) -> Fraction:
    return _frac(value / 100 if target.definition.is_percent else value)


def _from_core(target: Target, value: Fraction) -> float:
    v = float(value)
    return v * 100 if target.definition.is_percent else v


def allocation_methods(target: Target) -> tuple[str, ...]:
    ind = target.definition
    if ind.allocation in ("", "intensity"):
        return ()
    return tuple(
        m for m in ind.decomposition_methods if m in kinds.METHODS[kinds.Kind(ind.allocation)]
    )


def _allocation_bases(target: Target) -> list[tuple[Division, float | None]]:
    """Each sub-region and the base quantity its share is computed from (platform rule):
    the base-year amount of the metric for caps and amounts (energy where the amount is not
    reported) and for reduction rates, the base-year denominator of a share, the base-year GDP
    (or the metric's own denominator) of a level."""
    ind = target.definition
    children, stats = _base_year_statistics(target)
    out = []
    for d in children:
        s = stats.get(d.pk)
        base: float | None = None
        if s is not None:
            if ind.kind == "reduction":
                # a reduction rate of an amount or a ratio: the parent's rate is the rates
                # weighted by the base-year amounts (numerators)
                base = _base_amount(target, s)
            elif ind.allocation == "share":
                base = s.value(ind.metric.denominator)
            elif ind.allocation == "level":
                base = s.value(ind.metric.denominator or "gdp_10k_yuan")
            elif ind.allocation in ("cap", "amount"):
                base = _base_amount(target, s)
                if base is None and ind.allocation == "amount":
                    base = s.value("energy_tce")
        out.append((d, base))
    return out


def preview_allocation(
    target: Target,
    method: str,
    *,
    reserve: float = 0.0,
    manual: Mapping[str, float] | None = None,
) -> KindPreview:
    """Allocate a non-intensity target to its sub-regions with ``method`` (nothing written).

    ``manual`` values are in the target's unit as typed (percent for shares)."""
    ind = target.definition
    if target.division_id is None:
        raise TargetError(_("只能分解地区目标"))
    methods = allocation_methods(target)
    if method not in methods:
        raise TargetError(_("该指标的分配方法只能是：%(m)s") % {"m": "、".join(methods) or "—"})
    bases = _allocation_bases(target)
    if not bases:
        raise TargetError(_("该地区没有下级行政区划"))
    kind = kinds.Kind(ind.allocation)
    direction = kinds.Direction(ind.direction.value)
    needs_base = method in ("proportional", "weighted") or kind in (
        kinds.Kind.SHARE,
        kinds.Kind.LEVEL,
    )
    missing = [d.name for d, b in bases if b is None and needs_base]
    if missing:
        raise TargetError(
            _("缺少 %(year)s 年（基期）统计数据：%(regions)s")
            % {"year": target.base_year, "regions": "、".join(missing)}
        )
    manual = manual or {}
    if method == "manual":
        absent = [d.name for d, _b in bases if manual.get(d.code) is None]
        if absent:
            raise TargetError(_("请填写每个地区的目标：%(r)s") % {"r": "、".join(absent)})
    regions = [
        kinds.AllocationRegion(
            region=d.code,
            base=_frac(b) if b is not None else None,
            manual=_to_core(target, manual[d.code]) if manual.get(d.code) is not None else None,
        )
        for d, b in bases
    ]
    factors: Sequence[kinds.WeightedFactor] = ()
    if method == "weighted":
        preset = weight_scheme()
        factors = tuple(
            kinds.WeightedFactor(
                f.column, kinds.Direction(f.direction.value), _frac(float(f.weight))
            )
            for f in preset.factors
        )
        stats = {
            s.division.code: s
            for s in RegionalStatistic.objects.filter(
                division__in=[d for d, _b in bases],
                year=target.base_year,
                month__isnull=True,
                quarter__isnull=True,
                industry=target.industry,
            ).select_related("division")
        }
        regions = [
            kinds.AllocationRegion(
                region=r.region,
                base=r.base,
                manual=r.manual,
                factors={
                    f.column: _frac(float(v))
                    for f in factors
                    if (v := (stats[r.region].factors or {}).get(f.column)) is not None
                }
                if r.region in stats
                else {},
            )
            for r in regions
        ]
    try:
        result = kinds.allocate(
            kind,
            method,
            regions,
            _to_core(target, float(target.base_value)),
            direction=direction,
            reserve=_to_core(target, reserve)
            if kind in (kinds.Kind.CAP, kinds.Kind.AMOUNT)
            else Fraction(0),
            factors=factors,
        )
    except (kinds.AllocationError, ReferenceDataError) as exc:
        raise TargetError(str(exc)) from exc
    rows = [
        {
            "code": d.code,
            "name": d.name,
            "division": d,
            "base": b,
            "value": round(_from_core(target, result.targets[d.code]), 4),
        }
        for d, b in bases
    ]
    return KindPreview(
        target=target,
        method=method,
        rows=rows,
        check=result.check,
        notes=tuple(result.notes),
        reserve=reserve,
        params={"reserve": reserve, "manual": dict(manual)},
    )


def adopt_allocation(
    *,
    target: Target,
    method: str,
    user: Any,
    reserve: float = 0.0,
    manual: Mapping[str, float] | None = None,
    is_synthetic: bool = False,
    status: str = TargetStatus.ISSUED,
    system: bool = False,
    allow_inconsistent: bool = False,
) -> Decomposition:
    """Adopt an allocation of a non-intensity target: store it with its check and write the
    sub-regions' targets (replacing those of the previous adoption unless one is signed).
    An allocation that fails its aggregate-consistency check is refused unless
    ``allow_inconsistent`` (the officer's explicit choice, recorded)."""
    if not system and not can_decompose(user, target):
        raise NotAllowed(_("无权分解该目标"))
    preview = preview_allocation(target, method, reserve=reserve, manual=manual)
    if not preview.check.consistent and not allow_inconsistent:
        raise TargetError(
            _("分解结果不满足总量一致性：%(f)s，余量 %(s)s")
            % {"f": preview.check.formula, "s": f"{_from_core(target, preview.check.slack):.4g}"}
        )
    summary = preview.as_dict()
    with transaction.atomic():
        old_ids = _retire_previous(target, Q(parent=target))
        dec = Decomposition.objects.create(
            parent_target=target,
            method=method,
            params=preview.params,
            result=summary,
            scheme_name=f"allocation-{summary['kind']}",
            scheme_version=catalogue().version,
            intensity_slack_pp=None,
            intensity_slack_tce=None,
            total_slack_tce=None,
            consistency_check=summary["check"],
            is_synthetic=is_synthetic,
            adopted_by=user if getattr(user, "is_authenticated", False) else None,
        )
        WarningRecord.objects.filter(target_id__in=old_ids).delete()
        Target.objects.filter(pk__in=old_ids).delete()
        source = _("%(parent)s 分解（%(method)s，方案 #%(id)s）") % {
            "parent": str(target),
            "method": dec.get_method_display(),
            "id": dec.pk,
        }
        new = [
            Target(
                indicator=target.indicator,
                division=r["division"],
                industry=target.industry,
                parent=target,
                period_kind=target.period_kind,
                base_year=target.base_year,
                end_year=target.end_year,
                base_value=Decimal(str(r["value"])),
                unit=target.unit,
                source_document=source[:500],
                pace_definition=target.pace_definition,
                progress_definition=target.progress_definition,
                rule_set=target.rule_set,
                barometer=target.barometer,
                status=status,
                decomposition=dec,
                is_synthetic=is_synthetic,
                created_by=dec.adopted_by,
            )
            for r in preview.rows
        ]
        Target.objects.bulk_create(new)
        months = sorted(
            set(WarningRecord.objects.filter(target=target).values_list("year", "month"))
        )
        fresh = list(Target.objects.filter(decomposition=dec).select_related("division"))
        for y, m in months:
            compute_warnings(year=y, month=m, user=user, targets=fresh, notify=False, system=True)
        record(
            actor=user,
            action="decomposition.adopt",
            obj=dec,
            before={"replaced_targets": old_ids},
            after={
                "method": method,
                "params": preview.params,
                "check": summary["check"],
                "targets": len(new),
                "allow_inconsistent": allow_inconsistent,
                "rerated_months": [f"{y}-{m:02d}" for y, m in months],
            },
        )
    return dec
