"""Holdings ledger (登记簿): double-entry, append-only, hash-chained.

One engine for every kind of holding that moves between accounts — carbon allowances by vintage
(CEA), CCER offsets, and later energy-use rights, emission rights, certificates and credits.  The
unit types, the approval (four-eyes) rules and the surrender rules are data
(:class:`LedgerRules`, loaded from ``reference/data/carbon_market.yaml``).

Model (anchors: the national registry's 持有、变更、清缴、注销 records, 生态环境部令第19号 第五条; the
UK ETS registry's account and transaction types):

* **Accounts** have a kind: ``holding`` (an emitter's or a trader's), ``government`` (the
  province's allocation account), and three system kinds the ledger opens itself —
  ``issuance`` (the source of every issued unit; its balance is minus everything issued),
  ``surrender`` (清缴) and ``cancellation`` (注销).
* **Transactions** (issue, allocate, transfer, surrender, cancel, correct) are lists of
  :class:`Entry` rows.  Every transaction is double-entry: for each unit type and vintage the
  entries sum to zero, so totals are conserved.  Balances are sums of entries.  Only the issuance
  account may go below zero.  A refused request changes nothing.
* **Corrections** are new transactions that reverse an earlier one; nothing is ever edited.
* **Hash chain**: each recorded transaction carries ``sha256(previous hash + canonical record)``
  (:func:`chain_hash`); :func:`verify_chain` finds the first record changed behind the ledger's back.
* **Compliance** (清缴): an obligation per holding account and year equals its verified emissions;
  surrenders count toward the year they name; CCER is capped at a fraction of the obligation
  (生态环境部令第19号 第二十九条: 5 %); :func:`compliance` gives the status.

Amounts are :class:`~decimal.Decimal` with the unit type's number of decimals (``decimals``: 0 for
allowances — 1 allowance = 1 tCO2e, 国务院令第775号 第三十条 — certificates and points; more for tce of
energy-use rights or t of emission rights).  Each unit type says which obligation a surrender of it
counts toward (``counts_toward``: CCER toward the CEA obligation) and, for offsets, the cap
(``offset_cap_frac``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_FLOOR, Decimal
from typing import Any, Literal

AccountKind = Literal["holding", "government", "issuance", "surrender", "cancellation"]
ACCOUNT_KINDS: tuple[str, ...] = ("holding", "government", "issuance", "surrender", "cancellation")
OPENABLE_KINDS: tuple[str, ...] = ("holding", "government")
SYSTEM_ACCOUNTS: dict[str, str] = {
    "issuance": "#ISSUANCE",
    "surrender": "#SURRENDER",
    "cancellation": "#CANCELLATION",
}
TRANSACTION_TYPES: tuple[str, ...] = (
    "issue",
    "allocate",
    "transfer",
    "surrender",
    "cancel",
    "correct",
)
GENESIS_HASH = "0" * 64

Status = Literal["compliant", "late", "open", "short"]


class LedgerRefused(ValueError):
    """A request the ledger refuses; the message is the reason (English, as the replay prints it).
    ``code`` and ``params`` let a user interface say the same in its own language."""

    def __init__(self, message: str, code: str = "", **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class UnitType:
    """A kind of holding (CEA, CCER, EUR …) and its surrender rule."""

    code: str
    has_vintage: bool = True
    name_zh: str = ""
    decimals: int = 0
    counts_toward: str | None = None  # the obligation a surrender of it counts toward
    offset_cap_frac: Decimal | None = None  # an offset: at most this share of that obligation
    unit: str = ""


@dataclass(frozen=True)
class LedgerRules:
    """The data-driven rules of a ledger.

    ``four_eyes`` maps ``(transaction type, "from_kind>to_kind")`` to whether a second person must
    approve; ``correct_four_eyes`` covers corrections.  ``offset_unit_types`` are the unit types
    capped at ``offset_cap_frac`` of an obligation when surrendered (CCER: 0.05).
    """

    unit_types: Mapping[str, UnitType]
    four_eyes: Mapping[tuple[str, str], bool] = field(default_factory=dict)
    correct_four_eyes: bool = True
    allow_later_vintage: bool = False
    balance_unit_types: tuple[str, ...] = ("CEA", "CCER")
    version: str = ""

    @property
    def offset_unit_types(self) -> tuple[str, ...]:
        return tuple(c for c, u in self.unit_types.items() if u.offset_cap_frac is not None)

    @property
    def offset_cap_frac(self) -> Decimal:
        """The CCER cap (the one the national market has), for display."""
        ccer = self.unit_types.get("CCER")
        return (ccer.offset_cap_frac if ccer else None) or Decimal(0)

    def decimals(self, unit_type: str) -> int:
        u = self.unit_types.get(unit_type)
        return u.decimals if u else 0

    def needs_second_person(self, kind: str, from_kind: str, to_kind: str) -> bool:
        if kind == "correct":
            return self.correct_four_eyes
        return bool(self.four_eyes.get((kind, f"{from_kind}>{to_kind}"), False))


@dataclass(frozen=True)
class Account:
    code: str
    kind: str
    owner: str = ""


@dataclass(frozen=True)
class Entry:
    """One leg of a transaction: ``amount`` > 0 credits the account, < 0 debits it."""

    account: str
    unit_type: str
    vintage: int | None
    amount: Decimal


@dataclass(frozen=True)
class Request:
    """What someone asks the ledger to do (one replay line, one form, one API call)."""

    type: str
    from_account: str = ""
    to_account: str = ""
    unit_type: str = ""
    vintage: int | None = None
    amount: Any = 0  # int, Decimal or a JSON number; checked against the unit type's decimals
    requested_by: str = ""
    approved_by: str = ""
    year: int | None = None  # the compliance year a surrender counts toward
    date: dt.date | None = None
    corrects: int | None = None  # the seq of the transaction a correction reverses
    note: str = ""


@dataclass(frozen=True)
class Transaction:
    """An applied transaction: its sequence number, its request and its entries."""

    seq: int
    type: str
    entries: tuple[Entry, ...]
    requested_by: str = ""
    approved_by: str = ""
    year: int | None = None
    date: dt.date | None = None
    corrects: int | None = None
    note: str = ""

    def record(self) -> dict[str, Any]:
        """The canonical record hashed into the chain (plain JSON types, stable order)."""
        return {
            "seq": self.seq,
            "type": self.type,
            "entries": [
                [e.account, e.unit_type, e.vintage, number(e.amount)]
                for e in sorted(
                    self.entries, key=lambda e: (e.account, e.unit_type, e.vintage or 0, e.amount)
                )
            ],
            "requested_by": self.requested_by,
            "approved_by": self.approved_by,
            "year": self.year,
            "date": self.date.isoformat() if self.date else None,
            "corrects": self.corrects,
            "note": self.note,
        }


@dataclass(frozen=True)
class Obligation:
    """An obligation of ``account`` for ``year`` in ``unit_type`` (清缴义务: the verified emissions
    in CEA; energy use in EUR; emissions in EMR-*)."""

    account: str
    year: int
    amount: Decimal
    deadline: dt.date | None = None
    unit_type: str = "CEA"


@dataclass(frozen=True)
class ComplianceRow:
    account: str
    year: int
    obligation: Decimal
    surrendered: Decimal
    offsets_surrendered: Decimal
    shortfall: Decimal
    status: Status
    deadline: dt.date | None
    completed_on: dt.date | None
    unit_type: str = "CEA"


def number(value: Decimal | int) -> int | str:
    """A canonical JSON form of an amount: an int when whole, else the normalised decimal text."""
    d = Decimal(value)
    if d == d.to_integral_value():
        return int(d)
    return format(d.normalize(), "f")


def json_number(value: Decimal | int) -> int | float:
    """An amount for JSON output: int when whole, else float."""
    d = Decimal(value)
    return int(d) if d == d.to_integral_value() else float(d)


# ---------------------------------------------------------------------------------- hash chain


def canonical(record: Mapping[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def chain_hash(previous: str, record: Mapping[str, Any]) -> str:
    """``sha256(previous hash ‖ canonical JSON of the record)`` as 64 hex digits."""
    return hashlib.sha256(previous.encode("ascii") + canonical(record)).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


def verify_chain(
    records: Iterable[tuple[Mapping[str, Any], str, str]],
) -> list[ChainBreak]:
    """Check ``(record, previous_hash, hash)`` triples in sequence order.

    Reports every record whose stored hash does not match its content, whose stored previous hash
    is not the hash of the record before, or that breaks the entries' balance (a double-entry
    record whose legs no longer sum to zero).  An empty list means the chain is intact.
    """
    breaks: list[ChainBreak] = []
    expected_previous = GENESIS_HASH
    expected_seq = 1
    for record, previous, stored in records:
        seq = int(record.get("seq", 0))
        if seq != expected_seq:
            breaks.append(ChainBreak(seq, f"sequence {seq} where {expected_seq} was expected"))
        if previous != expected_previous:
            breaks.append(ChainBreak(seq, "its previous hash is not the hash of the record before"))
        if chain_hash(previous, record) != stored:
            breaks.append(ChainBreak(seq, "its content does not match its hash"))
        sums: dict[tuple[Any, Any], Decimal] = defaultdict(Decimal)
        for _account, unit_type, vintage, amount in record.get("entries", []):
            sums[(unit_type, vintage)] += Decimal(str(amount))
        if any(v != 0 for v in sums.values()):
            breaks.append(ChainBreak(seq, "its entries do not sum to zero"))
        expected_previous = stored
        expected_seq = seq + 1
    return breaks


# ---------------------------------------------------------------------------------- the ledger


def _key(e: Entry) -> tuple[str, str, int | None]:
    return (e.account, e.unit_type, e.vintage)


class Ledger:
    """The state of a ledger (or of the part of it a request touches) and the rules that move it.

    Built empty for a replay, or from a snapshot (accounts, balances, obligations, surrendered
    totals, the transactions a correction may reverse) by the platform, which then records the
    :class:`Transaction` that :meth:`apply` returns.
    """

    def __init__(
        self,
        rules: LedgerRules,
        *,
        accounts: Iterable[Account] = (),
        balances: Mapping[tuple[str, str, int | None], Decimal | int] | None = None,
        obligations: Iterable[Obligation] = (),
        surrenders: Iterable[Transaction] = (),
        transactions: Iterable[Transaction] = (),
        corrected: Iterable[int] = (),
        next_seq: int = 1,
    ) -> None:
        self.rules = rules
        self.accounts: dict[str, Account] = {}
        for kind, code in SYSTEM_ACCOUNTS.items():
            self.accounts[code] = Account(code, kind)
        for a in accounts:
            self.accounts[a.code] = a
        self.balances: dict[tuple[str, str, int | None], Decimal] = defaultdict(
            Decimal, {k: Decimal(v) for k, v in (balances or {}).items()}
        )
        self.obligations: dict[tuple[str, int, str], Obligation] = {
            (o.account, o.year, o.unit_type): o for o in obligations
        }
        self.transactions: dict[int, Transaction] = {t.seq: t for t in transactions}
        # surrenders per (account, year, obligation type): for totals, offsets and dates
        self.surrenders: dict[tuple[str, int, str], list[Transaction]] = defaultdict(list)
        for t in surrenders:
            self._count_surrender(t, sign=1)
        self.corrected: set[int] = set(corrected)
        self.next_seq = next_seq

    # -- reading ---------------------------------------------------------------------------

    def balance(self, account: str, unit_type: str, vintage: int | None = None) -> Decimal:
        """One vintage's balance, or (``vintage=None`` on a vintage type) the sum of all."""
        ut = self.rules.unit_types.get(unit_type)
        if ut is not None and ut.has_vintage and vintage is None:
            return sum(
                (v for (a, u, _y), v in self.balances.items() if a == account and u == unit_type),
                Decimal(0),
            )
        return self.balances.get((account, unit_type, vintage), Decimal(0))

    def balances_by_type(self, account: str) -> dict[str, Decimal]:
        """Balances of ``account`` summed over vintages: the rules' balance types always, others
        when the account holds or held them."""
        out = {u: Decimal(0) for u in self.rules.balance_unit_types}
        for (a, u, _v), amount in self.balances.items():
            if a == account:
                out[u] = out.get(u, Decimal(0)) + amount
        return out

    def surrendered(
        self, account: str, year: int, unit_type: str = "CEA"
    ) -> tuple[Decimal, Decimal, dict[str, Decimal]]:
        """(all units, offset units, per offset type) surrendered by ``account`` toward its
        ``unit_type`` obligation of ``year``."""
        total = offsets = Decimal(0)
        by_type: dict[str, Decimal] = defaultdict(Decimal)
        offset_types = set(self.rules.offset_unit_types)
        for t in self.surrenders.get((account, year, unit_type), []):
            for e in t.entries:
                if e.account == account:
                    total -= e.amount
                    if e.unit_type in offset_types:
                        offsets -= e.amount
                        by_type[e.unit_type] -= e.amount
        return total, offsets, dict(by_type)

    # -- writing ---------------------------------------------------------------------------

    def open(self, code: str, kind: str, owner: str = "") -> Account:
        code = (code or "").strip()
        if not code:
            raise LedgerRefused("an account needs a code")
        if code.startswith("#"):
            raise LedgerRefused(f"account codes starting with '#' are the ledger's own: {code}")
        if kind not in OPENABLE_KINDS:
            raise LedgerRefused(
                f"account kind {kind!r} cannot be opened (use one of {', '.join(OPENABLE_KINDS)})"
            )
        if code in self.accounts:
            raise LedgerRefused(f"account {code} is already open", "account_open", account=code)
        account = Account(code, kind, owner)
        self.accounts[code] = account
        return account

    def record_obligation(self, obligation: Obligation) -> Obligation:
        account = self._account(obligation.account)
        if account.kind != "holding":
            raise LedgerRefused(f"an obligation is owed by a holding account, not {account.kind}")
        unit = self.rules.unit_types.get(obligation.unit_type)
        if unit is None:
            raise LedgerRefused(
                f"unknown unit type {obligation.unit_type!r}",
                "unit_type",
                unit_type=obligation.unit_type,
            )
        if unit.counts_toward != unit.code:
            raise LedgerRefused(f"no obligation is kept in {unit.code}")
        amount = _amount(obligation.amount, unit, allow_zero=True)
        key = (obligation.account, obligation.year, unit.code)
        if key in self.obligations:
            raise LedgerRefused(
                f"the {obligation.year} {unit.code} obligation of {obligation.account} is "
                "already recorded"
            )
        obligation = replace(obligation, amount=amount)
        self.obligations[key] = obligation
        return obligation

    def plan(self, request: Request) -> Transaction:
        """The transaction ``request`` would make; raises :class:`LedgerRefused` (no change)."""
        kind = request.type
        if kind not in TRANSACTION_TYPES:
            raise LedgerRefused(f"unknown transaction type {kind!r}")
        if kind == "correct":
            return self._plan_correction(request)
        unit = self.rules.unit_types.get(request.unit_type)
        if unit is None:
            raise LedgerRefused(
                f"unknown unit type {request.unit_type!r}", "unit_type", unit_type=request.unit_type
            )
        vintage = request.vintage
        if unit.has_vintage and vintage is None:
            raise LedgerRefused(f"{unit.code} is held by vintage: give the vintage")
        if not unit.has_vintage and vintage is not None:
            raise LedgerRefused(f"{unit.code} has no vintage")
        amount = _amount(request.amount, unit)

        source, target = self._legs(request)
        self._check_approval(kind, source, target, request)
        year = None
        if kind == "surrender":
            year = self._check_surrender(request, unit, amount)
        if source.kind != "issuance":
            held = self.balances.get((source.code, unit.code, vintage), Decimal(0))
            if held < amount:
                raise LedgerRefused(
                    f"{source.code} holds {held} {unit.code}"
                    + (f" of vintage {vintage}" if vintage is not None else "")
                    + f", less than {amount}",
                    "balance",
                    account=source.code,
                    held=number(held),
                    unit_type=unit.code,
                    vintage=vintage,
                    amount=number(amount),
                )
        entries = (
            Entry(source.code, unit.code, vintage, -amount),
            Entry(target.code, unit.code, vintage, amount),
        )
        return Transaction(
            seq=self.next_seq,
            type=kind,
            entries=entries,
            requested_by=request.requested_by,
            approved_by=request.approved_by,
            year=year,
            date=request.date,
            note=request.note,
        )

    def apply(self, request: Request) -> Transaction:
        """Plan and record ``request``; a refusal raises and leaves the ledger as it was."""
        return self.record(self.plan(request))

    def record(self, tx: Transaction) -> Transaction:
        """Add a planned transaction's entries to the state."""
        for e in tx.entries:
            self.balances[_key(e)] += e.amount
        if tx.type == "surrender":
            self._count_surrender(tx, sign=1)
        if tx.type == "correct" and tx.corrects is not None:
            self.corrected.add(tx.corrects)
            original = self.transactions.get(tx.corrects)
            if original is not None and original.type == "surrender":
                self._count_surrender(original, sign=-1)
        self.transactions[tx.seq] = tx
        self.next_seq = max(self.next_seq, tx.seq + 1)
        return tx

    # -- compliance ------------------------------------------------------------------------

    def compliance(
        self, account: str, year: int, unit_type: str = "CEA", *, today: dt.date | None = None
    ) -> ComplianceRow | None:
        obligation = self.obligations.get((account, year, unit_type))
        if obligation is None:
            return None
        dated = [
            (t.date, -sum((e.amount for e in t.entries if e.account == account), Decimal(0)))
            for t in self.surrenders.get((account, year, unit_type), [])
        ]
        total, offsets, _by_type = self.surrendered(account, year, unit_type)
        return compliance(
            obligation,
            surrendered=total,
            offsets_surrendered=offsets,
            dated_surrenders=dated,
            today=today,
        )

    def compliance_table(self, *, today: dt.date | None = None) -> list[ComplianceRow]:
        rows = [self.compliance(a, y, u, today=today) for (a, y, u) in sorted(self.obligations)]
        return [r for r in rows if r is not None]

    # -- internals -------------------------------------------------------------------------

    def _account(self, code: str) -> Account:
        if not code:
            raise LedgerRefused("an account is missing")
        account = self.accounts.get(code)
        if account is None:
            raise LedgerRefused(f"account {code} is not open", "not_open", account=code)
        return account

    def _legs(self, request: Request) -> tuple[Account, Account]:
        kind = request.type
        if kind == "issue":
            target = self._account(request.to_account)
            if target.kind != "government":
                raise LedgerRefused("units are issued into a government account")
            return self.accounts[SYSTEM_ACCOUNTS["issuance"]], target
        source = self._account(request.from_account)
        if kind == "surrender":
            if source.kind != "holding":
                raise LedgerRefused("only a holding account surrenders")
            return source, self.accounts[SYSTEM_ACCOUNTS["surrender"]]
        if kind == "cancel":
            if source.kind not in ("holding", "government"):
                raise LedgerRefused(f"a {source.kind} account cannot cancel units")
            return source, self.accounts[SYSTEM_ACCOUNTS["cancellation"]]
        target = self._account(request.to_account)
        if source.code == target.code:
            raise LedgerRefused("the two accounts are the same", "same_account")
        if kind == "allocate":
            if source.kind != "government" or target.kind != "holding":
                raise LedgerRefused(
                    "allocation goes from a government account to a holding account"
                )
        elif kind == "transfer" and (source.kind, target.kind) not in (
            ("holding", "holding"),
            ("government", "government"),
        ):
            raise LedgerRefused(
                f"a transfer goes between two holding or two government accounts, not "
                f"{source.kind} → {target.kind} (use allocate, surrender or correct)"
            )
        return source, target

    def _check_approval(
        self, kind: str, source: Account, target: Account, request: Request
    ) -> None:
        if not self.rules.needs_second_person(kind, source.kind, target.kind):
            return
        if not request.requested_by:
            raise LedgerRefused(f"a {kind} needs the requester (requested_by)")
        if not request.approved_by:
            raise LedgerRefused(
                f"a {kind} needs a second person's approval (approved_by)", "four_eyes"
            )
        if request.approved_by == request.requested_by:
            raise LedgerRefused(
                f"a {kind} must be approved by someone other than its requester "
                f"({request.requested_by})",
                "four_eyes",
            )

    def _check_surrender(self, request: Request, unit: UnitType, amount: Decimal) -> int:
        year = request.year
        if year is None:
            raise LedgerRefused("a surrender names the compliance year it counts toward")
        if unit.counts_toward is None:
            raise LedgerRefused(f"{unit.code} cannot be surrendered for compliance (cancel it)")
        obligation = self.obligations.get((request.from_account, year, unit.counts_toward))
        if obligation is None:
            raise LedgerRefused(
                f"no {unit.counts_toward} obligation of {request.from_account} for {year} "
                "is recorded",
                "no_obligation",
                year=year,
            )
        if (
            not self.rules.allow_later_vintage
            and request.vintage is not None
            and request.vintage > year
        ):
            raise LedgerRefused(
                f"vintage {request.vintage} cannot be surrendered for {year} "
                "(no borrowing of later vintages)",
                "later_vintage",
                vintage=request.vintage,
                year=year,
            )
        if unit.offset_cap_frac is not None:
            _total, _offsets, by_type = self.surrendered(
                request.from_account, year, unit.counts_toward
            )
            used = by_type.get(unit.code, Decimal(0))
            cap = offset_cap(obligation.amount, unit.offset_cap_frac, unit.decimals)
            if used + amount > cap:
                raise LedgerRefused(
                    f"{unit.code} over the cap: {number(used)} + {number(amount)} > "
                    f"{number(cap)} ({_pct(unit.offset_cap_frac)} of the "
                    f"{number(obligation.amount)} obligation)",
                    "offset_cap",
                    unit_type=unit.code,
                    used=number(used),
                    amount=number(amount),
                    cap=number(cap),
                    pct=_pct(unit.offset_cap_frac),
                    obligation=number(obligation.amount),
                )
        return year

    def _plan_correction(self, request: Request) -> Transaction:
        if request.corrects is None:
            raise LedgerRefused("a correction names the transaction it reverses")
        original = self.transactions.get(request.corrects)
        if original is None:
            raise LedgerRefused(f"transaction {request.corrects} is not in the ledger")
        if original.type == "correct":
            raise LedgerRefused("a correction is not corrected; record a new transaction")
        if original.seq in self.corrected:
            raise LedgerRefused(
                f"transaction {original.seq} is already corrected", "corrected", seq=original.seq
            )
        if self.rules.correct_four_eyes:
            if not request.requested_by or not request.approved_by:
                raise LedgerRefused("a correction needs a requester and a second approver")
            if request.requested_by == request.approved_by:
                raise LedgerRefused(
                    "a correction must be approved by someone other than its requester"
                )
        reversed_entries = tuple(replace(e, amount=-e.amount) for e in original.entries)
        for e in reversed_entries:
            account = self.accounts.get(e.account)
            if account is None:
                raise LedgerRefused(f"account {e.account} is not open")
            if account.kind == "issuance" or e.amount >= 0:
                continue
            held = self.balances.get(_key(e), Decimal(0))
            if held < -e.amount:
                raise LedgerRefused(
                    f"{e.account} holds {number(held)} {e.unit_type}, less than the "
                    f"{number(-e.amount)} to reverse",
                    "reverse_balance",
                    account=e.account,
                    held=number(held),
                    unit_type=e.unit_type,
                    amount=number(-e.amount),
                )
        return Transaction(
            seq=self.next_seq,
            type="correct",
            entries=reversed_entries,
            requested_by=request.requested_by,
            approved_by=request.approved_by,
            year=original.year,
            date=request.date,
            corrects=original.seq,
            note=request.note,
        )

    def _count_surrender(self, tx: Transaction, *, sign: int) -> None:
        if tx.year is None:
            return
        for e in tx.entries:
            if e.amount >= 0:
                continue
            unit = self.rules.unit_types.get(e.unit_type)
            target = unit.counts_toward if unit and unit.counts_toward else e.unit_type
            key = (e.account, tx.year, target)
            bucket = self.surrenders[key]
            if sign > 0:
                if all(t.seq != tx.seq for t in bucket):
                    bucket.append(tx)
            else:
                self.surrenders[key] = [t for t in bucket if t.seq != tx.seq]


def _amount(value: object, unit: UnitType, *, allow_zero: bool = False) -> Decimal:
    """``value`` as a Decimal with at most the unit type's decimals, positive (or zero)."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | float):
        raise LedgerRefused(f"the amount must be a number, not {value!r}", "whole", amount=value)
    try:
        d = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except (ValueError, ArithmeticError) as exc:
        raise LedgerRefused(f"the amount {value!r} is not a number", "whole", amount=value) from exc
    if not d.is_finite():
        raise LedgerRefused(f"the amount {value!r} is not a number", "whole", amount=value)
    if d != d.quantize(Decimal(1).scaleb(-unit.decimals), rounding=ROUND_FLOOR):
        if unit.decimals == 0:
            raise LedgerRefused(
                f"the amount must be a whole number of {unit.code}, not {value!r}",
                "whole",
                amount=value,
            )
        raise LedgerRefused(
            f"{unit.code} amounts have at most {unit.decimals} decimals, not {value!r}",
            "decimals",
            amount=value,
            decimals=unit.decimals,
        )
    if d < 0 or (d == 0 and not allow_zero):
        raise LedgerRefused(f"the amount must be positive, not {value}", "positive", amount=value)
    return d


def _pct(frac: Decimal) -> str:
    return f"{(frac * 100).normalize():f} %"


def offset_cap(obligation: Decimal | int, cap_frac: Decimal, decimals: int = 0) -> Decimal:
    """The most offset units an obligation admits: obligation × cap, rounded down to the offset's
    decimals (“不得超过”: equal is allowed)."""
    return (Decimal(obligation) * cap_frac).quantize(
        Decimal(1).scaleb(-decimals), rounding=ROUND_FLOOR
    )


def compliance(
    obligation: Obligation,
    *,
    surrendered: Decimal | int,
    offsets_surrendered: Decimal | int = 0,
    dated_surrenders: Sequence[tuple[dt.date | None, Decimal | int]] = (),
    today: dt.date | None = None,
) -> ComplianceRow:
    """清缴 status of one obligation.

    ``compliant``: surrendered ≥ obligation, the obligation reached on or before the deadline (or
    no dates known); ``late``: reached, but only after the deadline; ``open``: not reached and the
    deadline (known, with ``today``) not passed; ``short``: not reached otherwise, with the
    shortfall.
    """
    deadline = obligation.deadline
    owed = Decimal(obligation.amount)
    done = Decimal(surrendered)
    shortfall = max(Decimal(0), owed - done)
    completed_on: dt.date | None = None
    if shortfall == 0:
        dated = sorted(((d, a) for d, a in dated_surrenders if d is not None), key=lambda p: p[0])
        running = sum((Decimal(a) for d, a in dated_surrenders if d is None), Decimal(0))
        if running < owed:
            for day, amount in dated:
                running += Decimal(amount)
                if running >= owed:
                    completed_on = day
                    break
        late = deadline is not None and completed_on is not None and completed_on > deadline
        status: Status = "late" if late else "compliant"
    elif deadline is not None and today is not None and today <= deadline:
        status = "open"
    else:
        status = "short"
    return ComplianceRow(
        account=obligation.account,
        year=obligation.year,
        obligation=owed,
        surrendered=done,
        offsets_surrendered=Decimal(offsets_surrendered),
        shortfall=shortfall,
        status=status,
        deadline=deadline,
        completed_on=completed_on,
        unit_type=obligation.unit_type,
    )


def conserved(tx: Transaction) -> bool:
    """Every unit type and vintage of ``tx`` sums to zero."""
    sums: dict[tuple[str, int | None], Decimal] = defaultdict(Decimal)
    for e in tx.entries:
        sums[(e.unit_type, e.vintage)] += e.amount
    return all(v == 0 for v in sums.values())
