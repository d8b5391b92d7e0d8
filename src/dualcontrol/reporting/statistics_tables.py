"""The statistics tables governments and public institutions file (``statistics_tables.yaml``).

Each table is a list of catalogue statistics (names and units from ``indicators.yaml``) with the
checks of one filing: required, bounds, counts, cross-column rules (errors refuse the filing,
warnings are shown to the filer and the reviewer), who files at which level, and its source.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from django.utils.translation import get_language

from dualcontrol.reference import ReferenceDataError, load_yaml, parse_date
from dualcontrol.reference.catalogue import catalogue

TABLES_FILE = "statistics_tables.yaml"
RULE_KINDS = ("le", "ratio_range")
SEVERITIES = ("error", "warning")
LEVELS = ("province", "prefecture", "county")
PERIODS = ("annual",)


def _english() -> bool:
    return (get_language() or "zh-hans").lower().startswith("en")


@dataclass(frozen=True)
class ColumnSpec:
    code: str
    name_zh: str
    name_en: str
    unit: str
    unit_zh: str
    unit_en: str
    required: bool
    min: Decimal | None
    max: Decimal | None
    integer: bool

    @property
    def name(self) -> str:
        return self.name_en if _english() else self.name_zh

    @property
    def unit_label(self) -> str:
        return self.unit_en if _english() else self.unit_zh

    @property
    def label(self) -> str:
        """The column as a form shows it: name (unit)."""
        return (
            f"{self.name} ({self.unit_label})"
            if _english()
            else f"{self.name}（{self.unit_label}）"
        )


@dataclass(frozen=True)
class RuleSpec:
    kind: str  # le | ratio_range
    severity: str  # error | warning
    name_zh: str
    name_en: str
    source: str
    left: str = ""
    right: str = ""
    numerator: str = ""
    denominator: str = ""
    scale: Decimal = Decimal(1)
    min: Decimal | None = None
    max: Decimal | None = None
    unit: str = ""

    @property
    def name(self) -> str:
        return self.name_en if _english() else self.name_zh

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.left, self.right) if self.kind == "le" else (self.numerator, self.denominator)


@dataclass(frozen=True)
class StatisticsTable:
    code: str
    name_zh: str
    name_en: str
    responsible_zh: str
    responsible_en: str
    period: str
    levels: tuple[str, ...]
    filers: dict[str, tuple[str, ...]]
    source: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    columns: tuple[ColumnSpec, ...]
    rules: tuple[RuleSpec, ...]
    version: str

    @property
    def name(self) -> str:
        return self.name_en if _english() else self.name_zh

    @property
    def responsible(self) -> str:
        return self.responsible_en if _english() else self.responsible_zh

    @property
    def column_codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.columns)

    def column(self, code: str) -> ColumnSpec | None:
        return next((c for c in self.columns if c.code == code), None)

    def valid_for_year(self, year: int) -> bool:
        """Does the table apply to ``year`` (its validity overlaps the year)?"""
        first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
        return (self.valid_from is None or self.valid_from <= last) and (
            self.valid_to is None or first <= self.valid_to
        )

    def indicators(self) -> list[str]:
        """Codes of the catalogue indicators whose metric reads one of the table's columns."""
        cols = set(self.column_codes)
        out = []
        for ind in catalogue().indicators.values():
            m = ind.metric
            if cols & {m.column, m.numerator, m.denominator}:
                out.append(ind.code)
        return out


def _dec(value: Any, where: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError as exc:
        raise ReferenceDataError(f"{where}: {value!r} is not a number") from exc


def _column(d: dict[str, Any], units: dict[str, Any], where: str) -> ColumnSpec:
    code = str(d["code"])
    stat = catalogue().statistics.get(code)
    if stat is None:
        raise ReferenceDataError(f"{where}: {code} is not a statistic of the indicator catalogue")
    unit = str(d["unit"])
    if unit != stat.unit:
        raise ReferenceDataError(
            f"{where}: unit {unit!r} of {code} is not the catalogue's {stat.unit!r}"
        )
    if stat.is_field:
        raise ReferenceDataError(f"{where}: {code} is a field of the statistics row, not a column")
    label = units.get(unit)
    if not isinstance(label, dict):
        raise ReferenceDataError(f"{where}: unit {unit!r} has no entry in unit_labels")
    return ColumnSpec(
        code=code,
        name_zh=stat.name_zh,
        name_en=stat.name_en,
        unit=unit,
        unit_zh=str(label["zh"]),
        unit_en=str(label["en"]),
        required=bool(d.get("required", False)),
        min=_dec(d.get("min"), f"{where} {code} min"),
        max=_dec(d.get("max"), f"{where} {code} max"),
        integer=bool(d.get("integer", False)),
    )


def _rule(d: dict[str, Any], columns: set[str], where: str) -> RuleSpec:
    kind = str(d["kind"])
    if kind not in RULE_KINDS:
        raise ReferenceDataError(f"{where}: unknown rule kind {kind!r}")
    severity = str(d["severity"])
    if severity not in SEVERITIES:
        raise ReferenceDataError(f"{where}: unknown severity {severity!r}")
    rule = RuleSpec(
        kind=kind,
        severity=severity,
        name_zh=str(d["name_zh"]),
        name_en=str(d["name_en"]),
        source=str(d["source"]),
        left=str(d.get("left", "") or ""),
        right=str(d.get("right", "") or ""),
        numerator=str(d.get("numerator", "") or ""),
        denominator=str(d.get("denominator", "") or ""),
        scale=_dec(d.get("scale", 1), f"{where} scale") or Decimal(1),
        min=_dec(d.get("min"), f"{where} min"),
        max=_dec(d.get("max"), f"{where} max"),
        unit=str(d.get("unit", "") or ""),
    )
    unknown = [c for c in rule.columns if c not in columns]
    if unknown:
        raise ReferenceDataError(f"{where}: rule {rule.name_en} reads {unknown}, not in the table")
    if kind == "ratio_range" and rule.min is None and rule.max is None:
        raise ReferenceDataError(f"{where}: ratio_range {rule.name_en} needs min or max")
    return rule


def _table(d: dict[str, Any], units: dict[str, Any], version: str) -> StatisticsTable:
    code = str(d["code"])
    where = f"{TABLES_FILE} table {code}"
    columns = tuple(_column(c, units, where) for c in d["columns"])
    codes = [c.code for c in columns]
    if len(set(codes)) != len(codes):
        raise ReferenceDataError(f"{where}: a column appears twice")
    levels = tuple(str(x) for x in d["levels"])
    if not levels or set(levels) - set(LEVELS):
        raise ReferenceDataError(f"{where}: levels must be among {LEVELS}")
    filers = {str(k): tuple(str(r) for r in v) for k, v in (d.get("filers") or {}).items()}
    if set(filers) != set(levels):
        raise ReferenceDataError(f"{where}: filers must name the roles of every level")
    period = str(d["period"])
    if period not in PERIODS:
        raise ReferenceDataError(f"{where}: period must be one of {PERIODS}")
    source = str(d.get("source") or "").strip()
    if not source:
        raise ReferenceDataError(f"{where}: every table needs a source")
    return StatisticsTable(
        code=code,
        name_zh=str(d["name_zh"]),
        name_en=str(d["name_en"]),
        responsible_zh=str(d["responsible_zh"]),
        responsible_en=str(d["responsible_en"]),
        period=period,
        levels=levels,
        filers=filers,
        source=" ".join(source.split()),
        valid_from=parse_date(str(d.get("valid_from") or ""), where=f"{where} valid_from"),
        valid_to=parse_date(str(d.get("valid_to") or ""), where=f"{where} valid_to"),
        columns=columns,
        rules=tuple(_rule(r, set(codes), where) for r in d.get("rules") or ()),
        version=version,
    )


@cache
def statistics_tables() -> dict[str, StatisticsTable]:
    """Every table of the file, by code, in file order (validated; cached: part of the release)."""
    version, data = load_yaml(TABLES_FILE)
    if not isinstance(data, dict) or not isinstance(data.get("tables"), list):
        raise ReferenceDataError(f"{TABLES_FILE}: expected a mapping with a list of tables")
    units = data.get("unit_labels") or {}
    out: dict[str, StatisticsTable] = {}
    for i, d in enumerate(data["tables"]):
        try:
            table = _table(d, units, version)
        except (KeyError, TypeError) as exc:
            raise ReferenceDataError(f"{TABLES_FILE} table {d.get('code', i)}: {exc}") from exc
        if table.code in out:
            raise ReferenceDataError(f"{TABLES_FILE}: table {table.code} appears twice")
        out[table.code] = table
    return out


def statistics_table(code: str) -> StatisticsTable | None:
    return statistics_tables().get(code)


def tables_for_indicator(indicator: str) -> list[StatisticsTable]:
    """The tables whose columns feed ``indicator``."""
    return [t for t in statistics_tables().values() if indicator in t.indicators()]
