"""Official identifiers: USCC (统一社会信用代码, GB 32100-2015) and GB/T 2260 division codes."""

from __future__ import annotations

import re

# GB 32100-2015 §4–5: 18 characters from a 31-character set (no I, O, Z, S, V); the 18th is a
# check character over the first 17 with these weights (3^(i) mod 31).
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_DIVISION_RE = re.compile(r"^[1-9]\d{5}$")


class CodeError(ValueError):
    """An identifier is malformed; the message says why."""


def uscc_check_char(first17: str) -> str:
    """统一社会信用代码校验码 — the 18th character for the first 17 (GB 32100-2015)."""
    total = 0
    for ch, weight in zip(first17, USCC_WEIGHTS, strict=True):
        index = USCC_CHARSET.find(ch)
        if index < 0:
            raise CodeError(f"character {ch!r} is not allowed in a USCC")
        total += index * weight
    return USCC_CHARSET[(31 - total % 31) % 31]


def validate_uscc(code: str) -> str:
    """Return the normalised (upper-case, stripped) USCC or raise :class:`CodeError`."""
    value = code.strip().upper()
    if len(value) != 18:
        raise CodeError(f"a USCC has 18 characters, got {len(value)}")
    bad = sorted({ch for ch in value if ch not in USCC_CHARSET})
    if bad:
        raise CodeError(f"character(s) {''.join(bad)!r} not allowed in a USCC")
    if not _DIVISION_RE.match(value[2:8]):
        raise CodeError(f"characters 3–8 must be a division code, got {value[2:8]!r}")
    expected = uscc_check_char(value[:17])
    if value[17] != expected:
        raise CodeError(f"check character is {value[17]!r}, expected {expected!r}")
    return value


def make_uscc(registration_type: str, division_code: str, body: str) -> str:
    """Build a valid USCC from a 2-character type, a 6-digit division and a 9-character body."""
    first17 = f"{registration_type}{division_code}{body}".upper()
    if len(first17) != 17:
        raise CodeError("type (2) + division (6) + body (9) must be 17 characters")
    return first17 + uscc_check_char(first17)


def division_level(code: str) -> str:
    """``province`` / ``prefecture`` / ``county`` of a 6-digit GB/T 2260 code."""
    if not _DIVISION_RE.match(code):
        raise CodeError(f"a division code has 6 digits, got {code!r}")
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "prefecture"
    return "county"
