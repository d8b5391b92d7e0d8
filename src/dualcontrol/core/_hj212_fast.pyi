"""Type stub of the compiled HJ 212 codec (``_hj212_fast.pyx``; built when a compiler is there)."""

from collections.abc import Callable, Iterable
from decimal import Decimal

from dualcontrol.core.hj212 import Hj212Tables, Limits, Packet

def configure(
    *,
    packet_type: type[Packet],
    tables_type: type[Hj212Tables],
    decimal_type: type[Decimal],
    numeric_fields: Iterable[str],
    time_params: Iterable[str],
    parse_packet_python: Callable[[bytes | str, Hj212Tables | None, Limits], Packet],
    parse_segment_python: Callable[[str, Hj212Tables | None, Limits], Packet],
    default_limits: Limits,
    flag_suffix: str = ...,
    common_params: Iterable[str] = ...,
) -> None: ...
def parse_packet(
    raw: bytes | str, tables: Hj212Tables | None = None, limits: Limits = ...
) -> Packet: ...
def try_packet(
    raw: bytes | str, tables: Hj212Tables | None = None, limits: Limits = ...
) -> Packet | None: ...
def parse_segment(
    segment: str, tables: Hj212Tables | None = None, limits: Limits = ...
) -> Packet: ...
def crc16(data: bytes) -> int: ...
