"""The catalogue as the pages, the API and the barometer show it (names, units, figures).

One place that turns catalogue entries into labels and printed figures in the active language,
so that a new indicator in ``indicators.yaml`` appears everywhere without code.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import get_language, gettext

from dualcontrol.core.catalogue import IndicatorDef
from dualcontrol.reference.catalogue import catalogue

LEGACY_BAROMETER_NAMES = {
    "intensity_reduction": "能耗强度降低",
    "energy_increment": "能源消费增量",
    "energy_total": "能源消费总量",
}


def _english() -> bool:
    return (get_language() or "zh-hans").lower().startswith("en")


def name(ind: IndicatorDef) -> str:
    """The indicator's name in the active language."""
    return ind.name_en if _english() else ind.name_zh


def indicators() -> list[IndicatorDef]:
    return list(catalogue().indicators.values())


def by_code() -> dict[str, IndicatorDef]:
    return dict(catalogue().indicators)


def by_barometer_id() -> dict[str, IndicatorDef]:
    """barometer id (as stored on warnings) → catalogue entry."""
    return {i.barometer_id: i for i in indicators()}


def barometer_labels() -> dict[str, str]:
    """barometer id → label in the active language (the energy ones with their short names)."""
    out = {}
    for bid, ind in by_barometer_id().items():
        short = LEGACY_BAROMETER_NAMES.get(bid)
        out[bid] = gettext(short) if short and not _english() else name(ind)
    return out


def indicator_of_barometer(barometer_id: str) -> str | None:
    ind = by_barometer_id().get(barometer_id)
    return ind.code if ind else None


def unit_label(unit: str) -> str:
    """The printed label of a display unit (``frac`` → %, ``tce`` → 万tce …)."""
    u = catalogue().units.get(unit)
    if u is None:
        return unit
    return u.label_en if _english() else u.label_zh


def scaled(value: float | None, unit: str) -> float | None:
    """A core figure in its display unit (0.032 → 3.2 for ``frac``; tce → 万tce)."""
    if value is None:
        return None
    u = catalogue().units.get(unit)
    if u is None:
        return float(value)
    return round(float(value) / u.scale, u.places + 1)


def figure(value: Any, unit: str) -> str:
    """A warning or progress figure in its unit, as printed on pages."""
    if value is None:
        return "—"
    u = catalogue().units.get(unit)
    if u is None:  # a statistic's own unit (m², persons …): the number as it is, with the unit
        return f"{float(value):,.0f} {unit}".rstrip()
    number = float(value) / u.scale
    label = u.label_en if _english() else u.label_zh
    if unit == "frac":
        return f"{number:.{u.places}f}%"
    if unit == "year":
        return f"{number:.0f}"
    return f"{number:,.{u.places}f} {label}"
