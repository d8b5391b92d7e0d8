"""HJ 212 over a byte stream: framing across reads, split messages (拆分包), data records.

Packet layout: shared/reference/08_hj212.md "Packet layout" (## + 4-digit length + segment +
CRC + CRLF); PNUM/PNO (总包数, 包号) and the Flag D bit: 08_hj212.md "Packet layout" and field table.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from dualcontrol.core.hj212 import ErrorCode, Hj212Error, build_packet, parse_packet
from dualcontrol.core.hj212_stream import Framer, Reassembler, records_of

A = build_packet(qn="20240601080000000", st="32", cn="2011", pw="1", mn="M1", flag=5,
                 cp="DataTime=20240601080000;w01018-Rtd=1.5,w01018-Flag=N")  # fmt: skip
B = build_packet(qn="20240601080100000", st="32", cn="2011", pw="1", mn="M1", flag=5,
                 cp="DataTime=20240601080100;w01018-Rtd=2.5,w01018-Flag=N")  # fmt: skip


def feed_all(framer: Framer, chunks: list[bytes]) -> list[bytes | Hj212Error]:
    out: list[bytes | Hj212Error] = []
    for chunk in chunks:
        out += framer.feed(chunk)
    return out


def codes(items: list[bytes | Hj212Error]) -> list[object]:
    return [i.code if isinstance(i, Hj212Error) else i for i in items]


def test_whole_packets() -> None:
    assert Framer().feed(A + B) == [A, B]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(1, len(A + B)), max_size=12))
def test_any_split_into_reads_gives_the_same_frames(cuts: list[int]) -> None:
    data = A + B
    points = sorted({0, len(data), *cuts})
    chunks = [data[a:b] for a, b in itertools.pairwise(points)]
    framer = Framer()
    assert feed_all(framer, chunks) == [A, B]
    assert framer.buffered == 0


def test_junk_before_and_between_packets_is_reported() -> None:
    assert codes(Framer().feed(b"xx" + A + b"\r\nzz" + B)) == [ErrorCode.JUNK, A, ErrorCode.JUNK, B]


def test_a_lone_hash_waits_for_the_next_read() -> None:
    framer = Framer()
    assert framer.feed(A[:1]) == []
    assert framer.feed(A[1:]) == [A]


def test_wrong_length_field_falls_back_to_the_crlf() -> None:
    wrong = b"##0999" + A[6:]
    items = Framer().feed(wrong + B)
    assert items == [wrong, B]
    assert isinstance(items[0], bytes)
    try:
        parse_packet(items[0])
    except Hj212Error as exc:
        assert exc.code is ErrorCode.LENGTH_MISMATCH


def test_truncated_packet_does_not_swallow_the_next_one() -> None:
    items = Framer().feed(A[:40] + B)
    assert items == [A[:40], B]


def test_frame_without_end_is_dropped_when_too_long() -> None:
    framer = Framer(max_frame=100)
    items = framer.feed(b"##abcd" + b"x" * 200)
    assert codes(items) == [ErrorCode.TOO_LONG]
    assert framer.buffered == 0
    assert framer.feed(A) == [A]


def test_a_declared_length_beyond_the_limit_is_not_waited_for() -> None:
    framer = Framer(max_frame=100)
    big = b"##5000QN=1;ST=32\r\n"
    assert framer.feed(big) == [big]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.binary(max_size=80), max_size=10))
def test_framer_never_raises_and_never_holds_more_than_a_frame(chunks: list[bytes]) -> None:
    framer = Framer(max_frame=200)
    for chunk in chunks:
        for item in framer.feed(chunk):
            assert isinstance(item, bytes | Hj212Error)
        assert framer.buffered <= 200 + 80


# --- split messages -------------------------------------------------------------------------


def part(
    pno: int, pnum: int = 3, cp: str = "DataTime=20240601080000", qn: str = "20240601080000000"
) -> object:
    return parse_packet(
        build_packet(qn=qn, st="32", cn="2051", pw="1", mn="M1", flag=7, pnum=pnum, pno=pno, cp=cp)
    )


def test_single_packets_are_complete_messages() -> None:
    packet = parse_packet(A)
    result = Reassembler().add(packet, 0.0)
    assert result.message is not None and result.message.parts == (packet,)


def test_parts_in_any_order_make_one_message_in_pno_order() -> None:
    r = Reassembler()
    p1, p2, p3 = part(1), part(2), part(3)
    assert r.add(p3, 0.0).message is None
    assert r.add(p1, 0.0).message is None
    assert r.add(p1, 0.0).message is None  # a resent part is ignored
    done = r.add(p2, 0.0).message
    assert done is not None and done.parts == (p1, p2, p3)
    assert r.pending == 0
    assert r.add(p2, 1.0).duplicate_of_complete is True  # resent after completion


def test_incomplete_messages_expire() -> None:
    r = Reassembler(timeout_s=10)
    r.add(part(1), 0.0)
    assert r.expire(5.0) == []
    [error] = r.expire(11.0)
    assert error.code is ErrorCode.INCOMPLETE_MESSAGE
    assert str(error) == (
        "incomplete_message: MN=M1 CN=2051 QN=20240601080000000: parts 1 of 3 received, "
        "timed out after 10 s"
    )


def test_pending_messages_are_bounded() -> None:
    r = Reassembler(max_pending=2)
    r.add(part(1, qn="20240601080000001"), 0.0)
    r.add(part(1, qn="20240601080000002"), 0.0)
    result = r.add(part(1, qn="20240601080000003"), 0.0)
    assert [e.code for e in result.dropped] == [ErrorCode.INCOMPLETE_MESSAGE]
    assert r.pending == 2


def test_records_merge_parts_with_the_same_data_time() -> None:
    p1 = part(1, 2, "DataTime=20240601080000;w01018-Avg=1,w01018-Flag=N")
    p2 = part(2, 2, "DataTime=20240601080000;w21003-Avg=2;w01018-Avg=9")
    [record] = records_of([p1, p2])
    assert record.key == ("M1", "2051", dt.datetime(2024, 6, 1, 8))
    assert record.values == {
        "w01018": {"Avg": Decimal("1"), "Flag": "N"},  # first part wins
        "w21003": {"Avg": Decimal("2")},
    }


def test_records_per_data_time_and_only_with_values() -> None:
    p1 = part(1, 3, "DataTime=20240601080000;w01018-Avg=1")
    p2 = part(2, 3, "DataTime=20240601090000;w01018-Avg=2")
    p3 = part(3, 3, "DataTime=20240601100000")  # no values: no record
    assert [r.data_time.hour for r in records_of([p1, p2, p3])] == [8, 9]
    assert (
        records_of(
            [parse_packet(build_packet(st="32", cn="2011", pw="1", mn="M", cp="w01018-Rtd=1"))]
        )
        == ()
    )
