"""The indicator catalogue (指标目录) as plain dataclasses, and its validation.

The catalogue is data (``reference/data/indicators.yaml``, loaded by
:mod:`dualcontrol.reference.catalogue`): every target indicator with its kind (how a target of it
is stated and tracked), the metric it tracks (how its actual is computed from statistics), its
direction, pace and progress definitions, the barometer class that rates it and its default rule
set, the decomposition methods, the assessment sheets and the bulletin column.  Every part of the
loop reads it; nothing here knows any particular indicator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class CatalogueError(ValueError):
    """The catalogue is inconsistent (names the indicator and the field)."""


class Kind(StrEnum):
    """How a target of an indicator is stated (and therefore tracked)."""

    REDUCTION = "reduction"  # cumulative relative reduction of the metric from the base year
    LEVEL = "level"  # the metric's value at the end year
    TOTAL = "total"  # a cap on the metric's annual value at the end year
    INCREMENT = "increment"  # a cap on the metric's increase from the base year
    PERIOD_CAP = "period_cap"  # a cap on the metric summed over the period's years
    SHARE = "share"  # a share (of two statistics) at the end year
    PEAK_YEAR = "peak_year"  # the year by which the metric peaks
    AMOUNT = "amount"  # an amount to deliver, summed over the period


class MetricKind(StrEnum):
    COLUMN = "column"
    INTENSITY = "intensity"
    SHARE = "share"


class Direction(StrEnum):
    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"


#: kinds whose target is a percentage (stored as 3.2 for 3.2 %)
PERCENT_KINDS = frozenset({Kind.REDUCTION, Kind.SHARE})
#: pace definitions valid for each kind
PACES: Mapping[Kind, frozenset[str]] = {
    Kind.REDUCTION: frozenset({"compound", "linear"}),
    Kind.LEVEL: frozenset({"linear_path"}),
    Kind.TOTAL: frozenset({"linear_path"}),
    Kind.SHARE: frozenset({"linear_path"}),
    Kind.INCREMENT: frozenset({"time"}),
    Kind.PERIOD_CAP: frozenset({"time"}),
    Kind.AMOUNT: frozenset({"time"}),
    Kind.PEAK_YEAR: frozenset({"peak"}),
}
PROGRESSES: Mapping[Kind, frozenset[str]] = {
    Kind.REDUCTION: frozenset({"log", "linear"}),
    Kind.LEVEL: frozenset({"path"}),
    Kind.TOTAL: frozenset({"path"}),
    Kind.SHARE: frozenset({"path"}),
    Kind.INCREMENT: frozenset({"used"}),
    Kind.PERIOD_CAP: frozenset({"used"}),
    Kind.AMOUNT: frozenset({"delivered"}),
    Kind.PEAK_YEAR: frozenset({"peak"}),
}
#: the progress definition each pace is consistent with (a region exactly on pace shows k/n)
CONSISTENT_PACE = {"log": "compound", "linear": "linear"}
HOLDERS = frozenset({"region", "sector", "unit"})
#: the default denominator of an intensity (GDP at current prices) and its real growth
GDP_COLUMN = "gdp_10k_yuan"
GDP_GROWTH_COLUMN = "gdp_real_growth_pct"
VALUE_SUFFIX = "_10k_yuan"
GROWTH_SUFFIX = "_real_growth_pct"


def growth_column(denominator: str) -> str:
    """The real-growth column of a value column: ``X_10k_yuan`` → ``X_real_growth_pct``."""
    if not denominator.endswith(VALUE_SUFFIX):
        raise CatalogueError(
            f"an intensity's denominator is a value in 10k yuan (…{VALUE_SUFFIX}), "
            f"got {denominator!r}"
        )
    return denominator.removesuffix(VALUE_SUFFIX) + GROWTH_SUFFIX


@dataclass(frozen=True)
class Statistic:
    """A statistics column an indicator's metric reads."""

    code: str
    name_zh: str
    name_en: str
    unit: str
    is_field: bool = False  # a column of the statistics table itself (else kept per row)
    computed: str = ""  # how it is derived when a row does not give it ("regional_co2")


@dataclass(frozen=True)
class DisplayUnit:
    code: str
    scale: float
    label_zh: str
    label_en: str
    places: int


@dataclass(frozen=True)
class Metric:
    """The figure an indicator tracks, computed from the statistics of one region (or sector)."""

    code: str
    kind: MetricKind
    unit: str  # a :class:`DisplayUnit` code
    name_zh: str
    name_en: str
    column: str = ""  # kind column
    numerator: str = ""  # kinds intensity and share
    # kind share: the denominator; kind intensity: a value at current prices (``…_10k_yuan``) the
    # numerator is divided by at comparable prices — GDP unless named (e.g. industrial value added
    # for 万元工业增加值用水量)
    denominator: str = ""
    deductions: str = ""  # "total" | "intensity" | "" — which control's deductions apply

    @property
    def intensity_denominator(self) -> str:
        """The denominator of an intensity (GDP unless the metric names another)."""
        return self.denominator or GDP_COLUMN

    @property
    def denominator_growth(self) -> str:
        """The column with the real growth (%, comparable prices, against the same period of the
        previous year) of an intensity's denominator: ``X_10k_yuan`` → ``X_real_growth_pct``
        (``gdp_10k_yuan`` → ``gdp_real_growth_pct``)."""
        return growth_column(self.intensity_denominator)

    @property
    def inputs(self) -> tuple[str, ...]:
        if self.kind is MetricKind.INTENSITY:
            cols: tuple[str, ...] = (
                self.numerator,
                self.intensity_denominator,
                self.denominator_growth,
            )
        else:
            cols = (self.column, self.numerator, self.denominator)
        return tuple(dict.fromkeys(c for c in cols if c))

    @property
    def amount_column(self) -> str:
        """The additive column behind the metric (its numerator)."""
        return self.column or self.numerator


@dataclass(frozen=True)
class IndicatorDef:
    """One catalogue entry."""

    code: str
    name_zh: str
    name_en: str
    unit: str
    kind: Kind
    metric: Metric
    direction: Direction
    holders: tuple[str, ...]
    progress_definitions: tuple[str, ...]
    progress_default: str
    pace_definitions: tuple[str, ...]
    pace_default: str
    barometer_id: str
    rate_as: str
    default_rule_set: str | None
    allocation: str
    decomposition_methods: tuple[str, ...]
    assessment_sheets: tuple[str, ...]
    bulletin_layout: str | None
    bulletin_column_zh: str
    bulletin_places: int
    source: str

    @property
    def is_percent(self) -> bool:
        return self.kind in PERCENT_KINDS

    @property
    def warning_unit(self) -> str:
        """The unit of the figures the barometer rates (``frac`` for rates and shares)."""
        if self.kind in PERCENT_KINDS:
            return "frac"
        if self.kind is Kind.PEAK_YEAR:
            return self.metric.unit
        return self.metric.unit


@dataclass(frozen=True)
class Catalogue:
    version: str
    source: str
    statistics: Mapping[str, Statistic]
    units: Mapping[str, DisplayUnit]
    metrics: Mapping[str, Metric]
    indicators: Mapping[str, IndicatorDef] = field(default_factory=dict)

    def indicator(self, code: str) -> IndicatorDef:
        try:
            return self.indicators[code]
        except KeyError:
            raise CatalogueError(
                f"unknown indicator {code!r}; the catalogue has {', '.join(self.indicators)}"
            ) from None

    def columns(self) -> tuple[str, ...]:
        """Every statistics column some metric reads (fields first)."""
        return tuple(self.statistics)


def validate_catalogue(cat: Catalogue, *, rating_classes: frozenset[str]) -> None:
    """Raise :class:`CatalogueError` on the first inconsistency."""
    for m in cat.metrics.values():
        where = f"metric {m.code}"
        if m.unit not in cat.units:
            raise CatalogueError(f"{where}: unknown unit {m.unit!r}")
        needed = {
            MetricKind.COLUMN: (m.column,),
            MetricKind.INTENSITY: (m.numerator,),
            MetricKind.SHARE: (m.numerator, m.denominator),
        }[m.kind]
        for col in needed:
            if not col:
                raise CatalogueError(f"{where}: a {m.kind.value} metric needs its columns")
        if m.kind is MetricKind.INTENSITY:
            try:
                needed = (m.numerator, m.intensity_denominator, m.denominator_growth)
            except CatalogueError as exc:
                raise CatalogueError(f"{where}: {exc}") from None
        for col in needed:
            if col not in cat.statistics:
                raise CatalogueError(f"{where}: unknown statistics column {col!r}")
        if m.deductions not in ("", "total", "intensity"):
            raise CatalogueError(f"{where}: deductions must be total or intensity")
    for ind in cat.indicators.values():
        where = f"indicator {ind.code}"
        if not set(ind.holders) <= HOLDERS or not ind.holders:
            raise CatalogueError(f"{where}: holders must be among {sorted(HOLDERS)}")
        if not set(ind.pace_definitions) <= PACES[ind.kind]:
            raise CatalogueError(f"{where}: pace definitions must be among {PACES[ind.kind]}")
        if not set(ind.progress_definitions) <= PROGRESSES[ind.kind]:
            raise CatalogueError(
                f"{where}: progress definitions must be among {PROGRESSES[ind.kind]}"
            )
        if ind.pace_default not in ind.pace_definitions:
            raise CatalogueError(f"{where}: the default pace is not one of its definitions")
        if ind.progress_default not in ind.progress_definitions:
            raise CatalogueError(f"{where}: the default progress is not one of its definitions")
        consistent = CONSISTENT_PACE.get(ind.progress_default)
        if consistent and ind.pace_default != consistent:
            raise CatalogueError(
                f"{where}: default pace {ind.pace_default} is not consistent with default "
                f"progress {ind.progress_default} (expected {consistent})"
            )
        if ind.rate_as not in rating_classes:
            raise CatalogueError(
                f"{where}: barometer rate_as {ind.rate_as!r} is not one of {sorted(rating_classes)}"
            )
        if ind.kind is Kind.REDUCTION and ind.direction is not Direction.HIGHER_IS_BETTER:
            raise CatalogueError(f"{where}: a reduction is higher-is-better")
        if ind.kind is Kind.SHARE and ind.metric.kind is not MetricKind.SHARE:
            raise CatalogueError(f"{where}: a share indicator needs a share metric")
        if ind.kind in (Kind.INCREMENT, Kind.PERIOD_CAP, Kind.AMOUNT, Kind.TOTAL) and (
            ind.metric.kind is not MetricKind.COLUMN
        ):
            raise CatalogueError(f"{where}: a {ind.kind.value} needs an additive (column) metric")
        if len(ind.barometer_id) > 32:
            raise CatalogueError(f"{where}: barometer id longer than 32 characters")
    ids = [i.barometer_id for i in cat.indicators.values()]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise CatalogueError(f"barometer ids used twice: {', '.join(sorted(dup))}")
