"""Energy online monitoring reference data (``metering_*.csv|yaml``) → :mod:`dualcontrol.core.metering`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dualcontrol.core.metering import (
    Aggregation,
    CodeCatalogue,
    EnergyCode,
    MeteringRules,
)
from dualcontrol.reference import ReferenceDataError, load_csv, load_yaml
from dualcontrol.reference.workcalendar import work_calendar

RULES_FILE = "metering_rules.yaml"
DATA_TYPES_FILE = "metering_data_types.csv"
ENERGY_CODES_FILE = "metering_energy_codes.csv"
USE_CODES_FILE = "metering_use_codes.csv"
FREQUENCIES_FILE = "metering_frequencies.csv"
SOURCES_FILE = "metering_sources.csv"
GRADES_FILE = "metering_instrument_grades.csv"
KINDS_FILE = "metering_instrument_kinds.csv"
CATALOGUE_FILES = (DATA_TYPES_FILE, ENERGY_CODES_FILE, USE_CODES_FILE)


def metering_rules() -> MeteringRules:
    """The thresholds with their sources (each one a figure of the rules file)."""
    version, d = load_yaml(RULES_FILE)
    try:
        rt, ts, stuck = d["realtime"], d["timestamps"], d["stuck_meter"]
        recon = d["reconciliation"]
        allowed = tuple(int(x) for x in rt["allowed_interval_minutes"])
        if any(1440 % m for m in allowed) or int(rt["standard_interval_minutes"]) not in allowed:
            raise ReferenceDataError(
                f"{RULES_FILE}: intervals must divide a day and include the standard"
            )
        return MeteringRules(
            version=version,
            completeness_min_frac=float(d["completeness"]["min_frac"]),
            consistency_max_dev_frac=float(d["consistency"]["max_deviation_frac"]),
            standard_interval_minutes=int(rt["standard_interval_minutes"]),
            allowed_interval_minutes=allowed,
            realtime_tolerance_s=int(ts["realtime_tolerance_seconds"]),
            day_tolerance_s=int(ts["day_tolerance_seconds"]),
            month_tolerance_days=int(ts["month_tolerance_days"]),
            future_tolerance_s=int(ts["future_tolerance_seconds"]),
            max_age_days=int(ts["max_age_days"]),
            stuck_min_hours=float(stuck["min_run_hours"]),
            stuck_ignore_zero=bool(stuck["ignore_zero"]),
            late_after_minutes=int(d["uploads"]["late_after_minutes"]),
            fault_repair_working_days=int(d["fault_repair"]["working_days"]),
            calibration_warn_days=int(d["calibration"]["warn_days"]),
            reconciliation_tolerance_frac=float(recon["tolerance_frac"]),
            storable_kinds=tuple(str(k) for k in recon["storable_kinds"]),
            max_readings_per_batch=int(d["ingest"]["max_readings_per_batch"]),
            sources={
                "completeness": str(d["completeness"]["source"]),
                "consistency": str(d["consistency"]["source"]),
                "realtime": str(rt["source"]),
                "timestamps": str(ts["time_source"]),
                "realtime_tolerance": str(ts["realtime_source"]),
                "limits": str(ts["limits_source"]),
                "stuck_meter": str(stuck["source"]),
                "uploads": str(d["uploads"]["source"]),
                "fault_repair": f"{d['fault_repair']['source']}; {d['fault_repair']['calendar']}",
                "calibration": str(d["calibration"]["source"]),
                "reconciliation": str(recon["tolerance_source"]),
                "storable": str(recon["storable_source"]),
                "ingest": str(d["ingest"]["source"]),
            },
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ReferenceDataError(f"{RULES_FILE}: {exc!r}") from exc


def code_catalogue() -> CodeCatalogue:
    """Data types, 4-digit codes and use codes of the data-item code."""
    types = load_csv(DATA_TYPES_FILE)
    energy = load_csv(ENERGY_CODES_FILE)
    uses = load_csv(USE_CODES_FILE)
    data_types = {r["code"]: r["kind"] for r in types.rows}
    codes: dict[str, EnergyCode] = {}
    for i, r in enumerate(energy.rows, start=2):
        where = f"{ENERGY_CODES_FILE} row {i}"
        if len(r["code"]) != 4 or r["code"] in codes:
            raise ReferenceDataError(f"{where}: code {r['code']!r} is not 4 characters or repeats")
        if r["data_type"] not in data_types:
            raise ReferenceDataError(f"{where}: unknown data_type {r['data_type']!r}")
        try:
            aggregation = Aggregation(r["aggregation"])
        except ValueError as exc:
            raise ReferenceDataError(f"{where}: aggregation must be sum or mean") from exc
        codes[r["code"]] = EnergyCode(
            code=r["code"],
            data_type=r["data_type"],
            name_zh=r["name_zh"],
            name_en=r["name_en"],
            unit=r["unit"],
            product_code=r["product_code"],
            aggregation=aggregation,
            source=r["source"],
        )
    return CodeCatalogue(
        data_types=data_types,
        energy_codes=codes,
        use_codes={r["code"]: r["name_zh"] for r in uses.rows},
        version=";".join(t.version for t in (types, energy, uses)),
    )


@dataclass(frozen=True)
class Choice:
    code: str
    name_zh: str
    name_en: str
    source: str


def _choices(name: str) -> list[Choice]:
    return [
        Choice(r["code"], r["name_zh"], r.get("name_en", ""), r["source"])
        for r in load_csv(name).rows
    ]


def data_type_names() -> dict[str, str]:
    return {c.code: c.name_zh for c in _choices(DATA_TYPES_FILE)}


def use_names() -> dict[str, str]:
    return {c.code: c.name_zh for c in _choices(USE_CODES_FILE)}


def frequencies() -> list[Choice]:
    return _choices(FREQUENCIES_FILE)


def sources() -> list[Choice]:
    return _choices(SOURCES_FILE)


def instrument_grades() -> list[Choice]:
    return _choices(GRADES_FILE)


def instrument_kinds() -> list[Choice]:
    return _choices(KINDS_FILE)


def versions() -> dict[str, Any]:
    """Version stamps of every metering reference file (for provenance)."""
    out: dict[str, Any] = {RULES_FILE: load_yaml(RULES_FILE)[0]}
    for name in (*CATALOGUE_FILES, FREQUENCIES_FILE, SOURCES_FILE, GRADES_FILE, KINDS_FILE):
        out[name] = load_csv(name).version
    out["holidays_cn"] = work_calendar().version  # the working days of the repair rule
    return out
