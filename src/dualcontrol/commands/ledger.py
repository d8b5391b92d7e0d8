"""``dualcontrol ledger``: the holdings ledger (allowances, CCER, later rights and credits).

* ``ledger replay FILE.jsonl --format json`` applies a sequence of requests to an **empty** ledger
  (no database) and prints ``{"transactions": [{"line", "status", "reason"}], "balances":
  {account: {unit_type: amount}}, "compliance": {account: {year: {"obligation", "surrendered",
  "shortfall", "status"}}}}`` — balances summed over vintages.  The line format is in
  :mod:`dualcontrol.core.ledger_replay`; the rules (four-eyes, CCER cap, vintages) come from
  ``carbon_market.yaml``.  Input UTF-8 (BOM allowed) or GB18030.
* ``ledger verify`` recomputes the platform ledger's hash chain and double-entry sums and lists
  every transaction changed behind the platform's back (exit code 1 when any).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from dualcontrol.cli import CommandError
from dualcontrol.commands.indicators import _decode


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "ledger",
        help="holdings ledger: replay requests on an empty ledger; verify the platform's chain",
        description="The double-entry, append-only, hash-chained ledger of allowances and credits.",
    )
    sub = parser.add_subparsers(dest="ledger_command", metavar="ACTION", required=True)
    replay = sub.add_parser(
        "replay",
        help="apply a JSON-lines file of requests to an empty ledger and print the outcome",
        description="One JSON object a line (open, issue, allocate, transfer, obligation, "
        "surrender, cancel, correct). Prints each line's status and reason, the balances "
        "summed over vintages and the compliance per account and year. A refused line changes "
        "nothing. No database is used.",
    )
    replay.add_argument("file", help="JSON-lines file (UTF-8 or GB18030)")
    replay.add_argument("--format", choices=("json",), default="json", help="output format")
    replay.set_defaults(func=run_replay)
    verify = sub.add_parser(
        "verify",
        help="check the platform ledger's hash chain and double-entry sums",
        description="Recompute every transaction's hash from its stored entries and compare it "
        "with the stored hash and the next transaction's previous hash. Exit code 1 when a "
        "transaction was changed.",
    )
    verify.add_argument("--format", choices=("text", "json"), default="text")
    verify.set_defaults(func=run_verify)


def run_replay(args: argparse.Namespace) -> int:
    from dualcontrol.core.ledger_replay import replay
    from dualcontrol.reference.carbon_market import market_rules

    path = Path(args.file)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from exc
    text = _decode(path, raw)
    rules = market_rules()
    out = replay(text.splitlines(), rules.ledger, deadlines=rules.surrender_deadlines())
    json.dump(out, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    from dualcontrol.cli import setup_django

    setup_django()
    from dualcontrol.carbonmarket.ledger import verify

    report = verify()
    if args.format == "json":
        json.dump(report, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        print(f"transactions: {report['transactions']}  entries: {report['entries']}")
        print(f"head: {report['head'] or '-'}")
        if report["intact"]:
            print("intact: the chain and every transaction's entries match their hashes")
        for b in report["breaks"]:
            print(f"BROKEN seq {b['seq']}: {b['reason']}")
    return 0 if report["intact"] else 1
