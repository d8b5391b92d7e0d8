"""Target-responsibility assessment (目标责任评价考核): scoring sheets → scores, grades, veto,
consequences.

A scoring sheet (计分表) is data — ``reference/data/scoring_*.yaml`` today, a row edited in the
admin later — and this module interprets any sheet generically:

- **Parts** (考核指标, e.g. 节能目标 40 + 节能措施 60) hold **items**.  A *quantitative* part
  holds :class:`TargetItem` s scored from figures (target and actual); a *qualitative* part holds
  :class:`MeasureItem` s whose scores the assessors enter, either per item (each ≤ its maximum)
  or as one total for the part (≤ the part's maximum).
- A target item with **completion bands** is scored from its completion ratio
  (完成率 = actual / target, or the logarithmic definition): the highest band whose lower bound
  the ratio reaches gives the points (``step``), or points are interpolated between adjacent bands
  (``interpolate``); an optional **over-fulfilment bonus** (超额完成加分) adds points per whole
  step of over-fulfilment, up to a cap.  A target item without bands is *assessed separately*
  (met / missed / exempt) and carries no points (e.g. total energy consumption in a dual-control
  sheet whose point table is not known).
- A **veto** item (否决性指标) that is missed forces the sheet's veto grade (未完成) whatever the
  score.  An item may be **exempt** when another item reaches its incentive target (激励目标).
- Target and actual are compared **at the published precision** (``compare_places`` of the item:
  decimals of a percentage for rates, of the unit for amounts; ``None`` = exactly as given), both
  rounded half up (四舍五入) — a reduction printed as 4.00 % meets a 4.00 % target even when the
  unrounded figure is 3.996 %.  The completion ratio is computed from the same compared figures,
  so a met target always earns the top band.  The sheet loader's default for rates is
  :data:`DEFAULT_COMPARE_PLACES_PCT` (:data:`COMPARE_PLACES_RULE` gives the reason).
- A target may be a **range** (4.0–4.5 %: ``TargetFigures.target`` = 4.0 %, ``target_upper`` =
  4.5 %); the item's ``range_bound`` (data) says which bound counts.  An item without a
  ``range_bound`` refuses a range rather than guess.
- **Grades** have explicit inclusive / exclusive bounds that must partition the score line.
- **Consequence rules** (考核结果运用) attach measures to grades, to missed items or to every
  result, with due dates counted from the date the results are issued.

Figures are :class:`~decimal.Decimal`; rates are fractions (0.035 = 3.5 %), amounts in tce or
tCO2 (:data:`UNITS`).  Every result records the sheet name and version, the figures each score
came from, and the precision and range bound each comparison used.
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext
from enum import Enum

ZERO = Decimal(0)
ONE = Decimal(1)

UNITS = (
    "frac",
    "tce",
    "tco2",
    "t",
)  # rates (fractions), tonnes of standard coal, of CO2, of a pollutant

DEFAULT_COMPARE_PLACES_PCT = 2
COMPARE_PLACES_RULE = (
    "platform rule: rates are compared with their targets at 2 decimals of a percentage, "
    "rounded half up (四舍五入), because the published tables print 上升或下降(±%) with two "
    "decimals (shared/reference/formats.md §6.2) and the assessment is read from them: a "
    "reduction printed as 4.00 % meets a 4.00 % target"
)
EXACT_COMPARE_RULE = "compared exactly as given (no published precision set for the item)"


class ScoringSheetError(ValueError):
    """A scoring sheet is inconsistent (grades that overlap, items above the part maximum …)."""


class AssessmentError(ValueError):
    """The figures given cannot be assessed with the sheet (missing item, score above maximum …)."""


class Direction(Enum):
    """Whether meeting the target means reaching it (a reduction, a saving) or staying under it
    (a consumption cap)."""

    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"


class CompletionRatio(Enum):
    """完成率: how the completion of a reduction target is measured.

    ``linear`` = actual / target (the 计分表 formula 目标完成率 = 实际完成数 / 目标数 × 100%);
    ``log`` = ln(1 − actual) / ln(1 − target), the definition used in NDRC progress figures
    (reduction fractions only).
    """

    LINEAR = "linear"
    LOG = "log"


class BetweenBands(Enum):
    """How a completion ratio between two listed bands is scored."""

    STEP = "step"  # the points of the highest band reached
    INTERPOLATE = "interpolate"  # linear interpolation between the two adjacent bands


class RangeBound(Enum):
    """Which bound of a target range (4.0–4.5 %) is the target that counts."""

    LOWER = "lower"  # the smaller number
    UPPER = "upper"  # the larger number


class Status(Enum):
    MET = "met"
    MISSED = "missed"
    EXEMPT = "exempt"
    SCORED = "scored"  # a qualitative item scored by the assessors


# ---------------------------------------------------------------------------------------------
# The sheet
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grade:
    """考核等级: a grade and the score interval it covers (``None`` = unbounded)."""

    key: str
    name_zh: str
    name_en: str
    lower: Decimal | None
    lower_inclusive: bool
    upper: Decimal | None
    upper_inclusive: bool

    def contains(self, score: Decimal) -> bool:
        if self.lower is not None and (
            score < self.lower or (score == self.lower and not self.lower_inclusive)
        ):
            return False
        return not (
            self.upper is not None
            and (score > self.upper or (score == self.upper and not self.upper_inclusive))
        )


@dataclass(frozen=True)
class CompletionBand:
    """完成目标的 x% 得 n 分: the points for a completion ratio of at least ``at_least``."""

    at_least: Decimal
    points: Decimal


@dataclass(frozen=True)
class Bonus:
    """超额完成加分: ``points_per_step`` for every whole ``step`` of completion above 1
    (completion 1.1 = 超额完成 10 %), at most ``max_points``."""

    step: Decimal
    points_per_step: Decimal
    max_points: Decimal


@dataclass(frozen=True)
class CompletionScoring:
    """How a target item turns its completion ratio into points."""

    ratio: CompletionRatio
    bands: tuple[CompletionBand, ...]  # highest ``at_least`` first
    otherwise: Decimal  # points below the lowest band
    between: BetweenBands = BetweenBands.STEP
    bonus: Bonus | None = None


@dataclass(frozen=True)
class Deduction:
    """An amount that is not counted against a target (e.g. 原料用能 in the total)."""

    key: str
    title_zh: str
    column: str = ""  # batch-import column (tce)


@dataclass(frozen=True)
class Exemption:
    """免予考核: the item is exempt when item ``item`` reaches its incentive target (激励目标)."""

    item: str


@dataclass(frozen=True)
class TargetItem:
    """A quantitative item (定量考核指标) scored from a target and an actual figure."""

    key: str
    title_zh: str
    max_points: Decimal
    unit: str  # "frac" (rates) or an amount: "tce", "tco2", "t" (tonnes of a pollutant)
    direction: Direction
    veto: bool = False
    scoring: CompletionScoring | None = None  # None: assessed separately, no points
    deductions: tuple[Deduction, ...] = ()
    exempt_if: Exemption | None = None
    columns: Mapping[str, str] = field(default_factory=dict)  # batch-import column names
    # decimals the target and the actual are compared at (of a percentage for rates, of the unit
    # for amounts); None = exactly as given.  ``compare_rule`` says where the precision comes from.
    compare_places: int | None = None
    compare_rule: str = EXACT_COMPARE_RULE
    # the bound of a target range that counts; None = the item refuses a range
    range_bound: RangeBound | None = None
    range_rule: str = ""


@dataclass(frozen=True)
class MeasureItem:
    """A qualitative item (定性考核指标) whose score the assessors enter."""

    key: str
    title_zh: str
    max_points: Decimal
    sub_items: tuple[tuple[str, Decimal], ...] = ()  # (title_zh, points), for display
    column: str = ""


@dataclass(frozen=True)
class Part:
    """考核指标 block of a sheet: quantitative (target items) or qualitative (measure items)."""

    key: str
    title_zh: str
    max_points: Decimal
    targets: tuple[TargetItem, ...] = ()
    measures: tuple[MeasureItem, ...] = ()
    qualitative: bool = False
    column: str = ""  # batch-import column for a qualitative part's total

    @property
    def item_keys(self) -> tuple[str, ...]:
        return tuple(t.key for t in self.targets) + tuple(m.key for m in self.measures)


@dataclass(frozen=True)
class ConsequenceRule:
    """考核结果运用: a measure issued when a result matches the rule.

    The rule matches when every condition given holds: the final grade is one of ``grades``;
    one of ``items_missed`` was missed; the veto applied (``vetoed``).  ``always`` matches every
    result.  The due date is the issue date plus ``due_months`` calendar months (day clamped to
    the month's end) or ``due_days`` days; neither = no deadline (in force until lifted).
    """

    key: str
    title_zh: str
    title_en: str
    source: str
    grades: tuple[str, ...] = ()
    items_missed: tuple[str, ...] = ()
    vetoed: bool | None = None
    always: bool = False
    due_months: int | None = None
    due_days: int | None = None


@dataclass(frozen=True)
class ScoringSheet:
    """计分表: parts, grades, the veto grade and the consequence rules, with provenance."""

    name: str
    version: str
    title_zh: str
    subject: str  # "region" or "enterprise"
    source: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    parts: tuple[Part, ...]
    grades: tuple[Grade, ...]  # highest first
    veto_grade: str
    consequences: tuple[ConsequenceRule, ...] = ()
    subject_column: str = ""
    notes: tuple[str, ...] = ()

    def grade(self, key: str) -> Grade:
        for g in self.grades:
            if g.key == key:
                return g
        raise KeyError(key)

    def grade_for(self, score: Decimal) -> Grade:
        """The grade whose interval contains ``score`` (by score alone, before any veto)."""
        for g in self.grades:
            if g.contains(score):
                return g
        raise AssessmentError(f"{self.name}: no grade covers the score {_plain(score)}")

    @property
    def target_items(self) -> tuple[TargetItem, ...]:
        return tuple(t for p in self.parts for t in p.targets)

    def target_item(self, key: str) -> TargetItem:
        for t in self.target_items:
            if t.key == key:
                return t
        raise KeyError(key)

    @property
    def max_score(self) -> Decimal:
        """The highest total the sheet can give, bonuses included."""
        total = sum((p.max_points for p in self.parts), ZERO)
        for t in self.target_items:
            if t.scoring is not None and t.scoring.bonus is not None:
                total += t.scoring.bonus.max_points
        return total


def validate_sheet(sheet: ScoringSheet) -> None:
    """Raise :class:`ScoringSheetError` unless the sheet is self-consistent.

    Checks: unique part and item keys; the items of a part add up to its maximum (a qualitative
    part may have no items: its total is entered); sub-items add up to their item; bands sorted
    high to low, within the item maximum, the top band at completion 1 giving full points;
    grades partition the whole score line with no gap or overlap; the veto grade and every grade
    or item a rule names exist; exemptions point at an item of the sheet.
    """
    where = f"scoring sheet {sheet.name}"
    if not sheet.parts:
        raise ScoringSheetError(f"{where}: no parts")
    keys: set[str] = set()
    for part in sheet.parts:
        for k in (part.key, *part.item_keys):
            if k in keys:
                raise ScoringSheetError(f"{where}: key {k!r} is used twice")
            keys.add(k)
        if part.qualitative and part.targets:
            raise ScoringSheetError(f"{where}: qualitative part {part.key} holds target items")
        if not part.qualitative and (part.measures or not part.targets):
            raise ScoringSheetError(f"{where}: part {part.key} needs target items only")
        if part.max_points < 0:
            raise ScoringSheetError(f"{where}: part {part.key} has a negative maximum")
        items_max = sum((t.max_points for t in part.targets), ZERO) + sum(
            (m.max_points for m in part.measures), ZERO
        )
        if (part.targets or part.measures) and items_max != part.max_points:
            raise ScoringSheetError(
                f"{where}: the items of part {part.key} add up to {_plain(items_max)}, "
                f"not its maximum {_plain(part.max_points)}"
            )
        for m in part.measures:
            if m.sub_items and sum((p for _, p in m.sub_items), ZERO) != m.max_points:
                raise ScoringSheetError(
                    f"{where}: the sub-items of {m.key} do not add up to {_plain(m.max_points)}"
                )
        for t in part.targets:
            _validate_target(where, t)
    item_keys = {t.key for t in sheet.target_items}
    for t in sheet.target_items:
        if t.exempt_if is not None and (
            t.exempt_if.item not in item_keys or t.exempt_if.item == t.key
        ):
            raise ScoringSheetError(
                f"{where}: {t.key} is exempted by unknown item {t.exempt_if.item!r}"
            )
    _validate_grades(where, sheet.grades)
    grade_keys = {g.key for g in sheet.grades}
    if sheet.veto_grade not in grade_keys:
        raise ScoringSheetError(f"{where}: veto grade {sheet.veto_grade!r} is not a grade")
    seen_rules: set[str] = set()
    for rule in sheet.consequences:
        if rule.key in seen_rules:
            raise ScoringSheetError(f"{where}: consequence {rule.key!r} is listed twice")
        seen_rules.add(rule.key)
        unknown = [g for g in rule.grades if g not in grade_keys]
        unknown += [i for i in rule.items_missed if i not in item_keys]
        if unknown:
            raise ScoringSheetError(f"{where}: consequence {rule.key} names unknown {unknown}")
        if not (rule.always or rule.grades or rule.items_missed or rule.vetoed is not None):
            raise ScoringSheetError(f"{where}: consequence {rule.key} has no condition")
        if rule.due_months is not None and rule.due_days is not None:
            raise ScoringSheetError(f"{where}: consequence {rule.key} has two deadlines")
        for n in (rule.due_months, rule.due_days):
            if n is not None and n < 0:
                raise ScoringSheetError(f"{where}: consequence {rule.key} has a negative deadline")


def _validate_target(where: str, t: TargetItem) -> None:
    if t.unit not in UNITS:
        raise ScoringSheetError(f"{where}: item {t.key} has unknown unit {t.unit!r}")
    if t.max_points < 0:
        raise ScoringSheetError(f"{where}: item {t.key} has a negative maximum")
    if t.compare_places is not None and not 0 <= t.compare_places <= 10:
        raise ScoringSheetError(
            f"{where}: item {t.key} compares at {t.compare_places} decimals (0 to 10 allowed)"
        )
    s = t.scoring
    if s is None:
        if t.max_points != 0:
            raise ScoringSheetError(
                f"{where}: item {t.key} has points ({_plain(t.max_points)}) but no completion bands"
            )
        return
    if t.direction is not Direction.HIGHER_IS_BETTER:
        raise ScoringSheetError(
            f"{where}: completion bands are defined for higher-is-better items only ({t.key})"
        )
    if s.ratio is CompletionRatio.LOG and t.unit != "frac":
        raise ScoringSheetError(f"{where}: the log completion ratio needs a rate item ({t.key})")
    if not s.bands:
        raise ScoringSheetError(f"{where}: item {t.key} has no completion bands")
    bounds = [b.at_least for b in s.bands]
    if bounds != sorted(bounds, reverse=True) or len(set(bounds)) != len(bounds):
        raise ScoringSheetError(f"{where}: bands of {t.key} must be listed high to low, once each")
    if s.bands[0].at_least != ONE or s.bands[0].points != t.max_points:
        raise ScoringSheetError(
            f"{where}: the top band of {t.key} must be completion 1 for the full {_plain(t.max_points)}"
        )
    pts = [b.points for b in s.bands] + [s.otherwise]
    if pts != sorted(pts, reverse=True) or min(pts) < 0:
        raise ScoringSheetError(
            f"{where}: band points of {t.key} must not rise as completion falls"
        )
    if s.bonus is not None and (
        s.bonus.step <= 0 or s.bonus.points_per_step <= 0 or s.bonus.max_points < 0
    ):
        raise ScoringSheetError(f"{where}: bonus of {t.key} needs a positive step and points")


def _validate_grades(where: str, grades: Sequence[Grade]) -> None:
    if not grades:
        raise ScoringSheetError(f"{where}: no grades")
    if len({g.key for g in grades}) != len(grades):
        raise ScoringSheetError(f"{where}: a grade key is used twice")
    ordered = sorted(grades, key=lambda g: (g.lower is not None, g.lower or ZERO))
    if ordered[0].lower is not None:
        raise ScoringSheetError(f"{where}: no grade covers scores below {_plain(ordered[0].lower)}")
    if ordered[-1].upper is not None:
        raise ScoringSheetError(
            f"{where}: no grade covers scores above {_plain(ordered[-1].upper)}"
        )
    for low, high in itertools.pairwise(ordered):
        if low.upper is None or high.lower is None or low.upper != high.lower:
            raise ScoringSheetError(
                f"{where}: grades {low.key} and {high.key} leave a gap or overlap"
            )
        if low.upper_inclusive == high.lower_inclusive:
            raise ScoringSheetError(
                f"{where}: the bound {_plain(low.upper)} between {low.key} and {high.key} must "
                "belong to exactly one of them"
            )
    if list(grades) != list(reversed(ordered)):
        raise ScoringSheetError(f"{where}: list grades from the highest to the lowest")


# ---------------------------------------------------------------------------------------------
# Inputs and results
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetFigures:
    """The figures of one target item: the target, the actual value, and where the sheet uses
    them the incentive target (激励目标) and amounts not counted (扣除项, by deduction key).
    Rates are fractions (0.035), amounts tce or tCO2.

    A target given as a range (4.0–4.5 %) has ``target`` = the lower bound and ``target_upper``
    = the upper bound; the item's ``range_bound`` picks the one that counts."""

    target: Decimal
    actual: Decimal
    incentive_target: Decimal | None = None
    deductions: Mapping[str, Decimal] = field(default_factory=dict)
    target_upper: Decimal | None = None


@dataclass(frozen=True)
class AssessmentInput:
    """What one assessed region or enterprise brings: figures per target item, and for the
    qualitative parts either per-item scores (``item_scores``) or part totals (``part_scores``)."""

    subject: str
    targets: Mapping[str, TargetFigures]
    item_scores: Mapping[str, Decimal] = field(default_factory=dict)
    part_scores: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class ItemResult:
    """The score of one item and the figures it came from."""

    part: str
    key: str
    title_zh: str
    max_points: Decimal
    points: Decimal
    bonus_points: Decimal
    status: Status
    veto: bool
    figures: Mapping[str, Decimal]
    basis: str  # how the points were found, e.g. "completion 0.92 ≥ 0.9 → 36"
    # the precision target and actual were compared at (None = exactly) and the rule behind it
    compare_places: int | None = None
    compare_rule: str = ""
    range_bound: RangeBound | None = None  # the bound used when the target was a range

    @property
    def score(self) -> Decimal:
        return self.points + self.bonus_points


@dataclass(frozen=True)
class PartResult:
    key: str
    title_zh: str
    max_points: Decimal
    score: Decimal
    entered_as: str  # "figures", "items" or "total"


@dataclass(frozen=True)
class AssessmentResult:
    """评价考核结果 of one region or enterprise under one sheet version."""

    subject: str
    sheet_name: str
    sheet_version: str
    parts: tuple[PartResult, ...]
    items: tuple[ItemResult, ...]
    total_score: Decimal
    score_grade: Grade  # by score alone
    grade: Grade  # after the veto
    vetoed: bool  # a veto item was missed
    veto_items: tuple[str, ...]

    def part_score(self, key: str) -> Decimal:
        for p in self.parts:
            if p.key == key:
                return p.score
        raise KeyError(key)

    def item(self, key: str) -> ItemResult:
        for i in self.items:
            if i.key == key:
                return i
        raise KeyError(key)

    @property
    def missed_items(self) -> tuple[str, ...]:
        return tuple(i.key for i in self.items if i.status is Status.MISSED)


@dataclass(frozen=True)
class Consequence:
    """A measure issued for a result, with its deadline and the rule that issued it."""

    key: str
    title_zh: str
    title_en: str
    subject: str
    issued_on: dt.date
    due_on: dt.date | None
    trigger: str
    source: str
    sheet_name: str
    sheet_version: str


# ---------------------------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------------------------


def completion_frac(ratio: CompletionRatio, target: Decimal, actual: Decimal) -> Decimal:
    """目标完成率 as a fraction (1 = target exactly met).  ``target`` must be positive."""
    if target <= 0:
        raise AssessmentError(f"a completion ratio needs a positive target, got {_plain(target)}")
    with localcontext() as ctx:
        ctx.prec = 34
        if ratio is CompletionRatio.LINEAR:
            return actual / target
        if not (target < 1 and actual < 1):
            raise AssessmentError("the log completion ratio needs reductions below 100 %")
        return (ONE - actual).ln() / (ONE - target).ln()


def score_completion(
    scoring: CompletionScoring, completion: Decimal
) -> tuple[Decimal, Decimal, str]:
    """(points, bonus points, basis) for a completion ratio under completion bands.

    ``step``: the points of the highest band whose ``at_least`` the completion reaches (a band's
    bound belongs to it: completion exactly 0.9 is in the 0.9 band); below the lowest band,
    ``otherwise``.  ``interpolate``: between two adjacent bands the points are interpolated
    linearly and rounded half up to 0.01.  The bonus counts whole steps above 1:
    floor((completion − 1) / step) × points_per_step, capped.
    """
    bands = scoring.bands
    points = scoring.otherwise
    basis = f"completion {_ratio(completion)} < {_plain(bands[-1].at_least)} → {_plain(points)}"
    for i, band in enumerate(bands):
        if completion >= band.at_least:
            points = band.points
            basis = f"completion {_ratio(completion)} ≥ {_plain(band.at_least)} → {_plain(points)}"
            if scoring.between is BetweenBands.INTERPOLATE and i > 0 and completion > band.at_least:
                upper = bands[i - 1]
                share = (completion - band.at_least) / (upper.at_least - band.at_least)
                points = (band.points + share * (upper.points - band.points)).quantize(
                    Decimal("0.01"), rounding=ROUND_HALF_UP
                )
                basis = (
                    f"completion {_ratio(completion)} between {_plain(band.at_least)} and "
                    f"{_plain(upper.at_least)} → {_plain(points)} (interpolated)"
                )
            break
    bonus = ZERO
    b = scoring.bonus
    if b is not None and completion > ONE:
        steps = (completion - ONE) // b.step
        bonus = min(steps * b.points_per_step, b.max_points)
        basis += f"; over-fulfilment {_ratio(completion - ONE)} = {_plain(steps)} step(s) of {_plain(b.step)} → +{_plain(bonus)}"
    return points, bonus, basis


def cumulative_rate_frac(previous_cumulative_frac: Decimal, year_frac: Decimal) -> Decimal:
    """累计下降率 after one more year: 1 − (1 − D_cum_prev) × (1 − D_year).

    The formula of the carbon-intensity assessment (《二氧化碳排放核算方法及数据核查表》, 2015,
    "2014年碳强度累计下降率 = 1 − (1 − D2013累计) × (1 − D2014年度)"; shared/reference/
    14_carbon_assessment.md §1.5, 13_regional_co2_accounting.md §1.2).  Reductions are positive
    fractions (a rise is negative); exact in Decimal.
    """
    for name, value in (("previous cumulative", previous_cumulative_frac), ("annual", year_frac)):
        if not value.is_finite() or value >= ONE:
            raise AssessmentError(f"a {name} reduction must be below 100 %, got {_plain(value)}")
    with localcontext() as ctx:
        ctx.prec = 34
        return ONE - (ONE - previous_cumulative_frac) * (ONE - year_frac)


def at_precision(value: Decimal, unit: str, places: int | None) -> Decimal:
    """``value`` as published: rounded half up (四舍五入) to ``places`` decimals of a percentage
    for a rate (``frac``), of the unit otherwise; ``None`` = unchanged.
    ``at_precision(Decimal("0.03996"), "frac", 2)`` → 0.0400 (printed 4.00 %)."""
    if places is None:
        return value
    exponent = -(places + 2) if unit == "frac" else -places
    return value.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_UP)


def precision_text(unit: str, places: int | None) -> str:
    """How figures of ``unit`` are compared: "2 decimals of a percentage", "exactly as given"."""
    if places is None:
        return "exactly as given"
    return (
        f"{places} decimals of a percentage" if unit == "frac" else f"{places} decimals of {unit}"
    )


def counted_target(item: TargetItem, figures: TargetFigures) -> tuple[Decimal, RangeBound | None]:
    """The target that counts and the range bound used (``None`` when the target is one number).

    Raises :class:`AssessmentError` for a range whose bounds are reversed, or when the item's
    sheet names no ``range_bound``."""
    if figures.target_upper is None:
        return figures.target, None
    if figures.target_upper < figures.target:
        raise AssessmentError(
            f"{item.key}: the target range {_plain(figures.target)}–{_plain(figures.target_upper)} "
            "runs backwards"
        )
    if item.range_bound is None:
        raise AssessmentError(
            f"{item.key} ({item.title_zh}): the target is a range but the sheet names no "
            "range_bound (lower or upper) for this item"
        )
    if item.range_bound is RangeBound.LOWER:
        return figures.target, RangeBound.LOWER
    return figures.target_upper, RangeBound.UPPER


def _meets(direction: Direction, target: Decimal, actual: Decimal) -> bool:
    if direction is Direction.HIGHER_IS_BETTER:
        return actual >= target
    return actual <= target


def _score_target(
    part: str,
    item: TargetItem,
    figures: TargetFigures,
    exempt: bool,
    subject: str,
) -> ItemResult:
    u = item.unit
    where = f"{subject}: {item.key}"
    try:
        target, bound = counted_target(item, figures)
    except AssessmentError as exc:
        raise AssessmentError(f"{subject}: {exc}") from exc
    figs: dict[str, Decimal] = {}
    if bound is not None:
        assert figures.target_upper is not None
        figs[f"target_lower_{u}"] = figures.target
        figs[f"target_upper_{u}"] = figures.target_upper
    figs[f"target_{u}"] = target
    figs[f"actual_{u}"] = figures.actual
    if figures.incentive_target is not None:
        figs[f"incentive_target_{u}"] = figures.incentive_target
    known = {d.key for d in item.deductions}
    unknown = sorted(set(figures.deductions) - known)
    if unknown:
        raise AssessmentError(f"{where}: the sheet allows no deduction {', '.join(unknown)}")
    actual = figures.actual
    for d in item.deductions:
        amount = figures.deductions.get(d.key, ZERO)
        if amount < 0:
            raise AssessmentError(f"{where}: deduction {d.key} is negative")
        if amount:
            figs[f"deduction_{d.key}_{u}"] = amount
        actual -= amount
    if figures.deductions:
        figs[f"counted_actual_{u}"] = actual
    places = item.compare_places
    compared_target = at_precision(target, u, places)
    compared_actual = at_precision(actual, u, places)
    notes: list[str] = []
    if bound is not None:
        notes.append(
            f"target range {_plain(figures.target)}–{_plain(figures.target_upper or ZERO)}: "
            f"the {bound.value} bound counts"
        )
    if compared_target != target or compared_actual != actual:
        figs[f"compared_target_{u}"] = compared_target
        figs[f"compared_actual_{u}"] = compared_actual
        notes.append(
            f"compared at {precision_text(u, places)}: target {_plain(compared_target)}, "
            f"actual {_plain(compared_actual)}"
        )
    met = _meets(item.direction, compared_target, compared_actual)
    if item.direction is Direction.LOWER_IS_BETTER and figures.target > 0:
        with localcontext() as ctx:
            ctx.prec = 34
            figs["overshoot_frac"] = actual / target - ONE

    def result(points: Decimal, bonus: Decimal, status: Status, basis: str) -> ItemResult:
        return ItemResult(
            part=part,
            key=item.key,
            title_zh=item.title_zh,
            max_points=item.max_points,
            points=points,
            bonus_points=bonus,
            status=status,
            veto=item.veto,
            figures=figs,
            basis="; ".join([basis, *notes]),
            compare_places=places,
            compare_rule=item.compare_rule,
            range_bound=bound,
        )

    if exempt:
        return result(
            item.max_points, ZERO, Status.EXEMPT, "exempt: incentive target reached → full points"
        )
    status = Status.MET if met else Status.MISSED
    if item.scoring is None:
        basis = "target met" if met else "target missed"
        return result(ZERO, ZERO, status, basis + " (assessed separately, no points)")
    try:
        completion = completion_frac(item.scoring.ratio, compared_target, compared_actual)
    except AssessmentError as exc:
        raise AssessmentError(f"{where} ({item.title_zh}): {exc}") from exc
    figs["completion_frac"] = completion
    points, bonus, basis = score_completion(item.scoring, completion)
    return result(points, bonus, status, basis)


def _reaches_incentive(item: TargetItem, figures: TargetFigures) -> bool:
    if figures.incentive_target is None:
        return False
    return _meets(
        item.direction,
        at_precision(figures.incentive_target, item.unit, item.compare_places),
        at_precision(figures.actual, item.unit, item.compare_places),
    )


def _check_score(where: str, value: Decimal, maximum: Decimal) -> None:
    if not value.is_finite() or value < 0 or value > maximum:
        raise AssessmentError(f"{where}: score {value} must be between 0 and {_plain(maximum)}")


def assess(sheet: ScoringSheet, data: AssessmentInput) -> AssessmentResult:
    """评价考核: score one region or enterprise under ``sheet``.

    Target items are scored from their figures; qualitative parts take per-item scores (each
    ≤ its item maximum, all items of the part) or one total (≤ the part maximum), not both.
    The grade is the one whose interval holds the total, unless a veto item was missed: then it
    is the sheet's veto grade (未完成节能目标的，均为未完成等级).
    """
    who = data.subject or "(unnamed)"
    known_targets = {t.key for t in sheet.target_items}
    for key in data.targets:
        if key not in known_targets:
            raise AssessmentError(f"{who}: sheet {sheet.name} has no target item {key!r}")
    for t in sheet.target_items:
        figures = data.targets.get(t.key)
        if figures is None:
            raise AssessmentError(f"{who}: figures for {t.key} ({t.title_zh}) are missing")
        try:
            target, _ = counted_target(t, figures)
        except AssessmentError as exc:
            raise AssessmentError(f"{who}: {exc}") from exc
        if figures.incentive_target is not None and not _meets(
            t.direction, target, figures.incentive_target
        ):
            raise AssessmentError(
                f"{who}: the incentive target of {t.key} is easier than its target"
            )
    qualitative_items = {m.key for p in sheet.parts for m in p.measures}
    qualitative_parts = {p.key for p in sheet.parts if p.qualitative}
    for key in data.item_scores:
        if key not in qualitative_items:
            raise AssessmentError(f"{who}: sheet {sheet.name} has no scored item {key!r}")
    for key in data.part_scores:
        if key not in qualitative_parts:
            raise AssessmentError(f"{who}: sheet {sheet.name} has no qualitative part {key!r}")

    items: list[ItemResult] = []
    parts: list[PartResult] = []
    for part in sheet.parts:
        if part.qualitative:
            parts.append(_score_qualitative(sheet, part, data, items))
            continue
        score = ZERO
        for t in part.targets:
            exempt = False
            if t.exempt_if is not None:
                other = sheet.target_item(t.exempt_if.item)
                exempt = _reaches_incentive(other, data.targets[other.key])
            result = _score_target(part.key, t, data.targets[t.key], exempt, who)
            items.append(result)
            score += result.score
        parts.append(PartResult(part.key, part.title_zh, part.max_points, score, "figures"))

    total = sum((p.score for p in parts), ZERO)
    score_grade = sheet.grade_for(total)
    veto_items = tuple(i.key for i in items if i.veto and i.status is Status.MISSED)
    grade = sheet.grade(sheet.veto_grade) if veto_items else score_grade
    return AssessmentResult(
        subject=data.subject,
        sheet_name=sheet.name,
        sheet_version=sheet.version,
        parts=tuple(parts),
        items=tuple(items),
        total_score=total,
        score_grade=score_grade,
        grade=grade,
        vetoed=bool(veto_items),
        veto_items=veto_items,
    )


def _score_qualitative(
    sheet: ScoringSheet, part: Part, data: AssessmentInput, items: list[ItemResult]
) -> PartResult:
    who = data.subject or "(unnamed)"
    given = [m for m in part.measures if m.key in data.item_scores]
    total = data.part_scores.get(part.key)
    if given and total is not None:
        raise AssessmentError(
            f"{who}: give either the item scores or the total of {part.key}, not both"
        )
    if given:
        missing = [m.key for m in part.measures if m.key not in data.item_scores]
        if missing:
            raise AssessmentError(f"{who}: scores missing for {', '.join(missing)} of {part.key}")
        score = ZERO
        for m in part.measures:
            value = data.item_scores[m.key]
            _check_score(f"{who}: {m.key} ({m.title_zh})", value, m.max_points)
            items.append(
                ItemResult(
                    part=part.key,
                    key=m.key,
                    title_zh=m.title_zh,
                    max_points=m.max_points,
                    points=value,
                    bonus_points=ZERO,
                    status=Status.SCORED,
                    veto=False,
                    figures={"score": value},
                    basis="entered by the assessors",
                )
            )
            score += value
        return PartResult(part.key, part.title_zh, part.max_points, score, "items")
    if total is None:
        raise AssessmentError(f"{who}: the score of {part.key} ({part.title_zh}) is missing")
    _check_score(f"{who}: {part.key} ({part.title_zh})", total, part.max_points)
    return PartResult(part.key, part.title_zh, part.max_points, total, "total")


# ---------------------------------------------------------------------------------------------
# Consequences
# ---------------------------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus calendar months, the day clamped to the month's end (1-31 + 1 → 2-28/29)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def consequences_for(
    sheet: ScoringSheet, result: AssessmentResult, issued_on: dt.date
) -> tuple[Consequence, ...]:
    """考核结果运用: the measures the sheet's rules issue for ``result``, in rule order, with
    due dates counted from ``issued_on`` (the date the results are announced)."""
    if (result.sheet_name, result.sheet_version) != (sheet.name, sheet.version):
        raise AssessmentError(
            f"result was scored with {result.sheet_name} {result.sheet_version}, "
            f"not {sheet.name} {sheet.version}"
        )
    missed = set(result.missed_items)
    out: list[Consequence] = []
    for rule in sheet.consequences:
        reasons: list[str] = []
        if rule.grades:
            if result.grade.key not in rule.grades:
                continue
            reasons.append(f"grade {result.grade.name_zh}")
        if rule.items_missed:
            hit = [k for k in rule.items_missed if k in missed]
            if not hit:
                continue
            reasons.append("missed " + ", ".join(result.item(k).title_zh for k in hit))
        if rule.vetoed is not None:
            if result.vetoed != rule.vetoed:
                continue
            reasons.append("veto applied" if rule.vetoed else "no veto")
        if rule.always:
            reasons.append("every result")
        due: dt.date | None = None
        if rule.due_months is not None:
            due = add_months(issued_on, rule.due_months)
        elif rule.due_days is not None:
            due = issued_on + dt.timedelta(days=rule.due_days)
        out.append(
            Consequence(
                key=rule.key,
                title_zh=rule.title_zh,
                title_en=rule.title_en,
                subject=result.subject,
                issued_on=issued_on,
                due_on=due,
                trigger="; ".join(reasons),
                source=rule.source,
                sheet_name=sheet.name,
                sheet_version=sheet.version,
            )
        )
    return tuple(out)


def _ratio(value: Decimal) -> str:
    """A ratio for reading, truncated (not rounded) to 6 places so that it never shows a band
    bound it has not reached: 0.8999999 → 0.899999."""
    return _plain(value.quantize(Decimal("0.000001"), rounding=ROUND_DOWN))


def _plain(value: Decimal) -> str:
    """A Decimal without exponent or trailing zeros: 40, 0.9, 95.01."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


# ---------------------------------------------------------------------------------------------
# The scoring basis in Chinese (the record keeps the basis as computed; pages in Chinese show it
# in these words)
# ---------------------------------------------------------------------------------------------

_N = r"(-?[\d.]+)"
_BASIS_ZH: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(rf"completion {_N} between {_N} and {_N} → {_N} \(interpolated\)"),
        r"完成率 \1 介于 \2 与 \3 之间，线性插值得 \4 分",
    ),
    (re.compile(rf"completion {_N} ≥ {_N} → {_N}"), r"完成率 \1 ≥ \2，得 \3 分"),
    (re.compile(rf"completion {_N} < {_N} → {_N}"), r"完成率 \1 < \2，得 \3 分"),
    (
        re.compile(rf"over-fulfilment {_N} = {_N} step\(s\) of {_N} → \+{_N}"),
        r"超额完成 \1，计 \2 档（每档 \3），加 \4 分",
    ),
    (
        re.compile(rf"compared at (\d+) decimals of a percentage: target {_N}, actual {_N}"),
        r"按百分数保留 \1 位小数比较：目标 \2，实际 \3",
    ),
    (
        re.compile(rf"compared at (\d+) decimals of (\S+): target {_N}, actual {_N}"),
        r"按 \2 保留 \1 位小数比较：目标 \3，实际 \4",
    ),
    (
        re.compile(rf"target range {_N}–{_N}: the lower bound counts"),
        r"目标区间 \1–\2：按下限考核",
    ),
    (
        re.compile(rf"target range {_N}–{_N}: the upper bound counts"),
        r"目标区间 \1–\2：按上限考核",
    ),
    (
        re.compile(r"exempt: incentive target reached → full points"),
        "达到激励目标，免于考核，得满分",
    ),
    (re.compile(r"target met \(assessed separately, no points\)"), "已完成（单独考核，不计分）"),
    (re.compile(r"target missed \(assessed separately, no points\)"), "未完成（单独考核，不计分）"),
    (re.compile(r"entered by the assessors"), "由考核组评定"),
    (re.compile(r"; "), "；"),
)


def basis_zh(basis: str) -> str:
    """A scoring basis (:func:`score_completion`, :func:`score_target`) in Chinese; text it does
    not know is left as it is."""
    out = basis
    for pattern, words in _BASIS_ZH:
        out = pattern.sub(words, out)
    return out
