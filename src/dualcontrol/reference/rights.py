"""Rules of energy-use rights, emission rights, certificates and credits (``rights_rules.yaml``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from dualcontrol.reference import ReferenceDataError, load_yaml

RIGHTS_FILE = "rights_rules.yaml"
ROUNDINGS = ("half_up", "ceiling", "floor")


@dataclass(frozen=True)
class Pollutant:
    unit_type: str
    name_zh: str
    hj212_code: str
    fee_yuan_per_t: Decimal | None  # None: not configured (platform rule)


@dataclass(frozen=True)
class Methodology:
    code: str
    name_zh: str
    unit_type: str
    unit: str
    source: str


@dataclass(frozen=True)
class Behaviour:
    code: str
    name_zh: str
    unit: str
    points_per_unit: Decimal
    source: str


@dataclass(frozen=True)
class RightsRules:
    version: str
    source: str
    # energy-use rights
    eur_price_yuan_per_tce: Decimal | None
    eur_price_source: str
    eur_definition_source: str
    eur_existing_use: str
    eur_increment: str
    eur_cover_methods: tuple[str, ...]
    eur_region_level: str
    eur_refuse_over_budget: bool
    eur_rounding: str
    eur_deadline_month_day: tuple[int, int] | None
    # emission rights
    pollutants: dict[str, Pollutant]
    emr_fee_source: str
    emr_permit_source: str
    emr_reference_prices: tuple[dict[str, Any], ...]
    cou_kg_per_t: Decimal
    emr_region_level: str
    emr_rounding: str
    # certificates
    mwh_per_certificate: Decimal
    gec_deduct: bool
    electricity_product_code: str
    gec_regional_cap_frac: Decimal
    gec_source: str
    # credits
    methodologies: dict[str, Methodology]
    behaviours: dict[str, Behaviour]
    points_source: str
    offset_source: str
    # market
    tradable: tuple[str, ...]
    same_region_unit_types: tuple[str, ...]
    price_decimals: int
    market_source: str

    def eur_deadline(self, year: int) -> dt.date | None:
        """The surrender deadline of ``year``'s energy use (the next year), None when not set."""
        if self.eur_deadline_month_day is None:
            return None
        month, day = self.eur_deadline_month_day
        return dt.date(year + 1, month, day)

    def pollutant_by_code(self, hj212_code: str) -> Pollutant | None:
        return next((p for p in self.pollutants.values() if p.hj212_code == hj212_code), None)


def _dec(value: Any, where: str, *, optional: bool = False) -> Decimal | None:
    if value is None or value == "":
        if optional:
            return None
        raise ReferenceDataError(f"{RIGHTS_FILE}: {where} is missing")
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ReferenceDataError(f"{RIGHTS_FILE}: {where}: {value!r} is not a number") from exc
    if not d.is_finite() or d < 0:
        raise ReferenceDataError(f"{RIGHTS_FILE}: {where}: {value!r} must be ≥ 0")
    return d


def _need(value: Any, where: str) -> Decimal:
    d = _dec(value, where)
    assert d is not None
    return d


def _rounding(value: Any, where: str) -> str:
    if value not in ROUNDINGS:
        raise ReferenceDataError(f"{RIGHTS_FILE}: {where} must be one of {', '.join(ROUNDINGS)}")
    return str(value)


def _month_day(value: Any) -> tuple[int, int] | None:
    if value in (None, ""):
        return None
    try:
        month, day = (int(x) for x in str(value).split("-"))
        dt.date(2001, month, day)
    except ValueError as exc:
        raise ReferenceDataError(f"{RIGHTS_FILE}: surrender_deadline_month_day: {value!r}") from exc
    return month, day


@cache
def rights_rules() -> RightsRules:
    version, data = load_yaml(RIGHTS_FILE)
    if not isinstance(data, dict):
        raise ReferenceDataError(f"{RIGHTS_FILE}: not a mapping")
    try:
        eur = data["energy_rights"]
        emr = data["emission_rights"]
        gec = data["green_certificates"]
        credits = data["credits"]
        market = data["market"]
    except KeyError as exc:
        raise ReferenceDataError(f"{RIGHTS_FILE}: section {exc} is missing") from exc
    pollutants = {}
    for i, p in enumerate(emr.get("pollutants") or [], start=1):
        pollutants[str(p["unit_type"])] = Pollutant(
            unit_type=str(p["unit_type"]),
            name_zh=str(p["name_zh"]),
            hj212_code=str(p["hj212_code"]),
            fee_yuan_per_t=_dec(p.get("fee_yuan_per_t"), f"pollutant {i} fee", optional=True),
        )
    methodologies = {
        str(m["code"]): Methodology(
            str(m["code"]), str(m["name_zh"]), str(m["unit_type"]), str(m["unit"]), str(m["source"])
        )
        for m in credits.get("methodologies") or []
    }
    behaviours = {
        str(b["code"]): Behaviour(
            str(b["code"]),
            str(b["name_zh"]),
            str(b["unit"]),
            _need(b.get("points_per_unit"), f"behaviour {b.get('code')} points_per_unit"),
            str(b["source"]),
        )
        for b in credits.get("behaviours") or []
    }
    methods = tuple(str(m) for m in eur.get("project_cover_methods") or ())
    unknown = set(methods) - {"purchase", "trade", "replacement"}
    if unknown:
        raise ReferenceDataError(f"{RIGHTS_FILE}: unknown project_cover_methods {sorted(unknown)}")
    return RightsRules(
        version=version,
        source=str(data.get("source", "")),
        eur_price_yuan_per_tce=_dec(eur.get("price_yuan_per_tce"), "price", optional=True),
        eur_price_source=str(eur.get("price_source", "")),
        eur_definition_source=str(eur.get("definition_source", "")),
        eur_existing_use=str(eur.get("existing_use", "free")),
        eur_increment=str(eur.get("increment", "paid")),
        eur_cover_methods=methods,
        eur_region_level=str(eur.get("region_level", "prefecture")),
        eur_refuse_over_budget=bool(eur.get("refuse_over_budget", True)),
        eur_rounding=_rounding(eur.get("obligation_rounding"), "energy obligation_rounding"),
        eur_deadline_month_day=_month_day(eur.get("surrender_deadline_month_day")),
        pollutants=pollutants,
        emr_fee_source=str(emr.get("fee_source", "")),
        emr_permit_source=str(emr.get("permit_source", "")),
        emr_reference_prices=tuple(emr.get("reference_prices") or ()),
        cou_kg_per_t=_need(emr.get("cou_kg_per_t"), "cou_kg_per_t"),
        emr_region_level=str(emr.get("trading_region_level", "prefecture")),
        emr_rounding=_rounding(emr.get("obligation_rounding"), "emission obligation_rounding"),
        mwh_per_certificate=_need(gec.get("mwh_per_certificate"), "mwh_per_certificate"),
        gec_deduct=bool(gec.get("deduct_from_accounted_energy", False)),
        electricity_product_code=str(gec.get("electricity_product_code", "23")),
        gec_regional_cap_frac=_need(
            gec.get("regional_cap_frac_of_needed_savings"), "regional_cap_frac_of_needed_savings"
        ),
        gec_source=str(gec.get("source", "")),
        methodologies=methodologies,
        behaviours=behaviours,
        points_source=str(credits.get("points_source", "")),
        offset_source=str(credits.get("offset_source", "")),
        tradable=tuple(str(u) for u in market.get("tradable") or ()),
        same_region_unit_types=tuple(str(u) for u in market.get("same_region_unit_types") or ()),
        price_decimals=int(market.get("price_decimals", 2)),
        market_source=str(market.get("source", "")),
    )
