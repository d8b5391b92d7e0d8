"""The holdings ledger: double-entry, append-only, hash-chained; surrender and compliance rules.

Rules: 国务院令第775号 第三十条 (1 allowance = 1 tCO2e; 清缴 = verified emissions);
生态环境部令第19号 第二十八条 (清缴量 ≥ emissions), 第二十九条 (CCER “不得超过应清缴碳排放配额的5%”);
2023、2024年度发电行业配额分配方案 (no borrowing of later vintages); four-eyes: platform rule anchored
on the UK ETS registry (``carbon_market.yaml``).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dualcontrol.core.ledger import (
    GENESIS_HASH,
    Ledger,
    LedgerRefused,
    Obligation,
    Request,
    chain_hash,
    compliance,
    conserved,
    offset_cap,
    verify_chain,
)
from dualcontrol.core.ledger_replay import replay
from dualcontrol.reference.carbon_market import market_rules

RULES = market_rules().ledger


def ledger_with(*holdings: str) -> Ledger:
    led = Ledger(RULES)
    led.open("GOV", "government")
    for code in holdings:
        led.open(code, "holding")
    led.apply(Request("issue", to_account="GOV", unit_type="CEA", vintage=2025, amount=10_000))
    led.apply(Request("issue", to_account="GOV", unit_type="CCER", vintage=2025, amount=1_000))
    return led


def allocate(led: Ledger, to: str, amount: int, unit: str = "CEA", vintage: int = 2025) -> None:
    led.apply(
        Request(
            "allocate",
            from_account="GOV",
            to_account=to,
            unit_type=unit,
            vintage=vintage,
            amount=amount,
            requested_by="p1",
        )
    )


def test_rules_come_from_the_reference_file():
    rules = market_rules()
    assert rules.ledger.offset_cap_frac == Decimal("0.05")
    assert rules.inclusion_threshold_co2e_t == Decimal(26000)
    assert set(rules.ledger.unit_types) == {
        "CEA",
        "CCER",
        "EUR",
        "EMR-COD",
        "EMR-NH3N",
        "EMR-SO2",
        "EMR-NOX",
        "GEC",
        "CSC",
        "PHP",
    }
    assert rules.ledger.version.startswith("carbon_market.yaml@")
    assert rules.deadlines(2025).surrender == dt.date(2026, 12, 31)
    assert rules.deadlines(2025).report == dt.date(2026, 3, 31)
    # a year the calendar does not list: only the 办法's report date, no invented surrender date
    assert rules.deadlines(2030).report == dt.date(2031, 3, 31)
    assert rules.deadlines(2030).surrender is None


def test_issue_allocate_transfer_are_double_entry_and_balances_derive_from_entries():
    led = ledger_with("A", "B")
    allocate(led, "A", 600)
    tx = led.apply(
        Request(
            "transfer",
            from_account="A",
            to_account="B",
            unit_type="CEA",
            vintage=2025,
            amount=100,
            requested_by="a1",
            approved_by="a2",
        )
    )
    assert conserved(tx)
    assert led.balance("A", "CEA") == 500
    assert led.balance("B", "CEA") == 100
    assert led.balance("GOV", "CEA") == 9_400
    assert led.balance("#ISSUANCE", "CEA") == -10_000
    assert sum(v for (_a, u, _v), v in led.balances.items() if u == "CEA") == 0


@pytest.mark.parametrize(
    ("requested_by", "approved_by", "reason"),
    [
        ("a1", "", "second person"),
        ("a1", "a1", "someone other than its requester"),
        ("", "a2", "requester"),
    ],
)
def test_a_transfer_between_holding_accounts_needs_a_second_person(
    requested_by, approved_by, reason
):
    led = ledger_with("A", "B")
    allocate(led, "A", 600)
    before = dict(led.balances)
    with pytest.raises(LedgerRefused, match=reason):
        led.apply(
            Request(
                "transfer",
                from_account="A",
                to_account="B",
                unit_type="CEA",
                vintage=2025,
                amount=10,
                requested_by=requested_by,
                approved_by=approved_by,
            )
        )
    assert dict(led.balances) == before


def test_allocation_needs_no_second_person_but_goes_government_to_holding_only():
    led = ledger_with("A", "B")
    allocate(led, "A", 1)
    with pytest.raises(LedgerRefused, match="government account to a holding"):
        led.apply(
            Request(
                "allocate",
                from_account="A",
                to_account="B",
                unit_type="CEA",
                vintage=2025,
                amount=1,
            )
        )
    with pytest.raises(LedgerRefused, match="issued into a government account"):
        led.apply(Request("issue", to_account="A", unit_type="CEA", vintage=2025, amount=1))


def test_no_balance_goes_negative_and_vintages_are_separate():
    led = ledger_with("A", "B")
    allocate(led, "A", 100)
    with pytest.raises(LedgerRefused, match="holds 100 CEA of vintage 2025, less than 101"):
        led.apply(
            Request(
                "transfer",
                from_account="A",
                to_account="B",
                unit_type="CEA",
                vintage=2025,
                amount=101,
                requested_by="x",
                approved_by="y",
            )
        )
    with pytest.raises(LedgerRefused, match="holds 0 CEA of vintage 2024"):
        led.apply(
            Request(
                "transfer",
                from_account="A",
                to_account="B",
                unit_type="CEA",
                vintage=2024,
                amount=1,
                requested_by="x",
                approved_by="y",
            )
        )


@pytest.mark.parametrize("amount", [0, -5, 1.5, "10", True])
def test_amounts_are_positive_whole_units(amount):
    led = ledger_with("A")
    with pytest.raises(LedgerRefused, match="amount"):
        led.apply(Request("issue", to_account="GOV", unit_type="CEA", vintage=2025, amount=amount))


def test_unknown_accounts_types_and_vintages_are_refused():
    led = ledger_with("A")
    with pytest.raises(LedgerRefused, match="not open"):
        allocate(led, "Z", 1)
    with pytest.raises(LedgerRefused, match="unknown unit type"):
        allocate(led, "A", 1, unit="XYZ")
    with pytest.raises(LedgerRefused, match="vintage"):
        led.apply(Request("issue", to_account="GOV", unit_type="CEA", amount=1))
    with pytest.raises(LedgerRefused, match="already open"):
        led.open("A", "holding")
    with pytest.raises(LedgerRefused, match="cannot be opened"):
        led.open("S", "surrender")


def surrender(led: Ledger, unit: str, amount: int, vintage: int = 2025, year: int = 2025, **kw):
    return led.apply(
        Request(
            "surrender",
            from_account="A",
            unit_type=unit,
            vintage=vintage,
            amount=amount,
            year=year,
            **kw,
        )
    )


def test_ccer_cap_is_five_percent_of_the_obligation_equal_allowed():
    # 550 × 5 % = 27.5 → at most 27 whole units; 27 is allowed (“不得超过”), 28 is not
    assert offset_cap(550, Decimal("0.05")) == 27
    assert offset_cap(1000, Decimal("0.05")) == 50
    led = ledger_with("A")
    allocate(led, "A", 600)
    allocate(led, "A", 100, unit="CCER")
    led.record_obligation(Obligation("A", 2025, 550))
    with pytest.raises(LedgerRefused, match="over the cap: 0 \\+ 28 > 27"):
        surrender(led, "CCER", 28)
    surrender(led, "CCER", 20)
    with pytest.raises(LedgerRefused, match="over the cap: 20 \\+ 8 > 27"):
        surrender(led, "CCER", 8)
    surrender(led, "CCER", 7)  # exactly at the cap
    surrender(led, "CEA", 523)
    row = led.compliance("A", 2025)
    assert row is not None
    assert (row.obligation, row.surrendered, row.offsets_surrendered, row.shortfall) == (
        550,
        550,
        27,
        0,
    )
    assert row.status == "compliant"


def test_surrender_needs_an_obligation_and_no_later_vintage():
    led = ledger_with("A")
    allocate(led, "A", 600)
    with pytest.raises(LedgerRefused, match="no CEA obligation of A for 2025"):
        surrender(led, "CEA", 1)
    led.record_obligation(Obligation("A", 2024, 100))
    with pytest.raises(LedgerRefused, match="vintage 2025 cannot be surrendered for 2024"):
        surrender(led, "CEA", 100, vintage=2025, year=2024)
    with pytest.raises(LedgerRefused, match="already recorded"):
        led.record_obligation(Obligation("A", 2024, 120))


def test_compliance_statuses_at_the_deadline():
    deadline = dt.date(2026, 12, 31)
    ob = Obligation("A", 2025, 100, deadline)
    on_time = compliance(ob, surrendered=100, dated_surrenders=[(deadline, 100)])
    assert on_time.status == "compliant"
    assert on_time.completed_on == deadline
    late = compliance(
        ob,
        surrendered=100,
        dated_surrenders=[(dt.date(2026, 12, 1), 60), (dt.date(2027, 1, 1), 40)],
    )
    assert late.status == "late"
    assert late.completed_on == dt.date(2027, 1, 1)
    still_open = compliance(ob, surrendered=60, today=deadline)
    assert (still_open.status, still_open.shortfall) == ("open", 40)
    short = compliance(ob, surrendered=60, today=deadline + dt.timedelta(days=1))
    assert (short.status, short.shortfall) == ("short", 40)
    assert compliance(ob, surrendered=60).status == "short"
    over = compliance(ob, surrendered=130)  # 清缴量 ≥ emissions: more is allowed
    assert (over.status, over.shortfall) == ("compliant", 0)


def test_a_correction_reverses_and_is_never_corrected_twice():
    led = ledger_with("A", "B")
    tx = led.apply(
        Request(
            "allocate",
            from_account="GOV",
            to_account="A",
            unit_type="CEA",
            vintage=2025,
            amount=300,
            requested_by="p1",
        )
    )
    with pytest.raises(LedgerRefused, match="someone other"):
        led.apply(Request("correct", corrects=tx.seq, requested_by="p1", approved_by="p1"))
    fix = led.apply(Request("correct", corrects=tx.seq, requested_by="p1", approved_by="p2"))
    assert conserved(fix)
    assert fix.corrects == tx.seq
    assert led.balance("A", "CEA") == 0
    assert led.balance("GOV", "CEA") == 10_000
    with pytest.raises(LedgerRefused, match="already corrected"):
        led.apply(Request("correct", corrects=tx.seq, requested_by="p1", approved_by="p2"))
    with pytest.raises(LedgerRefused, match="not corrected"):
        led.apply(Request("correct", corrects=fix.seq, requested_by="p1", approved_by="p2"))


def test_correcting_a_surrender_takes_it_off_the_compliance_total():
    led = ledger_with("A")
    allocate(led, "A", 600)
    led.record_obligation(Obligation("A", 2025, 500))
    tx = surrender(led, "CEA", 500)
    assert led.compliance("A", 2025).status == "compliant"
    led.apply(Request("correct", corrects=tx.seq, requested_by="p1", approved_by="p2"))
    row = led.compliance("A", 2025)
    assert (row.surrendered, row.shortfall, row.status) == (0, 500, "short")
    assert led.balance("A", "CEA") == 600


def test_a_correction_cannot_drive_a_balance_negative():
    led = ledger_with("A", "B")
    tx = led.apply(
        Request(
            "allocate",
            from_account="GOV",
            to_account="A",
            unit_type="CEA",
            vintage=2025,
            amount=300,
            requested_by="p1",
        )
    )
    led.apply(
        Request(
            "transfer",
            from_account="A",
            to_account="B",
            unit_type="CEA",
            vintage=2025,
            amount=300,
            requested_by="a1",
            approved_by="a2",
        )
    )
    with pytest.raises(LedgerRefused, match="less than the 300 to reverse"):
        led.apply(Request("correct", corrects=tx.seq, requested_by="p1", approved_by="p2"))


# ---------------------------------------------------------------------------- hash chain


def chained(led: Ledger):
    previous = GENESIS_HASH
    out = []
    for seq in sorted(led.transactions):
        record = led.transactions[seq].record()
        digest = chain_hash(previous, record)
        out.append((record, previous, digest))
        previous = digest
    return out


def test_the_chain_detects_a_changed_amount_a_removed_record_and_a_rehash():
    led = ledger_with("A", "B")
    allocate(led, "A", 600)
    allocate(led, "B", 400)
    records = chained(led)
    assert verify_chain(records) == []
    # an amount changed behind the ledger's back
    tampered = [(dict(r), p, h) for r, p, h in records]
    tampered[2][0]["entries"] = [
        [a, u, v, (-601 if x < 0 else 601)] for a, u, v, x in tampered[2][0]["entries"]
    ]
    breaks = verify_chain(tampered)
    assert [b.seq for b in breaks] == [3]
    assert "content does not match its hash" in breaks[0].reason
    # one leg changed: the double entry is broken too
    one_leg = [(dict(r), p, h) for r, p, h in records]
    e = one_leg[3][0]["entries"]
    one_leg[3][0]["entries"] = [e[0], [e[1][0], e[1][1], e[1][2], e[1][3] + 5]]
    assert {b.reason for b in verify_chain(one_leg)} >= {"its entries do not sum to zero"}
    # a record removed
    assert any("sequence" in b.reason for b in verify_chain(records[:1] + records[2:]))
    # a record changed and re-hashed: the next record's previous hash no longer matches
    rehashed = [(dict(r), p, h) for r, p, h in records]
    rehashed[1][0]["note"] = "x"
    rehashed[1] = (rehashed[1][0], rehashed[1][1], chain_hash(rehashed[1][1], rehashed[1][0]))
    assert [b.seq for b in verify_chain(rehashed)] == [3]


# ---------------------------------------------------------------------------- replay


def lines(*objs) -> list[str]:
    return [json.dumps(o) for o in objs]


def test_replay_prints_statuses_balances_and_compliance():
    out = replay(
        lines(
            {"type": "open", "account": "GOV", "kind": "government"},
            {"type": "open", "account": "A", "kind": "holding"},
            {"type": "issue", "to": "GOV", "unit_type": "CEA", "vintage": 2025, "amount": 1000},
            {
                "type": "allocate",
                "from": "GOV",
                "to": "A",
                "unit_type": "CEA",
                "vintage": 2025,
                "amount": 600,
                "requested_by": "u1",
                "approved_by": "u2",
            },
            {"type": "obligation", "account": "A", "year": 2025, "amount": 550},
            {
                "type": "surrender",
                "from": "A",
                "year": 2025,
                "unit_type": "CEA",
                "vintage": 2025,
                "amount": 500,
            },
            {
                "type": "surrender",
                "from": "A",
                "year": 2025,
                "unit_type": "CCER",
                "vintage": 2025,
                "amount": 1,
            },
        ),
        RULES,
    )
    assert [t["status"] for t in out["transactions"]] == ["applied"] * 6 + ["refused"]
    assert out["transactions"][0] == {"line": 1, "status": "applied", "reason": None}
    assert out["balances"] == {"GOV": {"CEA": 400, "CCER": 0}, "A": {"CEA": 100, "CCER": 0}}
    assert out["compliance"] == {
        "A": {"2025": {"obligation": 550, "surrendered": 500, "shortfall": 50, "status": "short"}}
    }


def test_replay_refuses_bad_lines_whole_and_keeps_line_numbers():
    out = replay(
        [
            '{"type": "open", "account": "A", "kind": "holding"}',
            "",
            "{broken",
            '["a list"]',
            '{"type": "mint", "amount": 1}',
            '{"type": "open", "account": "B", "kind": "holding", "colour": "red"}',
            '{"type": "issue", "to": "A", "unit_type": "CEA", "vintage": 2025, "amount": 5}',
            '{"type": "correct", "line": 7}',
        ],
        RULES,
    )
    assert [(t["line"], t["status"]) for t in out["transactions"]] == [
        (1, "applied"),
        (3, "refused"),
        (4, "refused"),
        (5, "refused"),
        (6, "refused"),
        (7, "refused"),
        (8, "refused"),
    ]
    assert "unknown field(s): colour" in out["transactions"][4]["reason"]
    assert out["balances"] == {"A": {"CEA": 0, "CCER": 0}}


def test_replay_dates_make_a_late_surrender_late():
    out = replay(
        lines(
            {"type": "open", "account": "GOV", "kind": "government"},
            {"type": "open", "account": "A", "kind": "holding"},
            {"type": "issue", "to": "GOV", "unit_type": "CEA", "vintage": 2025, "amount": 100},
            {
                "type": "allocate",
                "from": "GOV",
                "to": "A",
                "unit_type": "CEA",
                "vintage": 2025,
                "amount": 100,
            },
            {"type": "obligation", "account": "A", "year": 2025, "amount": 100},
            {
                "type": "surrender",
                "from": "A",
                "year": 2025,
                "unit_type": "CEA",
                "vintage": 2025,
                "amount": 100,
                "date": "2027-01-04",
            },
        ),
        RULES,
        deadlines=market_rules().surrender_deadlines(),
    )
    assert out["compliance"]["A"]["2025"]["status"] == "late"


# ---------------------------------------------------------------------------- properties

ACCOUNTS = ["GOV", "G2", "A", "B", "C"]
request_strategy = st.builds(
    Request,
    type=st.sampled_from(["issue", "allocate", "transfer", "surrender", "cancel", "correct"]),
    from_account=st.sampled_from([*ACCOUNTS, "", "Z"]),
    to_account=st.sampled_from([*ACCOUNTS, "", "Z"]),
    unit_type=st.sampled_from(["CEA", "CCER", "X"]),
    vintage=st.sampled_from([2024, 2025, 2026, None]),
    amount=st.integers(min_value=-5, max_value=400),
    requested_by=st.sampled_from(["", "u1", "u2"]),
    approved_by=st.sampled_from(["", "u1", "u2"]),
    year=st.sampled_from([2024, 2025, None]),
    corrects=st.one_of(st.none(), st.integers(min_value=1, max_value=30)),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(request_strategy, max_size=40))
def test_no_sequence_breaks_conservation_or_drives_a_holding_negative(requests):
    led = Ledger(RULES)
    led.open("GOV", "government")
    led.open("G2", "government")
    for code in ("A", "B", "C"):
        led.open(code, "holding")
    led.record_obligation(Obligation("A", 2025, 300))
    led.record_obligation(Obligation("B", 2024, 100))
    entries = []
    for req in requests:
        before = (dict(led.balances), {k: list(v) for k, v in led.surrenders.items()})
        try:
            tx = led.apply(req)
        except LedgerRefused:
            after = (dict(led.balances), {k: list(v) for k, v in led.surrenders.items()})
            assert after == before  # a refused request changes nothing
            continue
        assert conserved(tx)
        entries.extend(tx.entries)
    # balances are the sums of the entries; every unit type and vintage sums to zero
    derived: dict = {}
    for e in entries:
        derived[(e.account, e.unit_type, e.vintage)] = (
            derived.get((e.account, e.unit_type, e.vintage), 0) + e.amount
        )
    assert {k: v for k, v in led.balances.items() if v} == {k: v for k, v in derived.items() if v}
    for (account, _u, _v), amount in led.balances.items():
        if account != "#ISSUANCE":
            assert amount >= 0, account
    for year, account in ((2025, "A"), (2024, "B")):
        row = led.compliance(account, year)
        assert row is not None
        assert row.offsets_surrendered <= offset_cap(row.obligation, RULES.offset_cap_frac)
        assert row.shortfall == max(0, row.obligation - row.surrendered)
    assert verify_chain(chained(led)) == []


# ---------------------------------------------------------------------------- other holdings (issue 21)


def rights_ledger() -> Ledger:
    led = Ledger(RULES)
    led.open("GOV", "government")
    led.open("U", "holding")
    for unit, amount in (
        ("EUR", Decimal("1000.50")),
        ("EMR-COD", Decimal("12.345")),
        ("GEC", 500),
        ("PHP", 300),
    ):
        led.apply(
            Request(
                "issue",
                to_account="GOV",
                unit_type=unit,
                vintage=None if unit == "PHP" else 2025,
                amount=amount,
            )
        )
    return led


def test_energy_use_rights_are_tce_to_the_hundredth_and_surrender_against_their_own_obligation():
    led = rights_ledger()
    led.apply(
        Request(
            "allocate",
            from_account="GOV",
            to_account="U",
            unit_type="EUR",
            vintage=2025,
            amount=Decimal("800.25"),
        )
    )
    with pytest.raises(LedgerRefused, match="at most 2 decimals"):
        led.apply(
            Request(
                "allocate",
                from_account="GOV",
                to_account="U",
                unit_type="EUR",
                vintage=2025,
                amount=Decimal("0.001"),
            )
        )
    led.record_obligation(Obligation("U", 2025, Decimal("799.99"), unit_type="EUR"))
    with pytest.raises(LedgerRefused, match="no EUR obligation"):
        led.apply(
            Request(
                "surrender", from_account="U", unit_type="EUR", vintage=2025, amount=1, year=2024
            )
        )
    led.apply(
        Request(
            "surrender",
            from_account="U",
            unit_type="EUR",
            vintage=2025,
            amount=Decimal("799.99"),
            year=2025,
        )
    )
    row = led.compliance("U", 2025, "EUR")
    assert (row.obligation, row.surrendered, row.shortfall, row.status) == (
        Decimal("799.99"),
        Decimal("799.99"),
        0,
        "compliant",
    )
    assert led.compliance("U", 2025) is None  # no CEA obligation
    assert led.balance("U", "EUR") == Decimal("0.26")


def test_emission_rights_to_the_kilogram_and_certificates_are_cancelled_not_surrendered():
    led = rights_ledger()
    led.apply(
        Request(
            "allocate",
            from_account="GOV",
            to_account="U",
            unit_type="EMR-COD",
            vintage=2025,
            amount=Decimal("12.345"),
        )
    )
    led.record_obligation(Obligation("U", 2025, Decimal("12.3"), unit_type="EMR-COD"))
    led.apply(
        Request(
            "surrender",
            from_account="U",
            unit_type="EMR-COD",
            vintage=2025,
            amount=Decimal("12.3"),
            year=2025,
        )
    )
    led.apply(
        Request(
            "allocate",
            from_account="GOV",
            to_account="U",
            unit_type="GEC",
            vintage=2025,
            amount=500,
        )
    )
    with pytest.raises(LedgerRefused, match="cannot be surrendered"):
        led.apply(
            Request(
                "surrender", from_account="U", unit_type="GEC", vintage=2025, amount=1, year=2025
            )
        )
    with pytest.raises(LedgerRefused, match="whole number of GEC"):
        led.apply(
            Request(
                "cancel", from_account="U", unit_type="GEC", vintage=2025, amount=Decimal("1.5")
            )
        )
    led.apply(Request("cancel", from_account="U", unit_type="GEC", vintage=2025, amount=200))
    assert led.balance("#CANCELLATION", "GEC") == 200
    with pytest.raises(LedgerRefused, match="no obligation is kept in GEC"):
        led.record_obligation(Obligation("U", 2025, Decimal(1), unit_type="GEC"))


def test_replay_names_the_obligation_unit_type_and_prints_decimals():
    out = replay(
        lines(
            {"type": "open", "account": "GOV", "kind": "government"},
            {"type": "open", "account": "A", "kind": "holding"},
            {"type": "issue", "to": "GOV", "unit_type": "EUR", "vintage": 2025, "amount": 100.5},
            {
                "type": "allocate",
                "from": "GOV",
                "to": "A",
                "unit_type": "EUR",
                "vintage": 2025,
                "amount": 100.5,
            },
            {
                "type": "obligation",
                "account": "A",
                "year": 2025,
                "unit_type": "EUR",
                "amount": 120.25,
            },
            {
                "type": "surrender",
                "from": "A",
                "year": 2025,
                "unit_type": "EUR",
                "vintage": 2025,
                "amount": 100.5,
            },
            {"type": "issue", "to": "GOV", "unit_type": "PHP", "amount": 10},
        ),
        RULES,
    )
    assert [t["status"] for t in out["transactions"]] == ["applied"] * 7
    assert out["balances"]["GOV"] == {"CEA": 0, "CCER": 0, "EUR": 0, "PHP": 10}
    assert out["compliance"] == {
        "A": {
            "2025:EUR": {
                "obligation": 120.25,
                "surrendered": 100.5,
                "shortfall": 19.75,
                "status": "short",
                "unit_type": "EUR",
            }
        }
    }
