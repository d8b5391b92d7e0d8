"""Issue 21 "Done when": in the demo a unit buys energy-use rights to cover a new project, a smelter
surrenders emission rights, a consumer cancels certificates that lower its accounted energy,
citizens earn and redeem carbon-inclusive points, and the ledger verifies intact."""

from __future__ import annotations

import datetime as dt

import pytest

from dualcontrol.carbonmarket import ledger
from dualcontrol.carbonmarket.models import LedgerEntry
from dualcontrol.rights import services
from dualcontrol.rights.models import (
    Behaviour,
    CertificateCancellation,
    CreditProject,
    HolderKind,
    ProjectCover,
    Redemption,
    RightsObligation,
    Trade,
)

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 21)


@pytest.fixture
def demo(db):
    from dualcontrol.demo.builder import build

    build(TODAY, units=40, months_limit=3)


def test_the_demo_covers_every_kind_of_right_and_the_ledger_verifies(demo):
    year = TODAY.year - 1
    covers = ProjectCover.objects.filter(year=year)
    assert set(covers.values_list("method", flat=True)) == {"purchase", "trade"}
    assert Trade.objects.filter(status="executed", unit_type="EUR").count() == 1
    smelter_surrenders = LedgerEntry.objects.filter(
        transaction__type="surrender",
        unit_type__in=("EMR-SO2", "EMR-NOX"),
        amount__lt=0,
        account__rights_holder__entity__industry__code__startswith="32",
    )
    assert {e.unit_type for e in smelter_surrenders} == {"EMR-SO2", "EMR-NOX"}
    cancellation = CertificateCancellation.objects.get(year=year)
    obligation = RightsObligation.objects.get(obligation__unit_type="EUR")
    assert obligation.holder_id == cancellation.holder_id
    official = obligation.figures["official_tce"]
    assert obligation.obligation.amount < type(obligation.obligation.amount)(official)
    assert float(obligation.figures["deduction_tce"]) > 0
    assert Behaviour.objects.filter(holder__kind=HolderKind.PERSON).count() == 15
    assert Redemption.objects.filter(unit_type="PHP").count() == 2
    assert CreditProject.objects.filter(status="issued").count() == 1
    assert ledger.verify()["intact"]
    adjusted = services.accounted_energy(cancellation.holder.entity, year)
    assert adjusted["certificates_mwh"] == cancellation.amount_mwh
