"""Scoring sheets (计分表) for the target-responsibility assessment: ``scoring_*.yaml``.

Each file holds one sheet; :func:`parse_sheet` turns its mapping (or the same mapping stored in
the database by the admin later) into a validated :class:`~dualcontrol.core.assessment.ScoringSheet`.
The sheet's version is the file name plus the hash of its bytes, so every result records exactly
which sheet scored it.  The schema is described in ``docs/assessment.md``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any

from dualcontrol.core.assessment import (
    COMPARE_PLACES_RULE,
    DEFAULT_COMPARE_PLACES_PCT,
    EXACT_COMPARE_RULE,
    UNITS,
    BetweenBands,
    Bonus,
    CompletionBand,
    CompletionRatio,
    CompletionScoring,
    ConsequenceRule,
    Deduction,
    Direction,
    Exemption,
    Grade,
    MeasureItem,
    Part,
    RangeBound,
    ScoringSheet,
    ScoringSheetError,
    TargetItem,
    validate_sheet,
)
from dualcontrol.reference import DATA_PACKAGE, ReferenceDataError, load_yaml, parse_date

FILE_PREFIX = "scoring_"
FILE_SUFFIX = ".yaml"
COLUMN_SUFFIXES = {
    "frac": ("_pct", "_frac"),
    "tce": ("_tce",),
    "tco2": ("_tco2",),
    "t": ("_t",),
}


def default_compare_places(unit: str) -> tuple[int | None, str]:
    """(decimals, rule) used when a target item names no ``compare_places``: rates at
    :data:`~dualcontrol.core.assessment.DEFAULT_COMPARE_PLACES_PCT` decimals of a percentage
    (platform rule, reason in ``COMPARE_PLACES_RULE``); amounts exactly as given."""
    if unit == "frac":
        return DEFAULT_COMPARE_PLACES_PCT, COMPARE_PLACES_RULE
    return None, EXACT_COMPARE_RULE


def sheet_files() -> tuple[str, ...]:
    """The ``scoring_*.yaml`` files shipped in ``reference/data``, sorted."""
    names = (f.name for f in resources.files(DATA_PACKAGE).iterdir())
    return tuple(sorted(n for n in names if n.startswith(FILE_PREFIX) and n.endswith(FILE_SUFFIX)))


@cache
def scoring_sheets() -> dict[str, ScoringSheet]:
    """Every shipped sheet by name (validated; a malformed file raises ReferenceDataError)."""
    sheets: dict[str, ScoringSheet] = {}
    for file in sheet_files():
        version, data = load_yaml(file)
        sheet = parse_sheet(data, version=version, where=file)
        if sheet.name in sheets:
            raise ReferenceDataError(f"{file}: sheet name {sheet.name!r} is used by another file")
        sheets[sheet.name] = sheet
    return sheets


def scoring_sheet(name: str) -> ScoringSheet:
    """The shipped sheet called ``name`` (e.g. ``gf-2007-36``)."""
    sheets = scoring_sheets()
    try:
        return sheets[name]
    except KeyError:
        raise ReferenceDataError(
            f"no scoring sheet {name!r}; available: {', '.join(sorted(sheets))}"
        ) from None


# ---------------------------------------------------------------------------------------------


class _Reader:
    """Typed access to a YAML mapping with errors that name the file and the path."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, Mapping):
            raise ReferenceDataError(f"{where}: expected a mapping")
        self.data = data
        self.where = where

    def _path(self, key: str) -> str:
        return f"{self.where}.{key}"

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def text(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key)
        if value is None:
            if default is None:
                raise ReferenceDataError(f"{self._path(key)}: required")
            return default
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise ReferenceDataError(f"{self._path(key)}: expected text, got {value!r}")
        return str(value).strip()

    def number(self, key: str, default: Decimal | None = None) -> Decimal:
        value = self.data.get(key)
        if value is None:
            if default is None:
                raise ReferenceDataError(f"{self._path(key)}: required")
            return default
        return _decimal(value, self._path(key))

    def opt_number(self, key: str) -> Decimal | None:
        return None if self.data.get(key) is None else self.number(key)

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise ReferenceDataError(f"{self._path(key)}: expected true or false, got {value!r}")
        return value

    def opt_int(self, key: str) -> int | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            raise ReferenceDataError(f"{self._path(key)}: expected a whole number, got {value!r}")
        return value

    def date(self, key: str) -> dt.date | None:
        value = self.data.get(key)
        if value is None or isinstance(value, dt.date):
            return value
        return parse_date(str(value), where=self._path(key))

    def seq(self, key: str) -> list[Any]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise ReferenceDataError(f"{self._path(key)}: expected a list")
        return value

    def sub(self, key: str) -> _Reader:
        return _Reader(self.data.get(key), self._path(key))

    def items(self, key: str) -> list[_Reader]:
        return [_Reader(v, f"{self._path(key)}[{i}]") for i, v in enumerate(self.seq(key))]

    def choice(self, key: str, default: str, allowed: tuple[str, ...]) -> str:
        value = self.text(key, default)
        if value not in allowed:
            raise ReferenceDataError(f"{self._path(key)}: {value!r} is not one of {allowed}")
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        out = []
        for i, v in enumerate(self.seq(key)):
            if not isinstance(v, str):
                raise ReferenceDataError(f"{self._path(key)}[{i}]: expected text, got {v!r}")
            out.append(v)
        return tuple(out)


def _decimal(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ReferenceDataError(f"{where}: {value!r} is not a number")
    try:
        result = Decimal(str(value).strip())  # str() keeps 0.1 as written, not its binary value
    except InvalidOperation:
        raise ReferenceDataError(f"{where}: {value!r} is not a number") from None
    if not result.is_finite():
        raise ReferenceDataError(f"{where}: {value!r} is not a finite number")
    return result


def parse_sheet(data: Any, *, version: str, where: str = "scoring sheet") -> ScoringSheet:
    """Build and validate a sheet from its mapping (a YAML file's content or an admin row)."""
    r = _Reader(data, where)
    parts = tuple(_part(p) for p in r.items("parts"))
    grades = tuple(
        Grade(
            key=g.text("key"),
            name_zh=g.text("name_zh"),
            name_en=g.text("name_en", ""),
            lower=g.opt_number("lower"),
            lower_inclusive=g.flag("lower_inclusive"),
            upper=g.opt_number("upper"),
            upper_inclusive=g.flag("upper_inclusive"),
        )
        for g in r.items("grades")
    )
    sheet = ScoringSheet(
        name=r.text("name"),
        version=version,
        title_zh=r.text("title_zh"),
        subject=r.choice("subject", "region", ("region", "enterprise")),
        source=r.text("source"),
        valid_from=r.date("valid_from"),
        valid_to=r.date("valid_to"),
        parts=parts,
        grades=grades,
        veto_grade=r.text("veto_grade"),
        consequences=tuple(_consequence(c) for c in r.items("consequences")),
        subject_column=r.text("subject_column", ""),
        notes=r.texts("notes"),
    )
    try:
        validate_sheet(sheet)
    except ScoringSheetError as exc:
        raise ReferenceDataError(f"{where}: {exc}") from exc
    if sheet.valid_from and sheet.valid_to and sheet.valid_to < sheet.valid_from:
        raise ReferenceDataError(f"{where}: valid_to is before valid_from")
    return sheet


def _part(p: _Reader) -> Part:
    kind = p.choice("kind", "quantitative", ("quantitative", "qualitative"))
    key, title_zh, max_points = p.text("key"), p.text("title_zh"), p.number("max_points")
    if kind == "qualitative":
        return Part(
            key=key,
            title_zh=title_zh,
            max_points=max_points,
            measures=tuple(_measure(m) for m in p.items("items")),
            qualitative=True,
            column=p.text("column", ""),
        )
    return Part(
        key=key,
        title_zh=title_zh,
        max_points=max_points,
        targets=tuple(_target(t) for t in p.items("items")),
    )


def _measure(m: _Reader) -> MeasureItem:
    return MeasureItem(
        key=m.text("key"),
        title_zh=m.text("title_zh"),
        max_points=m.number("max_points"),
        sub_items=tuple((s.text("title_zh"), s.number("points")) for s in m.items("sub_items")),
        column=m.text("column", ""),
    )


def _compare(t: _Reader, unit: str) -> tuple[int | None, str]:
    """``compare_places``: decimals (of a percentage for rates), ``exact``, or absent (default);
    ``compare_reason`` states why (recorded with every result)."""
    raw = t.data.get("compare_places")
    if raw is None:
        return default_compare_places(unit)
    reason = t.text("compare_reason", "")
    if raw == "exact":
        return None, reason or EXACT_COMPARE_RULE
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= 10:
        raise ReferenceDataError(
            f"{t.where}.compare_places: expected a whole number 0–10 or exact, got {raw!r}"
        )
    return raw, reason or f"sheet rule: {raw} decimals"


def _target(t: _Reader) -> TargetItem:
    unit = t.choice("unit", "frac", UNITS)
    columns: dict[str, str] = {}
    if t.has("columns"):
        c = t.sub("columns")
        for role in ("target", "actual", "incentive_target"):
            if c.has(role):
                columns[role] = c.text(role)
    deductions = tuple(
        Deduction(key=d.text("key"), title_zh=d.text("title_zh"), column=d.text("column", ""))
        for d in t.items("deductions")
    )
    for column in columns.values():
        if not column.endswith(COLUMN_SUFFIXES[unit]):
            raise ReferenceDataError(
                f"{t.where}.columns: {column!r} must end with {' or '.join(COLUMN_SUFFIXES[unit])} "
                f"(the item's unit is {unit})"
            )
    for d in deductions:
        if d.column and not d.column.endswith(COLUMN_SUFFIXES[unit]):
            raise ReferenceDataError(f"{t.where}.deductions: {d.column!r} must be in {unit}")
    exempt = Exemption(item=t.sub("exempt_if").text("item")) if t.has("exempt_if") else None
    compare_places, compare_rule = _compare(t, unit)
    range_bound = None
    if t.has("range_bound"):
        range_bound = RangeBound(
            t.choice("range_bound", "lower", tuple(b.value for b in RangeBound))
        )
    return TargetItem(
        key=t.text("key"),
        title_zh=t.text("title_zh"),
        max_points=t.number("max_points"),
        unit=unit,
        direction=Direction(
            t.choice("direction", "higher_is_better", tuple(d.value for d in Direction))
        ),
        veto=t.flag("veto"),
        scoring=_completion(t.sub("completion")) if t.has("completion") else None,
        deductions=deductions,
        exempt_if=exempt,
        columns=columns,
        compare_places=compare_places,
        compare_rule=compare_rule,
        range_bound=range_bound,
        range_rule=t.text("range_reason", "sheet rule" if range_bound else ""),
    )


def _completion(c: _Reader) -> CompletionScoring:
    bonus = None
    if c.has("bonus"):
        b = c.sub("bonus")
        bonus = Bonus(
            step=b.number("step"),
            points_per_step=b.number("points_per_step"),
            max_points=b.number("max_points"),
        )
    return CompletionScoring(
        ratio=CompletionRatio(c.choice("ratio", "linear", tuple(x.value for x in CompletionRatio))),
        bands=tuple(
            CompletionBand(at_least=b.number("at_least"), points=b.number("points"))
            for b in c.items("bands")
        ),
        otherwise=c.number("otherwise", Decimal(0)),
        between=BetweenBands(
            c.choice("between_bands", "step", tuple(x.value for x in BetweenBands))
        ),
        bonus=bonus,
    )


def _consequence(c: _Reader) -> ConsequenceRule:
    when = c.sub("when")
    vetoed = when.data.get("vetoed")
    if vetoed is not None and not isinstance(vetoed, bool):
        raise ReferenceDataError(f"{when.where}.vetoed: expected true or false")
    return ConsequenceRule(
        key=c.text("key"),
        title_zh=c.text("title_zh"),
        title_en=c.text("title_en", ""),
        source=c.text("source"),
        grades=when.texts("grades"),
        items_missed=when.texts("items_missed"),
        vetoed=vetoed,
        always=when.flag("always"),
        due_months=c.opt_int("due_months"),
        due_days=c.opt_int("due_days"),
    )
