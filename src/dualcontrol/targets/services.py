"""Use cases of targets: the only code that writes targets, decompositions, responsibility
letters, regional statistics, warnings and alerts.

Every function validates, writes in one transaction and records an audit entry.  Access is
checked here too (through :mod:`dualcontrol.targets.queries`, which is built on
:mod:`dualcontrol.accounts.scope`), so the pages, the API and the batch command share one rule.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dualcontrol.accounts.models import Role, User
from dualcontrol.audit.services import record, snapshot
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
from dualcontrol.core.progress import PaceDefinition
from dualcontrol.core.warning import Observation, WarningInputError, rate
from dualcontrol.formats.report205 import CellError
from dualcontrol.reference import ReferenceDataError, load_yaml
from dualcontrol.reference.decomposition import efficiency_scheme, weight_scheme
from dualcontrol.reference.warning_rules import (
    DEFAULT_RULE_SET,
    available_rule_sets,
    rule_set_from_mapping,
)
from dualcontrol.regions.models import Division
from dualcontrol.targets import analysis
from dualcontrol.targets.models import (
    DEFAULT_UNITS,
    Alert,
    CompareWith,
    Decomposition,
    Indicator,
    LetterStatus,
    PeriodKind,
    RegionalStatistic,
    ResponsibilityLetter,
    Target,
    TargetStatus,
    WarningRecord,
    WarningRuleSet,
    letter_title,
)
from dualcontrol.targets.queries import (
    can_create_for,
    can_decompose,
    can_edit_target,
    is_province,
    visible_targets,
)


class TargetError(Exception):
    """A request that cannot be carried out; the message is meant for the officer."""


class NotAllowed(TargetError):
    """The user's role or region does not allow this."""


class StatisticsRejected(Exception):
    """A statistics file was refused as a whole; ``errors`` lists every bad cell."""

    def __init__(self, errors: Sequence[CellError]):
        self.errors = list(errors)
        super().__init__("; ".join(str(e) for e in self.errors[:5]))


# ---------------------------------------------------------------------------------------------
# rule sets


def _compares_with(data: Mapping[str, Any]) -> str:
    text = str(data.get("required_means_zh", ""))
    return CompareWith.PACE if ("序时" in text or "进度" in text) else CompareWith.ANNUAL


def sync_rule_sets(*, user: Any = None) -> int:
    """Seed or refresh the built-in rule sets from ``reference/data/warning_*.yaml``."""
    changed = 0
    with transaction.atomic():
        for name, fname in sorted(available_rule_sets().items()):
            version, data = load_yaml(fname)
            rule_set_from_mapping(data, version=version, where=fname)  # validates
            existing = WarningRuleSet.objects.filter(name=name).first()
            if existing is not None and existing.version == version:
                continue
            if existing is not None and not existing.is_builtin:
                continue  # an admin-defined set of that name wins
            fields = dict(
                title_zh=str(data.get("title_zh", name)),
                source=str(data.get("source", fname)),
                definition=json.loads(json.dumps(data, default=str)),
                version=version,
                is_builtin=True,
            )
            if existing is None:
                obj = WarningRuleSet.objects.create(
                    name=name,
                    compares_with=_compares_with(data),
                    is_default=name == DEFAULT_RULE_SET
                    and not WarningRuleSet.objects.filter(is_default=True).exists(),
                    **fields,
                )
                before = None
            else:
                before = snapshot(existing, ["version"])
                for k, v in fields.items():
                    setattr(existing, k, v)
                existing.save()
                obj = existing
            record(
                actor=user,
                action="warning_rule_set.sync",
                obj=obj,
                before=before,
                after=snapshot(obj, ["name", "version", "compares_with", "is_default"]),
            )
            changed += 1
    return changed


def default_rule_set() -> WarningRuleSet:
    rs = WarningRuleSet.objects.filter(is_default=True, active=True).first()
    if rs is None:
        sync_rule_sets()
        rs = WarningRuleSet.objects.filter(is_default=True).first() or WarningRuleSet.objects.get(
            name=DEFAULT_RULE_SET
        )
    return rs


# ---------------------------------------------------------------------------------------------
# targets

TARGET_FIELDS = (
    "indicator",
    "division",
    "industry",
    "entity",
    "parent",
    "period_kind",
    "base_year",
    "end_year",
    "quarter",
    "base_value",
    "incentive_value",
    "unit",
    "base_level",
    "source_document",
    "note",
    "pace_definition",
    "progress_definition",
    "rule_set",
    "barometer",
    "status",
    "is_synthetic",
)


def _validated(target: Target) -> None:
    try:
        target.full_clean(exclude=["decomposition", "created_by"])
    except ValidationError as exc:
        raise TargetError(
            "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        ) from exc


def create_target(*, user: Any, system: bool = False, **values: Any) -> Target:
    """Record a target (province staff: any; a city officer: below its own city).

    ``system=True`` (demo seeding, batch imports) skips the user's access check; the audit entry
    then names the system as the actor.
    """
    unknown = set(values) - set(TARGET_FIELDS)
    if unknown:
        raise TargetError(f"unknown field(s): {', '.join(sorted(unknown))}")
    if not system and not can_create_for(user, values.get("division"), values.get("entity")):
        raise NotAllowed(_("无权为该地区或单位设定目标"))
    parent = values.get("parent")
    if (
        not system
        and parent is not None
        and not visible_targets(user).filter(pk=parent.pk).exists()
    ):
        raise NotAllowed(_("无权查看上级目标"))
    if not values.get("unit") and values.get("indicator"):
        values["unit"] = DEFAULT_UNITS.get(Indicator(values["indicator"]), "")
    target = Target(created_by=user if getattr(user, "is_authenticated", False) else None, **values)
    _validated(target)
    with transaction.atomic():
        target.save()
        record(actor=user, action="target.create", obj=target, after=snapshot(target))
    return target


def update_target(*, target: Target, user: Any, **changes: Any) -> Target:
    if not can_edit_target(user, target):
        raise NotAllowed(_("无权修改该目标"))
    unknown = set(changes) - set(TARGET_FIELDS)
    if unknown:
        raise TargetError(f"unknown field(s): {', '.join(sorted(unknown))}")
    if target.status == TargetStatus.SIGNED and any(
        k in changes for k in ("base_value", "incentive_value", "base_year", "end_year")
    ):
        raise TargetError(_("已签订责任书的目标不能修改目标值或期限"))
    before = snapshot(target)
    for k, v in changes.items():
        setattr(target, k, v)
    if not can_edit_target(user, target):
        raise NotAllowed(_("无权把目标移到该地区或单位"))
    _validated(target)
    with transaction.atomic():
        target.save()
        record(
            actor=user, action="target.update", obj=target, before=before, after=snapshot(target)
        )
    return target


def hierarchy(target: Target, user: Any) -> tuple[list[Target], list[tuple[int, Target]]]:
    """The chain of parents (top first) and the visible descendants as (depth, target)."""
    chain: list[Target] = []
    visible = visible_targets(user)
    node = target.parent
    while node is not None:
        if visible.filter(pk=node.pk).exists():
            chain.insert(0, node)
        node = node.parent
    out: list[tuple[int, Target]] = []

    def walk(t: Target, depth: int) -> None:
        for child in visible.filter(parent=t).order_by("division__code", "entity__name", "id"):
            out.append((depth, child))
            if depth < 4:
                walk(child, depth + 1)

    walk(target, 1)
    return chain, out


# ---------------------------------------------------------------------------------------------
# regional statistics

REQUIRED_STAT_COLUMNS = ("region", "year", "energy_tce", "gdp_10k_yuan", "gdp_real_growth_pct")
OPTIONAL_STAT_COLUMNS = ("month", "quarter", "source")


def _dec(value: str) -> Decimal | None:
    try:
        d = Decimal(value.strip())
    except (InvalidOperation, AttributeError):
        return None
    return d if d.is_finite() else None


def import_statistics(
    *,
    data: bytes,
    user: Any,
    filename: str = "",
    is_synthetic: bool = False,
) -> int:
    """Create or replace regional statistics from a CSV in the ``dualcontrol indicators`` layout
    (region,year,energy_tce,gdp_10k_yuan,gdp_real_growth_pct; optional month, quarter, source;
    any other column is a numeric decomposition factor).  ``region`` is a division code or name.

    Every cell is checked first; any error rejects the whole file (:class:`StatisticsRejected`)
    and nothing is written.  Only province staff import statistics.
    """
    if not is_province(user):
        raise NotAllowed(_("只有省级用户可以导入地区统计数据"))
    sheet = filename or "csv"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise StatisticsRejected(
            [CellError(sheet, 1, "", _("文件不是 UTF-8 编码的 CSV"))]
        ) from None
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    missing = [c for c in REQUIRED_STAT_COLUMNS if c not in header]
    if missing:
        raise StatisticsRejected(
            [CellError(sheet, 1, "", _("缺少列：%(cols)s") % {"cols": ", ".join(missing)})]
        )
    factor_cols = [c for c in header if c not in REQUIRED_STAT_COLUMNS + OPTIONAL_STAT_COLUMNS]
    col_letter = {c: _letter(i) for i, c in enumerate(header)}
    by_code = {d.code: d for d in Division.objects.all()}
    by_name: dict[str, list[Division]] = {}
    for d in by_code.values():
        by_name.setdefault(d.name, []).append(d)
    errors: list[CellError] = []
    parsed: list[dict[str, Any]] = []
    seen: dict[tuple[Any, ...], int] = {}

    def err(row: int, col: str, reason: str) -> None:
        errors.append(CellError(sheet, row, col_letter.get(col, ""), reason, field=col))

    rows = list(reader)
    if not rows:
        raise StatisticsRejected([CellError(sheet, 2, "", _("文件没有数据行"))])
    for i, r in enumerate(rows, start=2):
        if None in r:
            err(i, "", _("本行的列数多于表头"))
            continue
        cells = {k: (v or "").strip() for k, v in r.items()}
        region = cells["region"]
        div = by_code.get(region)
        if div is None:
            named = by_name.get(region, [])
            div = named[0] if len(named) == 1 else None
            if len(named) > 1:
                err(i, "region", _("地区名称“%(v)s”不唯一，请用区划代码") % {"v": region})
            elif div is None:
                err(i, "region", _("未知地区“%(v)s”（应为区划代码或名称）") % {"v": region})
        year = cells["year"]
        if not (year.isdigit() and 1949 <= int(year) <= 2100):
            err(i, "year", _("年份“%(v)s”无效") % {"v": year})
        month = cells.get("month", "")
        quarter = cells.get("quarter", "")
        if month and not (month.isdigit() and 1 <= int(month) <= 12):
            err(i, "month", _("月份“%(v)s”应为 1–12 或留空") % {"v": month})
        if quarter and not (quarter.isdigit() and 1 <= int(quarter) <= 4):
            err(i, "quarter", _("季度“%(v)s”应为 1–4 或留空") % {"v": quarter})
        if month and quarter:
            err(i, "quarter", _("同一行不能同时填写月份和季度"))
        energy = _dec(cells["energy_tce"])
        if energy is None or energy < 0:
            err(
                i,
                "energy_tce",
                _("能源消费量“%(v)s”应为不小于 0 的数") % {"v": cells["energy_tce"]},
            )
        gdp = _dec(cells["gdp_10k_yuan"])
        if gdp is None or gdp <= 0:
            err(
                i,
                "gdp_10k_yuan",
                _("地区生产总值“%(v)s”应为大于 0 的数") % {"v": cells["gdp_10k_yuan"]},
            )
        growth_text = cells["gdp_real_growth_pct"]
        growth = _dec(growth_text) if growth_text else None
        if growth_text and (growth is None or growth <= -100):
            err(
                i,
                "gdp_real_growth_pct",
                _("GDP 实际增长“%(v)s”应为大于 −100 的百分数") % {"v": growth_text},
            )
        factors = {}
        for c in factor_cols:
            if cells.get(c):
                v = _dec(cells[c])
                if v is None:
                    err(i, c, _("因素“%(v)s”不是数") % {"v": cells[c]})
                else:
                    factors[c] = float(v)
        source = cells.get("source") or (f"import {filename}" if filename else "")
        if not source:
            err(i, "source", _("来源不能为空（填写 source 列）"))
        key = (region, year, month, quarter)
        if key in seen:
            err(
                i,
                "region",
                _("与第 %(row)s 行重复（同一地区、年份、月份/季度）") % {"row": seen[key]},
            )
        seen[key] = i
        parsed.append(
            dict(
                division=div,
                year=int(year) if year.isdigit() else 0,
                month=int(month) if month.isdigit() else None,
                quarter=int(quarter) if quarter.isdigit() else None,
                energy_tce=energy,
                gdp_10k_yuan=gdp,
                gdp_real_growth_pct=growth,
                factors=factors,
                source=source[:255],
            )
        )
    if errors:
        raise StatisticsRejected(errors)
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        created = _upsert_statistics(parsed, user=user, is_synthetic=is_synthetic)
        record(
            actor=user,
            action="statistics.import",
            object_type="targets.regionalstatistic",
            object_repr=filename or "statistics.csv",
            after={"rows": len(parsed), "created": created, "sha256": digest},
        )
    return len(parsed)


def _letter(i: int) -> str:
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


def _upsert_statistics(rows: Iterable[dict[str, Any]], *, user: Any, is_synthetic: bool) -> int:
    rows = list(rows)
    divisions = {r["division"].pk for r in rows}
    years = {r["year"] for r in rows}
    existing = {
        (s.division_id, s.year, s.month, s.quarter): s
        for s in RegionalStatistic.objects.filter(division_id__in=divisions, year__in=years)
    }
    actor = user if getattr(user, "is_authenticated", False) else None
    new, changed = [], []
    for r in rows:
        key = (r["division"].pk, r["year"], r["month"], r["quarter"])
        obj = existing.get(key)
        if obj is None:
            obj = RegionalStatistic(**r, is_synthetic=is_synthetic, imported_by=actor)
            new.append(obj)
        else:
            for k, v in r.items():
                setattr(obj, k, v)
            obj.is_synthetic = is_synthetic
            obj.imported_by = actor
            obj.imported_at = timezone.now()
            changed.append(obj)
    RegionalStatistic.objects.bulk_create(new, batch_size=1000)
    RegionalStatistic.objects.bulk_update(
        changed,
        [
            "energy_tce",
            "gdp_10k_yuan",
            "gdp_real_growth_pct",
            "factors",
            "source",
            "is_synthetic",
            "imported_by",
            "imported_at",
        ],
        batch_size=1000,
    )
    return len(new)


def load_series(
    division_ids: Iterable[int], years: tuple[int, int] | None = None
) -> dict[int, analysis.StatSeries]:
    """Each division's statistics as an :class:`analysis.StatSeries` (optionally only the
    years ``years[0]…years[1]``)."""
    out: dict[int, analysis.StatSeries] = {}
    qs = RegionalStatistic.objects.filter(division_id__in=list(division_ids))
    if years is not None:
        qs = qs.filter(year__gte=years[0], year__lte=years[1])
    for div, year, month, quarter, energy, gdp, growth in qs.values_list(
        "division_id",
        "year",
        "month",
        "quarter",
        "energy_tce",
        "gdp_10k_yuan",
        "gdp_real_growth_pct",
    ):
        series = out.setdefault(div, analysis.StatSeries())
        fig = analysis.StatFigure(
            energy_tce=float(energy),
            gdp_10k_yuan=float(gdp),
            growth_frac=None if growth is None else float(growth) / 100,
        )
        if month:
            series.ytd[(year, month)] = fig
        elif quarter:
            series.ytd.setdefault((year, 3 * quarter), fig)
        else:
            series.annual[year] = fig
    return out


# ---------------------------------------------------------------------------------------------
# decomposition


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
    children = list(Division.objects.filter(parent=target.division).order_by("code"))
    stats = {
        s.division_id: s
        for s in RegionalStatistic.objects.filter(
            division__in=children, year=target.base_year, month__isnull=True, quarter__isnull=True
        )
    }
    out = []
    for d in children:
        s = stats.get(d.pk)
        out.append(
            BaseRow(
                division=d,
                energy_tce=float(s.energy_tce) if s else None,
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
    """The province's (or city's) increment cap for the same period, if a target sets one."""
    siblings = Target.objects.filter(
        division=target.division,
        industry__isnull=True,
        base_year=target.base_year,
        end_year=target.end_year,
        period_kind=target.period_kind,
    )
    inc = siblings.filter(indicator=Indicator.ENERGY_INCREMENT, barometer=True).first()
    if inc is not None:
        return TotalCap(_frac(float(inc.base_value)), _frac(reserve_tce)), inc
    total = siblings.filter(indicator=Indicator.ENERGY_TOTAL, barometer=True).first()
    if total is not None:
        base = RegionalStatistic.objects.filter(
            division=target.division,
            year=target.base_year,
            month__isnull=True,
            quarter__isnull=True,
        ).first()
        if base is not None:
            cap = float(total.base_value) - float(base.energy_tce)
            return TotalCap(_frac(cap), _frac(reserve_tce)), total
    return None, None


def run_method(
    target: Target, method: str, params: WorkbenchParams, rows: Sequence[BaseRow] | None = None
) -> Allocation:
    """Allocate ``target`` to its sub-regions with ``method`` (nothing is written)."""
    if target.indicator != Indicator.ENERGY_INTENSITY_REDUCTION or target.division_id is None:
        raise DecompositionError(_("只能分解地区的能耗强度降低目标"))
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
        old = Target.objects.filter(parents, decomposition__isnull=False)
        if old.filter(Q(status=TargetStatus.SIGNED) | Q(letters__isnull=False)).exists():
            raise TargetError(_("原分解结果已签订或已生成责任书，不能替换"))
        if old.filter(children__isnull=False).exists():
            raise TargetError(_("原分解结果已被继续分解，不能替换"))
        old_ids = list(old.values_list("pk", flat=True))
        Decomposition.objects.filter(parent_target=target, is_current=True).update(is_current=False)
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
                    indicator=Indicator.ENERGY_INTENSITY_REDUCTION,
                    division=by_code[t["code"]],
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
                new.append(
                    Target(
                        indicator=Indicator.ENERGY_INCREMENT,
                        division=by_code[t["code"]],
                        parent=cap_target,
                        base_value=Decimal(str(round(max(t["increment_tce"], 0.0), 0))),
                        unit="tce",
                        note=_("按分解方案的强度目标与 GDP 预测推算的增量"),
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
# responsibility letters

CLAUSES = (
    gettext_lazy("责任方按本责任书所列目标组织实施节能减排工作，目标完成情况纳入年度考核评价。"),
    gettext_lazy(
        "责任方按月报送能源消费与生产总值数据，对数据真实性负责；"
        "下达方按月（季）发布目标完成情况晴雨表。"
    ),
    gettext_lazy(
        "对晴雨表预警为红色的地区，下达方按预警规则所附措施（如暂停新上项目节能审查）处理。"
    ),
    gettext_lazy("本责任书一式两份，下达方与责任方各执一份，自签订之日起生效，至目标年末止。"),
)


def _letter_content(
    holder: Any, issuer: Division, targets: Sequence[Target], base: int, end: int
) -> dict[str, Any]:
    """The letter as written (and hashed): always in the platform's language."""
    with translation.override(settings.LANGUAGE_CODE):
        return {
            "title": letter_title(holder.name, base, end),
            "issuer": issuer.name,
            "issuer_code": issuer.code,
            "party": holder.name,
            "party_code": getattr(holder, "code", "") or getattr(holder, "uscc", ""),
            "period": [base, end],
            "targets": [
                {
                    "id": t.pk,
                    "indicator": t.indicator,
                    "indicator_name": str(t.get_indicator_display()),
                    "period": t.period_label,
                    "period_kind": str(t.get_period_kind_display()),
                    "base_value": _plain(t.base_value),
                    "incentive_value": _plain(t.incentive_value),
                    "unit": t.unit,
                    "base_level": _plain(t.base_level),
                    "source_document": t.source_document,
                    "industry": t.industry.name if t.industry_id else "",
                }
                for t in targets
            ],
            "clauses": [str(c) for c in CLAUSES],
        }


def letter_display(letter: ResponsibilityLetter) -> dict[str, Any]:
    """The letter's content for the page in the active language: the generated texts (title,
    indicator names, period kinds, clauses) through the catalogue; names and figures as stored.
    The stored content and its digest are never changed."""
    content = dict(letter.content or {})
    content["title"] = letter.title_label
    content["targets"] = [
        {
            **t,
            "indicator_name": _(t["indicator_name"]) if t.get("indicator_name") else "",
            "period_kind": _(t["period_kind"]) if t.get("period_kind") else "",
        }
        for t in content.get("targets", [])
    ]
    content["clauses"] = [_(c) for c in content.get("clauses", []) if c]
    return content


def _plain(value: Decimal | None) -> str | None:
    """15.0000 → "15", 13.5000 → "13.5" (as printed in the letter)."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return text


def _digest(content: Mapping[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps(content, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()


def generate_letter(
    *,
    target: Target,
    user: Any,
    is_synthetic: bool = False,
    system: bool = False,
    issued_on: dt.date | None = None,
) -> ResponsibilityLetter:
    """目标责任书: every issued target of the target's region (or unit) for its period."""
    if not system and not visible_targets(user).filter(pk=target.pk).exists():
        raise NotAllowed(_("无权查看该目标"))
    holder: Any = target.entity if target.entity_id else target.division
    holder_div = target.holder_division
    issuer = holder_div if target.entity_id else holder_div.parent
    if issuer is None:
        raise TargetError(_("省级目标由国家下达，本平台不生成省级责任书"))
    # who may issue: the issuer's officers (province staff, or the city officer for its counties)
    if (
        not system
        and not is_province(user)
        and not (getattr(user, "division_id", None) and issuer.path.startswith(user.division.path))
    ):
        raise NotAllowed(_("只有下达方可以生成责任书"))
    qs = Target.objects.filter(base_year=target.base_year, end_year=target.end_year).exclude(
        status=TargetStatus.DRAFT
    )
    qs = (
        qs.filter(entity=target.entity)
        if target.entity_id
        else qs.filter(division=target.division, entity__isnull=True)
    )
    targets = list(qs.select_related("industry").order_by("indicator", "industry__code", "id"))
    content = _letter_content(holder, issuer, targets, target.base_year, target.end_year)
    with transaction.atomic():
        seq = ResponsibilityLetter.objects.filter(issuer=issuer).count() + 1
        prefix = issuer.name[:2]
        year = (issued_on or timezone.localdate()).year
        number = f"{prefix}目标责〔{year}〕{seq}号"
        while ResponsibilityLetter.objects.filter(number=number).exists():
            seq += 1
            number = f"{prefix}目标责〔{year}〕{seq}号"
        letter = ResponsibilityLetter.objects.create(
            number=number,
            title=content["title"],
            division=None if target.entity_id else target.division,
            entity=target.entity if target.entity_id else None,
            issuer=issuer,
            base_year=target.base_year,
            end_year=target.end_year,
            content=content,
            content_sha256=_digest(content),
            generated_by=user if getattr(user, "is_authenticated", False) else None,
            is_synthetic=is_synthetic,
        )
        letter.targets.set(targets)
        record(
            actor=user,
            action="letter.generate",
            obj=letter,
            after={
                "number": number,
                "targets": [t.pk for t in targets],
                "sha256": letter.content_sha256,
            },
        )
    return letter


def sign_letter(
    *,
    letter: ResponsibilityLetter,
    user: Any,
    signed_on: dt.date,
    issuer_signatory: str,
    party_signatory: str,
    system: bool = False,
) -> ResponsibilityLetter:
    """Record that the printed letter was signed (the targets become 已签订)."""
    if letter.status == LetterStatus.SIGNED:
        raise TargetError(_("责任书已签订"))
    if (
        not system
        and not is_province(user)
        and not (
            getattr(user, "division_id", None) and letter.issuer.path.startswith(user.division.path)
        )
    ):
        raise NotAllowed(_("只有下达方可以登记签订"))
    if not issuer_signatory.strip() or not party_signatory.strip():
        raise TargetError(_("请填写双方签字人"))
    if signed_on > timezone.localdate():
        raise TargetError(_("签订日期不能晚于今天"))
    targets = list(letter.targets.select_related("industry", "division", "entity"))
    holder: Any = letter.entity if letter.entity_id else letter.division
    current = _letter_content(holder, letter.issuer, targets, letter.base_year, letter.end_year)
    if _digest(current) != letter.content_sha256:
        raise TargetError(_("责任书生成后目标已修改，请重新生成后再签订"))
    before = snapshot(letter, ["status"])
    with transaction.atomic():
        letter.status = LetterStatus.SIGNED
        letter.signed_on = signed_on
        letter.issuer_signatory = issuer_signatory.strip()
        letter.party_signatory = party_signatory.strip()
        letter.signed_recorded_by = user if getattr(user, "is_authenticated", False) else None
        letter.signed_recorded_at = timezone.now()
        letter.save()
        Target.objects.filter(pk__in=[t.pk for t in targets]).update(status=TargetStatus.SIGNED)
        record(
            actor=user,
            action="letter.sign",
            obj=letter,
            before=before,
            after=snapshot(letter, ["status", "signed_on", "issuer_signatory", "party_signatory"]),
        )
    return letter


# ---------------------------------------------------------------------------------------------
# barometer


@dataclass
class RunSummary:
    year: int
    month: int
    rated: int = 0
    created: int = 0
    updated: int = 0
    alerts: int = 0
    emails: int = 0
    by_colour: Counter[str] = field(default_factory=Counter)
    skipped: list[tuple[int, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "month": self.month,
            "rated": self.rated,
            "created": self.created,
            "updated": self.updated,
            "alerts": self.alerts,
            "emails": self.emails,
            "by_colour": dict(self.by_colour),
            "skipped": len(self.skipped),
        }


def applies(target: Target, year: int, month: int) -> bool:
    """Is the target rated at January…``month`` of ``year``?"""
    if target.period_kind == PeriodKind.FIVE_YEAR:
        return target.base_year < year <= target.end_year
    if target.period_kind == PeriodKind.YEAR:
        return year == target.end_year
    return year == target.end_year and month == 3 * (target.quarter or 0)


def observe(
    target: Target,
    series: analysis.StatSeries,
    *,
    year: int,
    month: int,
    compares_with: str,
) -> tuple[analysis.Actuals, analysis.Requirement]:
    """The actuals and the requirement the barometer rates for ``target`` (pure after loading)."""
    base = target.base_year if target.period_kind == PeriodKind.FIVE_YEAR else year - 1
    act = analysis.actuals(series, base_year=base, year=year, month=month)
    ind = target.barometer_indicator
    if ind == "intensity_reduction":
        req = analysis.intensity_requirement(
            target_frac=target.target_frac,
            period_kind=target.period_kind,
            base_year=target.base_year,
            end_year=target.end_year,
            act=act,
            compares_with=compares_with,
            pace=PaceDefinition(target.pace_definition),
        )
    else:
        req = analysis.energy_requirement(
            indicator=str(ind),
            cap_tce=float(target.base_value),
            period_kind=target.period_kind,
            base_year=target.base_year,
            end_year=target.end_year,
            act=act,
        )
    return act, req


def _stage_for(core: Any, month: int) -> tuple[bool, str | None]:
    """(rated this month?, stage): staged rule sets rate in the month before they issue."""
    if not core.stages:
        return True, None
    for s in core.stages:
        if s.issued_in_month and s.issued_in_month - 1 == month:
            return True, s.id
    return False, None


def _fraction(x: float) -> Fraction:
    return Fraction(repr(float(x)))


def compute_warnings(
    *,
    year: int,
    month: int,
    user: Any = None,
    targets: Iterable[Target] | None = None,
    notify: bool = True,
    system: bool = False,
) -> RunSummary:
    """Rate every barometer target at January…``month`` of ``year`` and store the warnings
    (one per target and month, replaced on a re-run); new or worsened warnings alert the
    responsible officers (in-app; by email to those with an address, after commit)."""
    if not 1 <= month <= 12:
        raise TargetError(_("月份应为 1–12"))
    if not system and not is_province(user):
        raise NotAllowed(_("只有省级用户可以重新计算预警"))
    # the stored texts (level names, what "required" means, the alerts) are written in the
    # platform's language whoever runs it; the pages translate them when shown
    with translation.override(settings.LANGUAGE_CODE):
        return _compute_warnings(year=year, month=month, user=user, targets=targets, notify=notify)


def _compute_warnings(
    *, year: int, month: int, user: Any, targets: Iterable[Target] | None, notify: bool
) -> RunSummary:
    summary = RunSummary(year, month)
    if targets is None:
        targets = Target.objects.filter(
            barometer=True,
            indicator__in=[
                Indicator.ENERGY_INTENSITY_REDUCTION,
                Indicator.ENERGY_TOTAL,
                Indicator.ENERGY_INCREMENT,
            ],
            division__isnull=False,
            industry__isnull=True,
        ).exclude(status=TargetStatus.DRAFT)
    if hasattr(targets, "select_related"):
        targets = targets.select_related("division", "rule_set")
    todo = [t for t in targets if applies(t, year, month) and t.barometer_indicator]
    if not todo:
        return summary
    default = default_rule_set()
    rule_sets = {rs.pk: rs for rs in WarningRuleSet.objects.all()}
    cores: dict[int, Any] = {}
    first = min(t.base_year if t.period_kind == PeriodKind.FIVE_YEAR else year - 1 for t in todo)
    series = load_series({t.division_id for t in todo}, (first, year))
    existing = {
        w.target_id: w
        for w in WarningRecord.objects.filter(target__in=todo, year=year, month=month)
    }
    previous: dict[int, int] = {}
    for w in (
        WarningRecord.objects.filter(target__in=todo)
        .filter(Q(year__lt=year) | Q(year=year, month__lt=month))
        .order_by("target_id", "-year", "-month")
        .values("target_id", "severity")
    ):
        previous.setdefault(w["target_id"], w["severity"])
    new: list[WarningRecord] = []
    changed: list[WarningRecord] = []
    to_alert: list[tuple[WarningRecord, Target]] = []
    for t in todo:
        rs = rule_sets.get(t.rule_set_id) if t.rule_set_id else default
        if rs is None or not rs.active:
            rs = default
        if rs.pk not in cores:
            cores[rs.pk] = rs.to_core()
        core = cores[rs.pk]
        rated, stage = _stage_for(core, month)
        if not rated:
            summary.skipped.append((t.pk, f"rule set {rs.name} does not rate month {month}"))
            continue
        try:
            act, req = observe(
                t,
                series.get(t.division_id, analysis.StatSeries()),
                year=year,
                month=month,
                compares_with=rs.compares_with,
            )
            result = rate(
                Observation(
                    t.division.code,
                    req.indicator,
                    _fraction(req.required),
                    _fraction(req.achieved),
                    stage,
                ),
                core,
            )
        except (analysis.ObservationError, WarningInputError) as exc:
            summary.skipped.append((t.pk, str(exc)))
            continue
        fig = result.figures
        day = dt.date(year, month, 1)
        validity = ""
        if (core.valid_from and day < core.valid_from) or (core.valid_to and day > core.valid_to):
            validity = f"rule set {core.name} is valid {core.valid_from}–{core.valid_to or '…'}"
        figures = {
            "actuals": act.as_dict(),
            "requirement": {
                "basis": req.basis,
                "required": req.required,
                "achieved": req.achieved,
                "formula": req.formula,
                "required_means": req.required_means,
                "means": req.means,
            },
            "level": {
                "id": result.level.id,
                "name_zh": result.level.name_zh,
                "name_en": result.level.name_en,
            },
            "target": {
                "id": t.pk,
                "base_value": str(t.base_value),
                "unit": t.unit,
                "period": t.period_label,
                "pace_definition": t.pace_definition,
            },
            "rule_set": {
                "name": core.name,
                "version": core.version,
                "compares_with": rs.compares_with,
                "required_means_zh": core.required_means_zh,
            },
            "completion_frac": None if fig.completion_frac is None else float(fig.completion_frac),
            "gap_pp": None if fig.gap_pp is None else float(fig.gap_pp),
            "validity_note": validity,
            "source": "regional statistics (统计部门) — targets.RegionalStatistic",
        }
        values = dict(
            division_id=t.division_id,
            indicator=req.indicator,
            stage=stage or "",
            rule_set=rs,
            rule_set_name=core.name,
            rule_set_version=core.version,
            level_id=result.level.id,
            level_number=result.level.number or "",
            level_name=result.level.name_zh,
            colour=result.level.colour,
            severity=result.level.severity,
            is_warning=result.level.warning,
            unit=fig.unit,
            required=float(fig.required),
            achieved=float(fig.achieved),
            gap=float(fig.gap),
            gap_frac_of_required=None
            if fig.gap_frac_of_required is None
            else float(fig.gap_frac_of_required),
            measure=result.measure.value,
            measure_value=float(result.measure_value),
            band=result.band_text[:128],
            required_means=req.required_means[:128],
            figures=figures,
            consequences=[
                {
                    "code": c.code,
                    "text_zh": c.text_zh,
                    "text_en": c.text_en,
                    "params": dict(c.params),
                }
                for c in result.consequences
            ],
        )
        w = existing.get(t.pk)
        if w is None:
            w = WarningRecord(target=t, year=year, month=month, **values)
            new.append(w)
        else:
            for k, v in values.items():
                setattr(w, k, v)
            changed.append(w)
        summary.rated += 1
        summary.by_colour[result.level.colour] += 1
        if result.level.warning and result.level.severity > previous.get(t.pk, 0):
            to_alert.append((w, t))
    with transaction.atomic():
        WarningRecord.objects.bulk_create(new, batch_size=500)
        if changed:
            now = timezone.now()
            for w in changed:
                w.computed_at = now
            WarningRecord.objects.bulk_update(changed, WARNING_FIELDS, batch_size=500)
        summary.created, summary.updated = len(new), len(changed)
        if new and any(w.pk is None for w in new):  # backends without RETURNING ids
            ids = {
                w.target_id: w.pk
                for w in WarningRecord.objects.filter(
                    target__in=[w.target_id for w in new], year=year, month=month
                )
            }
            for w in new:
                w.pk = ids[w.target_id]
        if notify and to_alert:
            summary.alerts, summary.emails = _alert(to_alert)
        record(
            actor=user,
            action="warnings.run",
            object_type="targets.warningrecord",
            object_repr=f"{year}-{month:02d}",
            after=summary.as_dict(),
        )
    return summary


WARNING_FIELDS = [
    "division_id",
    "indicator",
    "stage",
    "rule_set",
    "rule_set_name",
    "rule_set_version",
    "level_id",
    "level_number",
    "level_name",
    "colour",
    "severity",
    "is_warning",
    "unit",
    "required",
    "achieved",
    "gap",
    "gap_frac_of_required",
    "measure",
    "measure_value",
    "band",
    "required_means",
    "figures",
    "consequences",
    "computed_at",
]


def _recipients(target: Target) -> list[User]:
    holder = target.holder_division
    ancestors = [c for c in holder.path.strip("/").split("/") if c]
    qs = User.objects.filter(is_active=True).filter(
        Q(role=Role.CITY_OFFICER, division__code__in=ancestors)
    )
    if holder.level in ("province", "prefecture"):
        qs = qs | User.objects.filter(
            is_active=True, role__in=[Role.PROVINCE_ADMIN, Role.PROVINCE_OFFICER]
        )
    return list(qs.distinct().order_by("pk"))


def _alert(warnings: Sequence[tuple[WarningRecord, Target]]) -> tuple[int, int]:
    from django.core.mail import EmailMessage, get_connection

    alerts: list[Alert] = []
    for w, t in warnings:
        unit = "%" if w.unit == "frac" else " tce"
        scale = 100 if w.unit == "frac" else 1
        subject = f"【{w.level_name}】{t.division.name} {t.get_indicator_display()}（{w.year}年1–{w.month}月）"
        lines = [
            f"地区：{t.division.name}（{t.division.code}）",
            f"目标：{t} {_plain(t.base_value)}{t.unit}",
            f"期间：{w.year}年1–{w.month}月",
            f"要求值（{w.required_means}）：{w.required * scale:.2f}{unit}",
            f"实际值：{w.achieved * scale:.2f}{unit}",
            f"差距：{w.gap * scale:.2f}{unit}"
            + (
                f"（占目标值 {w.gap_frac_of_required * 100:.1f}%）"
                if w.gap_frac_of_required is not None
                else ""
            ),
            f"预警规则：{w.rule_set_name}（{w.rule_set_version}），命中区间 {w.band}",
        ]
        if w.consequences:
            lines.append("附带措施：" + "；".join(c["text_zh"] for c in w.consequences))
        lines.append(f"查看：/targets/{t.pk}/progress/?year={w.year}&month={w.month}")
        body = "\n".join(lines)
        for u in _recipients(t):
            alerts.append(
                Alert(recipient=u, warning=w, subject=subject[:255], body=body, emailed_to=u.email)
            )
    Alert.objects.bulk_create(alerts, batch_size=500)
    mails = [a for a in alerts if a.emailed_to]
    if mails:
        sender = getattr(settings, "DEFAULT_FROM_EMAIL", "noreply@localhost")
        messages = [EmailMessage(a.subject, a.body, sender, [a.emailed_to]) for a in mails]
        keys = [(a.recipient_id, a.warning_id) for a in mails]

        def send() -> None:
            get_connection().send_messages(messages)
            q = Q()
            for rid, wid in keys:
                q |= Q(recipient_id=rid, warning_id=wid)
            Alert.objects.filter(q, emailed_at__isnull=True).update(emailed_at=timezone.now())

        transaction.on_commit(send)
    return len(alerts), len(mails)


def mark_alert_read(*, alert: Alert, user: Any) -> Alert:
    if alert.recipient_id != getattr(user, "pk", None):
        raise NotAllowed(_("只能处理自己的提醒"))
    if alert.read_at is None:
        with transaction.atomic():
            alert.read_at = timezone.now()
            alert.save(update_fields=["read_at"])
            record(actor=user, action="alert.read", obj=alert, after={"read_at": alert.read_at})
    return alert


def latest_statistics_month(division_ids: Iterable[int] | None = None) -> tuple[int, int] | None:
    qs = RegionalStatistic.objects.filter(month__isnull=False)
    if division_ids is not None:
        qs = qs.filter(division_id__in=list(division_ids))
    row = qs.order_by("-year", "-month").values("year", "month").first()
    return (row["year"], row["month"]) if row else None


def months_between(start: tuple[int, int], end: tuple[int, int]) -> list[tuple[int, int]]:
    out = []
    y, m = start
    while (y, m) <= end:
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out
