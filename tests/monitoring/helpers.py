"""Builders for monitoring tests (outlets with limits, data records)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from dualcontrol.core.hj212_stream import DataRecord
from dualcontrol.monitoring import services
from dualcontrol.monitoring.models import Outlet

_n = iter(range(1, 10**6))


def make_outlet(entity, mn: str | None = None, kind: str = "water", **kw) -> Outlet:
    return services.create_outlet(
        user=None,
        entity=entity,
        mn=mn or f"TESTMN{next(_n):06d}",
        name=kw.pop("name", "1号排放口"),
        kind=kind,
        **kw,
    )


def hour_record(
    mn: str,
    when: dt.datetime,
    values: dict[str, tuple[str, str]],
    cn: str = "2061",
) -> DataRecord:
    """values: code -> (Avg, Flag)."""
    field = "Rtd" if cn == "2011" else "Avg"
    return DataRecord(
        mn=mn,
        st="32",
        cn=cn,
        data_time=when,
        values={code: {field: Decimal(v), "Flag": f} for code, (v, f) in values.items()},
        source_codes={},
        qn=None,
        flag=4,
        version="HJ 212-2017",
    )
