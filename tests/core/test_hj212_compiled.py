"""The compiled HJ 212 codec (issue 18) against the pure-Python codec, its reference.

``dualcontrol.core._hj212_fast`` must give the same result as ``parse_packet_python`` /
``parse_segment_python`` for every input: the same Packet field by field (types, dict order and
Decimal exponents included) or the same error (class, ErrorCode, message, field).  The corpus is
every packet the other HJ 212 tests use (their literals, and their literal calls of the packet
builders, evaluated), station uploads of every common kind, and a seeded fuzz of mutated packets.
"""

from __future__ import annotations

import ast
import datetime as dt
import decimal
import importlib
import random
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dualcontrol.core import hj212
from dualcontrol.core.hj212 import (
    Hj212Error,
    Limits,
    Packet,
    build_packet,
    encode_cp,
    frame,
    parse_packet_python,
    parse_segment_python,
)
from dualcontrol.ingest.hj212_server import LOAD_POLLUTANTS, station_packet
from dualcontrol.reference.hj212 import hj212_tables

NOT_BUILT = (
    "the compiled HJ 212 codec (dualcontrol.core._hj212_fast) is not built — no C compiler or "
    "Cython at install time — so the pure-Python codec is in use and there is nothing to compare"
)
compiled = pytest.mark.skipif(hj212.CODEC != "compiled", reason=NOT_BUILT)

ROOT = Path(__file__).resolve().parents[2]
SOURCES = {
    "tests.core.test_hj212": ROOT / "tests/core/test_hj212.py",
    "tests.core.test_hj212_check": ROOT / "tests/core/test_hj212_check.py",
    "tests.core.test_hj212_stream": ROOT / "tests/core/test_hj212_stream.py",
    "tests.core.test_hj212_reference": ROOT / "tests/core/test_hj212_reference.py",
    "tests.ingest.test_hj212_hostile": ROOT / "tests/ingest/test_hj212_hostile.py",
}
# Calls in those tests that give a packet or a segment when their arguments are literals.
BUILDERS = {"build_packet", "build_segment", "frame", "station_packet", "upload", "with_segment"}
SMALL_LIMITS = Limits(max_data_length=200, max_mn_length=8, max_pw_length=3, max_packet_number=5)
FUZZ = settings(
    max_examples=400,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


# --- comparison -----------------------------------------------------------------------------


def strict(value: object) -> object:
    """A comparable image of ``value`` that also tells types, dict order and Decimal exponents."""
    if isinstance(value, Packet):
        fields = Packet.__dataclass_fields__
        return (
            "Packet",
            type(value),
            tuple((name, strict(getattr(value, name))) for name in fields),
        )
    if isinstance(value, dict):
        return (type(value), tuple((strict(k), strict(v)) for k, v in value.items()))
    if isinstance(value, tuple):
        return (tuple, tuple(strict(v) for v in value))
    return (type(value), repr(value))


def outcome(func: Callable[..., Packet], *args: object) -> object:
    try:
        packet = func(*args)
    except Hj212Error as exc:
        return ("error", type(exc), exc.code, exc.message, exc.field, str(exc), exc.args)
    except Exception as exc:  # a crash must be the same crash (and the tests elsewhere forbid it)
        return ("crash", type(exc), str(exc))
    return strict(packet)


def same(raw: bytes | str, tables: hj212.Hj212Tables | None, limits: Limits) -> None:
    expected = outcome(parse_packet_python, raw, tables, limits)
    assert outcome(hj212.parse_packet, raw, tables, limits) == expected, raw
    if expected[0] == "Packet":  # also equal, and equally hashed, as dataclasses
        got, want = (
            hj212.parse_packet(raw, tables, limits),
            parse_packet_python(raw, tables, limits),
        )
        numbers = [v for entry in want.values.values() for v in entry.values()]
        if not any(isinstance(v, Decimal) and v.is_nan() for v in numbers):  # NaN != NaN
            assert got == want and hash(got) == hash(want)


def same_segment(segment: str, tables: hj212.Hj212Tables | None, limits: Limits) -> None:
    expected = outcome(parse_segment_python, segment, tables, limits)
    assert outcome(hj212.parse_segment, segment, tables, limits) == expected, segment


# --- the corpus -----------------------------------------------------------------------------


def literals_of(path: Path, module: ModuleType) -> Iterator[bytes | str]:
    """Every str/bytes literal of a test file, and its literal calls of the packet builders."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
            yield node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            builder = getattr(module, node.func.id, None)
            if node.func.id not in BUILDERS or builder is None:
                continue
            try:
                args = [ast.literal_eval(a) for a in node.args]
                kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg}
            except ValueError:
                continue  # an argument that is not a literal
            try:
                made = builder(*args, **kwargs)
            except Exception:  # a literal call meant to fail in its own test
                continue
            if isinstance(made, str | bytes):
                yield made


def variants(item: bytes | str) -> Iterator[bytes | str]:
    """The literal as given, as a CRLF-terminated line, and framed as a data segment."""
    raw = item.encode("utf-8", "surrogatepass") if isinstance(item, str) else item
    yield item
    yield raw
    if not raw.endswith(b"\r\n"):
        yield raw + b"\r\n"
    yield frame(raw)
    if raw.startswith(b"##") and len(raw) > 12:
        yield frame(raw[6:-6])
        yield frame(raw[6:-4])  # a line without CRLF


def station_uploads() -> list[bytes]:
    out = []
    for i, cn in enumerate(("2011", "2051", "2061", "2031")):
        for pollutants in range(1, len(LOAD_POLLUTANTS) + 1):
            for flag in (5, 4, 0, 1, 8, 9):
                out.append(station_packet(f"MN{i:04d}", i * 97 + pollutants, cn=cn, flag=flag,
                                          pollutants=pollutants))  # fmt: skip
    return out


def built_packets() -> list[bytes]:
    """Other common shapes: split packets, 2005 codes, no QN/Flag, parameters, odd numbers."""
    when = dt.datetime(2024, 2, 29, 23, 59, 59)
    cp = encode_cp(data_time=when, values={"w01018": {"Rtd": "1.5", "Flag": "N"}})
    legacy = "DataTime=20100101120000;011-Rtd=40.1,011-Flag=N;060-Rtd=2.0,060-Flag=N;B01-Rtd=1"
    numbers = ["0", "-1", "+2.5", ".5", "5.", "1e3", "1E+3", "-.5e-3", "00012.3400", "9" * 30]
    return [
        build_packet(qn="20240601080000000", st="32", cn="2051", pw="1", mn="M1", flag=7,
                     pnum=3, pno=2, cp=cp),
        build_packet(qn="20240601080000000", st="32", cn="2051", pw="1", mn="M1", flag=5,
                     pnum=3, pno=3, cp=cp),
        build_packet(st="32", cn="2011", pw="123456", mn="88888880000001", cp=legacy),
        build_packet(st="32", cn="2011", pw="123456", mn="8888", flag=1, cp=legacy),
        build_packet(st="99", cn="7777", pw="a.b-c", mn="_-.", flag=255, cp=cp),
        build_packet(st="91", cn="9014", pw="1", mn="M", flag=4, cp=""),
        build_packet(st="32", cn="2011", pw="1", mn="M", cp="RtdInterval=30;QnRtn=1;PolId=w01018"),
        build_packet(st="32", cn="2011", pw="1", mn="M", cp="SystemTime=20240101000000;X=1;;,"),
        build_packet(st="32", cn="2011", pw="1", mn="M", cp="w01018-Rtd=1,w01018-Rtd=2"),
        build_packet(st="32", cn="2011", pw="1", mn="M", cp="w01018-Xyz=1,w01018-Flag=Q"),
        build_packet(st="32", cn="2011", pw="1", mn="M", cp="a-b-c=1=2;x--=3;-a=1"),
        *(
            build_packet(st="32", cn="2011", pw="1", mn="M", cp=f"w01018-Rtd={n},w01018-Avg={n}")
            for n in numbers
        ),
    ]  # fmt: skip


def corpus() -> list[bytes | str]:
    items: list[bytes | str] = []
    for name, path in SOURCES.items():
        module = importlib.import_module(name)
        for literal in literals_of(path, module):
            items.extend(variants(literal))
    items += station_uploads() + built_packets()
    return list(dict.fromkeys(items))


@pytest.fixture(scope="module")
def tables() -> hj212.Hj212Tables:
    return hj212_tables()


# --- selection ------------------------------------------------------------------------------


def test_the_python_codec_is_used_when_the_extension_is_missing() -> None:
    """Without the built module (a machine without a compiler) the import falls back."""
    code = (
        "import sys; sys.modules['dualcontrol.core._hj212_fast'] = None\n"
        "from dualcontrol.core import hj212\n"
        "assert hj212.CODEC == 'python', hj212.CODEC\n"
        "assert hj212.parse_packet is hj212.parse_packet_python\n"
        "assert hj212.parse_segment is hj212.parse_segment_python\n"
        "print(hj212.parse_packet(hj212.build_packet(st='32', cn='2011', pw='1', mn='M')).cn)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2011"


@compiled
def test_the_compiled_codec_is_selected() -> None:
    from dualcontrol.core import _hj212_fast

    assert hj212.parse_packet is _hj212_fast.parse_packet
    assert hj212.parse_segment is _hj212_fast.parse_segment
    assert hj212.parse_packet_python is not hj212.parse_packet


@compiled
def test_common_uploads_run_compiled(tables: hj212.Hj212Tables) -> None:
    """CN 2011/2051/2061/2031 uploads of up to 6 pollutants never need the Python codec."""
    from dualcontrol.core import _hj212_fast

    for raw in station_uploads():
        for t in (None, tables):
            packet = _hj212_fast.try_packet(raw, t)
            assert packet is not None, raw
            assert strict(packet) == strict(parse_packet_python(raw, t))


@compiled
def test_rejections_are_left_to_the_python_codec(tables: hj212.Hj212Tables) -> None:
    from dualcontrol.core import _hj212_fast

    good = station_packet("MN1", 1, cn="2011", pollutants=6)
    bad = [good[:-3] + b"\r\n", good.replace(b"##", b"#!", 1), frame(good[6:-6] + b"x")]
    for raw in bad:
        assert _hj212_fast.try_packet(raw, tables) is None
        with pytest.raises(Hj212Error):
            hj212.parse_packet(raw, tables)


@compiled
def test_compiled_crc_equals_the_standard() -> None:
    from dualcontrol.core import _hj212_fast

    rng = random.Random(18)
    for n in [*range(40), 101, 1024, 4096]:
        data = bytes(rng.randrange(256) for _ in range(n))
        assert _hj212_fast.crc16(data) == hj212.crc16(data) == hj212.crc16_reference(data)


# --- differential: the corpus ---------------------------------------------------------------


@compiled
def test_corpus_is_large_enough() -> None:
    items = corpus()
    assert len(items) > 1000
    assert sum(isinstance(i, bytes) and i.startswith(b"##") for i in items) > 500


@compiled
def test_every_corpus_packet_gives_the_same_result(tables: hj212.Hj212Tables) -> None:
    for raw in corpus():
        for t in (None, tables):
            same(raw, t, hj212.DEFAULT_LIMITS)
        same(raw, tables, SMALL_LIMITS)


@compiled
def test_every_corpus_segment_gives_the_same_result(tables: hj212.Hj212Tables) -> None:
    for item in corpus():
        if isinstance(item, bytes):
            item = item[6:-6].decode("utf-8", "replace") if item.startswith(b"##") else ""
        for t in (None, tables):
            same_segment(item, t, hj212.DEFAULT_LIMITS)
        same_segment(item, tables, SMALL_LIMITS)


@compiled
def test_other_tables_and_limits_give_the_same_result(tables: hj212.Hj212Tables) -> None:
    """Tables of another class or other content (not the cached ones) and small limits."""
    from dataclasses import replace

    class OtherTables(hj212.Hj212Tables):
        def flags_for(self, standard: str | None) -> frozenset[str]:
            return frozenset({"Q"})

    few = replace(tables, pollutants={"w01018": "COD"}, systems={}, versions={1: "X"})
    codes = replace(tables, pollutants={"w01018": "COD", "w21003": "NH3-N"})
    flags = replace(tables, data_flags={k: frozenset({"F"}) for k in tables.data_flags})
    other = OtherTables(**{f: getattr(tables, f) for f in hj212.Hj212Tables.__dataclass_fields__})
    for raw in station_uploads()[::7] + built_packets():
        for t in (few, other, tables, codes, flags, few):
            same(raw, t, hj212.DEFAULT_LIMITS)
            same(raw, t, SMALL_LIMITS)


@compiled
def test_threads_with_other_tables_and_limits_get_their_own_results(
    tables: hj212.Hj212Tables,
) -> None:
    """The compiled codec keeps the last tables and limits; other threads' calls interleave."""
    from dataclasses import replace

    other = replace(tables, pollutants={"w01018": "COD"})
    cases = [
        (raw, t, limits)
        for raw in station_uploads()[::5] + built_packets()
        for t in (tables, other, None)
        for limits in (hj212.DEFAULT_LIMITS, SMALL_LIMITS)
    ]
    expected = [outcome(parse_packet_python, *case) for case in cases]
    wrong: list[int] = []

    def work(offset: int) -> None:
        for k in range(len(cases) * 3):
            i = (k * 7 + offset) % len(cases)
            if outcome(hj212.parse_packet, *cases[i]) != expected[i]:
                wrong.append(i)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=work, args=(n * 11,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert wrong == []


@compiled
def test_odd_tables_and_limits_give_the_same_outcome(tables: hj212.Hj212Tables) -> None:
    """Objects that are not Hj212Tables or Limits: the Python codec's outcome, crash or not."""
    from dataclasses import replace

    raws = [station_packet("MN1", 1, cn="2011", pollutants=6), *built_packets()[:3]]
    odd_limits = [None, replace(SMALL_LIMITS, max_mn_length=2.5), object()]  # type: ignore[arg-type]
    for raw in raws:
        for limits in odd_limits:
            same(raw, tables, limits)  # type: ignore[arg-type]
        for t in (object(), replace(tables, versions=None), replace(tables, pollutants=[])):
            same(raw, t, hj212.DEFAULT_LIMITS)  # type: ignore[arg-type]
        segment = raw[6:-6].decode("ascii")
        same_segment(segment, object(), hj212.DEFAULT_LIMITS)  # type: ignore[arg-type]
        same_segment(segment, tables, None)  # type: ignore[arg-type]


@compiled
def test_numbers_from_the_cache_are_the_numbers_sent() -> None:
    """Many distinct numbers (the cache's slots collide and are replaced) and repeats."""
    rng = random.Random(212)
    texts = [f"{rng.uniform(-1e4, 1e4):.{rng.randrange(6)}f}" for _ in range(6000)]
    texts += ["1.0", "1.00", "01.0", "+1.0", "-0", "0", "-0.0", "1.", ".1"] * 3
    for text in texts:
        raw = build_packet(st="32", cn="2011", pw="1", mn="M", cp=f"w01018-Rtd={text}")
        packet = hj212.parse_packet(raw)
        assert strict(packet) == strict(parse_packet_python(raw))
        assert str(packet.values["w01018"]["Rtd"]) == str(Decimal(text))


@compiled
def test_same_result_under_another_decimal_context() -> None:
    """Without the InvalidOperation trap Decimal('1e') is NaN, not an error: in both codecs."""
    raws = [
        build_packet(st="32", cn="2011", pw="1", mn="M", cp=f"w01018-Rtd={text}")
        for text in ("1e", "+", "1.2.3", "1e999999999999999999", "2.5", "-.5e-3")
    ]
    with decimal.localcontext() as context:
        context.traps[decimal.InvalidOperation] = False
        for raw in raws:
            same(raw, None, hj212.DEFAULT_LIMITS)
    for raw in raws:
        same(raw, None, hj212.DEFAULT_LIMITS)


# --- differential: fuzz ---------------------------------------------------------------------

SEEDS = [
    station_packet("MN0001", 3, cn="2011", pollutants=6),
    station_packet("MN0002", 5, cn="2051", pollutants=4),
    station_packet("MN0003", 7, cn="2061", pollutants=2),
    station_packet("MN0004", 9, cn="2031", pollutants=6),
    *built_packets()[:5],
]
MUTATION_BYTES = b";,=&-#\r\n0aZ.\xff\x00 e+"


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, max(len(data) - 1, 0)))
        op = draw(st.sampled_from(["set", "delete", "insert", "copy"]))
        if op == "set" and data:
            data[i] = draw(st.sampled_from(MUTATION_BYTES))
        elif op == "delete" and data:
            del data[i : i + draw(st.integers(1, 8))]
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=4))
        else:
            j = draw(st.integers(0, max(len(data) - 1, 0)))
            data[i:i] = data[j : j + draw(st.integers(1, 20))]
    return bytes(data)


@compiled
@FUZZ
@given(mutated())
def test_fuzz_mutated_packets_give_the_same_result(raw: bytes) -> None:
    tables = hj212_tables()
    reframed = frame(raw[6:-6]) if len(raw) > 12 else raw  # reaches the segment parser
    for candidate in (raw, reframed):
        same(candidate, tables, hj212.DEFAULT_LIMITS)
        same(candidate, None, SMALL_LIMITS)
    same_segment(reframed[6:-6].decode("latin-1"), tables, hj212.DEFAULT_LIMITS)


@compiled
@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_random_bytes_give_the_same_result(data: bytes) -> None:
    for raw in (data, b"##" + data, frame(data), b"##%04d" % len(data) + data + b"0000\r\n"):
        same(raw, hj212_tables(), hj212.DEFAULT_LIMITS)
