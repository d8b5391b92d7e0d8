"""Issue 22: with a second province in the installation, the ledger page and the pending
approvals show each province's staff only the transactions that touch its own accounts."""

from __future__ import annotations

import pytest
from django.test import Client

from dualcontrol.accounts.models import Role
from dualcontrol.carbonmarket.models import Account, LedgerTransaction
from tests.auth import login
from tests.carbonmarket.helpers import market
from tests.factories import division, user

pytestmark = pytest.mark.django_db


def test_the_ledger_page_shows_each_province_its_own_transactions():
    m = market()
    admin_a = m.w.users[Role.PROVINCE_ADMIN]
    account_a = Account.objects.get(entity=m.w.unit).code
    c = Client()
    login(c, admin_a)
    assert account_a in c.get("/carbon-market/ledger/").content.decode()  # one province: all

    other = division("630000", "乙测试省", "province")
    admin_a.division = m.w.province
    admin_a.save(update_fields=["division"])
    admin_b = user("b_admin", Role.PROVINCE_ADMIN, division=other)
    c_b = Client()
    login(c_b, admin_b)
    page_b = c_b.get("/carbon-market/ledger/").content.decode()
    assert account_a not in page_b
    assert LedgerTransaction.objects.exists()
    c_a = Client()
    login(c_a, admin_a)
    assert account_a in c_a.get("/carbon-market/ledger/").content.decode()


def test_another_province_cannot_decide_a_pending_request():
    """A request waiting for a second officer is decided only by its own province: another
    province's officer gets 404 on the page and the API, and the request stays pending."""
    import json

    from dualcontrol.carbonmarket import services
    from dualcontrol.carbonmarket.models import PendingRequest, PendingStatus
    from tests.auth import api_client

    m = market()
    pending = services.request_transfer(
        from_account=m.account,
        to_account=m.other_account,
        unit_type="CEA",
        vintage=2025,
        amount=1,
        user=m.w.users[Role.ENTERPRISE],
    )
    officer_a = m.w.users[Role.PROVINCE_OFFICER]
    officer_a.division = m.w.province
    officer_a.save(update_fields=["division"])
    other = division("630000", "乙测试省", "province")
    officer_b = user("b_officer", Role.PROVINCE_OFFICER, division=other)
    c_b = Client()
    login(c_b, officer_b)
    page = c_b.post("/carbon-market/ledger/", {"pk": pending.pk, "action": "approve"})
    assert page.status_code == 404
    api = api_client(officer_b).post(
        f"/api/carbon-market/pending/{pending.pk}",
        json.dumps({"approve": True}),
        content_type="application/json",
    )
    assert api.status_code == 404
    assert PendingRequest.objects.get(pk=pending.pk).status == PendingStatus.PENDING
    c_a = Client()
    login(c_a, officer_a)
    assert str(pending.pk) in c_a.get("/carbon-market/ledger/").content.decode()
