"""HJ 212 codec (污染物在线监控（监测）系统数据传输标准): CRC, parse, validate, build.

Packet layout (shared/reference/08_hj212.md "Packet layout"; the standard's text was not read):
``##`` + 4-digit decimal data-segment length + data segment + 4 hex CRC16 + CRLF, where the data
segment is ``QN=…;ST=…;CN=…;PW=…;MN=…;Flag=…;[PNUM=…;PNO=…;]CP=&&…&&`` and the length counts the
bytes of the data segment only.

The codec accepts HJ/T 212-2005, HJ 212-2017 and HJ 212-2025 stations.  The protocol version is
read from the Flag field (bits V5…V0 above D and A); which version number means which standard
is reference data (``hj212_versions.csv``) because the 2025 assignment is not verified against
the standard's text.  Code tables (ST, CN, pollutant codes, 2005→2017 code mapping, data flags)
come in as an :class:`Hj212Tables` value; without them the codec still parses and validates the
syntax, it only cannot name codes, map 2005 codes or warn about unknown ones.

Every rejection raises an :class:`Hj212Error` subclass whose ``code`` (:class:`ErrorCode`) names
the reason; nothing else escapes :func:`parse_packet` whatever bytes it is given.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from functools import cache

__all__ = [
    "CODEC",
    "DEFAULT_LIMITS",
    "NUMERIC_FIELDS",
    "ChecksumError",
    "CommandSpec",
    "DataError",
    "ErrorCode",
    "FieldError",
    "FramingError",
    "Hj212Error",
    "Hj212Tables",
    "Limits",
    "Packet",
    "TimestampError",
    "build_packet",
    "build_reply",
    "build_segment",
    "crc16",
    "crc16_reference",
    "encode_cp",
    "frame",
    "parse_packet",
    "parse_packet_python",
    "parse_segment",
    "parse_segment_python",
    "reply_cn",
    "split_lines",
]


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class ErrorCode(StrEnum):
    """Why a packet was rejected (stable identifiers: logged, counted and shown to operators)."""

    TOO_SHORT = "too_short"
    BAD_HEADER = "bad_header"
    BAD_TERMINATOR = "bad_terminator"
    BAD_LENGTH = "bad_length"
    LENGTH_MISMATCH = "length_mismatch"
    TOO_LONG = "too_long"
    JUNK = "junk"
    TRUNCATED = "truncated"
    NOT_TEXT = "not_text"
    BAD_CRC = "bad_crc"
    CRC_MISMATCH = "crc_mismatch"
    BAD_SEGMENT = "bad_segment"
    MISSING_FIELD = "missing_field"
    DUPLICATE_FIELD = "duplicate_field"
    BAD_FIELD = "bad_field"
    BAD_PACKET_NUMBER = "bad_packet_number"
    BAD_TIMESTAMP = "bad_timestamp"
    BAD_CP = "bad_cp"
    BAD_VALUE = "bad_value"
    INCOMPLETE_MESSAGE = "incomplete_message"


class Hj212Error(ValueError):
    """A packet (or stream fragment) that the codec rejects; ``code`` says why."""

    def __init__(self, code: ErrorCode, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return f"{self.code.value}: {self.message}"


class FramingError(Hj212Error):
    """通讯包结构错误 — header, length field, terminator, size or character encoding."""


class ChecksumError(Hj212Error):
    """CRC 校验错误 — the CRC field is malformed or does not match the data segment."""


class FieldError(Hj212Error):
    """数据段字段错误 — a header field (QN/ST/CN/PW/MN/Flag/PNUM/PNO) is missing or malformed."""


class TimestampError(FieldError):
    """时间标签错误 — QN or a CP time (DataTime …) is not a valid timestamp."""


class DataError(Hj212Error):
    """指令参数错误 — the CP segment (数据区) is malformed or holds a non-numeric value."""


# --------------------------------------------------------------------------------------------
# CRC16 (08_hj212.md "CRC16", standard wording H1)
# --------------------------------------------------------------------------------------------


def crc16_reference(data: bytes) -> int:
    """CRC16 exactly as the standard words it (slow; the specification for :func:`crc16`).

    Register 0xFFFF; for each byte: XOR the byte into the register's HIGH byte shifted down
    (``crc = (crc >> 8) ^ byte``), then 8 times shift right and XOR 0xA001 when the bit shifted
    out was 1.  This is not Modbus CRC16, which XORs into the low byte.
    """
    crc = 0xFFFF
    for byte in data:
        crc = (crc >> 8) ^ byte
        for _ in range(8):
            lsb = crc & 1
            crc >>= 1
            if lsb:
                crc ^= 0xA001
    return crc


def _build_crc_tables() -> tuple[tuple[int, ...], tuple[tuple[int, ...], ...], tuple[int, ...]]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0xA001 if c & 1 else c >> 1
        table.append(c)
    high = [t >> 8 for t in table]
    powers: list[tuple[int, ...]] = []
    current = list(range(256))
    for _ in range(8):
        powers.append(tuple(current))
        current = [high[v] for v in current]
    if current != list(range(256)):  # pragma: no cover - a property of the polynomial
        raise AssertionError("CRC step map is not of order 8")
    init = tuple(powers[k][0xFF] for k in range(8))
    return tuple(table), tuple(powers), init


# Why this is fast and still the standard's CRC: one step is crc = T[(crc >> 8) ^ byte], where T
# is the usual reflected table for 0xA001 (8 shift/XOR rounds depend only on the low byte).  So
# only the register's high byte h carries state: h' = M(h ^ byte) with M(i) = T[i] >> 8, and M is
# linear over GF(2) and has order 8 (M^8 = identity, checked above).  Unrolled, the final register
# is T[M^(n-1)(0xFF) ^ XOR_k M^((n-k) mod 8)(byte_k)]: bytes whose distance from the end agrees
# mod 8 can be XORed together first.  Folding the message as a big integer into one 64-bit word
# does exactly that in C; eight table look-ups finish it.  Tests check it against the reference.
_CRC_T, _CRC_POW, _CRC_INIT = _build_crc_tables()
_P0, _P1, _P2, _P3, _P4, _P5, _P6, _P7 = _CRC_POW
_MASKS = tuple((1 << (64 * words)) - 1 for words in range(160))  # folds up to 10 KiB use these


def crc16(data: bytes) -> int:
    """HJ 212 CRC16 of ``data`` (the data segment's bytes); equals :func:`crc16_reference`."""
    n = len(data)
    if n == 0:
        return 0xFFFF
    v = int.from_bytes(data, "big")
    words = (n + 7) >> 3
    while words > 1:
        half = (words + 1) >> 1
        shift = half << 6
        mask = _MASKS[half] if half < 160 else (1 << shift) - 1
        v = (v >> shift) ^ (v & mask)
        words = half
    x = (
        _P0[v & 0xFF]
        ^ _P1[(v >> 8) & 0xFF]
        ^ _P2[(v >> 16) & 0xFF]
        ^ _P3[(v >> 24) & 0xFF]
        ^ _P4[(v >> 32) & 0xFF]
        ^ _P5[(v >> 40) & 0xFF]
        ^ _P6[(v >> 48) & 0xFF]
        ^ _P7[(v >> 56) & 0xFF]
        ^ _CRC_INIT[(n - 1) & 7]
    )
    return _CRC_T[x]


# --------------------------------------------------------------------------------------------
# Reference tables and limits (plain values; loaded by dualcontrol.reference.hj212)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """命令编码 — a CN a station sends to the platform, and how the platform answers it."""

    cn: str
    name_zh: str
    kind: str  # upload | notify | interaction
    reply_cn: (
        str | None
    )  # CN of the answer when the Flag asks for one (9014 数据应答, 9013 通知应答)


@dataclass(frozen=True)
class Hj212Tables:
    """HJ 212 code tables as plain values (系统编码, 命令编码, 污染物编码, 数据标记, 版本号)."""

    versions: Mapping[int, str]  # Flag version number (bits 2-7) -> standard, e.g. "HJ 212-2017"
    legacy_versions: frozenset[int]  # version numbers whose pollutant codes are 2005 codes
    systems: Mapping[str, str]  # ST -> name
    commands: Mapping[str, CommandSpec]  # CN sent by stations -> spec
    platform_commands: Mapping[str, str]  # CN sent by the platform (请求命令 …) -> name
    pollutants: Mapping[str, str]  # 2017 code -> name
    legacy_codes: Mapping[str, str]  # 2005 code -> 2017 code
    data_flags: Mapping[str, frozenset[str]]  # standard -> data flags (N, F, M, S, D, C, T, B …)
    version: str = ""  # version stamps of the files the tables came from (provenance)

    def flags_for(self, standard: str | None) -> frozenset[str]:
        """Data flags of ``standard``; the union of all known sets when it has none of its own."""
        if standard is not None and standard in self.data_flags:
            return self.data_flags[standard]
        out: frozenset[str] = frozenset()
        for flags in self.data_flags.values():
            out |= flags
        return out


@dataclass(frozen=True, slots=True)
class Limits:
    """Field size limits: 08_hj212.md "Field max lengths" (H2) less the ``KEY=`` part."""

    max_data_length: int = 1024  # 数据段 0-1024 characters
    max_mn_length: int = 24  # MN 27 = "MN=" + 24
    max_pw_length: int = 6  # PW 9 = "PW=" + 6
    max_packet_number: int = 9999  # PNUM/PNO: 4 digits


DEFAULT_LIMITS = Limits()

# Per-pollutant field suffixes whose values are numbers (08_hj212.md "Packet layout"; formats.md
# §5.2): 实时值, 平均值, 最小值, 最大值, 累计量, 折算值 (Zs…), 设备运行状态/时间 (RS/RT), 报警值 etc.
NUMERIC_FIELDS: frozenset[str] = frozenset(
    {
        "Rtd",
        "Avg",
        "Min",
        "Max",
        "Cou",
        "ZsRtd",
        "ZsAvg",
        "ZsMin",
        "ZsMax",
        "RS",
        "RT",
        "Ala",
        "UpValue",
        "LowValue",
        "Data",
        "DayData",
        "NightData",
    }
)
# CP parameters that are timestamps yyyyMMddHHmmss.
TIME_PARAMS: frozenset[str] = frozenset(
    {"DataTime", "BeginTime", "EndTime", "SystemTime", "RestartTime"}
)

FLAG_ACK = 0x01  # A: 命令是否应答 (1 = the sender wants an answer)
FLAG_PARTS = 0x02  # D: 是否有数据包序号 (1 = PNUM and PNO present)

Value = Decimal | str


# --------------------------------------------------------------------------------------------
# Packet
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Packet:
    """通讯包 — one validated HJ 212 packet (values in the CP segment keyed by 2017 code)."""

    segment: str  # the data segment as received
    qn: str | None  # 请求编码 yyyyMMddHHmmssSSS
    st: str  # 系统编码
    cn: str  # 命令编码
    pw: str  # 访问密码
    mn: str  # 设备唯一标识
    flag: int | None  # 拆分包及应答标志 (absent in many HJ/T 212-2005 packets)
    pnum: int | None  # 总包数
    pno: int | None  # 包号
    cp: str  # CP content between the && markers
    data_time: dt.datetime | None  # DataTime (local time as sent)
    # code -> field suffix -> value; CP items without a code (DataTime, RtdInterval, QnRtn …)
    values: Mapping[str, Mapping[str, Value]] = field(hash=False)
    params: Mapping[str, str] = field(hash=False)
    # 2017 code -> the 2005 code the station sent
    source_codes: Mapping[str, str] = field(default_factory=dict, hash=False)
    version: str | None = None  # standard named by the Flag's version bits, from the tables
    extra: Mapping[str, str] = field(default_factory=dict, hash=False)  # unknown header fields
    warnings: tuple[str, ...] = ()

    @property
    def version_number(self) -> int:
        """Flag bits V5…V0 (0 when the Flag field is absent, as in HJ/T 212-2005 packets)."""
        return (self.flag or 0) >> 2

    @property
    def needs_ack(self) -> bool:
        """Flag bit A: the station asks the platform to answer this packet."""
        return bool((self.flag or 0) & FLAG_ACK)

    @property
    def is_split(self) -> bool:
        """Part of a multi-packet message (拆分包: PNUM > 1)."""
        return self.pnum is not None and self.pnum > 1


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------

_HEX = b"0123456789ABCDEFabcdef"
_BAD_HEADER_CHARS = frozenset("=&,")


_NUMBER_CHARS = "0123456789+-.eE"


def _digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


# Valid timestamps seen lately (stations send the same DataTime, and QNs of the same second):
# a parsed datetime is immutable, so it can be handed out again.  Bounded; cleared when full.
_TIMES: dict[str, dt.datetime] = {}
_TIMES_MAX = 8192


def _timestamp(value: str, what: str) -> dt.datetime:
    """yyyyMMddHHmmss (DataTime …) -> naive datetime."""
    known = _TIMES.get(value)
    if known is not None:
        return known
    if len(value) != 14 or not _digits(value):
        raise TimestampError(
            ErrorCode.BAD_TIMESTAMP, f"{what}={value!r} is not yyyyMMddHHmmss", field=what
        )
    try:
        # 14 ASCII digits checked above, so only the ISO basic format can reach this.
        when = dt.datetime.fromisoformat(f"{value[:8]}T{value[8:]}")
    except ValueError as exc:
        raise TimestampError(
            ErrorCode.BAD_TIMESTAMP, f"{what}={value!r} is not a valid time ({exc})", field=what
        ) from None
    if len(_TIMES) >= _TIMES_MAX:
        _TIMES.clear()
    _TIMES[value] = when
    return when


def _check_qn(value: str) -> None:
    """QN = yyyyMMddHHmmssSSS (request time to the millisecond)."""
    if len(value) != 17 or not _digits(value):
        raise TimestampError(
            ErrorCode.BAD_TIMESTAMP, f"QN={value!r} is not yyyyMMddHHmmssSSS", field="QN"
        )
    _timestamp(value[:14], "QN")


def _decode(segment: bytes) -> str:
    try:
        return segment.decode("ascii")
    except UnicodeDecodeError:
        pass
    for encoding in ("utf-8", "gb18030"):
        try:
            return segment.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FramingError(ErrorCode.NOT_TEXT, "data segment is neither ASCII, UTF-8 nor GB18030")


def _check_frame(raw: bytes, limits: Limits) -> bytes:
    """Check the frame around the data segment and return the segment's bytes."""
    n = len(raw)
    if n < 12:
        raise FramingError(ErrorCode.TOO_SHORT, f"{n} bytes; a packet has at least 12")
    if raw[:2] != b"##":
        raise FramingError(ErrorCode.BAD_HEADER, f"packet starts with {raw[:2]!r}, not '##'")
    if raw[-2:] != b"\r\n":
        raise FramingError(ErrorCode.BAD_TERMINATOR, f"packet ends with {raw[-2:]!r}, not CRLF")
    length_field = raw[2:6]
    if not length_field.isdigit():
        raise FramingError(
            ErrorCode.BAD_LENGTH, f"length field {length_field!r} is not 4 decimal digits"
        )
    declared = int(length_field)
    segment = raw[6:-6]
    if len(segment) != declared:
        raise FramingError(
            ErrorCode.LENGTH_MISMATCH,
            f"length field says {declared} bytes, data segment has {len(segment)}",
        )
    if declared > limits.max_data_length:
        raise FramingError(
            ErrorCode.TOO_LONG, f"data segment of {declared} bytes > {limits.max_data_length}"
        )
    crc_field = raw[-6:-2]
    if crc_field.strip(_HEX):
        raise ChecksumError(ErrorCode.BAD_CRC, f"CRC field {crc_field!r} is not 4 hex digits")
    computed = crc16(segment)
    if int(crc_field, 16) != computed:
        raise ChecksumError(
            ErrorCode.CRC_MISMATCH,
            f"CRC field is {crc_field.decode('ascii')}, data segment's CRC is {computed:04X}",
        )
    return segment


def _header_value(fields: dict[str, str], key: str, *, required: bool) -> str | None:
    value = fields.pop(key, None)
    if value is None:
        if required:
            raise FieldError(ErrorCode.MISSING_FIELD, f"{key} is missing", field=key)
        return None
    if not value or _BAD_HEADER_CHARS.intersection(value) or not value.isprintable():
        raise FieldError(ErrorCode.BAD_FIELD, f"{key}={value!r} is empty or malformed", field=key)
    return value


def _small_int(value: str, key: str, low: int, high: int) -> int:
    if not (1 <= len(value) <= 4 and _digits(value)) or not low <= int(value) <= high:
        raise FieldError(
            ErrorCode.BAD_FIELD, f"{key}={value!r} is not an integer {low}-{high}", field=key
        )
    return int(value)


def parse_packet_python(
    raw: bytes | str, tables: Hj212Tables | None = None, limits: Limits = DEFAULT_LIMITS
) -> Packet:
    """Parse and validate one packet (``##`` … CRLF); raise :class:`Hj212Error` on rejection.

    The pure-Python codec: the reference, and :func:`parse_packet` when the compiled codec
    (``_hj212_fast``) is not built.

    ``str`` input is encoded as UTF-8 first.  With ``tables``, 2005 pollutant codes are mapped
    to 2017 codes, the version is named, and unknown ST/CN/pollutant codes or data flags are
    reported in ``warnings`` (they do not reject the packet).
    """
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    segment = _decode(_check_frame(raw, limits))
    return parse_segment_python(segment, tables, limits)


def parse_segment_python(
    segment: str, tables: Hj212Tables | None = None, limits: Limits = DEFAULT_LIMITS
) -> Packet:
    """Parse and validate a data segment (``QN=…;…;CP=&&…&&``) whose frame was checked.

    A header in the standard's field order with plain ASCII values takes a fast path (one
    regular expression); any other header takes the field-by-field path, which accepts any
    order and names the first fault.  Both paths then share every other check.
    """
    match = _fast_header(limits).match(segment)
    if match is not None and segment.endswith("&&") and match.end() <= len(segment) - 2:
        qn, st, cn, pw, mn, flag_text, pnum_text, pno_text = match.groups()
        return _finish(
            segment, qn, st, cn, pw, mn, flag_text, pnum_text, pno_text, {},
            segment[match.end() : -2], tables, limits,
        )  # fmt: skip
    return _parse_segment_slow(segment, tables, limits)


def _parse_segment_slow(
    segment: str, tables: Hj212Tables | None = None, limits: Limits = DEFAULT_LIMITS
) -> Packet:
    """:func:`parse_segment_python` on the field-by-field path always (tests compare both)."""
    qn, st, cn, pw, mn, flag_text, pnum_text, pno_text, extra, cp = _header_slow(segment, limits)
    return _finish(
        segment, qn, st, cn, pw, mn, flag_text, pnum_text, pno_text, extra, cp, tables, limits
    )


@cache
def _fast_header(limits: Limits) -> re.Pattern[str]:
    """The header in the standard's field order with plain ASCII values, up to ``CP=&&``."""
    ident = r"[0-9A-Za-z_.\-]"
    return re.compile(
        rf"(?:QN=(\d{{17}});)?ST=(\d\d);CN=(\d{{4}});"
        rf"PW=({ident}{{1,{limits.max_pw_length}}});MN=({ident}{{1,{limits.max_mn_length}}});"
        rf"(?:Flag=(\d{{1,3}});)?(?:PNUM=(\d{{1,4}});PNO=(\d{{1,4}});)?CP=&&",
        re.ASCII,
    )


_Header = tuple[
    str | None, str, str, str, str, str | None, str | None, str | None, dict[str, str], str
]


def _header_slow(segment: str, limits: Limits) -> _Header:
    """Header fields one by one, in any order (the authoritative path)."""
    cp_at = segment.find(";CP=")
    if cp_at < 0:
        if segment.startswith("CP="):
            raise FieldError(ErrorCode.MISSING_FIELD, "ST is missing", field="ST")
        raise FieldError(ErrorCode.MISSING_FIELD, "CP is missing", field="CP")
    fields: dict[str, str] = {}
    for item in segment[:cp_at].split(";"):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise FieldError(
                ErrorCode.BAD_SEGMENT, f"header item {item!r} is not KEY=VALUE", field=key or None
            )
        if key in fields:
            raise FieldError(ErrorCode.DUPLICATE_FIELD, f"{key} appears twice", field=key)
        fields[key] = value
    qn = _header_value(fields, "QN", required=False)
    st = _header_value(fields, "ST", required=True)
    cn = _header_value(fields, "CN", required=True)
    pw = _header_value(fields, "PW", required=True)
    mn = _header_value(fields, "MN", required=True)
    flag_text = _header_value(fields, "Flag", required=False)
    pnum_text = _header_value(fields, "PNUM", required=False)
    pno_text = _header_value(fields, "PNO", required=False)
    assert st is not None and cn is not None and pw is not None and mn is not None
    if len(st) != 2 or not _digits(st):
        raise FieldError(ErrorCode.BAD_FIELD, f"ST={st!r} is not 2 digits", field="ST")
    if len(cn) != 4 or not _digits(cn):
        raise FieldError(ErrorCode.BAD_FIELD, f"CN={cn!r} is not 4 digits", field="CN")
    if len(pw) > limits.max_pw_length:
        raise FieldError(
            ErrorCode.BAD_FIELD, f"PW is {len(pw)} characters > {limits.max_pw_length}", field="PW"
        )
    if len(mn) > limits.max_mn_length:
        raise FieldError(
            ErrorCode.BAD_FIELD, f"MN is {len(mn)} characters > {limits.max_mn_length}", field="MN"
        )
    cp = segment[cp_at + 4 :]
    if len(cp) < 4 or cp[:2] != "&&" or cp[-2:] != "&&":
        raise DataError(ErrorCode.BAD_CP, "CP is not enclosed in && … &&", field="CP")
    return qn, st, cn, pw, mn, flag_text, pnum_text, pno_text, fields, cp[2:-2]


def _finish(
    segment: str,
    qn: str | None,
    st: str,
    cn: str,
    pw: str,
    mn: str,
    flag_text: str | None,
    pnum_text: str | None,
    pno_text: str | None,
    extra: dict[str, str],
    cp: str,
    tables: Hj212Tables | None,
    limits: Limits,
) -> Packet:
    """Checks common to both paths, then the values; builds the packet."""
    warnings: list[str] = []
    if qn is not None:
        _check_qn(qn)
    flag: int | None = None
    if flag_text is not None:
        if len(flag_text) > 3 or not _digits(flag_text) or int(flag_text) > 255:
            raise FieldError(
                ErrorCode.BAD_FIELD, f"Flag={flag_text!r} is not an integer 0-255", field="Flag"
            )
        flag = int(flag_text)
    pnum = pno = None
    if pnum_text is not None or pno_text is not None:
        if pnum_text is None or pno_text is None:
            missing = "PNUM" if pnum_text is None else "PNO"
            raise FieldError(
                ErrorCode.MISSING_FIELD,
                f"{missing} is missing (PNUM and PNO go together)",
                field=missing,
            )
        pnum = _small_int(pnum_text, "PNUM", 1, limits.max_packet_number)
        pno = _small_int(pno_text, "PNO", 1, limits.max_packet_number)
        if pno > pnum:
            raise FieldError(ErrorCode.BAD_PACKET_NUMBER, f"PNO={pno} > PNUM={pnum}", field="PNO")
        if flag is not None and not flag & FLAG_PARTS:
            warnings.append("PNUM/PNO present but Flag bit D is 0")
    elif flag is not None and flag & FLAG_PARTS:
        raise FieldError(
            ErrorCode.MISSING_FIELD, "Flag bit D is 1 but PNUM/PNO are missing", field="PNUM"
        )
    if extra:
        warnings.append(f"unknown header field(s) {', '.join(sorted(extra))}")

    version_number = (flag or 0) >> 2
    version: str | None = None
    legacy_map: Mapping[str, str] | None = None
    if tables is not None:
        version = tables.versions.get(version_number)
        if version is None:
            warnings.append(f"unknown protocol version {version_number} in Flag")
        if version_number in tables.legacy_versions:
            legacy_map = tables.legacy_codes
        if st not in tables.systems:
            warnings.append(f"unknown ST {st}")
        if cn not in tables.commands and cn not in tables.platform_commands:
            warnings.append(f"unknown CN {cn}")

    values: dict[str, dict[str, Value]] = {}
    params: dict[str, str] = {}
    source_codes: dict[str, str] = {}
    if "&" in cp:
        raise DataError(ErrorCode.BAD_CP, "'&' inside the CP data area", field="CP")
    numeric = NUMERIC_FIELDS
    number_chars = _NUMBER_CHARS
    decimal = Decimal
    for item in cp.split(";") if cp else ():
        for pair in item.split(","):
            key, sep, text = pair.partition("=")
            if not sep or not key:
                if not pair:
                    continue  # empty item or pair (e.g. a trailing ';'): tolerated
                raise DataError(ErrorCode.BAD_CP, f"CP item {pair!r} is not KEY=VALUE")
            code, dash, suffix = key.partition("-")
            if not dash:
                if key in params:
                    raise FieldError(
                        ErrorCode.DUPLICATE_FIELD, f"CP {key} appears twice", field=key
                    )
                params[key] = text
                continue
            if not code or not suffix:
                raise DataError(ErrorCode.BAD_CP, f"CP key {key!r} is not CODE-FIELD")
            if legacy_map is not None:
                mapped = legacy_map.get(code)
                if mapped is not None:
                    source_codes[mapped] = code
                    code = mapped
            entry = values.get(code)
            if entry is None:
                entry = values[code] = {}
            elif suffix in entry:
                raise FieldError(
                    ErrorCode.DUPLICATE_FIELD, f"CP {code}-{suffix} appears twice", field=code
                )
            if suffix in numeric:
                # HJ 212 numbers: no spaces, NaN, infinities or underscores, which Decimal takes.
                if text and not text.strip(number_chars):
                    try:
                        entry[suffix] = decimal(text)
                        continue
                    except ArithmeticError:
                        pass
                raise DataError(ErrorCode.BAD_VALUE, f"{key}={text!r} is not a number", field=code)
            entry[suffix] = text
    data_time = None
    if params:
        for key in TIME_PARAMS.intersection(params):
            when = _timestamp(params[key], key)
            if key == "DataTime":
                data_time = when

    if tables is not None and values:
        known_flags = tables.flags_for(version)
        for code, entry in values.items():
            if code not in tables.pollutants:
                warnings.append(f"unknown pollutant code {code}")
            data_flag = entry.get("Flag")
            if isinstance(data_flag, str) and data_flag not in known_flags:
                warnings.append(f"unknown data flag {data_flag!r} for {code}")

    return _new_packet(
        {
            "segment": segment,
            "qn": qn,
            "st": st,
            "cn": cn,
            "pw": pw,
            "mn": mn,
            "flag": flag,
            "pnum": pnum,
            "pno": pno,
            "cp": cp,
            "data_time": data_time,
            "values": values,
            "params": params,
            "source_codes": source_codes,
            "version": version,
            "extra": extra,
            "warnings": tuple(warnings),
        }
    )


# --------------------------------------------------------------------------------------------
# The codec in use: compiled (issue 18) when built, else the pure-Python one above
# --------------------------------------------------------------------------------------------

parse_packet = parse_packet_python
parse_segment = parse_segment_python
CODEC = "python"  # "compiled" when dualcontrol.core._hj212_fast is built and in use
try:
    from dualcontrol.core import _hj212_fast
except ImportError:  # not built (no compiler at install time): the pure-Python codec
    pass
else:
    # The compiled code takes the common packets and hands every other one, and every
    # rejection, to the Python codec, so results and errors are the Python codec's own.
    _hj212_fast.configure(
        packet_type=Packet,
        tables_type=Hj212Tables,
        decimal_type=Decimal,
        numeric_fields=NUMERIC_FIELDS,
        time_params=TIME_PARAMS,
        parse_packet_python=parse_packet_python,
        parse_segment_python=parse_segment_python,
        default_limits=DEFAULT_LIMITS,
    )
    parse_packet = _hj212_fast.parse_packet
    parse_segment = _hj212_fast.parse_segment
    CODEC = "compiled"


def _new_packet(fields: dict[str, object]) -> Packet:
    """``Packet(**fields)`` without the frozen dataclass's per-field ``__setattr__`` (4x faster).

    ``fields`` must name every field; a test checks the result equals ``Packet(**fields)``.
    """
    packet = object.__new__(Packet)
    object.__setattr__(packet, "__dict__", fields)
    return packet


# --------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------


def frame(segment: str | bytes) -> bytes:
    """Wrap a data segment: ``##`` + length + segment + CRC16 (upper-case hex) + CRLF."""
    data = segment.encode("utf-8") if isinstance(segment, str) else segment
    return b"##%04d%s%04X\r\n" % (len(data), data, crc16(data))


def _format_value(value: object) -> str:
    if isinstance(value, bool):
        raise TypeError("booleans are not HJ 212 values")
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return repr(value)
    return str(value)


def encode_cp(
    *,
    data_time: dt.datetime | None = None,
    params: Mapping[str, object] | None = None,
    values: Mapping[str, Mapping[str, object]] | None = None,
) -> str:
    """The CP content (without &&): ``DataTime=…;code-Field=v,code-Field=v;…``."""
    items: list[str] = []
    if data_time is not None:
        items.append(f"DataTime={data_time:%Y%m%d%H%M%S}")
    for key, value in (params or {}).items():
        items.append(f"{key}={_format_value(value)}")
    for code, entry in (values or {}).items():
        items.append(",".join(f"{code}-{k}={_format_value(v)}" for k, v in entry.items()))
    return ";".join(items)


def build_segment(
    *,
    st: str,
    cn: str,
    pw: str,
    mn: str,
    cp: str = "",
    qn: str | None = None,
    flag: int | None = None,
    pnum: int | None = None,
    pno: int | None = None,
) -> str:
    """The data segment ``QN=…;ST=…;CN=…;PW=…;MN=…;Flag=…;[PNUM=…;PNO=…;]CP=&&cp&&``."""
    parts: list[str] = []
    if qn is not None:
        parts.append(f"QN={qn}")
    parts += [f"ST={st}", f"CN={cn}", f"PW={pw}", f"MN={mn}"]
    if flag is not None:
        parts.append(f"Flag={flag}")
    if pnum is not None and pno is not None:
        parts += [f"PNUM={pnum}", f"PNO={pno}"]
    parts.append(f"CP=&&{cp}&&")
    return ";".join(parts)


def build_packet(
    *,
    st: str,
    cn: str,
    pw: str,
    mn: str,
    cp: str = "",
    qn: str | None = None,
    flag: int | None = None,
    pnum: int | None = None,
    pno: int | None = None,
) -> bytes:
    """A complete packet (see :func:`build_segment` and :func:`frame`)."""
    return frame(
        build_segment(st=st, cn=cn, pw=pw, mn=mn, cp=cp, qn=qn, flag=flag, pnum=pnum, pno=pno)
    )


def reply_cn(packet: Packet, tables: Hj212Tables | None = None) -> str | None:
    """CN of the platform's answer to ``packet``, or None when it needs none.

    Only packets whose Flag bit A is 1 are answered.  With tables the answer comes from the CN
    table (9014 数据应答 for uploads, 9013 通知应答 for notifications, none for 9xxx interaction
    commands nor for commands only a platform sends); an unknown CN gets 9014 (so that a station
    does not resend it forever), and without tables every CN but 9xxx gets 9014.
    """
    if not packet.needs_ack:
        return None
    if tables is not None:
        spec = tables.commands.get(packet.cn)
        if spec is not None:
            return spec.reply_cn
        if packet.cn in tables.platform_commands:
            return None
    return None if packet.cn.startswith("9") else "9014"


def build_reply(packet: Packet, tables: Hj212Tables | None = None) -> bytes | None:
    """The platform's answer to ``packet`` (None when none is due).

    Same QN, PW and MN; ST=91 (系统交互); Flag carries the station's version bits with A and D
    cleared; empty CP — as the standard's example ``QN=…;ST=91;CN=9014;PW=…;MN=…;Flag=4;CP=&&&&``.
    """
    cn = reply_cn(packet, tables)
    if cn is None:
        return None
    flag = (packet.flag or 0) & ~(FLAG_ACK | FLAG_PARTS)
    return build_packet(st="91", cn=cn, pw=packet.pw, mn=packet.mn, qn=packet.qn, flag=flag)


def split_lines(data: bytes) -> Iterable[tuple[int, bytes]]:
    """(line number, packet) for each non-empty line of a file holding one packet per line.

    The line's own end (LF or CRLF) is the packet's CRLF terminator.
    """
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.strip():
            yield number, (line[:-1] if line.endswith(b"\r") else line) + b"\r\n"
