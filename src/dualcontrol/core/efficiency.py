"""Key energy-using units: product efficiency grades, efficiency-linked electricity surcharges and
key-unit designation proposals (重点用能单位 能效分级、阶梯/惩罚性电价、重点用能单位认定建议).

Pure: plain values in, plain values out; the rules come from ``reference/efficiency.py``.

**Grades** (单位产品能源消耗限额): the current standards grade a product's unit consumption
1级 / 2级 / 3级; GB 21346-2022's foreword maps the older names onto them — “将…先进值、准入值及
限定值分别更改为能耗限额等级1级、2级及3级” — so 1级 = 先进值 (advanced), 2级 = 准入值 (entry
value for new plants), 3级 = 限定值 (the mandatory limit for existing plants).  A value worse than
the 3级 limit is ``"over"`` (超限额).  Boundary: the standards word every grade as “不高于”
(e.g. GB 21346-2013 “铝液交流电耗 ≤13700”), so a value *equal* to a grade's limit is within that
grade; the best grade whose limit the value meets is the grade.

**Corrections** (修正): where the reference gives a standard's correction rule it acts on the
*limits*, per grade (GB 16780-2021 熟料比例: “每偏离1个百分点按1.10/1.15/1.20 kgce/t修正”; the
altitude factor “3级 × (1.179 − 0.211·p/101325)”; GB 21342-2025 wet quenching “+46.46 at 3级”).
Correcting the limits is the same comparison as correcting the value with the grade's own
coefficient, and the only one that is unique when the coefficients differ by grade — so
:attr:`Grading.corrected_value` equals the value and :attr:`Grading.limits` carries the corrected
limits.

**标杆 / 基准** (能效标杆水平 / 基准水平): ``"benchmark"`` = at or better than 标杆, ``"below_baseline"``
= worse than 基准 (a value equal to 基准 is not below it), ``"between"`` otherwise, ``"unknown"``
when the level is not known (most 2021/2023 values are NOT FOUND in the reference).
"""

from __future__ import annotations

import datetime as dt
import itertools
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum
from typing import Literal

ZERO = Decimal(0)
ONE = Decimal(1)
Grade = Literal["1", "2", "3", "over"]
GRADES: tuple[Grade, Grade, Grade] = ("1", "2", "3")
OVER: Grade = "over"
BenchmarkPosition = Literal["benchmark", "between", "below_baseline", "unknown"]


class GradingError(ValueError):
    """A value cannot be graded (missing or unknown correction, no 限定值 …)."""


class NoLimitLineError(GradingError):
    """No limit line for this product and indicator (on that day)."""


class SurchargeError(ValueError):
    """A surcharge cannot be computed (the rule needs a limit it cannot use …)."""


class NoRuleError(SurchargeError):
    """No surcharge rule covers this year, product and indicator (or several do)."""


class DesignationError(ValueError):
    """Designation thresholds overlap or the consumption is not a valid figure."""


def _key(text: str) -> str:
    """Matching form of a key or a Chinese name: NFKC (full-width → ASCII), no spaces, casefold."""
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


# --------------------------------------------------------------------------------------------
# limit standards and lines
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LimitStandard:
    """单位产品能源消耗限额 standard (one edition)."""

    code: str  # "GB 16780-2021"
    title: str
    valid_from: dt.date | None  # None = implementation date not known
    valid_to: dt.date | None  # None = open-ended
    source: str  # document title, number, date, URL
    version: str  # reference file version (name@hash)

    def valid_on(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


class CorrectionForm(StrEnum):
    """How a correction changes the limits."""

    LINEAR = "linear"  # limit_g += coefficient_g × clamp(sign × (x − base))
    PRESSURE_FACTOR = "pressure_factor"  # limit_g ×= coefficient_g − factor_b × x / base


@dataclass(frozen=True)
class LimitCorrection:
    """修正 — a correction rule of a limit standard, acting on the grade limits.

    ``coefficients`` are per grade (1级, 2级, 3级); ``None`` = the reference gives no correction
    for that grade (the grade's limit is used uncorrected and the grading says so).
    """

    name: str  # input column, e.g. "clinker_ratio_pct"
    name_zh: str
    form: CorrectionForm
    input_unit: str
    coefficients: tuple[Decimal | None, Decimal | None, Decimal | None]
    base: Decimal
    sign: int = 1
    min_deviation: Decimal | None = None
    max_deviation: Decimal | None = None
    input_min: Decimal | None = None
    input_max: Decimal | None = None
    required: bool = False
    factor_b: Decimal | None = None
    condition_input: str | None = None  # PRESSURE_FACTOR: applies only when this input …
    condition_above: Decimal | None = None  # … is strictly above this (e.g. altitude_m > 1500)
    source: str = ""
    caveat: str = ""

    def inputs(self) -> tuple[str, ...]:
        return (self.name,) + ((self.condition_input,) if self.condition_input else ())


@dataclass(frozen=True)
class LimitLine:
    """One product × indicator line of a limit standard: the 1级/2级/3级 limits.

    1级 = 先进值, 2级 = 准入值, 3级 = 限定值 (GB 21346-2022 foreword); ``None`` = the standard has
    no such grade for the line (e.g. GB 21256-2025 电弧炉 <70 t has no 2级) or it is NOT FOUND.
    """

    standard: LimitStandard
    product: str
    product_name_zh: str
    indicator: str
    indicator_name_zh: str
    unit: str
    grade1: Decimal | None
    grade2: Decimal | None
    grade3: Decimal | None
    lower_is_better: bool = True
    corrections: tuple[LimitCorrection, ...] = ()
    caveat: str = ""
    aliases: tuple[str, ...] = ()  # other Chinese names of the indicator (older editions)

    @property
    def limits(self) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
        return (self.grade1, self.grade2, self.grade3)


@dataclass(frozen=True)
class BenchmarkLevel:
    """能效标杆水平 / 基准水平 of a product line (either may be unknown)."""

    product: str
    indicator: str
    unit: str
    benchmark: Decimal | None  # 标杆
    baseline: Decimal | None  # 基准
    source: str
    valid_from: dt.date | None
    version: str
    valid_to: dt.date | None = None
    lower_is_better: bool = True
    caveat: str = ""


@dataclass(frozen=True)
class Grading:
    """The grade of one value against one limit line (and the 标杆/基准 position)."""

    value: Decimal
    corrected_value: Decimal  # = value: corrections act on the limits (module docstring)
    grade: Grade
    standard_code: str
    standard_version: str
    benchmark_position: BenchmarkPosition
    distance_to_next_grade: Decimal | None  # improvement needed to reach next_grade
    next_grade: str | None  # None at 1级
    notes: tuple[str, ...] = ()
    limits: tuple[Decimal | None, Decimal | None, Decimal | None] = (None, None, None)
    product: str = ""
    indicator: str = ""
    unit: str = ""
    benchmark_version: str | None = None


def _better_or_equal(value: Decimal, limit: Decimal, lower_is_better: bool) -> bool:
    return value <= limit if lower_is_better else value >= limit


def _classify(
    value: Decimal, limits: Sequence[Decimal | None], lower_is_better: bool
) -> Grade | None:
    """The best grade whose limit the value meets; ``"over"`` past 3级; None = undecidable."""
    for name, limit in zip(GRADES, limits, strict=True):
        if limit is not None and _better_or_equal(value, limit, lower_is_better):
            return name
    if limits[2] is None:
        return None
    return OVER


def _corrected_limits(
    line: LimitLine, corrections: Mapping[str, Decimal]
) -> tuple[list[Decimal | None], list[str]]:
    known = {name for c in line.corrections for name in c.inputs()}
    unknown = sorted(set(corrections) - known)
    if unknown:
        offered = ", ".join(sorted(known)) or "none"
        raise GradingError(
            f"{line.standard.code} {line.product}/{line.indicator}: unknown correction(s) "
            f"{', '.join(unknown)} (this line takes: {offered})"
        )
    limits: list[Decimal | None] = list(line.limits)
    notes: list[str] = []
    for c in line.corrections:
        x = corrections.get(c.name)
        if x is None:
            if c.required:
                raise GradingError(
                    f"{line.standard.code} {line.product}/{line.indicator}: correction "
                    f"{c.name} ({c.name_zh}, {c.input_unit}) is required"
                )
            if c.condition_input and c.condition_input in corrections:
                cond = corrections[c.condition_input]
                if c.condition_above is not None and cond > c.condition_above:
                    raise GradingError(
                        f"{line.standard.code} {line.product}/{line.indicator}: "
                        f"{c.condition_input} = {cond} > {c.condition_above}: {c.name} "
                        f"({c.name_zh}, {c.input_unit}) is needed for the correction"
                    )
            notes.append(f"correction {c.name} ({c.name_zh}) not applied: no input")
            continue
        if (c.input_min is not None and x < c.input_min) or (
            c.input_max is not None and x > c.input_max
        ):
            raise GradingError(
                f"{c.name} = {x} outside [{c.input_min if c.input_min is not None else '−∞'}, "
                f"{c.input_max if c.input_max is not None else '∞'}] {c.input_unit}"
            )
        if c.form is CorrectionForm.PRESSURE_FACTOR:
            if c.condition_input:
                cond_value = corrections.get(c.condition_input)
                if cond_value is None:
                    raise GradingError(
                        f"correction {c.name} needs {c.condition_input} as well (it applies only "
                        f"when {c.condition_input} > {c.condition_above})"
                    )
                if c.condition_above is not None and not cond_value > c.condition_above:
                    notes.append(
                        f"correction {c.name} ({c.name_zh}) not applied: {c.condition_input} = "
                        f"{cond_value} is not above {c.condition_above}"
                    )
                    continue
            b = c.factor_b if c.factor_b is not None else ZERO
            for i, coefficient in enumerate(c.coefficients):
                limit = limits[i]
                if coefficient is not None and limit is not None:
                    limits[i] = limit * (coefficient - b * x / c.base)
        else:
            deviation = c.sign * (x - c.base)
            if c.min_deviation is not None:
                deviation = max(deviation, c.min_deviation)
            if c.max_deviation is not None:
                deviation = min(deviation, c.max_deviation)
            for i, coefficient in enumerate(c.coefficients):
                limit = limits[i]
                if coefficient is not None and limit is not None:
                    limits[i] = limit + coefficient * deviation
        missing = [
            GRADES[i] for i, k in enumerate(c.coefficients) if k is None and limits[i] is not None
        ]
        applied = [GRADES[i] for i, k in enumerate(c.coefficients) if k is not None]
        note = f"correction {c.name} = {x} {c.input_unit} applied to grade(s) {'/'.join(applied)}"
        if missing:
            note += f"; not given for grade(s) {'/'.join(missing)} (uncorrected)"
        notes.append(note)
    return limits, notes


def benchmark_position(value: Decimal, level: BenchmarkLevel | None) -> BenchmarkPosition:
    """标杆/基准 position: at or better than 标杆 → benchmark; worse than 基准 → below_baseline."""
    if level is None:
        return "unknown"
    low = level.lower_is_better
    if level.benchmark is not None and _better_or_equal(value, level.benchmark, low):
        return "benchmark"
    if level.baseline is not None:
        if not _better_or_equal(value, level.baseline, low):
            return "below_baseline"
        if level.benchmark is not None:
            return "between"
    return "unknown"


def grade(
    value: Decimal,
    line: LimitLine,
    *,
    benchmark: BenchmarkLevel | None = None,
    corrections: Mapping[str, Decimal] | None = None,
) -> Grading:
    """能耗限额等级: the grade of ``value`` on ``line`` (equal to a limit = within that grade)."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise GradingError(f"value must be a finite Decimal, got {value!r}")
    if benchmark is not None and (
        benchmark.product != line.product
        or benchmark.indicator != line.indicator
        or benchmark.unit != line.unit
    ):
        raise GradingError(
            f"benchmark level {benchmark.product}/{benchmark.indicator} ({benchmark.unit}) does "
            f"not belong to {line.product}/{line.indicator} ({line.unit})"
        )
    limits, notes = _corrected_limits(line, dict(corrections or {}))
    low = line.lower_is_better
    result = _classify(value, limits, low)
    if result is None:
        raise GradingError(
            f"{line.standard.code} {line.product}/{line.indicator}: the value meets no grade and "
            "the 3级 limit (限定值) is not known — cannot say whether it is over the limit"
        )
    next_grade: str | None = None
    distance: Decimal | None = None
    current = 4 if result == OVER else int(result)
    for i in range(current - 2, -1, -1):  # the next better grade that has a limit
        limit = limits[i]
        if limit is not None:
            distance = value - limit if low else limit - value
            next_grade = _classify(limit, limits, low)
            break
    if line.caveat:
        notes.append(line.caveat)
    position = benchmark_position(value, benchmark)
    if benchmark is None:
        notes.append("标杆/基准 level not known for this line")
    return Grading(
        value=value,
        corrected_value=value,
        grade=result,
        standard_code=line.standard.code,
        standard_version=line.standard.version,
        benchmark_position=position,
        distance_to_next_grade=distance,
        next_grade=next_grade,
        notes=tuple(notes),
        limits=(limits[0], limits[1], limits[2]),
        product=line.product,
        indicator=line.indicator,
        unit=line.unit,
        benchmark_version=benchmark.version if benchmark is not None else None,
    )


def _matches(item_key: str, names: Iterable[str], wanted: str) -> bool:
    w = _key(wanted)
    return _key(item_key) == w or any(_key(n) == w for n in names if n)


def resolve_keys(lines: Sequence[LimitLine], product: str, indicator: str) -> tuple[str, str]:
    """The product and indicator keys of a product/indicator given by key or Chinese name."""
    by_product = [ln for ln in lines if _matches(ln.product, (ln.product_name_zh,), product)]
    if not by_product:
        raise NoLimitLineError(f"unknown product {product!r}")
    for ln in by_product:
        if _matches(ln.indicator, (ln.indicator_name_zh, *ln.aliases), indicator):
            return ln.product, ln.indicator
    offered = sorted({ln.indicator for ln in by_product})
    raise NoLimitLineError(
        f"product {by_product[0].product} has no indicator {indicator!r} "
        f"(indicators: {', '.join(offered)})"
    )


def find_limit_line(
    lines: Sequence[LimitLine], product: str, indicator: str, on: dt.date
) -> LimitLine:
    """The line of ``product``/``indicator`` (key or Chinese name) in force on ``on``."""
    product_key, indicator_key = resolve_keys(lines, product, indicator)
    found = [ln for ln in lines if (ln.product, ln.indicator) == (product_key, indicator_key)]
    valid = [ln for ln in found if ln.standard.valid_on(on)]
    if not valid:
        editions = ", ".join(sorted({ln.standard.code for ln in found}))
        raise NoLimitLineError(
            f"no limit standard for {product_key}/{indicator_key} in force on "
            f"{on.isoformat()} (editions: {editions})"
        )
    if len(valid) > 1:
        editions = ", ".join(sorted(ln.standard.code for ln in valid))
        raise NoLimitLineError(
            f"several limit standards for {product_key}/{indicator_key} on {on.isoformat()}: "
            f"{editions}"
        )
    return valid[0]


def find_benchmark(
    levels: Sequence[BenchmarkLevel], product: str, indicator: str, on: dt.date
) -> BenchmarkLevel | None:
    """The 标杆/基准 level of a line on a day, or None when it is not known."""
    found = [
        lv
        for lv in levels
        if lv.product == product
        and lv.indicator == indicator
        and (lv.valid_from is None or lv.valid_from <= on)
        and (lv.valid_to is None or on <= lv.valid_to)
    ]
    if len(found) > 1:
        raise GradingError(f"several 标杆/基准 levels for {product}/{indicator} on {on}")
    return found[0] if found else None


# --------------------------------------------------------------------------------------------
# electricity surcharges
# --------------------------------------------------------------------------------------------


class SurchargeBasis(StrEnum):
    """What a surcharge rule's tiers are measured on."""

    VALUE_TIERS = "value_tiers"  # the consumption itself against fixed tier bounds (2014 Al)
    STEPS_OVER_THRESHOLD = "steps_over_threshold"  # per started step over a yearly threshold
    EXCESS_OVER_LIMIT = "excess_over_limit"  # (value − 限定值) / 限定值 against bands (惩罚性电价)


@dataclass(frozen=True)
class SurchargeTier:
    """One tier: values up to ``upper`` (inclusive or not; None = no bound) pay the surcharge."""

    tier: str
    upper: Decimal | None
    upper_inclusive: bool
    surcharge_yuan_per_kwh: Decimal
    quote: str = ""

    def holds(self, measure: Decimal) -> bool:
        if self.upper is None:
            return True
        return measure <= self.upper if self.upper_inclusive else measure < self.upper


@dataclass(frozen=True)
class YearThreshold:
    """分档标准 of a stepped rule for the price years ``from_year``…``to_year`` (None = open)."""

    from_year: int
    to_year: int | None
    threshold: Decimal
    note: str = ""

    def covers(self, year: int) -> bool:
        return self.from_year <= year and (self.to_year is None or year <= self.to_year)


@dataclass(frozen=True)
class SurchargeRule:
    """A versioned electricity-surcharge rule (one document, one region)."""

    rule_id: str
    title: str
    source: str
    region: str  # "national" or a GB/T 2260 province code
    valid_from_year: int
    valid_to_year: int | None
    product: str | None  # None = every product with a limit line (惩罚性电价)
    indicator: str | None
    unit: str
    basis: SurchargeBasis
    tiers: tuple[SurchargeTier, ...] = ()
    thresholds: tuple[YearThreshold, ...] = ()
    step_size: Decimal | None = None
    step_surcharge_yuan_per_kwh: Decimal | None = None
    notes: tuple[str, ...] = ()
    version: str = ""

    def covers_year(self, year: int) -> bool:
        return self.valid_from_year <= year and (
            self.valid_to_year is None or year <= self.valid_to_year
        )


@dataclass(frozen=True)
class Surcharge:
    """The surcharge a value incurs in a price year under one rule."""

    surcharge_yuan_per_kwh: Decimal
    rule_id: str
    rule_version: str
    tier: str
    note: str


def _tier_for(rule: SurchargeRule, measure: Decimal) -> SurchargeTier:
    for tier in rule.tiers:
        if tier.holds(measure):
            return tier
    raise SurchargeError(f"rule {rule.rule_id}: no tier holds {measure}")  # loader prevents it


def surcharge(
    rules: Sequence[SurchargeRule],
    *,
    year: int,
    product: str,
    indicator: str,
    value: Decimal,
    limit_lines: Sequence[LimitLine] = (),
    corrections: Mapping[str, Decimal] | None = None,
) -> Surcharge:
    """阶梯电价 / 惩罚性电价 for ``value`` in the price year ``year``.

    A rule naming the product (the electrolytic-aluminium tiered price) takes precedence over a
    rule for every product over its limit (惩罚性电价) — platform rule.  ``product`` and
    ``indicator`` are keys; for an over-limit rule the 3级 limit (限定值, corrected with
    ``corrections``) of the line in force on 1 January of ``year`` is the limit.
    """
    if not value.is_finite():
        raise SurchargeError(f"value must be finite, got {value!r}")
    in_year = [r for r in rules if r.covers_year(year)]
    specific = [r for r in in_year if r.product == product and r.indicator == indicator]
    generic = [r for r in in_year if r.product is None]
    candidates = specific or generic
    if not candidates:
        covered = sorted({r.rule_id for r in rules if r.product in (product, None)})
        raise NoRuleError(
            f"no surcharge rule for {product}/{indicator} in {year}"
            + (f" (rules for this product: {', '.join(covered)})" if covered else "")
        )
    if len(candidates) > 1:
        ids = ", ".join(sorted(r.rule_id for r in candidates))
        raise NoRuleError(
            f"several surcharge rules for {product}/{indicator} in {year}: {ids} — "
            "choose one region's rules"
        )
    rule = candidates[0]
    notes = list(rule.notes)
    if rule.basis is SurchargeBasis.VALUE_TIERS:
        tier = _tier_for(rule, value)
        return Surcharge(
            tier.surcharge_yuan_per_kwh, rule.rule_id, rule.version, tier.tier, _note(tier, notes)
        )
    if rule.basis is SurchargeBasis.STEPS_OVER_THRESHOLD:
        current = [t for t in rule.thresholds if t.covers(year)]
        if len(current) != 1 or rule.step_size is None or rule.step_surcharge_yuan_per_kwh is None:
            raise NoRuleError(f"rule {rule.rule_id}: no 分档标准 for {year}")
        threshold = current[0]
        if threshold.note:
            notes.insert(0, threshold.note)
        notes.insert(0, f"分档标准 {threshold.threshold} {rule.unit} in {year}")
        if value <= threshold.threshold:
            return Surcharge(ZERO, rule.rule_id, rule.version, "normal", "; ".join(notes))
        steps = ((value - threshold.threshold) / rule.step_size).to_integral_value(
            rounding=ROUND_CEILING
        )
        amount = steps * rule.step_surcharge_yuan_per_kwh
        return Surcharge(amount, rule.rule_id, rule.version, f"step_{steps}", "; ".join(notes))
    # EXCESS_OVER_LIMIT
    line = find_limit_line(limit_lines, product, indicator, dt.date(year, 1, 1))
    grading_limits, correction_notes = _corrected_limits(line, dict(corrections or {}))
    limit = grading_limits[2]
    if limit is None:
        raise NoRuleError(f"{line.standard.code} {product}/{indicator}: 限定值 (3级) not known")
    if limit <= 0 or not line.lower_is_better:
        raise SurchargeError(
            f"{line.standard.code} {product}/{indicator}: the limit {limit} {line.unit} cannot "
            "be exceeded “by a multiple” (rule needs a positive lower-is-better limit)"
        )
    chosen: SurchargeTier | None = None
    for tier in rule.tiers:  # compare value with limit × (1 + bound): exact, no division
        if tier.upper is None:
            chosen = tier
            break
        bound = limit * (ONE + tier.upper)
        if value <= bound if tier.upper_inclusive else value < bound:
            chosen = tier
            break
    if chosen is None:
        raise SurchargeError(f"rule {rule.rule_id}: no tier holds {value}")
    notes = [f"限定值 {limit} {line.unit} ({line.standard.code})", *correction_notes, *notes]
    return Surcharge(
        chosen.surcharge_yuan_per_kwh, rule.rule_id, rule.version, chosen.tier, _note(chosen, notes)
    )


def _note(tier: SurchargeTier, notes: Sequence[str]) -> str:
    return "; ".join([*([tier.quote] if tier.quote else []), *notes])


# --------------------------------------------------------------------------------------------
# key-unit designation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DesignationTier:
    """A key-unit tier: annual comprehensive consumption ``min_tce`` ≤ e < ``max_tce``."""

    key: str
    name_zh: str
    min_tce: Decimal  # inclusive: “达到” / “及以上”
    max_tce: Decimal | None  # exclusive: “不满”
    automatic: bool  # True = a key unit by law; False = may be designated (proposal only)
    quote: str = ""


@dataclass(frozen=True)
class DesignationThresholds:
    """One region's key-unit thresholds in force from ``valid_from``."""

    rule_id: str
    region: str
    title: str
    source: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    tiers: tuple[DesignationTier, ...] = field(default_factory=tuple)
    version: str = ""
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        ordered = sorted(self.tiers, key=lambda t: t.min_tce)
        for low, high in itertools.pairwise(ordered):
            if low.max_tce is None or low.max_tce > high.min_tce:
                raise DesignationError(f"{self.rule_id}: tiers {low.key} and {high.key} overlap")


def designation_proposal(
    energy_tce: Decimal, thresholds: DesignationThresholds
) -> DesignationTier | None:
    """重点用能单位认定建议: the tier an annual consumption falls in (≥ lower bound, < upper)."""
    if not energy_tce.is_finite() or energy_tce < 0:
        raise DesignationError(f"energy_tce must be a non-negative number, got {energy_tce}")
    for tier in thresholds.tiers:
        if energy_tce >= tier.min_tce and (tier.max_tce is None or energy_tce < tier.max_tce):
            return tier
    return None
