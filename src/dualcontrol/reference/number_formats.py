"""The printed precision of every quantity kind (``number_formats.yaml``, issue 14).

:func:`number_formats` reads and checks the file once; :func:`fmt` prints a value the way the
kind prints it in the active interface language (pages, exports and bulletins call it alike).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from dualcontrol.core import numbers
from dualcontrol.core.numbers import NumberFormat
from dualcontrol.reference import ReferenceDataError, load_yaml

NUMBER_FORMATS_FILE = "number_formats.yaml"
REQUIRED = ("input", "scale", "decimals", "unit_zh", "unit_en", "source")


@cache
def number_formats() -> Mapping[str, NumberFormat]:
    """Every quantity kind of the file, checked (a missing field or source refuses the file)."""
    version, data = load_yaml(NUMBER_FORMATS_FILE)
    if (data or {}).get("rounding") != "half_up":
        raise ReferenceDataError(f"{NUMBER_FORMATS_FILE}: rounding must be half_up")
    out: dict[str, NumberFormat] = {}
    problems: list[str] = []
    for kind, entry in ((data or {}).get("kinds") or {}).items():
        where = f"{NUMBER_FORMATS_FILE} kinds.{kind}"
        missing = [k for k in REQUIRED if entry.get(k) in (None, "")]
        missing = [k for k in missing if not (k.startswith("unit_") and k in entry)]
        if missing:
            problems.append(f"{where}: missing {', '.join(missing)}")
            continue
        try:
            scale = Decimal(str(entry["scale"]))
            decimals = int(entry["decimals"])
        except (InvalidOperation, ValueError) as exc:
            problems.append(f"{where}: {exc}")
            continue
        if not scale > 0 or not 0 <= decimals <= 6:
            problems.append(f"{where}: scale must be positive and decimals between 0 and 6")
            continue
        out[str(kind)] = NumberFormat(
            kind=str(kind),
            input=str(entry["input"]),
            scale=scale,
            decimals=decimals,
            grouping=bool(entry.get("grouping", False)),
            unit_zh=str(entry.get("unit_zh") or ""),
            unit_en=str(entry.get("unit_en") or ""),
            source=" ".join(str(entry["source"]).split()),
            title_zh=str(entry.get("title_zh") or ""),
            version=version,
        )
    for unit, kind in ((data or {}).get("stored_units") or {}).items():
        if kind not in out:
            problems.append(f"{NUMBER_FORMATS_FILE} stored_units.{unit}: unknown kind {kind!r}")
    if problems:
        raise ReferenceDataError("; ".join(problems))
    return out


@cache
def stored_units() -> Mapping[str, str]:
    """Stored unit label → the kind it is shown in (``"%"`` → ``pct``, ``tce`` → ``energy_10k_tce``)."""
    number_formats()  # checks the file
    _version, data = load_yaml(NUMBER_FORMATS_FILE)
    return {str(k): str(v) for k, v in ((data or {}).get("stored_units") or {}).items()}


def kind_for_unit(unit: str) -> str | None:
    """The kind a figure stored in ``unit`` is shown in (None: print it as stored)."""
    return stored_units().get(str(unit or "").strip())


def number_format(kind: str) -> NumberFormat:
    """The format of one kind (:class:`~dualcontrol.core.numbers.NumberFormatError` if unknown)."""
    return numbers.lookup(number_formats(), kind)


def active_language() -> str:
    """``zh`` or ``en``: the interface language of the request being served (zh without Django)."""
    try:
        from django.utils.translation import get_language

        return "en" if (get_language() or "zh").lower().startswith("en") else "zh"
    except ImportError:  # pragma: no cover - Django is always installed with the platform
        return "zh"


def fmt(value: Any, kind: str, *, unit: bool = True, lang: str | None = None) -> str:
    """``value`` printed as ``kind`` prints it, in the active language (see core.numbers)."""
    return numbers.format_number(
        value, number_format(kind), lang=lang or active_language(), unit=unit
    )


def header(label: str, kind: str, *, lang: str | None = None) -> str:
    """A column header naming the kind's unit: ``能耗`` → ``能耗（万吨标准煤）``."""
    return numbers.header(label, number_format(kind), lang=lang or active_language())
