"""Replay a sequence of ledger requests on an empty ledger (``dualcontrol ledger replay``).

One JSON object a line::

    {"type": "open", "account": "A", "kind": "holding"|"government"}
    {"type": "issue", "to": "GOV", "unit_type": "CEA", "vintage": 2025, "amount": 1000}
    {"type": "allocate"|"transfer", "from": …, "to": …, "unit_type": …, "vintage": …,
     "amount": …, "requested_by": "u1", "approved_by": "u2"}
    {"type": "obligation", "account": "A", "year": 2025, "amount": 550}      (verified emissions)
    {"type": "obligation", "account": "A", "year": 2025, "unit_type": "EUR", "amount": 120.5}
    {"type": "surrender", "from": "A", "year": 2025, "unit_type": "CEA"|"CCER", "vintage": …,
     "amount": …}
    {"type": "cancel", "from": "A", "unit_type": …, "vintage": …, "amount": …}
    {"type": "correct", "line": N, "requested_by": …, "approved_by": …}   (reverses line N)

Optional on any line: ``"date": "YYYY-MM-DD"``; on an obligation ``"deadline"``.  A line that is
not valid JSON, or that the ledger refuses, is reported ``refused`` with the reason and changes
nothing.  Blank lines and lines starting with ``#`` are skipped.

An obligation without ``unit_type`` is the CEA obligation (verified emissions); a surrender counts
toward the obligation its unit type names in the rules (CCER → CEA, EUR → EUR, EMR-COD → EMR-COD …).
The compliance report keys CEA rows by the year (``"2025"``) and other obligations by year and unit
type (``"2025:EUR"``, with a ``unit_type`` field).  Amounts print as integers when whole.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

from dualcontrol.core.ledger import (
    Ledger,
    LedgerRefused,
    LedgerRules,
    Obligation,
    Request,
    json_number,
)

LINE_TYPES = (
    "open",
    "issue",
    "allocate",
    "transfer",
    "obligation",
    "surrender",
    "cancel",
    "correct",
)
KNOWN_FIELDS = frozenset(
    {
        "type",
        "account",
        "kind",
        "owner",
        "from",
        "to",
        "unit_type",
        "vintage",
        "amount",
        "requested_by",
        "approved_by",
        "year",
        "date",
        "deadline",
        "line",
        "note",
    }
)


def _int(obj: Mapping[str, Any], name: str, *, required: bool = True) -> int | None:
    value = obj.get(name)
    if value is None:
        if required:
            raise LedgerRefused(f"{name} is missing")
        return None
    if isinstance(value, bool):
        raise LedgerRefused(f"{name} must be a whole number, not {value!r}")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if not isinstance(value, int):
        raise LedgerRefused(f"{name} must be a whole number, not {value!r}")
    return value


def _number(obj: Mapping[str, Any], name: str) -> Any:
    """A JSON number as given (the ledger checks it against the unit type's decimals)."""
    value = obj.get(name)
    if value is None:
        raise LedgerRefused(f"{name} is missing")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LedgerRefused(f"{name} must be a number, not {value!r}")
    return value


def _str(obj: Mapping[str, Any], name: str) -> str:
    value = obj.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise LedgerRefused(f"{name} must be a string, not {value!r}")
    return value.strip()


def _date(obj: Mapping[str, Any], name: str) -> dt.date | None:
    value = obj.get(name)
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise LedgerRefused(f"{name} must be a date YYYY-MM-DD, not {value!r}")
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise LedgerRefused(f"{name} must be a date YYYY-MM-DD, not {value!r}") from exc


class Replay:
    """An empty ledger fed line by line."""

    def __init__(self, rules: LedgerRules, *, deadlines: Mapping[int, dt.date] | None = None):
        self.ledger = Ledger(rules)
        self.deadlines = dict(deadlines or {})
        self.line_to_seq: dict[int, int] = {}
        self.results: list[dict[str, Any]] = []

    def feed(self, number: int, text: str) -> dict[str, Any]:
        try:
            obj = json.loads(text)
            if not isinstance(obj, dict):
                raise LedgerRefused("a line is one JSON object")
            self._apply(number, obj)
            result: dict[str, Any] = {"line": number, "status": "applied", "reason": None}
        except json.JSONDecodeError as exc:
            result = {"line": number, "status": "refused", "reason": f"not JSON: {exc.msg}"}
        except LedgerRefused as exc:
            result = {"line": number, "status": "refused", "reason": str(exc)}
        self.results.append(result)
        return result

    def _apply(self, number: int, obj: Mapping[str, Any]) -> None:
        kind = obj.get("type")
        if kind not in LINE_TYPES:
            raise LedgerRefused(f"unknown type {kind!r} (one of {', '.join(LINE_TYPES)})")
        unknown = sorted(set(obj) - KNOWN_FIELDS)
        if unknown:
            raise LedgerRefused(f"unknown field(s): {', '.join(unknown)}")
        ledger = self.ledger
        if kind == "open":
            ledger.open(_str(obj, "account"), _str(obj, "kind"), _str(obj, "owner"))
            return
        if kind == "obligation":
            year = _int(obj, "year")
            assert year is not None
            unit_type = _str(obj, "unit_type") or "CEA"
            deadline = _date(obj, "deadline") or (
                self.deadlines.get(year) if unit_type == "CEA" else None
            )
            ledger.record_obligation(
                Obligation(_str(obj, "account"), year, _number(obj, "amount"), deadline, unit_type)
            )
            return
        if kind == "correct":
            line = _int(obj, "line")
            assert line is not None
            seq = self.line_to_seq.get(line)
            if seq is None:
                raise LedgerRefused(f"line {line} is not an applied transaction")
            request = Request(
                type="correct",
                corrects=seq,
                requested_by=_str(obj, "requested_by"),
                approved_by=_str(obj, "approved_by"),
                date=_date(obj, "date"),
                note=_str(obj, "note"),
            )
        else:
            request = Request(
                type=str(kind),
                from_account=_str(obj, "from"),
                to_account=_str(obj, "to"),
                unit_type=_str(obj, "unit_type"),
                vintage=_int(obj, "vintage", required=False),
                amount=_number(obj, "amount"),
                requested_by=_str(obj, "requested_by"),
                approved_by=_str(obj, "approved_by"),
                year=_int(obj, "year", required=False),
                date=_date(obj, "date"),
                note=_str(obj, "note"),
            )
        tx = ledger.apply(request)
        self.line_to_seq[number] = tx.seq

    def output(self) -> dict[str, Any]:
        ledger = self.ledger
        balances = {
            code: {u: json_number(v) for u, v in ledger.balances_by_type(code).items()}
            for code, account in ledger.accounts.items()
            if account.kind in ("holding", "government")
        }
        compliance: dict[str, dict[str, dict[str, Any]]] = {}
        for row in ledger.compliance_table():
            entry: dict[str, Any] = {
                "obligation": json_number(row.obligation),
                "surrendered": json_number(row.surrendered),
                "shortfall": json_number(row.shortfall),
                "status": row.status,
            }
            key = str(row.year)
            if row.unit_type != "CEA":
                key = f"{row.year}:{row.unit_type}"
                entry["unit_type"] = row.unit_type
            compliance.setdefault(row.account, {})[key] = entry
        return {"transactions": self.results, "balances": balances, "compliance": compliance}


def replay(
    lines: Iterable[str],
    rules: LedgerRules,
    *,
    deadlines: Mapping[int, dt.date] | None = None,
) -> dict[str, Any]:
    """Apply every line (numbered from 1) and return the replay's report."""
    run = Replay(rules, deadlines=deadlines)
    for number, text in enumerate(lines, start=1):
        stripped = text.strip()
        if not stripped or stripped.startswith("#"):
            continue
        run.feed(number, stripped)
    return run.output()
