"""Barometer (晴雨表) rule sets → warning levels.

A rule set is data (``reference/data/warning_*.yaml``, or a row edited in the admin later): its
levels (numbered as the rule set numbers them, with a colour), and per indicator (and per stage
of the year, where the rule set distinguishes stages) a *measure* and the *bands* of that measure
that give each level.  Bands have explicit inclusive/exclusive bounds and must partition the whole
number line, so every observation gets exactly one level; :func:`validate_rule_set` checks this
when a rule set is loaded.

The engine knows only the indicators (what "met" means for each) and the measures below; it knows
nothing about any particular rule set.  Figures are exact rationals (:class:`fractions.Fraction`)
so that a boundary such as "exactly 10 % short" is never blurred by floating point.

Indicators (values in core units; percentages are converted at the edges):

- ``intensity_reduction`` — 能耗强度降低率, a fraction (0.032 = 3.2 %); higher is better;
  ``required`` is the rate the rule set compares with (pace target, annual target …).
- ``energy_total`` — 能源消费总量, tce; lower is better; ``required`` is the allowed amount.
- ``energy_increment`` — 能源消费增量, tce; lower is better; ``required`` is the allowed increment.

Generic rating classes, for the other indicators of the catalogue (``indicators.yaml``
``barometer.rate_as``; a rule set rates them only where it has a rule for the class):

- ``reduction`` — any other reduction rate (CO2 intensity …), a fraction; higher is better.
- ``cap`` — an amount or level that must stay at or below ``required`` (totals, budgets,
  increments, levels, a peak); lower is better.
- ``floor`` — an amount that must reach ``required`` (节能量, 减排量); higher is better.
- ``share_floor`` / ``share_cap`` — a share (fraction) that must reach / stay below ``required``.

Measures (``gap`` is positive when the target is *not* met):

- ``gap`` — required − achieved (higher-is-better) or achieved − allowed (lower-is-better),
  in the indicator's unit (fraction or tce).
- ``gap_pp`` — ``gap`` in percentage points (fraction indicators only): 0.3 pp = 0.003.
- ``gap_frac_of_required`` — ``gap`` / required (required > 0).
- ``completion_frac`` — 完成率, achieved / required (higher-is-better indicators, required > 0).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from itertools import pairwise

Number = Fraction | Decimal | int


class WarningRuleError(ValueError):
    """A rule set is inconsistent (unknown level, bands that overlap or leave a gap …)."""


class WarningInputError(ValueError):
    """An observation cannot be rated by the rule set (unknown indicator, missing stage …)."""


class Direction(Enum):
    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"


@dataclass(frozen=True)
class Indicator:
    """An indicator the barometer can rate, and what meeting its target means."""

    id: str
    name_zh: str
    direction: Direction
    unit: str  # "frac" (a rate, shown as %), "tce", or "value" (the indicator's own unit)


INDICATORS: dict[str, Indicator] = {
    i.id: i
    for i in (
        Indicator("intensity_reduction", "能耗强度降低率", Direction.HIGHER_IS_BETTER, "frac"),
        Indicator("energy_total", "能源消费总量", Direction.LOWER_IS_BETTER, "tce"),
        Indicator("energy_increment", "能源消费增量", Direction.LOWER_IS_BETTER, "tce"),
        Indicator("reduction", "降低率（通用）", Direction.HIGHER_IS_BETTER, "frac"),
        Indicator("cap", "上限控制（通用）", Direction.LOWER_IS_BETTER, "value"),
        Indicator("floor", "下限要求（通用）", Direction.HIGHER_IS_BETTER, "value"),
        Indicator("share_floor", "比重下限（通用）", Direction.HIGHER_IS_BETTER, "frac"),
        Indicator("share_cap", "比重上限（通用）", Direction.LOWER_IS_BETTER, "frac"),
    )
}


class Measure(Enum):
    GAP = "gap"
    GAP_PP = "gap_pp"
    GAP_FRAC_OF_REQUIRED = "gap_frac_of_required"
    COMPLETION_FRAC = "completion_frac"


def measure_applies(measure: Measure, indicator: Indicator) -> bool:
    """Whether ``measure`` is defined for ``indicator``."""
    if measure is Measure.GAP_PP:
        return indicator.unit == "frac"
    if measure is Measure.COMPLETION_FRAC:
        return indicator.direction is Direction.HIGHER_IS_BETTER
    return True


@dataclass(frozen=True)
class Level:
    """A warning level as the rule set defines it (number, name and colour are the rule set's)."""

    id: str
    number: str | None  # as the rule set numbers it ("1", "0", "Ⅲ"); None = not a numbered level
    name_zh: str
    name_en: str
    colour: str
    severity: int  # 0 = no warning; larger = more severe (comparable across rule sets)
    warning: bool


@dataclass(frozen=True)
class Consequence:
    """A measure a rule set attaches to a level (e.g. 节能审查 suspended, production limits)."""

    code: str
    text_zh: str
    text_en: str
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Bound:
    value: Fraction
    inclusive: bool


@dataclass(frozen=True)
class Band:
    """The measure's interval that gives ``level_id``; a missing bound is ±infinity."""

    level_id: str
    lower: Bound | None
    upper: Bound | None
    consequences: tuple[Consequence, ...] = ()
    note_zh: str = ""

    def contains(self, x: Fraction) -> bool:
        if self.lower is not None and not (
            x >= self.lower.value if self.lower.inclusive else x > self.lower.value
        ):
            return False
        return self.upper is None or (
            x <= self.upper.value if self.upper.inclusive else x < self.upper.value
        )

    def describe(self, measure: str) -> str:
        """E.g. ``0 < gap_frac_of_required <= 1/10``."""
        parts = []
        if self.lower is not None:
            parts.append(f"{_num(self.lower.value)} {'<=' if self.lower.inclusive else '<'}")
        parts.append(measure)
        if self.upper is not None:
            parts.append(f"{'<=' if self.upper.inclusive else '<'} {_num(self.upper.value)}")
        return " ".join(parts)


def _num(x: Fraction) -> str:
    if x.denominator == 1:
        return str(x.numerator)
    d = Decimal(x.numerator) / Decimal(x.denominator)
    return format(d.normalize(), "f") if Fraction(d) == x else str(x)


@dataclass(frozen=True)
class Rule:
    """Which levels an indicator gets (optionally only at some stages of the year)."""

    indicators: tuple[str, ...]
    stages: tuple[str, ...] | None  # None = any stage (or the rule set has no stages)
    measure: Measure
    bands: tuple[Band, ...]


@dataclass(frozen=True)
class Stage:
    """A point of the year at which the rule set rates (e.g. 上半年, 前三季度)."""

    id: str
    name_zh: str
    issued_in_month: int | None = None


@dataclass(frozen=True)
class RuleSet:
    """A named, versioned barometer rule set."""

    name: str
    version: str
    title_zh: str
    source: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    required_means_zh: str  # what the ``required`` figure is (序时进度目标, 年度目标 …)
    levels: tuple[Level, ...]
    rules: tuple[Rule, ...]
    stages: tuple[Stage, ...] = ()

    def level(self, level_id: str) -> Level:
        for lv in self.levels:
            if lv.id == level_id:
                return lv
        raise WarningRuleError(f"rule set {self.name}: unknown level {level_id!r}")

    def rule_for(self, indicator: str, stage: str | None) -> Rule:
        if self.stages:
            known = [s.id for s in self.stages]
            if stage is None:
                raise WarningInputError(
                    f"rule set {self.name} rates at a stage; give one of {', '.join(known)}"
                )
            if stage not in known:
                raise WarningInputError(
                    f"rule set {self.name}: unknown stage {stage!r}; expected {', '.join(known)}"
                )
        for rule in self.rules:
            if indicator in rule.indicators and (
                rule.stages is None or (stage is not None and stage in rule.stages)
            ):
                return rule
        rated = sorted({i for r in self.rules for i in r.indicators})
        raise WarningInputError(
            f"rule set {self.name} has no rule for indicator {indicator!r}"
            + (f" at stage {stage!r}" if stage else "")
            + f"; it rates {', '.join(rated)}"
        )


@dataclass(frozen=True)
class Observation:
    """One region's figure for one indicator, to be rated (values in core units)."""

    region: str
    indicator: str
    required: Fraction
    achieved: Fraction
    stage: str | None = None

    @classmethod
    def of(
        cls,
        region: str,
        indicator: str,
        *,
        required: Number,
        achieved: Number,
        stage: str | None = None,
    ) -> Observation:
        return cls(region, indicator, Fraction(required), Fraction(achieved), stage)


@dataclass(frozen=True)
class Figures:
    """The figures behind a warning (``gap`` > 0 = target not met)."""

    unit: str
    required: Fraction
    achieved: Fraction
    gap: Fraction
    gap_frac_of_required: Fraction | None
    gap_pp: Fraction | None
    completion_frac: Fraction | None
    met: bool


@dataclass(frozen=True)
class WarningResult:
    """预警结果: the level, the rule set that gave it and the figures that produced it."""

    region: str
    indicator: str
    stage: str | None
    level: Level
    rule_set_name: str
    rule_set_version: str
    required_means_zh: str
    measure: Measure
    measure_value: Fraction
    band: Band
    figures: Figures
    consequences: tuple[Consequence, ...]

    @property
    def band_text(self) -> str:
        return self.band.describe(self.measure.value)


def figures_of(obs: Observation) -> Figures:
    """Gap, gap as fraction of required, gap in pp and completion rate of one observation."""
    ind = _indicator(obs.indicator)
    if ind.direction is Direction.HIGHER_IS_BETTER:
        gap = obs.required - obs.achieved
        completion = obs.achieved / obs.required if obs.required > 0 else None
    else:
        gap = obs.achieved - obs.required
        completion = None
    return Figures(
        unit=ind.unit,
        required=obs.required,
        achieved=obs.achieved,
        gap=gap,
        gap_frac_of_required=gap / obs.required if obs.required > 0 else None,
        gap_pp=gap * 100 if ind.unit == "frac" else None,
        completion_frac=completion,
        met=gap <= 0,
    )


def _indicator(indicator_id: str) -> Indicator:
    try:
        return INDICATORS[indicator_id]
    except KeyError:
        raise WarningInputError(
            f"unknown indicator {indicator_id!r}; expected {', '.join(INDICATORS)}"
        ) from None


def _measure_value(measure: Measure, fig: Figures) -> Fraction:
    value = {
        Measure.GAP: fig.gap,
        Measure.GAP_PP: fig.gap_pp,
        Measure.GAP_FRAC_OF_REQUIRED: fig.gap_frac_of_required,
        Measure.COMPLETION_FRAC: fig.completion_frac,
    }[measure]
    if value is None:
        raise WarningInputError(
            f"measure {measure.value} needs a required figure > 0 (got {_num(fig.required)})"
        )
    return value


def rate(obs: Observation, rules: RuleSet) -> WarningResult:
    """预警等级 of one observation under ``rules``."""
    ind = _indicator(obs.indicator)
    rule = rules.rule_for(ind.id, obs.stage)
    fig = figures_of(obs)
    value = _measure_value(rule.measure, fig)
    band = next((b for b in rule.bands if b.contains(value)), None)
    if band is None:  # pragma: no cover - validate_rule_set rules this out
        raise WarningRuleError(f"rule set {rules.name}: no band contains {value}")
    return WarningResult(
        region=obs.region,
        indicator=ind.id,
        stage=obs.stage,
        level=rules.level(band.level_id),
        rule_set_name=rules.name,
        rule_set_version=rules.version,
        required_means_zh=rules.required_means_zh,
        measure=rule.measure,
        measure_value=value,
        band=band,
        figures=fig,
        consequences=band.consequences,
    )


def rate_all(observations: Iterable[Observation], rules: RuleSet) -> list[WarningResult]:
    return [rate(o, rules) for o in observations]


def _lower_key(b: Band) -> tuple[int, Fraction, int]:
    if b.lower is None:
        return (0, Fraction(0), 0)
    return (1, b.lower.value, 0 if b.lower.inclusive else 1)


def check_partition(bands: Sequence[Band], where: str) -> None:
    """Bands must cover every value exactly once: no gap, no overlap, no empty band."""
    if not bands:
        raise WarningRuleError(f"{where}: no bands")
    for b in bands:
        if b.lower is not None and b.upper is not None:
            low, high = b.lower, b.upper
            if low.value > high.value or (
                low.value == high.value and not (low.inclusive and high.inclusive)
            ):
                raise WarningRuleError(f"{where}: band for level {b.level_id} is empty")
    ordered = sorted(bands, key=_lower_key)
    if ordered[0].lower is not None:
        raise WarningRuleError(
            f"{where}: values below {_num(ordered[0].lower.value)} get no level "
            "(the lowest band needs no lower bound)"
        )
    for prev, nxt in pairwise(ordered):
        up, lo = prev.upper, nxt.lower
        if up is None or lo is None:
            raise WarningRuleError(
                f"{where}: bands for levels {prev.level_id} and {nxt.level_id} overlap"
            )
        if up.value != lo.value or up.inclusive == lo.inclusive:
            kind = "overlap" if (up.value > lo.value or (up.inclusive and lo.inclusive)) else "gap"
            raise WarningRuleError(
                f"{where}: {kind} between the bands for levels {prev.level_id} "
                f"and {nxt.level_id} at {_num(min(up.value, lo.value))}"
                " (the shared bound must be inclusive on exactly one side)"
            )
    if ordered[-1].upper is not None:
        raise WarningRuleError(
            f"{where}: values above {_num(ordered[-1].upper.value)} get no level "
            "(the highest band needs no upper bound)"
        )


def validate_rule_set(rs: RuleSet) -> None:
    """Raise :class:`WarningRuleError` unless ``rs`` gives every observation exactly one level."""
    ids = [lv.id for lv in rs.levels]
    if not ids:
        raise WarningRuleError(f"rule set {rs.name}: no levels")
    if len(set(ids)) != len(ids):
        raise WarningRuleError(f"rule set {rs.name}: duplicate level ids")
    stage_ids = [s.id for s in rs.stages]
    if len(set(stage_ids)) != len(stage_ids):
        raise WarningRuleError(f"rule set {rs.name}: duplicate stage ids")
    if not rs.rules:
        raise WarningRuleError(f"rule set {rs.name}: no rules")
    seen: set[tuple[str, str | None]] = set()
    for n, rule in enumerate(rs.rules, start=1):
        where = f"rule set {rs.name} rule {n}"
        if rule.stages is not None:
            for stage_id in rule.stages:
                if stage_id not in stage_ids:
                    raise WarningRuleError(f"{where}: unknown stage {stage_id!r}")
        for ind_id in rule.indicators:
            ind = INDICATORS.get(ind_id)
            if ind is None:
                raise WarningRuleError(
                    f"{where}: unknown indicator {ind_id!r}; expected {', '.join(INDICATORS)}"
                )
            if not measure_applies(rule.measure, ind):
                raise WarningRuleError(
                    f"{where}: measure {rule.measure.value} is not defined for {ind_id}"
                )
            applies_at: list[str | None] = (
                list(rule.stages) if rule.stages is not None else list(stage_ids) or [None]
            )
            for st in applies_at:
                key = (ind_id, st)
                if key in seen or (ind_id, None) in seen:
                    raise WarningRuleError(
                        f"{where}: indicator {ind_id} already has a rule"
                        + (f" at stage {st}" if st else "")
                    )
                seen.add(key)
        for band in rule.bands:
            if band.level_id not in ids:
                raise WarningRuleError(f"{where}: unknown level {band.level_id!r}")
        check_partition(rule.bands, where)
