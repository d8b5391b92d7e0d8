"""The indicator catalogue (``indicators.yaml``) → :class:`dualcontrol.core.catalogue.Catalogue`."""

from __future__ import annotations

from functools import cache
from typing import Any

from dualcontrol.core.catalogue import (
    Catalogue,
    CatalogueError,
    Direction,
    DisplayUnit,
    IndicatorDef,
    Kind,
    Metric,
    MetricKind,
    Statistic,
    validate_catalogue,
)
from dualcontrol.core.tracking import Deduction
from dualcontrol.core.warning import INDICATORS as RATING_CLASSES
from dualcontrol.reference import ReferenceDataError, load_yaml

CATALOGUE_FILE = "indicators.yaml"


def _str(d: dict[str, Any], key: str, default: str | None = None) -> str:
    value = d.get(key, default)
    if value is None:
        raise KeyError(key)
    return str(value)


def _indicator(d: dict[str, Any], metrics: dict[str, Metric]) -> IndicatorDef:
    barometer = d.get("barometer") or {}
    progress = d["progress"]
    pace = d["pace"]
    decomposition = d.get("decomposition") or {}
    bulletin = d.get("bulletin") or {}
    metric = metrics.get(str(d["metric"]))
    if metric is None:
        raise KeyError(f"metric {d['metric']!r}")
    return IndicatorDef(
        code=_str(d, "code"),
        name_zh=_str(d, "name_zh"),
        name_en=_str(d, "name_en"),
        unit=_str(d, "unit"),
        kind=Kind(d["kind"]),
        metric=metric,
        direction=Direction(d["direction"]),
        holders=tuple(str(h) for h in d["holders"]),
        progress_definitions=tuple(str(x) for x in progress["definitions"]),
        progress_default=str(progress["default"]),
        pace_definitions=tuple(str(x) for x in pace["definitions"]),
        pace_default=str(pace["default"]),
        barometer_id=_str(barometer, "id", d["code"]),
        rate_as=_str(barometer, "rate_as"),
        default_rule_set=barometer.get("default_rule_set") or None,
        allocation=str(decomposition.get("allocation", "")),
        decomposition_methods=tuple(str(x) for x in decomposition.get("methods", ())),
        assessment_sheets=tuple(str(x) for x in (d.get("assessment") or {}).get("sheets", ())),
        bulletin_layout=bulletin.get("layout") or None,
        bulletin_column_zh=str(bulletin.get("column_zh", "")),
        bulletin_places=int(bulletin.get("places", 2)),
        source=_str(d, "source"),
    )


@cache
def catalogue() -> Catalogue:
    """The catalogue in force, validated (cached: the file is part of the release)."""
    version, data = load_yaml(CATALOGUE_FILE)
    if not isinstance(data, dict):
        raise ReferenceDataError(f"{CATALOGUE_FILE}: expected a mapping")
    where = CATALOGUE_FILE
    try:
        statistics = {
            code: Statistic(
                code=str(code),
                name_zh=_str(s, "name_zh"),
                name_en=_str(s, "name_en"),
                unit=_str(s, "unit"),
                is_field=bool(s.get("field", False)),
                computed=str(s.get("computed", "") or ""),
            )
            for code, s in data["statistics"].items()
        }
        units = {
            code: DisplayUnit(
                code=str(code),
                scale=float(u["scale"]),
                label_zh=_str(u, "label_zh"),
                label_en=_str(u, "label_en"),
                places=int(u["places"]),
            )
            for code, u in data["units"].items()
        }
        metrics = {}
        for code, m in data["metrics"].items():
            where = f"{CATALOGUE_FILE} metric {code}"
            metrics[str(code)] = Metric(
                code=str(code),
                kind=MetricKind(m["kind"]),
                unit=_str(m, "unit"),
                name_zh=_str(m, "name_zh"),
                name_en=_str(m, "name_en"),
                column=str(m.get("column", "") or ""),
                numerator=str(m.get("numerator", "") or ""),
                denominator=str(m.get("denominator", "") or ""),
                deductions=str(m.get("deductions", "") or ""),
            )
        indicators = {}
        for i, d in enumerate(data["indicators"]):
            where = f"{CATALOGUE_FILE} indicator {d.get('code', i)}"
            ind = _indicator(d, metrics)
            if ind.code in indicators:
                raise CatalogueError(f"indicator {ind.code} appears twice")
            indicators[ind.code] = ind
        cat = Catalogue(
            version=version,
            source=str(data.get("source", "")),
            statistics=statistics,
            units=units,
            metrics=metrics,
            indicators=indicators,
        )
        validate_catalogue(cat, rating_classes=frozenset(RATING_CLASSES))
    except (KeyError, TypeError, ValueError) as exc:
        raise ReferenceDataError(f"{where}: {exc}") from exc
    return cat


def indicator(code: str) -> IndicatorDef:
    """One catalogue entry (:class:`ReferenceDataError` for an unknown code)."""
    try:
        return catalogue().indicator(code)
    except CatalogueError as exc:
        raise ReferenceDataError(str(exc)) from exc


def indicator_choices() -> list[tuple[str, str]]:
    """(code, Chinese name) of every indicator, in catalogue order (model and form choices)."""
    return [(i.code, i.name_zh) for i in catalogue().indicators.values()]


def deductions() -> tuple[Deduction, ...]:
    """The 14th-FYP deductions in force (``accounting_rules.yaml`` regional_adjustments)."""
    from dualcontrol.reference.accounting import regional_rules

    return tuple(Deduction(a.column, tuple(a.excluded_from)) for a in regional_rules().adjustments)
