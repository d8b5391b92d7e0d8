"""The platform's ledger: the only code that writes ledger rows.

Each write loads the part of the ledger a request touches (the accounts, their balances from the
entries, the obligation and earlier surrenders of the year, the transaction a correction reverses)
into :class:`dualcontrol.core.ledger.Ledger`, lets the core plan the transaction (or refuse it),
and records it with its hash in one database transaction, under a lock on the chain head so
writers are serialised and the chain stays linear.  Every write is audited.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum

from dualcontrol.audit.services import record
from dualcontrol.carbonmarket.models import (
    Account,
    AccountKind,
    ChainHead,
    LedgerEntry,
    LedgerTransaction,
)
from dualcontrol.carbonmarket.models import Obligation as ObligationRow
from dualcontrol.core import ledger as core
from dualcontrol.reference.carbon_market import market_rules

SYSTEM_NAMES = {
    "issuance": "签发来源",
    "surrender": "清缴账户",
    "cancellation": "注销账户",
}


def rules() -> core.LedgerRules:
    return market_rules().ledger


def actor_name(user: Any) -> str:
    return "" if user is None else str(getattr(user, "username", user))


def ensure_system_accounts() -> None:
    for kind, code in core.SYSTEM_ACCOUNTS.items():
        Account.objects.get_or_create(
            code=code, defaults={"kind": kind, "name": SYSTEM_NAMES[kind]}
        )


def open_account(
    *,
    code: str,
    kind: str,
    name: str,
    entity: Any = None,
    division: Any = None,
    user: Any = None,
) -> Account:
    """Open a holding (unit) or government (province) account."""
    probe = core.Ledger(rules())
    probe.open(code, kind)  # the core's checks (code, kind)
    with transaction.atomic():
        if Account.objects.filter(code=code.strip()).exists():
            raise core.LedgerRefused(f"account {code} is already open")
        ensure_system_accounts()
        account = Account.objects.create(
            code=code.strip(), kind=kind, name=name, entity=entity, division=division
        )
        record(actor=user, action="carbon.account.open", obj=account, after={"kind": kind})
    return account


def _balances(accounts: Iterable[Account]) -> dict[tuple[str, str, int | None], Decimal]:
    ids = {a.pk: a.code for a in accounts}
    out: dict[tuple[str, str, int | None], Decimal] = {}
    rows = (
        LedgerEntry.objects.filter(account_id__in=ids)
        .values("account_id", "unit_type", "vintage")
        .annotate(total=Sum("amount"))
    )
    for r in rows:
        out[(ids[r["account_id"]], r["unit_type"], r["vintage"])] = Decimal(r["total"] or 0)
    return out


def _core_tx(tx: LedgerTransaction) -> core.Transaction:
    return core.Transaction(
        seq=tx.seq,
        type=tx.type,
        entries=tuple(
            core.Entry(e.account.code, e.unit_type, e.vintage, Decimal(e.amount))
            for e in tx.entries.select_related("account")
        ),
        requested_by=tx.requested_by,
        approved_by=tx.approved_by,
        year=tx.year,
        date=tx.date,
        corrects=tx.corrects.seq if tx.corrects_id else None,
        note=tx.note,
    )


def _load(request: core.Request, head: ChainHead) -> core.Ledger:
    codes = {c for c in (request.from_account, request.to_account) if c}
    original = None
    if request.corrects is not None:
        original = (
            LedgerTransaction.objects.filter(seq=request.corrects)
            .prefetch_related("entries__account")
            .first()
        )
        if original is not None:
            codes |= {e.account.code for e in original.entries.all()}
    codes |= set(core.SYSTEM_ACCOUNTS.values())
    accounts = list(Account.objects.filter(code__in=codes))
    obligations = []
    surrenders: list[core.Transaction] = []
    holder = request.from_account
    if original is not None and original.type == "surrender":
        holder = next((e.account.code for e in original.entries.all() if e.amount < 0), holder)
    year = request.year if request.year is not None else (original.year if original else None)
    if holder and year is not None:
        for ob in ObligationRow.objects.filter(account__code=holder, year=year):
            obligations.append(
                core.Obligation(holder, year, Decimal(ob.amount), ob.deadline, ob.unit_type)
            )
        done = (
            LedgerTransaction.objects.filter(
                type="surrender", year=year, entries__account__code=holder, correction__isnull=True
            )
            .distinct()
            .prefetch_related("entries__account")
        )
        surrenders = [_core_tx(t) for t in done]
    transactions = [_core_tx(original)] if original is not None else []
    corrected = (
        [original.seq]
        if original is not None and LedgerTransaction.objects.filter(corrects=original).exists()
        else []
    )
    return core.Ledger(
        rules(),
        accounts=[core.Account(a.code, a.kind) for a in accounts],
        balances=_balances(accounts),
        obligations=obligations,
        surrenders=surrenders,
        transactions=transactions,
        corrected=corrected,
        next_seq=head.seq + 1,
    )


def _head() -> ChainHead:
    ChainHead.objects.get_or_create(pk=1, defaults={"seq": 0, "hash": core.GENESIS_HASH})
    return ChainHead.objects.select_for_update().get(pk=1)


def apply(request: core.Request, *, user: Any = None, audit_action: str = "") -> LedgerTransaction:
    """Plan ``request`` with the core and record it; raises :class:`core.LedgerRefused`."""
    with transaction.atomic():
        ensure_system_accounts()
        head = _head()
        ledger = _load(request, head)
        planned = ledger.plan(request)
        digest = core.chain_hash(head.hash, planned.record())
        tx = LedgerTransaction.objects.create(
            seq=planned.seq,
            type=planned.type,
            requested_by=planned.requested_by,
            approved_by=planned.approved_by,
            year=planned.year,
            date=planned.date,
            corrects=(
                LedgerTransaction.objects.get(seq=planned.corrects)
                if planned.corrects is not None
                else None
            ),
            note=planned.note,
            previous_hash=head.hash,
            hash=digest,
            rule_version=rules().version,
        )
        by_code = {
            a.code: a for a in Account.objects.filter(code__in={e.account for e in planned.entries})
        }
        LedgerEntry.objects.bulk_create(
            LedgerEntry(
                transaction=tx,
                account=by_code[e.account],
                unit_type=e.unit_type,
                vintage=e.vintage,
                amount=e.amount,
            )
            for e in planned.entries
        )
        ChainHead.objects.filter(pk=1).update(seq=tx.seq, hash=digest)
        record(
            actor=user,
            action=audit_action or f"carbon.ledger.{planned.type}",
            obj=tx,
            after=planned.record(),
        )
    return tx


def record_obligation(
    *,
    account: Account,
    year: int,
    amount: Decimal | int,
    deadline: dt.date | None,
    unit_type: str = "CEA",
    report: Any = None,
    user: Any = None,
) -> ObligationRow:
    probe = core.Ledger(rules(), accounts=[core.Account(account.code, account.kind)])
    checked = probe.record_obligation(
        core.Obligation(account.code, year, Decimal(amount), deadline, unit_type)
    )
    with transaction.atomic():
        if ObligationRow.objects.filter(account=account, year=year, unit_type=unit_type).exists():
            raise core.LedgerRefused(
                f"the {year} {unit_type} obligation of {account.code} is already recorded"
            )
        row = ObligationRow.objects.create(
            account=account,
            year=year,
            unit_type=unit_type,
            amount=checked.amount,
            deadline=deadline,
            report=report,
            recorded_by=actor_name(user),
        )
        record(
            actor=user,
            action="carbon.obligation.record",
            obj=row,
            after={
                "account": account.code,
                "year": year,
                "unit_type": unit_type,
                "amount": core.number(checked.amount),
            },
        )
    return row


# ----------------------------------------------------------------------------- reading


def balances_of(accounts: Iterable[Account]) -> dict[str, dict[str, Decimal]]:
    """{account code: {unit type: amount}} summed over vintages (CEA and CCER always)."""
    accounts = list(accounts)
    out: dict[str, dict[str, Decimal]] = {
        a.code: {u: Decimal(0) for u in rules().balance_unit_types} for a in accounts
    }
    for (code, unit, _v), amount in _balances(accounts).items():
        out[code][unit] = out[code].get(unit, Decimal(0)) + amount
    return out


def holdings_by_vintage(account: Account) -> list[dict[str, Any]]:
    rows = [
        {"unit_type": u, "vintage": v, "amount": amount}
        for (_c, u, v), amount in sorted(
            _balances([account]).items(), key=lambda kv: (kv[0][1], kv[0][2] or 0)
        )
        if amount
    ]
    return rows


def counting_toward(unit_type: str) -> list[str]:
    """The unit types whose surrender counts toward a ``unit_type`` obligation."""
    return [c for c, u in rules().unit_types.items() if u.counts_toward == unit_type]


def surrendered_by(
    year: int, account_ids: Any = None, unit_type: str = "CEA"
) -> dict[int, dict[str, Any]]:
    """Per account id: total and offsets surrendered toward the ``unit_type`` obligation of
    ``year`` (corrections netted), and the dated surrenders for lateness."""
    offsets = set(rules().offset_unit_types)
    zero = Decimal(0)
    out: dict[int, dict[str, Any]] = defaultdict(
        lambda: {"total": zero, "offsets": zero, "dated": []}
    )
    entries = (
        LedgerEntry.objects.filter(
            transaction__type="surrender",
            transaction__year=year,
            transaction__correction__isnull=True,
            unit_type__in=counting_toward(unit_type),
            amount__lt=0,
            **({"account_id__in": account_ids} if account_ids is not None else {}),
        )
        .values("account_id", "unit_type", "amount", "transaction__date")
        .order_by("transaction__seq")
    )
    for e in entries:
        row = out[e["account_id"]]
        row["total"] += -Decimal(e["amount"])
        if e["unit_type"] in offsets:
            row["offsets"] += -Decimal(e["amount"])
        row["dated"].append((e["transaction__date"], -Decimal(e["amount"])))
    return out


def compliance_rows(
    year: int, *, today: dt.date | None = None, entity_ids: Any = None, unit_type: str = "CEA"
) -> list[dict[str, Any]]:
    """One row per obligation of ``year`` (of the accounts of ``entity_ids``, or all): the core's
    status with the account and unit."""
    obligations = ObligationRow.objects.filter(year=year, unit_type=unit_type).select_related(
        "account", "account__entity", "account__entity__division"
    )
    if entity_ids is not None:
        obligations = obligations.filter(account__entity_id__in=list(entity_ids))
    obligations = list(obligations)
    done = surrendered_by(year, [ob.account_id for ob in obligations], unit_type)
    out = []
    for ob in obligations:
        got = done.get(ob.account_id, {"total": Decimal(0), "offsets": Decimal(0), "dated": []})
        row = core.compliance(
            core.Obligation(ob.account.code, year, Decimal(ob.amount), ob.deadline, unit_type),
            surrendered=got["total"],
            offsets_surrendered=got["offsets"],
            dated_surrenders=got["dated"],
            today=today,
        )
        out.append({"obligation_row": ob, "account": ob.account, "row": row})
    return out


def verify() -> dict[str, Any]:
    """Recompute the chain from the stored rows (``dualcontrol ledger verify``)."""
    txs = LedgerTransaction.objects.order_by("seq").prefetch_related("entries__account")
    triples = []
    entries = 0
    last_seq = 0
    last_hash = core.GENESIS_HASH
    corrects = dict(
        LedgerTransaction.objects.filter(corrects__isnull=False).values_list("pk", "corrects__seq")
    )
    for tx in txs.iterator(chunk_size=500):
        legs = [
            core.Entry(e.account.code, e.unit_type, e.vintage, Decimal(e.amount))
            for e in tx.entries.all()
        ]
        entries += len(legs)
        record_ = core.Transaction(
            seq=tx.seq,
            type=tx.type,
            entries=tuple(legs),
            requested_by=tx.requested_by,
            approved_by=tx.approved_by,
            year=tx.year,
            date=tx.date,
            corrects=corrects.get(tx.pk),
            note=tx.note,
        ).record()
        triples.append((record_, tx.previous_hash, tx.hash))
        last_seq, last_hash = tx.seq, tx.hash
    breaks = [{"seq": b.seq, "reason": b.reason} for b in core.verify_chain(triples)]
    head = ChainHead.objects.filter(pk=1).first()
    if head is not None and (head.seq, head.hash) != (last_seq, last_hash):
        breaks.append(
            {
                "seq": head.seq,
                "reason": f"the chain head records #{head.seq} but the last transaction is "
                f"#{last_seq}: transactions were removed or added outside the platform",
            }
        )
    return {
        "transactions": len(triples),
        "entries": entries,
        "head": last_hash if triples else "",
        "intact": not breaks,
        "breaks": breaks,
    }


def account_kinds() -> list[tuple[str, str]]:
    return [(k, str(v)) for k, v in AccountKind.choices]
