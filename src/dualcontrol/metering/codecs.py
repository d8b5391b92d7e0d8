"""Wire formats of the ingest endpoint, isolated behind a codec.

The national 采集数据 upload format (GB/T 37947 / NECC 能耗监测端设备与系统平台通信规范) was NOT
FOUND (shared/reference/formats.md §3.5, §8): no national field names are invented here. The
platform's own format ``dualcontrol-json-v1`` is documented below and in docs/metering.md; when
the national text is available, a codec for it is written against :class:`Codec` and registered
with :func:`register` — the endpoint, the checks and the storage do not change.

A codec turns a request body into :class:`~dualcontrol.metering.services.RawReading` objects
(a reading it cannot decode carries its problem, so the rest of the batch still goes through),
and turns the ingest result into the acknowledgement body.

``dualcontrol-json-v1`` request::

    {"unit": "<USCC, optional: defaults to the caller's unit>",
     "readings": [
        {"item": "<16-character data-item code>", "ts": "2026-05-01T10:15:00+08:00",
         "value": 123.4, "frequency": 0, "source": 4},
        {"item": "...", "month": "2026-04", "value": 88000, "source": 5}
     ]}

``ts`` is ISO 8601; without an offset it is platform local time (Asia/Shanghai). ``month``
(YYYY-MM) stands for the month's first day at 00:00 (a monthly item; 手工填报 by default).
``frequency`` (0 实时, 1 日, 2 月) picks among items registered under one code at several
frequencies (default: the highest resolution, i.e. real-time before daily before monthly); ``source`` (4 现场仪表, 5 手工填报) defaults to the item's configured source.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from typing import Any, Protocol

from dualcontrol.core.metering import DataSource, Frequency, ReadingProblem


class CodecError(ValueError):
    """The message as a whole cannot be read (not JSON, no reading list …)."""


@dataclass
class DecodedBatch:
    unit: str | None
    readings: list[Any]  # list[services.RawReading]


class Codec(Protocol):
    name: str
    description: str
    content_type: str

    def decode(self, body: bytes) -> DecodedBatch: ...

    def encode(self, result: Any) -> dict[str, Any]: ...


_CODECS: dict[str, Codec] = {}


def register(codec: Codec) -> Codec:
    _CODECS[codec.name] = codec
    return codec


def get(name: str | None) -> Codec:
    key = name or DEFAULT
    if key not in _CODECS:
        raise CodecError(f"unknown codec {key!r}; available: {', '.join(sorted(_CODECS))}")
    return _CODECS[key]


def available() -> list[Codec]:
    return [_CODECS[k] for k in sorted(_CODECS)]


def parse_timestamp(text: Any) -> dt.datetime | None:
    """ISO 8601 (``T`` or space; ``Z`` or offset; naive = local time), else None."""
    if not isinstance(text, str) or not text.strip():
        return None
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        return None


def parse_value(raw: Any) -> float | None:
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int | float):
        return float(raw)
    if isinstance(raw, str):
        try:
            return float(raw.strip())
        except ValueError:
            return None
    return None


class JsonV1:
    """The platform's documented JSON format (see the module docstring)."""

    name = "dualcontrol-json-v1"
    description = "平台 JSON 格式 v1：readings[{item, ts|month, value, frequency?, source?}]"
    content_type = "application/json"

    def decode(self, body: bytes) -> DecodedBatch:
        from dualcontrol.metering.services import RawReading

        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CodecError(f"the body is not UTF-8 JSON: {exc}") from exc
        except RecursionError as exc:  # "[[[[…" nested past the parser's depth (issue 13)
            raise CodecError("the body is JSON nested too deeply") from exc
        if not isinstance(data, dict):
            raise CodecError("the body must be a JSON object with a 'readings' list")
        entries = data.get("readings")
        if entries is None and isinstance(data.get("manual"), list):
            entries = data["manual"]
        if not isinstance(entries, list):
            raise CodecError("'readings' must be a list")
        unit = data.get("unit")
        if unit is not None and not isinstance(unit, str):
            raise CodecError("'unit' must be a USCC string")
        out = []
        for index, entry in enumerate(entries):
            out.append(self._reading(index, entry, RawReading))
        return DecodedBatch(unit=unit.strip().upper() if unit else None, readings=out)

    def _reading(self, index: int, entry: Any, cls: Any) -> Any:
        if not isinstance(entry, dict):
            return cls(
                index=index, item="", problem=ReadingProblem("bad_entry", {"index": str(index)})
            )
        item = entry.get("item")
        item = item.strip().upper() if isinstance(item, str) else ""
        if not item:
            return cls(index=index, item="", problem=ReadingProblem("missing_item"))
        frequency = entry.get("frequency")
        source = entry.get("source")
        if frequency is not None and (isinstance(frequency, bool) or frequency not in (0, 1, 2)):
            return cls(
                index=index,
                item=item,
                problem=ReadingProblem("bad_frequency", {"value": str(frequency)}),
            )
        if source is not None and (isinstance(source, bool) or not isinstance(source, int)):
            return cls(
                index=index, item=item, problem=ReadingProblem("bad_source", {"value": str(source)})
            )
        if "month" in entry:
            month = entry.get("month")
            ts = parse_timestamp(f"{month}-01T00:00:00") if isinstance(month, str) else None
            if frequency is None:
                frequency = int(Frequency.MONTHLY)
            if source is None:
                source = int(DataSource.MANUAL)
            raw_ts = month
        else:
            raw_ts = entry.get("ts")
            ts = parse_timestamp(raw_ts)
        if ts is None:
            return cls(
                index=index,
                item=item,
                problem=ReadingProblem("bad_timestamp", {"value": str(raw_ts)}),
            )
        value = parse_value(entry.get("value"))
        if value is None or not math.isfinite(value):
            return cls(
                index=index,
                item=item,
                ts=ts,
                problem=ReadingProblem("bad_value", {"value": str(entry.get("value"))}),
            )
        return cls(index=index, item=item, ts=ts, value=value, frequency=frequency, source=source)

    def encode(self, result: Any) -> dict[str, Any]:
        batch = result.batch
        return {
            "batch": batch.pk,
            "received": batch.n_readings,
            "stored": result.stored,
            "queued": getattr(result, "queued", 0),
            "duplicates": [
                {"index": i, "stored_value": None if math.isnan(v) else v}
                for i, v in result.duplicates
            ],
            "rejected": [
                {
                    "index": e.index,
                    "item": e.item,
                    "ts": e.ts,
                    "reason": e.reason,
                    "message": e.message,
                }
                for e in result.errors
            ],
        }


DEFAULT = JsonV1.name
register(JsonV1())
