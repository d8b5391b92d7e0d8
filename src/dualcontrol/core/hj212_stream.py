"""HJ 212 over a byte stream: framing (帧同步), multi-packet reassembly (拆分包) and data records.

Pure: the receiver (:mod:`dualcontrol.ingest.hj212_server`) feeds TCP reads in and passes the
clock in; nothing here does I/O or reads the time itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from dualcontrol.core.hj212 import (
    DEFAULT_LIMITS,
    ErrorCode,
    FramingError,
    Hj212Error,
    Packet,
    Value,
)

__all__ = [
    "DataRecord",
    "Framer",
    "Message",
    "Reassembler",
    "ReassemblyResult",
    "record_digest",
    "record_of",
    "records_of",
]


class Framer:
    """Cuts a TCP byte stream into candidate packets (``##`` … CRLF), across reads.

    A frame is taken by its length field when the CRLF sits where the length says; otherwise
    (wrong length field, truncated packet) it runs from ``##`` to the next CRLF, and is cut short
    at an inner ``##`` so that a truncated packet does not swallow the next one.  Bytes outside
    any frame come back as :class:`FramingError` (``junk``), a frame with no CRLF within
    ``max_frame`` bytes as ``too_long``.  Frames are checked by :func:`parse_packet`, not here.
    """

    def __init__(self, max_frame: int = DEFAULT_LIMITS.max_data_length + 12) -> None:
        self.max_frame = max_frame
        self._buf = bytearray()

    @property
    def buffered(self) -> int:
        """Bytes held back waiting for the rest of a frame."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[bytes | Hj212Error]:
        """Add ``data``; return the complete frames (and stream errors) in stream order."""
        buf = self._buf
        buf += data
        out: list[bytes | Hj212Error] = []
        pos = 0
        n = len(buf)
        while pos < n:
            start = buf.find(b"##", pos)
            if start < 0:
                keep = 1 if buf[-1:] == b"#" else 0
                if n - keep > pos:
                    out.append(_junk(buf[pos : n - keep]))
                pos = n - keep
                break
            if start > pos:
                out.append(_junk(buf[pos:start]))
                pos = start
            if n - start < 6:
                break
            end = self._by_length(buf, start, n)
            if end == 0:  # need more bytes
                break
            if end < 0:
                end = self._by_delimiter(buf, start, n, out)
                if end == 0:
                    break
            if end > 0:
                out.append(bytes(buf[start:end]))
            pos = abs(end)
        del buf[:pos]
        return out

    def _by_length(self, buf: bytearray, start: int, n: int) -> int:
        """End of the frame by its length field; 0 = wait for more, -1 = not usable."""
        length_field = buf[start + 2 : start + 6]
        if not length_field.isdigit():
            return -1
        end = start + 12 + int(length_field)
        if end > start + self.max_frame:
            return -1
        if end > n:
            # Wait for the rest, unless the stream already shows a CRLF followed by a new packet.
            return -1 if buf.find(b"\r\n##", start) >= 0 else 0
        return end if buf[end - 2 : end] == b"\r\n" else -1

    def _by_delimiter(
        self, buf: bytearray, start: int, n: int, out: list[bytes | Hj212Error]
    ) -> int:
        """End of the frame at the next CRLF (> 0), or a negative resume position, or 0 = wait."""
        crlf = buf.find(b"\r\n", start + 2)
        inner = buf.find(b"##", start + 2, crlf if crlf >= 0 else n)
        if inner >= 0:
            # A truncated packet: hand it to the parser (it fails there with its reason).
            out.append(bytes(buf[start:inner]))
            return -inner
        if crlf >= 0:
            return crlf + 2
        if n - start > self.max_frame:
            out.append(
                FramingError(
                    ErrorCode.TOO_LONG,
                    f"no packet end (CRLF) within {self.max_frame} bytes of '##'; "
                    f"{n - start} bytes dropped",
                )
            )
            return -n
        return 0


def _junk(data: bytes | bytearray) -> FramingError:
    preview = bytes(data[:32])
    return FramingError(
        ErrorCode.JUNK, f"{len(data)} bytes outside any packet (starting {preview!r})"
    )


# --------------------------------------------------------------------------------------------
# Data records and multi-packet messages
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DataRecord:
    """监测数据记录 — one station's values for one command and data time (key: MN, CN, DataTime)."""

    mn: str
    st: str
    cn: str
    data_time: dt.datetime
    values: Mapping[str, Mapping[str, Value]] = field(hash=False)
    source_codes: Mapping[str, str] = field(hash=False)
    qn: str | None
    flag: int | None
    version: str | None
    # the CP text of a one-packet message (what the station sent): a cheap content fingerprint
    content: str | None = field(default=None, hash=False, compare=False)

    @property
    def key(self) -> tuple[str, str, dt.datetime]:
        """Idempotency key: a retransmission has the same key and is stored once."""
        return (self.mn, self.cn, self.data_time)

    @property
    def digest(self) -> str:
        """Fingerprint of the record's content (see :func:`record_digest`)."""
        return record_digest(self)


def record_digest(record: DataRecord) -> str:
    """Fingerprint (32 hex digits) of what a record says.

    Two records with the same key and digest are the same data sent again (a duplicate); the same
    key with another digest may be a correction (修约/补发) — the store compares the values
    themselves before it makes a new version, so two fingerprints of the same values (the CP
    text with fields in another order, a merged split message) cost a comparison, never a
    spurious version.  QN, Flag and ST are not part of it: a station resending with a new QN
    sends the same data.  A one-packet record hashes its CP text (about a microsecond); other
    records their values and source codes.
    """
    if record.content is not None:
        data = record.content.encode("utf-8", "surrogatepass")
        return "c" + hashlib.blake2b(data, digest_size=16).hexdigest()[1:]
    h = hashlib.blake2b(digest_size=16)
    for code in sorted(record.values):
        entry = record.values[code]
        h.update(code.encode("utf-8", "surrogatepass") + b"\x1f")
        for suffix in sorted(entry):
            h.update(f"{suffix}={entry[suffix]}\x1e".encode("utf-8", "surrogatepass"))
        h.update(b"\x1d")
    for code in sorted(record.source_codes):
        h.update(f"{code}<{record.source_codes[code]}\x1c".encode("utf-8", "surrogatepass"))
    return h.hexdigest()


@dataclass(frozen=True, slots=True)
class Message:
    """A complete message: one packet, or every part of a split message in PNO order."""

    parts: tuple[Packet, ...]

    @property
    def first(self) -> Packet:
        return self.parts[0]

    def records(self) -> tuple[DataRecord, ...]:
        return records_of(self.parts)


def record_of(packet: Packet) -> DataRecord | None:
    """The data record of a one-packet message (None without DataTime or pollutant values).

    The record shares the packet's (read-only) value mappings: the receiver's usual case, so no
    copies.
    """
    if packet.data_time is None or not packet.values:
        return None
    return DataRecord(
        mn=packet.mn,
        st=packet.st,
        cn=packet.cn,
        data_time=packet.data_time,
        values=packet.values,
        source_codes=packet.source_codes,
        qn=packet.qn,
        flag=packet.flag,
        version=packet.version,
        content=packet.cp,
    )


def records_of(parts: Sequence[Packet]) -> tuple[DataRecord, ...]:
    """Data records of a message: parts with the same DataTime merged, in first-seen order.

    Only parts that carry a DataTime and at least one pollutant value make records.  When parts
    repeat a field for the same code and time, the first part's value is kept.
    """
    if len(parts) == 1:
        record = record_of(parts[0])
        return () if record is None else (record,)
    merged: dict[dt.datetime, tuple[Packet, dict[str, dict[str, Value]], dict[str, str]]] = {}
    for part in parts:
        if part.data_time is None or not part.values:
            continue
        slot = merged.get(part.data_time)
        if slot is None:
            merged[part.data_time] = (
                part,
                {code: dict(entry) for code, entry in part.values.items()},
                dict(part.source_codes),
            )
            continue
        _, values, sources = slot
        for code, entry in part.values.items():
            target = values.setdefault(code, {})
            for suffix, value in entry.items():
                target.setdefault(suffix, value)
        for code, source in part.source_codes.items():
            sources.setdefault(code, source)
    return tuple(
        DataRecord(
            mn=head.mn,
            st=head.st,
            cn=head.cn,
            data_time=when,
            values=values,
            source_codes=sources,
            qn=head.qn,
            flag=head.flag,
            version=head.version,
        )
        for when, (head, values, sources) in merged.items()
    )


@dataclass(frozen=True, slots=True)
class ReassemblyResult:
    """What :meth:`Reassembler.add` made of a packet."""

    message: Message | None  # complete now
    duplicate_of_complete: bool = False  # a part of a message completed earlier (retransmission)
    dropped: tuple[Hj212Error, ...] = ()  # incomplete messages evicted to stay within bounds


_Key = tuple[str, str, str, str | None, int]


@dataclass
class _Pending:
    parts: dict[int, Packet]
    started: float


class Reassembler:
    """Collects the parts of split messages (PNUM/PNO, 拆分包) until all have arrived.

    Parts belong together when MN, ST, CN, QN and PNUM agree.  A repeated part is ignored.
    At most ``max_pending`` messages wait at once (the oldest is dropped); :meth:`expire` drops
    those older than ``timeout_s``.  Keys of the last ``remember`` completed messages are kept
    so that a late retransmitted part is recognised (and can be answered again).
    """

    def __init__(
        self, *, timeout_s: float = 60.0, max_pending: int = 64, remember: int = 1024
    ) -> None:
        self.timeout_s = timeout_s
        self.max_pending = max_pending
        self.remember = remember
        self._pending: OrderedDict[_Key, _Pending] = OrderedDict()
        self._done: OrderedDict[_Key, None] = OrderedDict()

    @property
    def pending(self) -> int:
        return len(self._pending)

    def add(self, packet: Packet, now: float) -> ReassemblyResult:
        if not packet.is_split:
            return ReassemblyResult(Message((packet,)))
        assert packet.pnum is not None and packet.pno is not None
        key: _Key = (packet.mn, packet.st, packet.cn, packet.qn, packet.pnum)
        if key in self._done:
            return ReassemblyResult(None, duplicate_of_complete=True)
        slot = self._pending.get(key)
        dropped: list[Hj212Error] = []
        if slot is None:
            while len(self._pending) >= self.max_pending:
                old_key, old = self._pending.popitem(last=False)
                dropped.append(_incomplete(old_key, old, "too many incomplete messages"))
            slot = self._pending[key] = _Pending({}, now)
        slot.parts.setdefault(packet.pno, packet)
        if len(slot.parts) < packet.pnum:
            return ReassemblyResult(None, dropped=tuple(dropped))
        del self._pending[key]
        self._done[key] = None
        while len(self._done) > self.remember:
            self._done.popitem(last=False)
        parts = tuple(slot.parts[i] for i in sorted(slot.parts))
        return ReassemblyResult(Message(parts), dropped=tuple(dropped))

    def expire(self, now: float) -> list[Hj212Error]:
        """Drop messages that have waited longer than ``timeout_s``; one error for each."""
        out = []
        for key in [k for k, v in self._pending.items() if now - v.started > self.timeout_s]:
            out.append(
                _incomplete(key, self._pending.pop(key), f"timed out after {self.timeout_s:g} s")
            )
        return out


def _incomplete(key: _Key, slot: _Pending, why: str) -> Hj212Error:
    mn, _st, cn, qn, pnum = key
    have = ",".join(str(i) for i in sorted(slot.parts))
    return Hj212Error(
        ErrorCode.INCOMPLETE_MESSAGE,
        f"MN={mn} CN={cn} QN={qn}: parts {have} of {pnum} received, {why}",
    )
