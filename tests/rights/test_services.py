"""Use cases of the rights app: issuance, surrender, cancellation, points, the board with its
approvals, and the refusals (budget, region, pollutant, balance, four-eyes)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from dualcontrol.accounts.models import Role
from dualcontrol.audit.models import AuditEntry
from dualcontrol.carbonmarket import ledger
from dualcontrol.reporting.models import EnergyReport
from dualcontrol.rights import services
from tests.rights.helpers import YEAR, balance, rights

pytestmark = pytest.mark.django_db


@pytest.fixture
def r():
    return rights()


def test_initial_rights_land_in_the_units_account_and_are_audited(r):
    assert balance(r.unit, "EUR") == Decimal("5000")
    assert balance(r.unit, "EMR-SO2") == Decimal("100")
    assert balance(r.unit, "GEC") == 1000
    assert balance(r.person, "PHP", None) == 40
    assert AuditEntry.objects.filter(action="rights.eur.right").count() == 2
    assert ledger.verify()["intact"]


def test_energy_budget_refuses_issuance_above_it_at_the_boundary(r):
    admin = r.w.users[Role.PROVINCE_ADMIN]
    # 昆明 budget 10 000; issued 5000 (unit in 昆明) — other unit is in 曲靖 (no budget)
    services.grant_energy_rights(
        entity=r.w.unit, year=YEAR, kind="increment", amount_tce="5000.00", basis="x", user=admin
    )  # exactly at the budget: allowed
    with pytest.raises(ValidationError, match="超出"):
        services.grant_energy_rights(
            entity=r.w.unit, year=YEAR, kind="increment", amount_tce="0.01", basis="x", user=admin
        )


def test_paid_increment_has_no_fee_while_the_price_is_not_configured(r):
    admin = r.w.users[Role.PROVINCE_ADMIN]
    cover = services.cover_project(
        entity=r.w.other_unit,
        project_ref="节能审查〔2025〕9号",
        project_name="新建项目",
        year=YEAR,
        energy_tce="120",
        method="purchase",
        user=admin,
    )
    assert cover.right.kind == "increment" and cover.right.fee_yuan is None
    assert balance(r.other, "EUR") == Decimal("3120")


def test_replacement_needs_enough_own_rights(r):
    ent = r.w.users[Role.ENTERPRISE]
    services.cover_project(
        entity=r.w.unit,
        project_ref="R-1",
        project_name="p",
        year=YEAR,
        energy_tce="5000",
        method="replacement",
        user=ent,
    )
    with pytest.raises(ValidationError, match="不足"):
        services.cover_project(
            entity=r.w.unit,
            project_ref="R-2",
            project_name="p",
            year=YEAR,
            energy_tce="0.01",
            method="replacement",
            user=ent,
        )


def test_certificates_lower_the_accounted_energy_and_the_eur_obligation(r):
    admin = r.w.users[Role.PROVINCE_ADMIN]
    EnergyReport.objects.create(
        entity=r.w.unit, period_type="annual", year=YEAR, status="accepted", energy_tce="4800"
    )
    services.cancel_certificates(
        holder=r.unit, vintage=YEAR, amount_mwh=400, year=YEAR, user=r.w.users[Role.ENTERPRISE]
    )
    figures = services.accounted_energy(r.w.unit, YEAR)
    assert figures["official_tce"] == Decimal("4800")  # the 205-1 figure is kept
    assert figures["adjustment"].deduction_tce == Decimal("49.16")  # 400 MWh × 0.1229
    row = services.record_energy_obligation(entity=r.w.unit, year=YEAR, user=admin)
    assert row.obligation.amount == Decimal("4750.84")
    services.surrender(
        holder=r.unit, unit_type="EUR", vintage=YEAR, year=YEAR, amount="4750.84", user=admin
    )
    assert balance(r.unit, "EUR") == Decimal("249.16")


def test_eur_obligation_needs_a_figure(r):
    with pytest.raises(ValidationError, match="核定用能量"):
        services.record_energy_obligation(entity=r.w.other_unit, year=YEAR)


def test_emission_obligation_from_a_reported_figure_and_surrender(r):
    row = services.record_emission_obligation(
        entity=r.w.unit, unit_type="EMR-SO2", year=YEAR, reported_t="90.1234"
    )
    assert row.obligation.amount == Decimal("90.123")  # 3 decimals, half up
    assert row.source.startswith("报告排放量")
    services.surrender(holder=r.unit, unit_type="EMR-SO2", vintage=YEAR, year=YEAR, amount="90.123")
    with pytest.raises(ValidationError):  # no EMR-NOX obligation
        services.surrender(holder=r.unit, unit_type="EMR-NOX", vintage=YEAR, year=YEAR, amount="1")


def test_permit_must_cover_the_year(r):
    with pytest.raises(ValidationError, match="有效期"):
        services.allocate_emission_rights(permit=r.permit, year=2029)
    with pytest.raises(ValidationError, match="已分配"):
        services.allocate_emission_rights(permit=r.permit, year=YEAR)


def test_a_trade_needs_seller_buyer_and_a_second_person(r):
    ent, ent2 = r.w.users[Role.ENTERPRISE], r.w.users["other_enterprise"]
    admin, officer = r.w.users[Role.PROVINCE_ADMIN], r.w.users[Role.PROVINCE_OFFICER]
    with pytest.raises(PermissionDenied):  # the buyer cannot request for the seller
        services.request_trade(listing=r.offer, counterparty=r.other, quantity="10", user=ent2)
    trade = services.request_trade(listing=r.offer, counterparty=r.other, quantity="200", user=ent)
    with pytest.raises(ValidationError, match="剩余"):
        services.request_trade(listing=r.offer, counterparty=r.other, quantity="0.01", user=ent)
    with pytest.raises(PermissionDenied):
        services.accept_trade(trade=trade, user=ent)
    trade = services.accept_trade(trade=trade, user=ent2)
    assert trade.status == "accepted"  # four_eyes transfer holding>holding: true
    trade = services.decide_trade(trade=trade, approve=True, user=officer, when=dt.date(YEAR, 6, 1))
    assert trade.status == "executed"
    tx = trade.transaction
    assert (tx.requested_by, tx.approved_by) == (ent.username, officer.username)
    assert balance(r.other, "EUR") == Decimal("3200")
    r.offer.refresh_from_db()
    assert r.offer.status == "closed"
    assert admin is not None


def test_emission_rights_trade_only_within_the_region(r):
    ent = r.w.users[Role.ENTERPRISE]
    offer = services.post_listing(
        holder=r.unit,
        side="offer",
        unit_type="EMR-SO2",
        vintage=YEAR,
        quantity="5",
        price_yuan="1000",
        user=ent,
    )
    with pytest.raises(ValidationError, match="同一地区"):  # 昆明 → 曲靖
        services.request_trade(listing=offer, counterparty=r.other, quantity="5", user=ent)


def test_points_are_not_tradable_and_are_redeemed(r):
    admin = r.w.users[Role.PROVINCE_ADMIN]
    with pytest.raises(ValidationError, match="可挂牌"):
        services.post_listing(
            holder=r.person,
            side="offer",
            unit_type="PHP",
            vintage=None,
            quantity="10",
            price_yuan="1",
            user=admin,
        )
    services.redeem(holder=r.person, unit_type="PHP", amount=40, purpose="兑换", user=admin)
    assert balance(r.person, "PHP", None) == 0
    with pytest.raises(ValidationError):
        services.redeem(holder=r.person, unit_type="PHP", amount=1, purpose="兑换", user=admin)


def test_carbon_sink_credits_are_issued_after_verification_and_are_not_offsets(r):
    admin = r.w.users[Role.PROVINCE_ADMIN]
    project = services.register_project(
        holder=r.person, methodology="P-FOREST", name="造林", user=admin
    )
    services.issue_credits(
        project=project, vintage=YEAR, verified_t="300", verifier="核证机构", user=admin
    )
    assert balance(r.person, "CSC") == 300
    with pytest.raises(ValidationError):  # CSC counts toward nothing (carbon_market.yaml)
        services.surrender(
            holder=r.person, unit_type="CSC", vintage=YEAR, year=YEAR, amount=1, user=admin
        )
    with pytest.raises(ValidationError, match="方法学"):
        services.register_project(holder=r.person, methodology="X", name="x", user=admin)


def test_wrong_users_are_refused(r):
    ent2 = r.w.users["other_enterprise"]
    city = r.w.users[Role.CITY_OFFICER]
    with pytest.raises(PermissionDenied):
        services.cancel_certificates(
            holder=r.unit, vintage=YEAR, amount_mwh=1, year=YEAR, user=ent2
        )
    with pytest.raises(PermissionDenied):
        services.grant_energy_rights(
            entity=r.w.unit, year=YEAR, kind="existing", amount_tce="1", basis="x", user=city
        )
