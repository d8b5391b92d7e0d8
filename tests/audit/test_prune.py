"""Retention: at least six months (网络安全法 第二十一条（三）), pruning only past it, a checkpoint
from which verify starts, the prune itself audited — through the trigger on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from dualcontrol.audit import chain
from dualcontrol.audit.checks import retention_check
from dualcontrol.audit.models import AuditCheckpoint, AuditEntry
from dualcontrol.audit.policy import MINIMUM_RETENTION_DAYS, retention_days
from dualcontrol.audit.services import PruneRefused, prune
from dualcontrol.cli import main
from tests.audit.helpers import entries, tamper


def _aged(days: int, n: int) -> list[AuditEntry]:
    """``n`` entries stamped ``days`` ago (the chain's clock moved back)."""
    then = timezone.now() - dt.timedelta(days=days)
    with mock.patch.object(chain, "now", return_value=then):
        return entries(n)


def _today() -> dt.date:
    return timezone.localdate()


def test_six_months_is_the_floor_of_the_retention(settings):
    assert MINIMUM_RETENTION_DAYS == 184  # six calendar months span up to 184 days
    assert retention_days() == 365  # audit_policy.yaml
    for bad in (183, 30, 0, "365", 200.5):
        settings.AUDIT_RETENTION_DAYS = bad
        with pytest.raises(ImproperlyConfigured, match="AUDIT_RETENTION_DAYS"):
            retention_days()
        (error,) = retention_check()
        assert error.id == "dualcontrol.audit.E001"
    settings.AUDIT_RETENTION_DAYS = 183
    assert "六个月" in retention_check()[0].msg
    settings.AUDIT_RETENTION_DAYS = 184
    assert retention_days() == 184 and retention_check() == []


@pytest.mark.django_db
def test_a_retention_below_six_months_refuses_to_prune(settings, capsys):
    _aged(400, 2)
    settings.AUDIT_RETENTION_DAYS = 90
    assert (
        main(["audit", "prune", "--before", (_today() - dt.timedelta(days=100)).isoformat()]) == 2
    )
    assert "below the legal minimum" in capsys.readouterr().err
    assert AuditEntry.objects.count() == 2


@pytest.mark.django_db
def test_nothing_inside_the_retention_is_pruned(capsys):
    _aged(400, 2)
    before = AuditEntry.objects.count()
    too_recent = _today() - dt.timedelta(days=364)
    with pytest.raises(PruneRefused, match="inside the retention of 365 days"):
        prune(before=too_recent, actor="tester")
    assert main(["audit", "prune", "--before", too_recent.isoformat()]) == 2
    err = capsys.readouterr().err
    assert (_today() - dt.timedelta(days=365)).isoformat() in err
    assert AuditEntry.objects.count() == before and not AuditCheckpoint.objects.exists()


@pytest.mark.django_db
def test_prune_deletes_the_old_prefix_writes_a_checkpoint_and_verify_starts_there(capsys):
    old = _aged(500, 3)
    kept_old = _aged(200, 2)  # older than six months but inside the 365-day retention
    recent = entries(2)
    cutoff = _today() - dt.timedelta(days=365)
    assert main(["audit", "prune", "--before", cutoff.isoformat(), "--dry-run"]) == 0
    assert "would prune 3 entries" in capsys.readouterr().out
    assert AuditEntry.objects.count() == 7

    assert main(["audit", "prune", "--before", cutoff.isoformat()]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"pruned 3 entries through #{old[-1].pk}")
    assert not AuditEntry.objects.filter(pk__in=[e.pk for e in old]).exists()
    assert AuditEntry.objects.filter(pk__in=[e.pk for e in kept_old + recent]).count() == 4
    cp = AuditCheckpoint.objects.get()
    assert (cp.through_id, cp.last_hash, cp.pruned, cp.retention_days) == (
        old[-1].pk,
        old[-1].entry_hash,
        3,
        365,
    )
    assert cp.actor_name.startswith("cli")
    pruning = AuditEntry.objects.get(action="audit.prune")
    assert pruning.object_id == str(cp.pk) and pruning.after["pruned"] == 3
    assert pruning.after["last_hash"] == old[-1].entry_hash

    state = chain.verify()
    assert state.ok and state.checkpoint == cp
    assert state.first_id == kept_old[0].pk and state.count == 5  # 2 + 2 + the prune entry
    assert main(["audit", "verify", "--no-record"]) == 0
    assert "from the checkpoint of" in capsys.readouterr().out

    # a second prune with nothing old enough left
    assert prune(before=cutoff, actor="tester").pruned == 0
    # deleting the first kept entry is still found, against the checkpoint
    tamper("DELETE FROM audit_auditentry WHERE id = %s", [kept_old[0].pk])
    broken = chain.verify().broken
    assert (broken.kind, broken.entry_id) == ("deleted", kept_old[1].pk)


@pytest.mark.django_db
def test_prune_keeps_a_chain_prefix(capsys):
    """An old entry after a recent one (a clock set back) is kept: the chain is cut only at its start."""
    first = _aged(400, 1)
    entries(1)
    late_old = _aged(400, 1)
    result = prune(before=_today() - dt.timedelta(days=365), actor="tester")
    assert result.pruned == 1 and result.checkpoint.through_id == first[0].pk
    assert AuditEntry.objects.filter(pk=late_old[0].pk).exists()
    assert chain.verify().ok


@pytest.mark.django_db
def test_a_broken_chain_is_not_pruned(capsys):
    old = _aged(400, 3)
    entries(1)
    tamper("UPDATE audit_auditentry SET note = 'x' WHERE id = %s", [old[1].pk])
    with pytest.raises(PruneRefused, match=f"broken at #{old[1].pk}"):
        prune(before=_today() - dt.timedelta(days=365), actor="tester")
    assert AuditEntry.objects.count() == 4 and not AuditCheckpoint.objects.exists()


@pytest.mark.django_db
def test_checkpoints_cannot_be_changed_through_the_orm():
    from dualcontrol.audit.models import AppendOnlyError

    _aged(400, 2)
    entries(1)
    cp = prune(before=_today() - dt.timedelta(days=365), actor="tester").checkpoint
    with pytest.raises(AppendOnlyError):
        cp.save()
    with pytest.raises(AppendOnlyError):
        cp.delete()
