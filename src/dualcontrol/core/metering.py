"""Energy online monitoring (重点用能单位能耗在线监测): data-item codes, time grids and quality rules.

Pure functions over plain values (shared/reference/formats.md §3):

* the 16-character 采集数据项编码 — 生产工序 (1–2), 工序单元 (3–4), 重点用能设备类型 (5–6), 设备编号 (7–8),
  采集数据类型 (9–10), 能源品种/数据分类 (11–14), 用途 (15–16) — decomposed and validated against a
  :class:`CodeCatalogue` (the official code tables were not found: the catalogue is reference data);
* 采集频率 0 实时 / 1 日 / 2 月 and the time grid of each: real-time items every 15 minutes (30 or
  60 where granted), daily items at 00:00 (tolerance 1 minute), monthly items on the 1st at 00:00
  (tolerance 1 day);
* a reading's checks (bad value, future, too old, off the grid, out of range), expected counts,
  数据完整性 (received / expected), 数据一致性 (Σ daily vs monthly), stuck-meter runs, working days
  for the 3-working-day repair rule (counted on a :class:`~dualcontrol.core.workcalendar.WorkCalendar`:
  China's public holidays and 调休), and the reconciliation of meter totals with the 205-1 report.

Timestamps are naive :class:`datetime.datetime` in platform local time (Asia/Shanghai, UTC+8, no
daylight saving): the shells convert at the edges. A reading's timestamp is the *start* of its
interval (统计时间: a day starts at 00:00, a month on the 1st), so the readings of day D are those
stamped in [D 00:00, D+1 00:00). Quality figures are floats; fractions in ``_frac`` names.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import IntEnum, StrEnum

from dualcontrol.core.report205 import Row205
from dualcontrol.core.units import conversion_factor
from dualcontrol.core.workcalendar import WorkCalendar

CODE_LENGTH = 16
# (part, start, end, zh, en)
CODE_PARTS: tuple[tuple[str, int, int, str, str], ...] = (
    ("process", 0, 2, "生产工序编码", "process code"),
    ("process_unit", 2, 4, "工序单元编码", "process-unit code"),
    ("equipment_type", 4, 6, "重点用能设备类型编码", "equipment-type code"),
    ("equipment_no", 6, 8, "重点用能设备编码", "equipment number"),
    ("data_type", 8, 10, "采集数据类型", "data type"),
    ("energy_code", 10, 14, "能源品种/数据分类编码", "energy / data-class code"),
    ("use", 14, 16, "用途编码", "use code"),
)
PART_NAMES: dict[str, tuple[str, str]] = {p: (zh, en) for p, _, _, zh, en in CODE_PARTS}
CODE_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
ENERGY_KIND = "energy"
_EPOCH = dt.datetime(2000, 1, 1)  # a local midnight: every grid is aligned to local midnights

MESSAGES: dict[str, tuple[str, str]] = {
    # data-item codes
    "code_length": (
        "采集数据项编码应为 16 位，实为 {length} 位",
        "a data-item code has 16 characters, not {length}",
    ),
    "code_chars": (
        "{part}「{value}」只能由数字和大写字母组成",
        "{part} {value!s} may only contain digits and upper-case letters",
    ),
    "unknown_data_type": ("未知的采集数据类型「{value}」", "unknown data type {value}"),
    "unknown_energy_code": (
        "采集数据类型 {data_type} 下没有编码「{value}」",
        "no code {value} in data type {data_type}",
    ),
    "unknown_use": ("未知的用途编码「{value}」", "unknown use code {value}"),
    # readings
    "unknown_item": (
        "本单位没有采集数据项 {item}",
        "the unit has no data item {item}",
    ),
    "missing_item": ("缺少采集数据项编码", "the data-item code is missing"),
    "bad_entry": ("第 {index} 条不是 JSON 对象", "entry {index} is not a JSON object"),
    "bad_frequency": (
        "采集频率「{value}」无效（0 实时、1 日、2 月）",
        "frequency {value!s} is not valid (0, 1, 2)",
    ),
    "inactive_item": ("数据项 {item} 已停用", "data item {item} is not active"),
    "bad_timestamp": ("时间「{value}」无法识别", "timestamp {value!s} cannot be read"),
    "bad_value": ("数值「{value}」无效", "value {value!s} is not a number"),
    "bad_source": (
        "数据采集来源「{value}」无效（4 现场仪表、5 手工填报）",
        "source {value!s} is not valid (4 meter, 5 manual)",
    ),
    "future": ("时间 {ts} 晚于当前时间", "time {ts} is in the future"),
    "period_open": (
        "统计周期 {ts} 至 {end} 尚未结束",
        "the period {ts} to {end} has not ended yet",
    ),
    "too_old": (
        "时间 {ts} 早于可补传的最早时间 {earliest}",
        "time {ts} is older than the earliest accepted time {earliest}",
    ),
    "off_grid": (
        "时间 {ts} 不在该数据项的时间网格上（{grid}）",
        "time {ts} is not on the item's grid ({grid})",
    ),
    "out_of_range": (
        "数值 {value} 超出该数据项的范围 [{low}, {high}]",
        "value {value} is outside the item's range [{low}, {high}]",
    ),
    "duplicate": (
        "该时间的数据已接收（保留已存数值 {stored}）",
        "already received for this time (stored value {stored} kept)",
    ),
}


def message(key: str, params: Mapping[str, object], lang: str = "zh-hans") -> str:
    """The text of a problem ``key`` in Chinese (default) or English."""
    zh, en = MESSAGES[key]
    template = en if lang.startswith("en") else zh
    return template.format(**{k: v for k, v in params.items()})


class Frequency(IntEnum):
    """采集频率 (stat_type)."""

    REALTIME = 0
    DAILY = 1
    MONTHLY = 2


class DataSource(IntEnum):
    """数据采集来源 (input_type): the two codes seen."""

    METER = 4
    MANUAL = 5


class Aggregation(StrEnum):
    """How real-time values make a daily figure."""

    SUM = "sum"  # interval quantities (kWh in the interval …)
    MEAN = "mean"  # rates, ratios, states


# --------------------------------------------------------------------------------------------
# Data-item codes


@dataclass(frozen=True)
class EnergyCode:
    """A 4-digit code of positions 11–14 (能源品种 or another data class) of the catalogue."""

    code: str
    data_type: str
    name_zh: str
    unit: str
    product_code: str = ""  # 205-1 product it reconciles with; "" = none
    aggregation: Aggregation = Aggregation.SUM
    name_en: str = ""
    source: str = ""


@dataclass(frozen=True)
class CodeCatalogue:
    """The code tables a data-item code is checked against (reference data)."""

    data_types: Mapping[str, str]  # code -> kind (energy, medium, product, indicator, other)
    energy_codes: Mapping[str, EnergyCode]
    use_codes: Mapping[str, str]  # code -> name
    version: str = ""

    def is_energy(self, data_type: str) -> bool:
        return self.data_types.get(data_type) == ENERGY_KIND


@dataclass(frozen=True)
class ItemCode:
    """采集数据项编码, decomposed."""

    process: str
    process_unit: str
    equipment_type: str
    equipment_no: str
    data_type: str
    energy_code: str
    use: str

    @property
    def code(self) -> str:
        return "".join(getattr(self, p) for p, _, _, _, _ in CODE_PARTS)

    @property
    def unit_level(self) -> bool:
        """True when the item measures the whole unit (process … equipment all 00)."""
        return self.code[:8] == "00000000"

    def parts(self) -> list[tuple[str, str, str, str]]:
        """(part, value, zh name, en name) in code order."""
        return [(p, getattr(self, p), zh, en) for p, _, _, zh, en in CODE_PARTS]


@dataclass(frozen=True)
class CodeProblem:
    """One problem of a data-item code: which part and why (render with :func:`message`)."""

    part: str
    key: str
    params: Mapping[str, str] = field(default_factory=dict)

    def message(self, lang: str = "zh-hans") -> str:
        return message(self.key, self.params, lang)


class ItemCodeError(ValueError):
    """A data-item code is not valid; ``problems`` lists every reason."""

    def __init__(self, problems: Sequence[CodeProblem]):
        self.problems = tuple(problems)
        super().__init__("; ".join(p.message("en") for p in self.problems))


def decompose(code: str) -> ItemCode:
    """Slice a 16-character code into its parts (no validation beyond the length)."""
    if len(code) != CODE_LENGTH:
        raise ItemCodeError([CodeProblem("code", "code_length", {"length": str(len(code))})])
    return ItemCode(**{p: code[a:b] for p, a, b, _, _ in CODE_PARTS})


def code_problems(code: str, catalogue: CodeCatalogue | None = None) -> list[CodeProblem]:
    """Every problem of ``code``; an empty list means it is valid.

    Each part must be digits or upper-case letters (the free parts' alphabet is not stated in the
    sources: *inference*); with a catalogue, the data type, the 4-digit code (within its data type)
    and the use code must be known.
    """
    code = code.strip()
    if len(code) != CODE_LENGTH:
        return [CodeProblem("code", "code_length", {"length": str(len(code))})]
    item = decompose(code)
    problems = [
        CodeProblem(part, "code_chars", {"part": zh, "value": value})
        for part, value, zh, _ in item.parts()
        if not set(value) <= CODE_CHARS
    ]
    if problems or catalogue is None:
        return problems
    if item.data_type not in catalogue.data_types:
        problems.append(CodeProblem("data_type", "unknown_data_type", {"value": item.data_type}))
    else:
        energy = catalogue.energy_codes.get(item.energy_code)
        if energy is None or energy.data_type != item.data_type:
            problems.append(
                CodeProblem(
                    "energy_code",
                    "unknown_energy_code",
                    {"value": item.energy_code, "data_type": item.data_type},
                )
            )
    if item.use not in catalogue.use_codes:
        problems.append(CodeProblem("use", "unknown_use", {"value": item.use}))
    return problems


def parse_item_code(code: str, catalogue: CodeCatalogue | None = None) -> ItemCode:
    """The decomposed code, or :class:`ItemCodeError` listing every problem."""
    problems = code_problems(code, catalogue)
    if problems:
        raise ItemCodeError(problems)
    return decompose(code.strip())


def to_product_factor(item_unit: str, product_unit: str) -> Decimal:
    """Multiplier from an item's 能源单位 to its 205-1 product unit (千瓦时 → 万千瓦时 = 0.0001)."""
    return conversion_factor(item_unit, product_unit)


# --------------------------------------------------------------------------------------------
# Rules and time grids


@dataclass(frozen=True)
class MeteringRules:
    """Thresholds of the monitoring rules (``metering_rules.yaml``); ``sources`` say where from."""

    version: str
    completeness_min_frac: float = 0.90
    consistency_max_dev_frac: float = 0.05
    standard_interval_minutes: int = 15
    allowed_interval_minutes: tuple[int, ...] = (15, 30, 60)
    realtime_tolerance_s: int = 60
    day_tolerance_s: int = 60
    month_tolerance_days: int = 1
    future_tolerance_s: int = 300
    max_age_days: int = 400
    stuck_min_hours: float = 4.0
    stuck_ignore_zero: bool = True
    late_after_minutes: int = 60
    fault_repair_working_days: int = 3
    calibration_warn_days: int = 30
    reconciliation_tolerance_frac: float = 0.05
    storable_kinds: tuple[str, ...] = ("coal", "coke", "oil")
    max_readings_per_batch: int = 100000
    sources: Mapping[str, str] = field(default_factory=dict)


def _seconds(ts: dt.datetime) -> int:
    return int((ts - _EPOCH).total_seconds())


def _at(seconds: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(seconds=seconds)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def period_end(ts: dt.datetime, frequency: Frequency, interval_minutes: int) -> dt.datetime:
    """End of the interval that starts at grid point ``ts``."""
    if frequency == Frequency.REALTIME:
        return ts + dt.timedelta(minutes=interval_minutes)
    if frequency == Frequency.DAILY:
        return ts + dt.timedelta(days=1)
    return dt.datetime.combine(next_month(ts.date()), dt.time())


def grid_label(frequency: Frequency, interval_minutes: int) -> str:
    if frequency == Frequency.REALTIME:
        return f"every {interval_minutes} min from 00:00"
    if frequency == Frequency.DAILY:
        return "00:00 each day"
    return "00:00 on the 1st of each month"


def align(
    ts: dt.datetime, frequency: Frequency, interval_minutes: int, rules: MeteringRules
) -> dt.datetime | None:
    """The grid point ``ts`` is filed at, or None when it is not within the tolerance of one.

    Real-time: the nearest multiple of ``interval_minutes`` after local midnight, within
    ``realtime_tolerance_s``; daily: the nearest 00:00 within ``day_tolerance_s``; monthly: the
    nearest 1st-of-month 00:00 within ``month_tolerance_days``.
    """
    if frequency == Frequency.REALTIME:
        step = interval_minutes * 60
        s = _seconds(ts) + ts.microsecond / 1e6
        nearest = round(s / step) * step
        return _at(nearest) if abs(s - nearest) <= rules.realtime_tolerance_s else None
    if frequency == Frequency.DAILY:
        s = _seconds(ts) + ts.microsecond / 1e6
        nearest = round(s / 86400) * 86400
        return _at(nearest) if abs(s - nearest) <= rules.day_tolerance_s else None
    this = dt.datetime.combine(month_start(ts.date()), dt.time())
    following = dt.datetime.combine(next_month(ts.date()), dt.time())
    tol = dt.timedelta(days=rules.month_tolerance_days)
    best = min((this, following), key=lambda m: abs(ts - m))
    return best if abs(ts - best) <= tol else None


def expected_count(
    frequency: Frequency, interval_minutes: int, start: dt.datetime, end: dt.datetime
) -> int:
    """Number of grid points t with start <= t < end (应采集上传数据个数)."""
    if end <= start:
        return 0
    if frequency == Frequency.MONTHLY:
        n = 0
        m = month_start(start.date())
        point = dt.datetime.combine(m, dt.time())
        if point < start:
            point = dt.datetime.combine(next_month(m), dt.time())
        while point < end:
            n += 1
            point = dt.datetime.combine(next_month(point.date()), dt.time())
        return n
    step = interval_minutes * 60 if frequency == Frequency.REALTIME else 86400
    first = -(-_seconds(start) // step) * step  # ceil to the grid
    last = _seconds(end)
    return max(0, -(-(last - first) // step))


def per_day(frequency: Frequency, interval_minutes: int) -> int:
    """Expected readings in a whole day (96 at 15 minutes, 24 hourly, 1 daily, 0 monthly)."""
    if frequency == Frequency.REALTIME:
        return 1440 // interval_minutes
    return 1 if frequency == Frequency.DAILY else 0


# --------------------------------------------------------------------------------------------
# Checking readings


@dataclass(frozen=True)
class ItemSpec:
    """What the reading checks need to know about a data item."""

    item_id: int
    code: str
    frequency: Frequency
    interval_minutes: int = 15
    min_value: float | None = None
    max_value: float | None = None
    active: bool = True


@dataclass(frozen=True)
class ReadingProblem:
    """Why one reading was refused (render with :func:`message`)."""

    key: str
    params: Mapping[str, str] = field(default_factory=dict)

    def message(self, lang: str = "zh-hans") -> str:
        return message(self.key, self.params, lang)


def _num(value: float) -> str:
    return format(value, "g") if math.isfinite(value) else str(value)


def resolve_item(
    code: str, frequency: int | None, items: Mapping[str, Sequence[ItemSpec]]
) -> ItemSpec | ReadingProblem:
    """The unit's item for ``code`` at ``frequency``; without a frequency, the item of the
    highest resolution registered under the code (real-time before daily before monthly)."""
    candidates = list(items.get(code.strip(), ()))
    if frequency is not None:
        candidates = [c for c in candidates if c.frequency == frequency]
    if not candidates:
        return ReadingProblem("unknown_item", {"item": code})
    return min(candidates, key=lambda c: c.frequency)


def check_reading(
    spec: ItemSpec, ts: dt.datetime, value: float, now: dt.datetime, rules: MeteringRules
) -> tuple[dt.datetime, None] | tuple[None, ReadingProblem]:
    """(grid timestamp, None) for an acceptable reading, else (None, the first problem).

    Order of the checks: inactive item, value not a finite number, future time (beyond the
    clock-skew allowance; for daily and monthly items the period must have ended), older than
    ``max_age_days``, off the item's grid, outside the item's [min, max] (empty bound = none).
    """
    if not spec.active:
        return None, ReadingProblem("inactive_item", {"item": spec.code})
    if not math.isfinite(value):
        return None, ReadingProblem("bad_value", {"value": _num(value)})
    skew = dt.timedelta(seconds=rules.future_tolerance_s)
    if ts > now + skew:
        return None, ReadingProblem("future", {"ts": ts.isoformat(sep=" ")})
    earliest = now - dt.timedelta(days=rules.max_age_days)
    if ts < earliest:
        return None, ReadingProblem(
            "too_old",
            {
                "ts": ts.isoformat(sep=" "),
                "earliest": earliest.isoformat(sep=" ", timespec="minutes"),
            },
        )
    grid = align(ts, spec.frequency, spec.interval_minutes, rules)
    if grid is None:
        return None, ReadingProblem(
            "off_grid",
            {
                "ts": ts.isoformat(sep=" "),
                "grid": grid_label(spec.frequency, spec.interval_minutes),
            },
        )
    if spec.frequency != Frequency.REALTIME:
        end = period_end(grid, spec.frequency, spec.interval_minutes)
        if end > now + skew:
            return None, ReadingProblem(
                "period_open", {"ts": grid.isoformat(sep=" "), "end": end.isoformat(sep=" ")}
            )
    low, high = spec.min_value, spec.max_value
    if (low is not None and value < low) or (high is not None and value > high):
        return None, ReadingProblem(
            "out_of_range",
            {
                "value": _num(value),
                "low": "—" if low is None else _num(low),
                "high": "—" if high is None else _num(high),
            },
        )
    return grid, None


# --------------------------------------------------------------------------------------------
# Quality


def completeness(received: int, expected: int) -> float | None:
    """数据完整性 = received / expected (None when nothing was expected); capped at 1."""
    if expected <= 0:
        return None
    return min(1.0, received / expected)


def complete_enough(frac: float | None, rules: MeteringRules) -> bool | None:
    """≥ the minimum completeness (None when nothing was expected)."""
    return None if frac is None else frac >= rules.completeness_min_frac


@dataclass(frozen=True)
class Consistency:
    """数据一致性 of one item and month: Σ daily figures against the monthly figure."""

    daily_total: float
    monthly: float
    deviation_frac: float | None
    ok: bool


def consistency(daily_total: float, monthly: float, rules: MeteringRules) -> Consistency:
    """|Σ daily − monthly| / monthly ≤ the maximum deviation (a zero month needs zero days)."""
    if monthly == 0:
        return Consistency(daily_total, monthly, None, daily_total == 0)
    dev = abs(daily_total - monthly) / abs(monthly)
    return Consistency(daily_total, monthly, dev, dev <= rules.consistency_max_dev_frac + 1e-12)


@dataclass(frozen=True)
class Run:
    """A run of identical consecutive values of one item."""

    value: float
    count: int
    start: dt.datetime
    end: dt.datetime


def stuck_min_points(interval_minutes: int, rules: MeteringRules) -> int:
    """Consecutive identical readings that make a stuck meter (16 at 15 minutes for 4 hours)."""
    return max(2, math.ceil(rules.stuck_min_hours * 60 / interval_minutes))


def identical_runs(
    points: Iterable[tuple[dt.datetime, float]], min_count: int, *, ignore_zero: bool = True
) -> list[Run]:
    """Runs of ≥ ``min_count`` equal consecutive values (in time order; gaps do not break a run)."""
    runs: list[Run] = []
    ordered = sorted(points)
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1][1] == ordered[i][1]:
            j += 1
        value = ordered[i][1]
        count = j - i + 1
        if count >= min_count and not (ignore_zero and value == 0):
            runs.append(Run(value, count, ordered[i][0], ordered[j][0]))
        i = j + 1
    return runs


def is_working_day(day: dt.date, calendar: WorkCalendar) -> bool:
    """A working day of ``calendar`` (public holidays and 调休 of the covered years, else Mon–Fri)."""
    return calendar.is_working_day(day)


def working_days_between(start: dt.date, end: dt.date, calendar: WorkCalendar) -> int:
    """Working days d with start < d <= end (0 when end <= start)."""
    return calendar.working_days_between(start, end)


def add_working_days(start: dt.date, n: int, calendar: WorkCalendar) -> dt.date:
    """The day on which ``n`` working days after ``start`` have passed."""
    return calendar.add_working_days(start, n)


def upload_late(last: dt.datetime | None, now: dt.datetime, rules: MeteringRules) -> bool:
    """True when the newest real-time reading is older than ``late_after_minutes`` (or absent)."""
    return last is None or now - last > dt.timedelta(minutes=rules.late_after_minutes)


# --------------------------------------------------------------------------------------------
# Reconciliation with the 205-1 report


@dataclass(frozen=True)
class MeterTotal:
    """A product's month total from the unit's boundary meters, in the 205-1 unit."""

    product_code: str
    quantity: Decimal
    completeness_frac: float | None = None
    items: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReportFigure:
    """A product's line of the 205-1 monthly report (col 4 consumption, col 2 purchases)."""

    product_code: str
    consumption: Decimal
    purchases: Decimal


@dataclass(frozen=True)
class GapLine:
    """Meters against the 205-1 report for one product, with the reasons that explain the gap."""

    product_code: str
    meter_qty: Decimal | None
    report_consumption: Decimal | None
    report_purchases: Decimal | None
    gap: Decimal | None  # meters − report consumption
    gap_frac: float | None
    purchases_gap_frac: float | None  # for stocked fuels: meters − purchases, over purchases
    completeness_frac: float | None
    adjusted_meter_qty: Decimal | None  # meters / completeness
    reasons: tuple[str, ...]
    within_tolerance: bool | None


GAP_REASONS: dict[str, tuple[str, str]] = {
    "no_report": ("本月没有 205-1 月报", "no 205-1 monthly report for the month"),
    "no_meter": (
        "该品种没有接入在线监测的进出用能单位计量器具，差异无法评估",
        "no boundary meter of this product is monitored: the gap cannot be assessed",
    ),
    "not_in_report": ("计量有数据但月报未填报该品种", "metered, but not in the 205-1 report"),
    "incomplete": (
        "计量数据不完整（完整率 {pct}），计量合计偏低；按完整率折算为 {adjusted}",
        "meter data incomplete ({pct}): the meter total is low; scaled by completeness {adjusted}",
    ),
    "storable": (
        "可储存燃料：进厂计量反映购进量，差异含库存变化；与购进量的差异为 {purchases_gap}",
        "stocked fuel: boundary meters measure receipts, the gap includes stock change; "
        "against purchases: {purchases_gap}",
    ),
    "within_tolerance": ("差异在允许范围（±{tol}）内", "gap within the tolerance (±{tol})"),
    "unexplained": (
        "差异超出允许范围且无法由数据完整性解释，需用能单位说明",
        "gap beyond the tolerance and not explained by completeness: the unit must explain",
    ),
}


def gap_reason_text(line: GapLine, reason: str, rules: MeteringRules, lang: str = "zh-hans") -> str:
    zh, en = GAP_REASONS[reason]
    template = en if lang.startswith("en") else zh
    pct = "—" if line.completeness_frac is None else f"{line.completeness_frac:.1%}"
    adjusted = "—" if line.adjusted_meter_qty is None else f"{line.adjusted_meter_qty:.4f}"
    pg = "—" if line.purchases_gap_frac is None else f"{line.purchases_gap_frac:+.1%}"
    return template.format(
        pct=pct,
        adjusted=adjusted,
        purchases_gap=pg,
        tol=f"{rules.reconciliation_tolerance_frac:.0%}",
    )


def _frac(a: Decimal, b: Decimal) -> float | None:
    return None if b == 0 else float((a - b) / b)


def reconcile(
    meters: Mapping[str, MeterTotal],
    report: Mapping[str, ReportFigure] | None,
    kinds: Mapping[str, str],
    rules: MeteringRules,
) -> list[GapLine]:
    """One :class:`GapLine` per product metered or reported (meters first, then report order).

    ``kinds`` maps product codes to their catalogue kind (coal, electricity …): boundary meters of
    stocked kinds measure receipts, so their gap is also given against 205-1 col 2 (purchases).
    A gap is explained by, in order: no report, no meter, not in the report, incomplete meter
    data (below the minimum completeness, or any gap in the data that scaling the meter total by
    its completeness closes), stock change; else it is within the tolerance or unexplained.
    """
    codes = list(meters) + [c for c in (report or {}) if c not in meters]
    out: list[GapLine] = []
    tol = rules.reconciliation_tolerance_frac
    for code in codes:
        m = meters.get(code)
        r = (report or {}).get(code)
        reasons: list[str] = []
        meter_qty = m.quantity if m is not None else None
        comp = m.completeness_frac if m is not None else None
        adjusted = (
            meter_qty / Decimal(str(comp))
            if meter_qty is not None and comp is not None and comp > 0
            else None
        )
        gap = gap_frac = pgap = None
        within: bool | None = None
        if report is None:
            reasons.append("no_report")
        elif m is None:
            reasons.append("no_meter")
        elif r is None:
            reasons.append("not_in_report")
        if meter_qty is not None and r is not None:
            gap = meter_qty - r.consumption
            gap_frac = _frac(meter_qty, r.consumption)
            storable = kinds.get(code, "") in rules.storable_kinds
            if storable:
                pgap = _frac(meter_qty, r.purchases)
            within = (gap_frac is not None and abs(gap_frac) <= tol + 1e-12) or (
                gap_frac is None and meter_qty == 0
            )
            explained = False
            adjusted_frac = _frac(adjusted, r.consumption) if adjusted is not None else None
            adjusted_fits = adjusted_frac is not None and abs(adjusted_frac) <= tol + 1e-12
            if comp is not None and (
                comp < rules.completeness_min_frac or (comp < 1 and not within and adjusted_fits)
            ):
                reasons.append("incomplete")
                explained = adjusted_fits
            if storable:
                reasons.append("storable")
                explained = explained or (pgap is not None and abs(pgap) <= tol + 1e-12)
            if within:
                reasons.append("within_tolerance")
            elif not explained:
                reasons.append("unexplained")
        out.append(
            GapLine(
                product_code=code,
                meter_qty=meter_qty,
                report_consumption=r.consumption if r is not None else None,
                report_purchases=r.purchases if r is not None else None,
                gap=gap,
                gap_frac=gap_frac,
                purchases_gap_frac=pgap,
                completeness_frac=comp,
                adjusted_meter_qty=adjusted,
                reasons=tuple(reasons),
                within_tolerance=within,
            )
        )
    return out


def meter_rows(meters: Mapping[str, MeterTotal], units: Mapping[str, str]) -> list[Row205]:
    """205-1 rows built from meter totals, for the accounting engine.

    Boundary meters give what entered the unit (net of what left): taken as the consumption
    (col 4 = col 5 industrial production) and as the purchases (col 2) so the engine's net-purchase
    CO2 of electricity and heat applies. Stocks are unknown to meters (0).
    """
    return [
        Row205(
            product_code=code,
            unit=units[code],
            purchases_qty=m.quantity,
            consumption_total=m.quantity,
            industrial_production=m.quantity,
            closing_stock=Decimal(0),
        )
        for code, m in sorted(meters.items())
    ]
