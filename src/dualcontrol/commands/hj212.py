"""``dualcontrol hj212 …`` — HJ 212 tools for operators (pure: no Django, no database).

``dualcontrol hj212 check FILE`` validates a file holding one packet per line (as captured from a
station or a log) and prints one JSON object per line.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from dualcontrol.core.hj212 import (
    DEFAULT_LIMITS,
    Hj212Error,
    Hj212Tables,
    Limits,
    Packet,
    parse_packet,
    split_lines,
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "hj212",
        help="HJ 212 污染物在线监控数据传输: check packets",
        description="HJ 212 (2005/2017/2025) packet tools.",
    )
    sub = parser.add_subparsers(dest="hj212_command", metavar="SUBCOMMAND")
    check = sub.add_parser(
        "check",
        help="validate packets, one per line, and print one JSON object per packet",
        description=(
            "Validate HJ 212 packets (one per line; the line end stands for the packet's CRLF) and "
            "print one JSON object per packet: line, valid, error, error_code and, for valid "
            "packets, st, cn, mn, qn, flag, version, pnum, pno, data_time, values "
            "{code: {field: value}}, params, source_codes (2017 code -> 2005 code sent) and "
            "warnings. A summary goes to standard error. Exit status 0 when every packet is "
            "valid, 1 otherwise."
        ),
    )
    check.add_argument("file", help="file with one packet per line, or - for standard input")
    check.add_argument(
        "--max-data-length",
        type=int,
        default=DEFAULT_LIMITS.max_data_length,
        help="largest data segment accepted (default %(default)s, the standard's limit)",
    )
    check.set_defaults(func=run_check)
    parser.set_defaults(func=lambda args: parser.print_help() or 0)


def run_check(args: argparse.Namespace) -> int:
    from dualcontrol.cli import CommandError
    from dualcontrol.reference.hj212 import hj212_tables

    if args.max_data_length < 0:
        raise CommandError("--max-data-length must be >= 0")
    if args.file == "-":
        data = sys.stdin.buffer.read()
    else:
        try:
            with open(args.file, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            raise CommandError(f"cannot read {args.file}: {exc.strerror or exc}") from exc
    limits = Limits(max_data_length=args.max_data_length)
    valid = invalid = 0
    out = sys.stdout
    for result in check_lines(split_lines(data), hj212_tables(), limits):
        if result["valid"]:
            valid += 1
        else:
            invalid += 1
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
    print(
        f"hj212 check: {valid + invalid} packets, {valid} valid, {invalid} invalid", file=sys.stderr
    )
    return 1 if invalid else 0


def check_lines(
    lines: Iterable[tuple[int, bytes]], tables: Hj212Tables, limits: Limits = DEFAULT_LIMITS
) -> Iterator[dict[str, Any]]:
    """One result object per (line number, packet)."""
    for number, raw in lines:
        try:
            packet = parse_packet(raw, tables, limits)
        except Hj212Error as exc:
            yield {
                "line": number,
                "valid": False,
                "error": exc.message,
                "error_code": exc.code.value,
            }
        else:
            yield {
                "line": number,
                "valid": True,
                "error": None,
                "error_code": None,
                **describe(packet),
            }


def describe(packet: Packet) -> dict[str, Any]:
    """The JSON-ready description of a valid packet."""
    return {
        "st": packet.st,
        "cn": packet.cn,
        "mn": packet.mn,
        "qn": packet.qn,
        "flag": packet.flag,
        "version": packet.version,
        "pnum": packet.pnum,
        "pno": packet.pno,
        "data_time": packet.data_time.isoformat() if packet.data_time else None,
        "values": {
            code: {suffix: _json_value(v) for suffix, v in entry.items()}
            for code, entry in packet.values.items()
        },
        "params": dict(packet.params),
        "source_codes": dict(packet.source_codes),
        "warnings": list(packet.warnings),
    }


def _json_value(value: Decimal | str) -> Any:
    """Numbers as JSON numbers when a float shows them exactly, otherwise as their text."""
    if isinstance(value, str):
        return value
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= 0 and abs(value) < 2**53:
        return int(value)
    as_float = float(value)
    return as_float if Decimal(repr(as_float)) == value else str(value)
