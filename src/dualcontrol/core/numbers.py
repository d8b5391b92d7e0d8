"""Numbers as published (issue 14): one formatting layer for pages, exports and bulletins.

A *quantity kind* (``pct``, ``frac_pct``, ``energy_10k_tce``, ``co2_t`` …) says which stored
unit it takes, the factor to the printed unit, the printed decimals and the unit label in each
interface language.  The kinds live in ``reference/data/number_formats.yaml`` with the official
publication each precision follows (or "platform rule"); :mod:`dualcontrol.reference.number_formats`
reads them into :class:`NumberFormat` values and this module applies them — pure functions, no
Django, no I/O.

Rounding is half up on the magnitude (四舍五入), as the bulletins print (``2.675`` → ``"2.68"``,
``-3.805`` → ``"-3.81"``); a float is read through its shortest decimal text (``repr``) first, so
binary artefacts never decide a tie.  A value that rounds to zero prints without a sign.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

LANGUAGES = ("zh", "en")
MISSING = "—"


class NumberFormatError(ValueError):
    """An unknown quantity kind or a value that is not a number."""


@dataclass(frozen=True)
class NumberFormat:
    """How one quantity kind is printed (one entry of ``number_formats.yaml``)."""

    kind: str
    input: str
    scale: Decimal
    decimals: int
    grouping: bool
    unit_zh: str
    unit_en: str
    source: str
    title_zh: str = ""
    version: str = ""

    def unit(self, lang: str = "zh") -> str:
        """The unit label in the interface language (``zh`` for any Chinese variant)."""
        return self.unit_en if _lang(lang) == "en" else self.unit_zh


def _lang(lang: str | None) -> str:
    code = (lang or "zh").lower()
    return "en" if code.startswith("en") else "zh"


def to_decimal(value: Any) -> Decimal | None:
    """A stored value as a Decimal (``None``/``""`` → ``None``); floats through their repr."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise NumberFormatError(f"not a number: {value!r}")
    if isinstance(value, Decimal):
        return value
    try:
        d = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise NumberFormatError(f"not a number: {value!r}") from exc
    return d


def round_half_up(value: Decimal, places: int, rounding: str = ROUND_HALF_UP) -> Decimal:
    """``value`` rounded to ``places`` decimals, ties away from zero (四舍五入) by default — the
    one rounding of pages, exports and bulletins (:mod:`dualcontrol.core.bulletin` uses it)."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=rounding)


def rounded(value: Any, fmt: NumberFormat) -> Decimal | None:
    """The number as printed: scaled to the printed unit and rounded half up to its decimals
    (``None`` for a missing or non-finite value)."""
    d = to_decimal(value)
    if d is None or not d.is_finite():
        return None
    out = round_half_up(d * fmt.scale, fmt.decimals)
    return abs(out) if out.is_zero() else out  # "-0.00" → "0.00"


def format_number(
    value: Any,
    fmt: NumberFormat,
    *,
    lang: str = "zh",
    unit: bool = True,
    grouping: bool | None = None,
    missing: str = MISSING,
) -> str:
    """``value`` printed as the kind prints it: ``14.7397`` (pct) → ``"14.74%"``,
    ``12345`` (energy_10k_tce) → ``"1.23 万吨标准煤"``; ``missing`` for no value.

    ``unit=False`` leaves the unit label out (a table whose header names the unit);
    ``grouping`` overrides the kind's thousands separators."""
    d = rounded(value, fmt)
    if d is None:
        d_in = to_decimal(value)
        return missing if d_in is None else str(d_in)  # NaN / Infinity as their text
    group = fmt.grouping if grouping is None else grouping
    text = f"{d:,.{fmt.decimals}f}" if group else f"{d:.{fmt.decimals}f}"
    if not unit:
        return text
    label = fmt.unit(lang)
    if not label:
        return text
    return f"{text}{label}" if label == "%" else f"{text} {label}"


def excel_number_format(fmt: NumberFormat) -> str:
    """The Excel number format showing the kind's decimals (``"#,##0.00"``, ``"0.0"``).

    Exports write the *scaled* number (:func:`rounded`) into the cell: Excel's own ``%`` format
    would multiply by 100 again, and a scale of 10⁻⁴ has no number-format equivalent."""
    body = "#,##0" if fmt.grouping else "0"
    return body + ("." + "0" * fmt.decimals if fmt.decimals else "")


def header(label: str, fmt: NumberFormat, *, lang: str = "zh") -> str:
    """A column header with its unit: ``能耗`` → ``能耗（万吨标准煤）`` (``Energy (10k tce)`` in English)."""
    unit = fmt.unit(lang)
    if not unit:
        return label
    return f"{label} ({unit})" if _lang(lang) == "en" else f"{label}（{unit}）"


def lookup(formats: Mapping[str, NumberFormat], kind: str) -> NumberFormat:
    """The format of ``kind`` (a :class:`NumberFormatError` naming the known kinds otherwise)."""
    try:
        return formats[kind]
    except KeyError:
        known = ", ".join(sorted(formats))
        raise NumberFormatError(f"unknown quantity kind {kind!r} (known: {known})") from None


def unit_kind(unit: str, formats: Mapping[str, NumberFormat]) -> NumberFormat | None:
    """The kind whose printed unit label (zh or en) is ``unit`` — how an export reads the unit a
    header names.  The cells under such a header are already in that unit, so only the kind's
    decimals and grouping apply (never its scale).  Kinds sharing a label (``%``) resolve to the
    first one in the file."""
    unit = unit.strip()
    if not unit:
        return None
    for fmt in formats.values():
        if unit in (fmt.unit_zh, fmt.unit_en):
            return fmt
    return None
