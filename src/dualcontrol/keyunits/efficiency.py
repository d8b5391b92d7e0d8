"""The one place this app calls the efficiency core and its reference data.

:mod:`dualcontrol.core.efficiency` grades a value against a limit line and the 标杆/基准 levels,
prices surcharges and proposes designation tiers; :mod:`dualcontrol.reference.efficiency` loads
the versioned lines, levels, surcharge rules and thresholds.  The services go through the small
functions here so that the core's API is used in one module.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any


@dataclass(frozen=True)
class LineInfo:
    """What the app needs of a limit line: its keys, names and unit."""

    product: str
    product_name: str
    indicator: str
    indicator_name: str
    unit: str
    line: Any  # core.efficiency.LimitLine


def _ref() -> Any:
    from dualcontrol.reference import efficiency

    return efficiency


def _core() -> Any:
    from dualcontrol.core import efficiency

    return efficiency


def lines(on: dt.date | None = None) -> list[LineInfo]:
    return [
        LineInfo(
            product=ln.product,
            product_name=ln.product_name_zh,
            indicator=ln.indicator,
            indicator_name=ln.indicator_name_zh,
            unit=ln.unit,
            line=ln,
        )
        for ln in _ref().limit_lines(on)
    ]


@cache
def _names() -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """Chinese names → keys (products; (product, indicator name) → indicator key)."""
    products: dict[str, str] = {}
    indicators: dict[tuple[str, str], str] = {}
    for info in lines():
        products[info.product] = info.product
        products[info.product_name] = info.product
        indicators[(info.product, info.indicator)] = info.indicator
        indicators[(info.product, info.indicator_name)] = info.indicator
    return products, indicators


def normalise(product: str, indicator: str) -> tuple[str, str]:
    """Product and indicator keys for a key or a Chinese name (unknown names stay as given)."""
    products, indicators = _names()
    p = products.get(product.strip(), product.strip())
    return p, indicators.get((p, indicator.strip()), indicator.strip())


def find_line(product: str, indicator: str, on: dt.date) -> LineInfo | None:
    for info in lines(on):
        if info.product == product and info.indicator == indicator:
            return info
    return None


def benchmark_for(product: str, indicator: str, on: dt.date) -> Any:
    """The 标杆/基准 level of the product line valid on ``on`` (None when NOT FOUND)."""
    return _core().find_benchmark(_ref().benchmark_levels(on), product, indicator, on)


def grade(
    value: Decimal, info: LineInfo, *, benchmark: Any, corrections: dict[str, Decimal] | None
) -> Any:
    """The core's :class:`Grading` of ``value`` (raises its ``GradingError`` on bad corrections)."""
    return _core().grade(value, info.line, benchmark=benchmark, corrections=corrections or None)


def grading_error() -> type[Exception]:
    return getattr(_core(), "GradingError", ValueError)  # type: ignore[no-any-return]


def surcharge(
    *,
    year: int,
    product: str,
    indicator: str,
    value: Decimal,
    region: str,
    corrections: dict[str, Decimal] | None = None,
) -> Any | None:
    """The core's :class:`Surcharge` for the line under the national rules and those of
    ``region`` (a province code), or None where no rule covers it."""
    core = _core()
    try:
        return core.surcharge(
            _ref().surcharge_rules(region),
            year=year,
            product=product,
            indicator=indicator,
            value=value,
            limit_lines=_ref().limit_lines(),
            corrections=corrections or None,
        )
    except core.NoRuleError:
        return None


def surcharge_error() -> type[Exception]:
    return _core().SurchargeError  # type: ignore[no-any-return]


def thresholds(region: str, on: dt.date) -> Any:
    """The key-unit thresholds of ``region`` (a province code) in force on ``on``, else the
    national ones."""
    ref = _ref()
    sets = ref.designation_thresholds(region, on) or ref.designation_thresholds("national", on)
    if not sets:
        raise LookupError(f"no key-unit thresholds in force on {on.isoformat()}")
    return sets[0]


def proposal(energy_tce: Decimal, *, region: str, on: dt.date) -> str | None:
    """``"national"`` (a key unit by law) or ``"provincial"`` (may be designated) or None."""
    tier = _core().designation_proposal(energy_tce, thresholds(region, on))
    if tier is None:
        return None
    return "national" if tier.automatic else "provincial"


def thresholds_version(region: str, on: dt.date) -> str:
    t = thresholds(region, on)
    return f"{t.rule_id} {t.version}".strip()
