"""The platform's ledger: append-only rows, the hash chain over the stored rows, and
``dualcontrol ledger verify`` catching a change made behind the platform's back (raw SQL)."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from dualcontrol.carbonmarket import ledger
from dualcontrol.carbonmarket.models import (
    AppendOnlyError,
    ChainHead,
    LedgerEntry,
    LedgerTransaction,
)
from dualcontrol.cli import main
from tests.carbonmarket.helpers import market

pytestmark = pytest.mark.django_db(transaction=True)


def test_rows_refuse_edits_and_deletes():
    market()
    tx = LedgerTransaction.objects.first()
    tx.note = "edited"
    with pytest.raises(AppendOnlyError):
        tx.save()
    with pytest.raises(AppendOnlyError):
        tx.delete()
    with pytest.raises(AppendOnlyError):
        LedgerEntry.objects.filter(transaction=tx).update(amount=1)
    with pytest.raises(AppendOnlyError):
        LedgerEntry.objects.all().delete()


def test_the_chain_is_intact_and_every_transaction_balances():
    market()
    report = ledger.verify()
    assert report["intact"], report["breaks"]
    assert report["transactions"] == LedgerTransaction.objects.count() >= 5
    assert report["entries"] == 2 * report["transactions"]
    head = ChainHead.objects.get()
    assert head.hash == LedgerTransaction.objects.order_by("-seq").first().hash


def _run(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


def test_verify_detects_an_amount_changed_in_the_database(capsys):
    market()
    code, out = _run(capsys, "ledger", "verify")
    assert code == 0, out
    assert "intact" in out
    victim = LedgerEntry.objects.filter(amount__gt=0, transaction__type="allocate").first()
    with connection.cursor() as c:
        c.execute(
            "UPDATE carbonmarket_ledgerentry SET amount = amount + 1000 WHERE id = %s",
            [victim.pk],
        )
    code, out = _run(capsys, "ledger", "verify", "--format", "json")
    assert code == 1
    report = json.loads(out)
    assert not report["intact"]
    reasons = {b["reason"] for b in report["breaks"] if b["seq"] == victim.transaction.seq}
    assert "its content does not match its hash" in reasons
    assert "its entries do not sum to zero" in reasons


def test_verify_detects_a_removed_last_transaction(capsys):
    market()
    last = LedgerTransaction.objects.order_by("-seq").first()
    with connection.cursor() as c:
        c.execute("DELETE FROM carbonmarket_ledgerentry WHERE transaction_id = %s", [last.pk])
        c.execute("DELETE FROM carbonmarket_ledgertransaction WHERE id = %s", [last.pk])
    code, out = _run(capsys, "ledger", "verify")
    assert code == 1
    assert f"BROKEN seq {last.seq}" in out
    assert "removed or added outside the platform" in out
