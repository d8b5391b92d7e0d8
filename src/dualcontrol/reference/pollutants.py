"""Pollutant definitions (``pollutants.csv``)."""

from __future__ import annotations

from dualcontrol.core.pollutants import Pollutant
from dualcontrol.reference import load_csv

POLLUTANTS_FILE = "pollutants.csv"


def pollutants() -> dict[str, Pollutant]:
    """COD, NH3-N, SO2, NOx, VOCs keyed by the platform code (cod, nh3n, so2, nox, vocs)."""
    table = load_csv(POLLUTANTS_FILE)
    return {
        r["code"]: Pollutant(
            code=r["code"],
            name_zh=r["name_zh"],
            name_en=r["name_en"],
            medium=r["medium"],
            hj212_code=r["hj212_code"],
            unit=r["unit"],
            note=r.get("note", ""),
            source=r["source"],
            version=table.version,
        )
        for r in table.rows
    }
