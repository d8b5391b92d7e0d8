"""HJ 212 codec — specification tests.

Sources: shared/reference/08_hj212.md (packet layout, CRC16 wording H1, Annex example packet,
ST/CN tables, 2005→2017 codes), shared/reference/formats.md §5 (suffixes, data flags).
Third-party vectors are marked as such; every CRC below is also checked with the literal
algorithm of the standard (``crc16_reference``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dualcontrol.core import hj212
from dualcontrol.core.hj212 import (
    ChecksumError,
    DataError,
    ErrorCode,
    FieldError,
    FramingError,
    Hj212Error,
    Limits,
    Packet,
    TimestampError,
    build_packet,
    build_reply,
    build_segment,
    crc16,
    crc16_reference,
    encode_cp,
    frame,
    parse_packet,
    split_lines,
)
from dualcontrol.reference.hj212 import hj212_tables

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# 08_hj212.md "The standard's own example packet (Annex)": length 101, CRC 1C80.
ANNEX = (
    b"##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;"
    b"Flag=5;CP=&&RtdInterval=30&&1C80\r\n"
)
ANNEX_SEGMENT = ANNEX[6:-6]
# The standard's data-answer example quoted by independent implementations (H4):
# QN=20160801085000001;ST=91;CN=9014;PW=123456;MN=010000A8900016F000169DC0;Flag=4;CP=&&&&
ANSWER_EXAMPLE = (
    b"##0087QN=20160801085000001;ST=91;CN=9014;PW=123456;MN=010000A8900016F000169DC0;"
    b"Flag=4;CP=&&&&C241\r\n"
)
# Third-party vectors (public code, repository not identified): a 2025-style answer with Flag=8,
# and a C++ header's example with a lower-case CRC and Flag=9.
THIRD_PARTY_2025_ANSWER = (
    b"##0075QN=20260706103512345;ST=91;CN=9014;PW=123456;MN=A110000_0001;Flag=8;CP=&&&&0140\r\n"
)
THIRD_PARTY_LOWER_CRC = (
    b"##0078QN=20201008154743635;ST=91;CN=9014;PW=123456;MN=SD000001;Flag=9;CP=&&QnRtn=1&&71c0\r\n"
)
# A minute-data upload (CN=2051) built for these tests; CRC A3C1 checked by the reference below.
MINUTE_2051 = (
    b"##0218QN=20240601085900123;ST=32;CN=2051;PW=123456;MN=010000A8900016F000169DC0;Flag=5;"
    b"CP=&&DataTime=20240601085800;w01018-Avg=40.1,w01018-Min=38.2,w01018-Max=42.0,"
    b"w01018-Cou=1.23,w01018-Flag=N;w21003-Avg=2.31,w21003-Flag=N&&A3C1\r\n"
)
# An HJ/T 212-2005-style real-time upload: no QN, no Flag, 2005 pollutant codes.
LEGACY_2011 = (
    b"##0143ST=32;CN=2011;PW=123456;MN=88888880000001;CP=&&DataTime=20100101120000;"
    b"011-Rtd=40.1,011-Flag=N;060-Rtd=2.0,060-Flag=N;B01-Rtd=12.5,B01-Flag=N&&F6C1\r\n"
)


@pytest.fixture(scope="module")
def tables() -> hj212.Hj212Tables:
    return hj212_tables()


def with_segment(segment: str) -> bytes:
    """A correctly framed packet around ``segment`` (so that only the segment is wrong)."""
    return frame(segment)


# --- CRC16 (08_hj212.md "CRC16", standard wording H1) ----------------------------------------


def test_crc_of_the_annex_example_is_1C80() -> None:
    assert len(ANNEX_SEGMENT) == 101
    assert crc16_reference(ANNEX_SEGMENT) == 0x1C80
    assert crc16(ANNEX_SEGMENT) == 0x1C80


@pytest.mark.parametrize(
    ("packet", "expected"),
    [
        (ANSWER_EXAMPLE, 0xC241),
        (THIRD_PARTY_2025_ANSWER, 0x0140),
        (THIRD_PARTY_LOWER_CRC, 0x71C0),
        (MINUTE_2051, 0xA3C1),
        (LEGACY_2011, 0xF6C1),
    ],
)
def test_crc_vectors(packet: bytes, expected: int) -> None:
    assert crc16_reference(packet[6:-6]) == expected
    assert crc16(packet[6:-6]) == expected


def test_crc_is_not_modbus() -> None:
    # Modbus CRC16 XORs the byte into the LOW byte; the standard XORs into the high byte.
    def modbus(data: bytes) -> int:
        crc = 0xFFFF
        for byte in data:
            crc ^= byte
            for _ in range(8):
                crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        return crc

    assert modbus(ANNEX_SEGMENT) != 0x1C80


def test_crc_of_nothing_is_the_initial_register() -> None:
    assert crc16(b"") == crc16_reference(b"") == 0xFFFF


@FAST
@given(st.binary(max_size=3000))
def test_fast_crc_equals_the_standard_algorithm(data: bytes) -> None:
    assert crc16(data) == crc16_reference(data)


@FAST
@given(st.binary(min_size=9, max_size=200), st.data())
def test_crc_misses_equal_changes_eight_bytes_apart(data: bytes, draw: st.DataObject) -> None:
    """A known weakness of the standard's CRC (the step map has order 8), documented here."""
    i = draw.draw(st.integers(0, len(data) - 9))
    delta = draw.draw(st.integers(1, 255))
    changed = bytearray(data)
    changed[i] ^= delta
    changed[i + 8] ^= delta
    assert crc16_reference(bytes(changed)) == crc16_reference(data)


# --- Packet layout and fields (08_hj212.md "Packet layout") --------------------------------


def test_annex_example_parses(tables: hj212.Hj212Tables) -> None:
    packet = parse_packet(ANNEX, tables)
    assert packet.qn == "20160801085857223"
    assert packet.st == "32"
    assert packet.cn == "1062"
    assert packet.pw == "100000"
    assert packet.mn == "010000A8900016F000169DC0"
    assert packet.flag == 5
    assert packet.needs_ack is True
    assert packet.version_number == 1
    assert packet.version == "HJ 212-2017"
    assert packet.params == {"RtdInterval": "30"}
    assert packet.values == {}
    assert packet.data_time is None
    assert packet.pnum is None and packet.pno is None
    assert packet.warnings == ()


def test_minute_data_values_are_decimals_keyed_by_code_and_suffix(
    tables: hj212.Hj212Tables,
) -> None:
    packet = parse_packet(MINUTE_2051, tables)
    assert packet.cn == "2051"
    assert packet.data_time == dt.datetime(2024, 6, 1, 8, 58)
    assert packet.values == {
        "w01018": {
            "Avg": Decimal("40.1"),
            "Min": Decimal("38.2"),
            "Max": Decimal("42.0"),
            "Cou": Decimal("1.23"),
            "Flag": "N",
        },
        "w21003": {"Avg": Decimal("2.31"), "Flag": "N"},
    }
    assert str(packet.values["w01018"]["Max"]) == "42.0"  # exact, as sent
    assert packet.warnings == ()


def test_parse_accepts_text_and_lower_case_crc() -> None:
    packet = parse_packet(THIRD_PARTY_LOWER_CRC.decode("ascii"))
    assert packet.params == {"QnRtn": "1"}


def test_zs_values_and_other_fields() -> None:
    segment = (
        "QN=20240601090000000;ST=31;CN=2061;PW=123456;MN=MN01;Flag=4;CP=&&DataTime=20240601080000;"
        "a21026-Avg=35.2,a21026-ZsAvg=48.9,a21026-Min=30,a21026-Max=40,a21026-Cou=1.5E+1,"
        "a21026-Flag=N;a19001-Avg=9.8,a19001-Flag=N&&"
    )
    packet = parse_packet(with_segment(segment))
    assert packet.values["a21026"] == {
        "Avg": Decimal("35.2"),
        "ZsAvg": Decimal("48.9"),
        "Min": Decimal("30"),
        "Max": Decimal("40"),
        "Cou": Decimal("15"),
        "Flag": "N",
    }
    assert packet.needs_ack is False


def test_fields_in_another_order_and_without_qn_are_accepted() -> None:
    segment = "MN=MN01;PW=123456;CN=2011;ST=32;Flag=4;CP=&&DataTime=20240601080000;w01018-Rtd=1&&"
    packet = parse_packet(with_segment(segment))
    assert (packet.st, packet.cn, packet.pw, packet.mn, packet.qn) == (
        "32",
        "2011",
        "123456",
        "MN01",
        None,
    )


def test_unknown_header_field_is_kept_and_reported() -> None:
    segment = "QN=20240601080000000;ST=32;CN=2011;PW=123456;MN=MN01;Flag=4;SK=abc;CP=&&&&"
    packet = parse_packet(with_segment(segment))
    assert packet.extra == {"SK": "abc"}
    assert packet.warnings == ("unknown header field(s) SK",)


def test_empty_items_are_tolerated() -> None:
    segment = "ST=32;CN=2011;PW=1;MN=M;CP=&&DataTime=20240601080000;;w01018-Rtd=1,,w01018-Flag=N;&&"
    assert parse_packet(with_segment(segment)).values == {
        "w01018": {"Rtd": Decimal("1"), "Flag": "N"}
    }


# --- Flag: version bits, A and D (08_hj212.md "Flag") --------------------------------------


@pytest.mark.parametrize(
    ("flag", "number", "version", "ack"),
    [
        (None, 0, "HJ/T 212-2005", False),
        (1, 0, "HJ/T 212-2005", True),
        (4, 1, "HJ 212-2017", False),
        (5, 1, "HJ 212-2017", True),
        (8, 2, "HJ 212-2025", False),  # unverified assignment: reference data hj212_versions.csv
        (9, 2, "HJ 212-2025", True),
    ],
)
def test_version_bits(
    tables: hj212.Hj212Tables, flag: int | None, number: int, version: str, ack: bool
) -> None:
    packet = parse_packet(
        build_packet(st="32", cn="2011", pw="123456", mn="MN01", flag=flag), tables
    )
    assert packet.version_number == number
    assert packet.version == version
    assert packet.needs_ack is ack


def test_third_party_2025_answer_is_reported_as_2025(tables: hj212.Hj212Tables) -> None:
    packet = parse_packet(THIRD_PARTY_2025_ANSWER, tables)
    assert (packet.cn, packet.flag, packet.version) == ("9014", 8, "HJ 212-2025")


def test_unknown_version_is_a_warning(tables: hj212.Hj212Tables) -> None:
    packet = parse_packet(build_packet(st="32", cn="2011", pw="1", mn="M", flag=13), tables)
    assert packet.version is None
    assert packet.version_number == 3
    assert "unknown protocol version 3 in Flag" in packet.warnings


def test_split_packet_fields() -> None:
    packet = parse_packet(build_packet(st="32", cn="2051", pw="1", mn="M", flag=7, pnum=3, pno=2))
    assert (packet.pnum, packet.pno, packet.is_split, packet.needs_ack) == (3, 2, True, True)


# --- 2005 codes mapped to 2017 codes; data flags (08_hj212.md, formats.md §5.2) -------------


def test_2005_codes_are_mapped_to_2017_codes(tables: hj212.Hj212Tables) -> None:
    packet = parse_packet(LEGACY_2011, tables)
    assert packet.version == "HJ/T 212-2005"
    assert packet.values == {
        "w01018": {"Rtd": Decimal("40.1"), "Flag": "N"},
        "w21003": {"Rtd": Decimal("2.0"), "Flag": "N"},
        "w00000": {"Rtd": Decimal("12.5"), "Flag": "N"},
    }
    assert packet.source_codes == {"w01018": "011", "w21003": "060", "w00000": "B01"}
    assert packet.warnings == ()


def test_2005_codes_are_kept_without_tables() -> None:
    packet = parse_packet(LEGACY_2011)
    assert set(packet.values) == {"011", "060", "B01"}
    assert packet.version is None


def test_2017_packets_are_not_mapped(tables: hj212.Hj212Tables) -> None:
    segment = "ST=32;CN=2011;PW=1;MN=M;Flag=4;CP=&&DataTime=20240601080000;011-Rtd=1&&"
    packet = parse_packet(with_segment(segment), tables)
    assert set(packet.values) == {"011"}
    assert "unknown pollutant code 011" in packet.warnings


@pytest.mark.parametrize("flag", ["N", "F", "M", "S", "D", "C", "T", "B"])
def test_2017_data_flags_are_known(tables: hj212.Hj212Tables, flag: str) -> None:
    segment = f"ST=32;CN=2011;PW=1;MN=M;Flag=4;CP=&&DataTime=20240601080000;w01018-Rtd=1,w01018-Flag={flag}&&"
    assert parse_packet(with_segment(segment), tables).warnings == ()


def test_unknown_data_flag_is_a_warning_not_a_rejection(tables: hj212.Hj212Tables) -> None:
    segment = (
        "ST=32;CN=2011;PW=1;MN=M;Flag=4;CP=&&DataTime=20240601080000;w01018-Rtd=1,w01018-Flag=X&&"
    )
    packet = parse_packet(with_segment(segment), tables)
    assert packet.values["w01018"]["Flag"] == "X"
    assert packet.warnings == ("unknown data flag 'X' for w01018",)


def test_2005_flag_P_is_known_for_2005_packets(tables: hj212.Hj212Tables) -> None:
    segment = "ST=32;CN=2011;PW=1;MN=M;CP=&&DataTime=20100101000000;011-Rtd=1,011-Flag=P&&"
    assert parse_packet(with_segment(segment), tables).warnings == ()


def test_unknown_st_and_cn_are_warnings(tables: hj212.Hj212Tables) -> None:
    packet = parse_packet(build_packet(st="99", cn="7777", pw="1", mn="M", flag=4), tables)
    assert packet.warnings == ("unknown ST 99", "unknown CN 7777")


# --- Rejections: every reason has its code ------------------------------------------------

GOOD = "QN=20240601080000000;ST=32;CN=2011;PW=123456;MN=MN01;Flag=4;CP=&&DataTime=20240601080000;w01018-Rtd=1&&"


@pytest.mark.parametrize(
    ("raw", "error", "code"),
    [
        (b"##0000", FramingError, ErrorCode.TOO_SHORT),
        (b"$$" + frame(GOOD)[2:], FramingError, ErrorCode.BAD_HEADER),
        (frame(GOOD)[:-2] + b"\n\n", FramingError, ErrorCode.BAD_TERMINATOR),
        (b"##01a1" + frame(GOOD)[6:], FramingError, ErrorCode.BAD_LENGTH),
        (b"##0999" + frame(GOOD)[6:], FramingError, ErrorCode.LENGTH_MISMATCH),
        (frame(GOOD)[:-6] + b"1G80\r\n", ChecksumError, ErrorCode.BAD_CRC),
        (frame(GOOD)[:-6] + b"0000\r\n", ChecksumError, ErrorCode.CRC_MISMATCH),
        (frame(b"QN=\xff\xfe\xfd"), FramingError, ErrorCode.NOT_TEXT),
    ],
)
def test_frame_rejections(raw: bytes, error: type[Hj212Error], code: ErrorCode) -> None:
    with pytest.raises(error) as info:
        parse_packet(raw)
    assert info.value.code is code


def test_too_long_is_checked_against_the_limit() -> None:
    segment = GOOD[:-2] + "".join(f";w{i:05d}-Rtd=1" for i in range(80)) + "&&"
    with pytest.raises(FramingError) as info:
        parse_packet(frame(segment))
    assert info.value.code is ErrorCode.TOO_LONG
    assert parse_packet(frame(segment), limits=Limits(max_data_length=9999)).cn == "2011"


def test_crc_mismatch_message_names_both_values() -> None:
    with pytest.raises(ChecksumError) as info:
        parse_packet(ANNEX[:-6] + b"1C81\r\n")
    assert str(info.value) == "crc_mismatch: CRC field is 1C81, data segment's CRC is 1C80"


@pytest.mark.parametrize(
    ("segment", "error", "code", "field"),
    [
        (
            "QN=20240601080000000;CN=2011;PW=1;MN=M;CP=&&&&",
            FieldError,
            ErrorCode.MISSING_FIELD,
            "ST",
        ),
        ("ST=32;PW=1;MN=M;CP=&&&&", FieldError, ErrorCode.MISSING_FIELD, "CN"),
        ("ST=32;CN=2011;MN=M;CP=&&&&", FieldError, ErrorCode.MISSING_FIELD, "PW"),
        ("ST=32;CN=2011;PW=1;CP=&&&&", FieldError, ErrorCode.MISSING_FIELD, "MN"),
        ("ST=32;CN=2011;PW=1;MN=M", FieldError, ErrorCode.MISSING_FIELD, "CP"),
        ("CP=&&&&", FieldError, ErrorCode.MISSING_FIELD, "ST"),
        ("ST=32;CN=2011;PW=1;MN=M;Flag=6;CP=&&&&", FieldError, ErrorCode.MISSING_FIELD, "PNUM"),
        ("ST=32;CN=2011;PW=1;MN=M;PNUM=2;CP=&&&&", FieldError, ErrorCode.MISSING_FIELD, "PNO"),
        ("ST=32;ST=32;CN=2011;PW=1;MN=M;CP=&&&&", FieldError, ErrorCode.DUPLICATE_FIELD, "ST"),
        ("ST=32;CN2011;PW=1;MN=M;CP=&&&&", FieldError, ErrorCode.BAD_SEGMENT, "CN2011"),
        ("ST=3A;CN=2011;PW=1;MN=M;CP=&&&&", FieldError, ErrorCode.BAD_FIELD, "ST"),
        ("ST=32;CN=201;PW=1;MN=M;CP=&&&&", FieldError, ErrorCode.BAD_FIELD, "CN"),
        ("ST=32;CN=2011;PW=1234567;MN=M;CP=&&&&", FieldError, ErrorCode.BAD_FIELD, "PW"),
        ("ST=32;CN=2011;PW=1;MN=" + "M" * 25 + ";CP=&&&&", FieldError, ErrorCode.BAD_FIELD, "MN"),
        ("ST=32;CN=2011;PW=;MN=M;CP=&&&&", FieldError, ErrorCode.BAD_FIELD, "PW"),
        ("ST=32;CN=2011;PW=1;MN=M&1;CP=&&&&", FieldError, ErrorCode.BAD_FIELD, "MN"),
        ("ST=32;CN=2011;PW=1;MN=M;Flag=256;CP=&&&&", FieldError, ErrorCode.BAD_FIELD, "Flag"),
        ("ST=32;CN=2011;PW=1;MN=M;Flag=x;CP=&&&&", FieldError, ErrorCode.BAD_FIELD, "Flag"),
        (
            "ST=32;CN=2011;PW=1;MN=M;Flag=7;PNUM=0;PNO=1;CP=&&&&",
            FieldError,
            ErrorCode.BAD_FIELD,
            "PNUM",
        ),
        (
            "ST=32;CN=2011;PW=1;MN=M;Flag=7;PNUM=2;PNO=3;CP=&&&&",
            FieldError,
            ErrorCode.BAD_PACKET_NUMBER,
            "PNO",
        ),
        (
            "QN=2024060108000000;ST=32;CN=2011;PW=1;MN=M;CP=&&&&",
            TimestampError,
            ErrorCode.BAD_TIMESTAMP,
            "QN",
        ),
        (
            "QN=20241301080000000;ST=32;CN=2011;PW=1;MN=M;CP=&&&&",
            TimestampError,
            ErrorCode.BAD_TIMESTAMP,
            "QN",
        ),
        (
            "ST=32;CN=2011;PW=1;MN=M;CP=&&DataTime=20240230000000&&",
            TimestampError,
            ErrorCode.BAD_TIMESTAMP,
            "DataTime",
        ),
        (
            "ST=32;CN=2011;PW=1;MN=M;CP=&&DataTime=2024-06-01&&",
            TimestampError,
            ErrorCode.BAD_TIMESTAMP,
            "DataTime",
        ),
        (
            "ST=32;CN=2011;PW=1;MN=M;CP=&&BeginTime=20242401000000&&",
            TimestampError,
            ErrorCode.BAD_TIMESTAMP,
            "BeginTime",
        ),
        (
            "ST=32;CN=2011;PW=1;MN=M;CP=&&w01018-Rtd=1;w01018-Rtd=2&&",
            FieldError,
            ErrorCode.DUPLICATE_FIELD,
            "w01018",
        ),
        (
            "ST=32;CN=2011;PW=1;MN=M;CP=&&DataTime=20240601080000;DataTime=20240601080000&&",
            FieldError,
            ErrorCode.DUPLICATE_FIELD,
            "DataTime",
        ),
        ("ST=32;CN=2011;PW=1;MN=M;CP=&&&", DataError, ErrorCode.BAD_CP, "CP"),
        ("ST=32;CN=2011;PW=1;MN=M;CP=&&w01018-Rtd=1&x&&", DataError, ErrorCode.BAD_CP, "CP"),
        ("ST=32;CN=2011;PW=1;MN=M;CP=&&w01018-Rtd&&", DataError, ErrorCode.BAD_CP, None),
        ("ST=32;CN=2011;PW=1;MN=M;CP=&&-Rtd=1&&", DataError, ErrorCode.BAD_CP, None),
        ("ST=32;CN=2011;PW=1;MN=M;CP=&&w01018-=1&&", DataError, ErrorCode.BAD_CP, None),
        ("ST=32;CN=2011;PW=1;MN=M;CP=&&w01018-Rtd=abc&&", DataError, ErrorCode.BAD_VALUE, "w01018"),
        ("ST=32;CN=2011;PW=1;MN=M;CP=&&w01018-Rtd=&&", DataError, ErrorCode.BAD_VALUE, "w01018"),
        ("ST=32;CN=2011;PW=1;MN=M;CP=&&w01018-Avg=NaN&&", DataError, ErrorCode.BAD_VALUE, "w01018"),
        (
            "ST=32;CN=2011;PW=1;MN=M;CP=&&w01018-Avg=1_000&&",
            DataError,
            ErrorCode.BAD_VALUE,
            "w01018",
        ),
        ("ST=32;CN=2011;PW=1;MN=M;CP=&&w01018-Avg= 1&&", DataError, ErrorCode.BAD_VALUE, "w01018"),
        (
            "ST=32;CN=2011;PW=1;MN=M;CP=&&w01018-Avg=1.2.3&&",
            DataError,
            ErrorCode.BAD_VALUE,
            "w01018",
        ),
    ],
)
def test_segment_rejections(
    segment: str, error: type[Hj212Error], code: ErrorCode, field: str | None
) -> None:
    with pytest.raises(error) as info:
        parse_packet(with_segment(segment))
    assert info.value.code is code
    assert info.value.field == field


def test_flag_d_without_parts_but_parts_present_is_a_warning() -> None:
    packet = parse_packet(build_packet(st="32", cn="2011", pw="1", mn="M", flag=4, pnum=2, pno=1))
    assert packet.warnings == ("PNUM/PNO present but Flag bit D is 0",)


# --- Building and answering ----------------------------------------------------------------


def test_frame_builds_the_annex_example() -> None:
    assert frame(ANNEX_SEGMENT.decode("ascii")) == ANNEX


def test_build_packet_reproduces_the_annex_example() -> None:
    assert (
        build_packet(
            qn="20160801085857223",
            st="32",
            cn="1062",
            pw="100000",
            mn="010000A8900016F000169DC0",
            flag=5,
            cp="RtdInterval=30",
        )
        == ANNEX
    )


def test_data_answer_to_an_upload(tables: hj212.Hj212Tables) -> None:
    """9014 数据应答: same QN/PW/MN, ST=91, the station's version bits, A and D cleared."""
    reply = build_reply(parse_packet(MINUTE_2051, tables), tables)
    assert reply == (
        b"##0087QN=20240601085900123;ST=91;CN=9014;PW=123456;MN=010000A8900016F000169DC0;"
        b"Flag=4;CP=&&&&E7C1\r\n"
    )
    assert crc16_reference(reply[6:-6]) == 0xE7C1


def test_answer_has_the_shape_of_the_standard_example(tables: hj212.Hj212Tables) -> None:
    upload = parse_packet(
        build_packet(
            qn="20160801085000001",
            st="23",
            cn="2011",
            pw="123456",
            mn="010000A8900016F000169DC0",
            flag=5,
            cp="DataTime=20160801085000;LA-Rtd=50.1",
        )
    )
    assert build_reply(upload, tables) == ANSWER_EXAMPLE


def test_2025_upload_is_answered_with_2025_version_bits(tables: hj212.Hj212Tables) -> None:
    upload = parse_packet(
        build_packet(
            qn="20260706103512345", st="91", cn="2011", pw="123456", mn="A110000_0001", flag=9
        ),
        tables,
    )
    assert build_reply(upload, tables) == THIRD_PARTY_2025_ANSWER


def test_split_upload_answer_clears_d(tables: hj212.Hj212Tables) -> None:
    part = parse_packet(
        build_packet(
            qn="20240601080000000", st="32", cn="2051", pw="1", mn="M", flag=7, pnum=2, pno=1
        )
    )
    assert parse_packet(build_reply(part, tables) or b"").flag == 4


@pytest.mark.parametrize(
    ("cn", "flag", "answer"),
    [
        ("2011", 5, "9014"),
        ("2051", 4, None),  # Flag bit A = 0: no answer
        ("1013", 5, "9013"),  # 现场机时间校准请求 -> 通知应答
        ("9014", 5, None),  # never answer an answer
        ("1062", 5, None),  # a platform's request, not something a station uploads
        ("7777", 5, "9014"),  # unknown: answered so that the station stops resending
    ],
)
def test_which_packets_are_answered(
    tables: hj212.Hj212Tables, cn: str, flag: int, answer: str | None
) -> None:
    packet = parse_packet(
        build_packet(qn="20240601080000000", st="32", cn=cn, pw="1", mn="M", flag=flag)
    )
    assert hj212.reply_cn(packet, tables) == answer


def test_without_tables_uploads_get_9014_and_9xxx_nothing() -> None:
    up = parse_packet(build_packet(st="32", cn="2011", pw="1", mn="M", flag=5))
    answer = parse_packet(build_packet(st="91", cn="9011", pw="1", mn="M", flag=5))
    assert hj212.reply_cn(up) == "9014"
    assert build_reply(answer) is None


def test_encode_cp() -> None:
    assert (
        encode_cp(
            data_time=dt.datetime(2024, 6, 1, 8, 58),
            values={"w01018": {"Avg": Decimal("40.10"), "Flag": "N"}, "w21003": {"Rtd": 2.5}},
        )
        == "DataTime=20240601085800;w01018-Avg=40.10,w01018-Flag=N;w21003-Rtd=2.5"
    )
    assert encode_cp(params={"RtdInterval": 30}) == "RtdInterval=30"
    with pytest.raises(TypeError):
        encode_cp(values={"w01018": {"Rtd": True}})


def test_build_segment_field_order() -> None:
    assert (
        build_segment(qn="1", st="32", cn="2051", pw="p", mn="m", flag=7, pnum=2, pno=1, cp="x=1")
        == "QN=1;ST=32;CN=2051;PW=p;MN=m;Flag=7;PNUM=2;PNO=1;CP=&&x=1&&"
    )


def test_split_lines_restores_crlf() -> None:
    data = ANNEX[:-2] + b"\r\n\n" + MINUTE_2051[:-2] + b"\n"
    assert list(split_lines(data)) == [(1, ANNEX), (3, MINUTE_2051)]


def test_fast_constructor_equals_the_dataclass(tables: hj212.Hj212Tables) -> None:
    packet = parse_packet(MINUTE_2051, tables)
    fields = {name: getattr(packet, name) for name in Packet.__dataclass_fields__}
    assert Packet(**fields) == packet


# --- Properties: round trip, fast path = slow path, never a crash ---------------------------

codes = st.from_regex(r"[a-w][0-9]{5}", fullmatch=True)
numbers = st.decimals(
    allow_nan=False, allow_infinity=False, places=3, min_value=-1e9, max_value=1e9
)
idents = st.from_regex(r"[0-9A-Za-z_]{1,6}", fullmatch=True)
times = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 31)).map(
    lambda t: t.replace(microsecond=0)
)


@FAST
@given(
    st_code=st.from_regex(r"[0-9]{2}", fullmatch=True),
    cn=st.from_regex(r"[0-9]{4}", fullmatch=True),
    pw=idents,
    mn=st.from_regex(r"[0-9A-Za-z]{1,24}", fullmatch=True),
    flag=st.none() | st.integers(0, 255).filter(lambda f: not f & 2),
    when=times,
    values=st.dictionaries(
        codes,
        st.fixed_dictionaries(
            {"Rtd": numbers},
            optional={"Avg": numbers, "ZsRtd": numbers, "Flag": st.sampled_from("NFMSDCTB")},
        ),
        max_size=6,
    ),
)
def test_build_then_parse_round_trip(
    st_code: str,
    cn: str,
    pw: str,
    mn: str,
    flag: int | None,
    when: dt.datetime,
    values: dict[str, dict[str, object]],
) -> None:
    cp = encode_cp(data_time=when, values=values)
    raw = build_packet(
        qn=f"{when:%Y%m%d%H%M%S}123", st=st_code, cn=cn, pw=pw, mn=mn, flag=flag, cp=cp
    )
    packet = parse_packet(raw)
    assert (packet.st, packet.cn, packet.pw, packet.mn, packet.flag) == (st_code, cn, pw, mn, flag)
    assert packet.data_time == when
    assert packet.values == values
    assert frame(packet.segment) == raw


header_items = st.sampled_from(
    [
        "QN=20240601080000000", "QN=2024", "QN=", "ST=32", "ST=3", "ST=ab", "CN=2011", "CN=20111",
        "PW=123456", "PW=", "PW=1234567", "MN=MN01", "MN=" + "M" * 25, "MN=a&b", "MN=中文",
        "Flag=5", "Flag=7", "Flag=256", "Flag=", "PNUM=2", "PNO=1", "PNO=3", "PNUM=0", "X=1", "Y",
    ]
)  # fmt: skip
cp_bodies = st.sampled_from(
    [
        "", "DataTime=20240601080000;w01018-Rtd=1.5,w01018-Flag=N", "w01018-Rtd=x",
        "DataTime=20241301080000", "a-b-c=1", "w01018-Rtd=1;;", "=1", "w01018-Avg=-.5e3",
    ]
)  # fmt: skip


def outcome(func: object, *args: object) -> object:
    try:
        return func(*args)  # type: ignore[operator]
    except Hj212Error as exc:
        return (type(exc), exc.code, exc.field)


@FAST
@given(st.lists(header_items, max_size=9), cp_bodies)
def test_fast_path_and_slow_path_agree(items: list[str], body: str) -> None:
    segment = ";".join([*items, f"CP=&&{body}&&"])
    assert outcome(hj212.parse_segment, segment) == outcome(hj212._parse_segment_slow, segment)


@FAST
@given(
    st.lists(st.sampled_from(["QN=20240601080000000", "ST=32", "CN=2011", "PW=123456", "MN=MN01", "Flag=5"]),
             unique=True).map(lambda xs: ["ST=32", "CN=2011", "PW=1", "MN=M", *xs][-6:]),
)  # fmt: skip
def test_fast_path_and_slow_path_agree_on_valid_orders(items: list[str]) -> None:
    segment = ";".join([*dict.fromkeys(items), "CP=&&DataTime=20240601080000;w01018-Rtd=1&&"])
    assert outcome(hj212.parse_segment, segment) == outcome(hj212._parse_segment_slow, segment)


@FAST
@given(st.binary(max_size=300))
def test_any_bytes_give_a_packet_or_the_codecs_error(data: bytes) -> None:
    for raw in (data, b"##" + data, frame(data), b"##%04d" % len(data) + data + b"0000\r\n"):
        try:
            packet = parse_packet(raw, hj212_tables())
        except Hj212Error as exc:
            assert isinstance(exc.code, ErrorCode)
        else:
            assert isinstance(packet, Packet)


@FAST
@given(st.data())
def test_mutated_valid_packets_give_a_packet_or_the_codecs_error(data: st.DataObject) -> None:
    raw = bytearray(data.draw(st.sampled_from([ANNEX, MINUTE_2051, LEGACY_2011])))
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.sampled_from(b";,=&-#\r\n0aZ\xff\x00"))
    for candidate in (bytes(raw), frame(bytes(raw[6:-6]))):
        try:
            parse_packet(candidate, hj212_tables())
        except Hj212Error as exc:
            assert isinstance(exc.code, ErrorCode)


def test_packets_and_records_are_hashable(tables: hj212.Hj212Tables) -> None:
    packet = parse_packet(MINUTE_2051, tables)
    assert len({packet, parse_packet(MINUTE_2051, tables)}) == 1


def test_timestamps_are_remembered_but_never_a_bad_one() -> None:
    first = hj212._timestamp("20260101080000", "DataTime")
    assert hj212._timestamp("20260101080000", "QN") is first  # handed out again
    for bad in ("20261301080000", "2026010108000x", "20260230000000"):
        for _ in range(2):
            with pytest.raises(TimestampError):
                hj212._timestamp(bad, "DataTime")
    hj212._TIMES.clear()
    assert hj212._timestamp("20260101080000", "DataTime") == first
