"""The mail outbox: written in the caller's transaction, sent by the worker, retried with
back-off while the mail server is down, given up after the last attempt, never sent twice."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from dualcontrol.accounts.models import Role
from dualcontrol.audit.models import AuditEntry
from dualcontrol.jobs import services
from dualcontrol.jobs.models import OutboxMessage, OutboxStatus
from dualcontrol.jobs.policy import OutboxPolicy, jobs_policy, parse_policy
from dualcontrol.jobs.signals import message_sent
from dualcontrol.reference import ReferenceDataError, load_yaml

pytestmark = pytest.mark.django_db

# the runs below happen "an hour from now": every message written by a test is due by then
T0 = timezone.now().replace(microsecond=0) + dt.timedelta(hours=1)
CALLED: list[int] = []


def remember(message):  # an ``on_sent`` callback (the outbox imports it by its dotted path)
    CALLED.append(message.pk)


def enqueue(n=1, **extra):
    return [
        services.enqueue_mail(
            to=[f"officer{i}@example.gov.cn"], subject=f"预警 {i}", body=f"第 {i} 封", **extra
        )
        for i in range(n)
    ]


def at(seconds):
    return T0 + dt.timedelta(seconds=seconds)


def test_enqueue_writes_the_outbox_and_sends_nothing(settings):
    settings.EMAIL_BACKEND = "tests.jobs.backends.Tripwire"
    (m,) = enqueue(origin="targets.alert:7")
    m.refresh_from_db()
    assert (m.status, m.attempts, m.to, m.origin) == (
        "pending",
        0,
        ["officer0@example.gov.cn"],
        "targets.alert:7",
    )
    assert m.next_attempt_at is not None and m.sent_at is None and m.last_error == ""


def test_a_rolled_back_request_sends_nothing():
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue(2)
        raise RuntimeError("the request failed after writing its mails")
    assert OutboxMessage.objects.count() == 0


def test_bad_input_lists_every_problem_and_writes_nothing():
    with pytest.raises(ValidationError) as exc:
        services.enqueue_mail(
            to=["not-an-address", "ok@example.org", "also bad"],
            subject="  \n ",
            body="x",
            on_sent="os.system",
        )
    text = " | ".join(exc.value.messages)
    assert "not-an-address" in text and "also bad" in text
    assert "主题" in text and "os.system" in text
    assert OutboxMessage.objects.count() == 0
    with pytest.raises(ValidationError):
        services.enqueue_mail(to=[], subject="s", body="b")


def test_subject_is_one_header_line():
    m = services.enqueue_mail(to="a@example.org", subject="第一行\r\n第二行", body="b")
    assert m.subject == "第一行 第二行"


def test_server_down_records_the_error_and_backs_off(smtp_down):
    first, second = enqueue(2)
    s = services.deliver_due(now=at(0))
    assert (s.sent, s.failed, s.dead) == (0, 2, 0)
    assert "ConnectionRefusedError" in s.server_error
    for m in (first, second):
        m.refresh_from_db()
        assert m.status == OutboxStatus.RETRYING and m.attempts == 1
        assert "ConnectionRefusedError" in m.last_error
        assert m.next_attempt_at == at(60)  # base_seconds of jobs_policy.yaml
        assert m.claimed_until is None
    # not due before its time
    assert services.deliver_due(now=at(59)).messages == []
    # the second failure waits twice as long
    services.deliver_due(now=at(60))
    first.refresh_from_db()
    assert first.attempts == 2 and first.next_attempt_at == at(60 + 120)


def test_back_off_is_exponential_capped_and_ends_dead(smtp_down):
    policy = OutboxPolicy(
        base_seconds=10,
        factor=3,
        cap_seconds=50,
        max_attempts=4,
        claim_seconds=30,
        batch=10,
        source="t",
    )
    (m,) = enqueue(origin="targets.alert:1")
    now, waits = at(0), []
    for _ in range(3):
        services.deliver_due(now=now, policy=policy)
        m.refresh_from_db()
        waits.append((m.next_attempt_at - now).total_seconds())
        now = m.next_attempt_at
    assert waits == [10, 30, 50]  # 10 × 3^(n−1), capped at 50
    s = services.deliver_due(now=now, policy=policy)
    m.refresh_from_db()
    assert (s.dead, m.status, m.attempts, m.next_attempt_at) == (1, "dead", 4, None)
    entry = AuditEntry.objects.get(action="outbox.dead")
    assert entry.object_id == str(m.pk) and entry.after["attempts"] == 4
    # dead messages are never tried again by the runs
    assert services.deliver_due(now=now + dt.timedelta(days=1), policy=policy).messages == []


def test_when_the_server_is_back_the_mails_go_out(smtp_down, settings, monkeypatch):
    CALLED.clear()
    # a callback inside the platform's package (the only ones the outbox accepts)
    monkeypatch.setattr("dualcontrol.jobs.signals.remember", remember, raising=False)
    heard = []

    def listener(sender, message, **kwargs):
        heard.append(message.pk)

    message_sent.connect(listener)
    try:
        a, b = enqueue(2, on_sent="dualcontrol.jobs.signals.remember")
        services.deliver_due(now=at(0))
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        mail.outbox = []
        assert services.deliver_due(now=at(30)).sent == 0  # still waiting for its back-off
        s = services.deliver_due(now=at(60))
    finally:
        message_sent.disconnect(listener)
    assert s.sent == 2 and s.failed == 0
    assert sorted(m.subject for m in mail.outbox) == ["预警 0", "预警 1"]
    assert mail.outbox[0].from_email == settings.DEFAULT_FROM_EMAIL
    for m in (a, b):
        m.refresh_from_db()
        assert (m.status, m.sent_at, m.attempts) == ("sent", at(60), 2)
    assert sorted(CALLED) == sorted(heard) == sorted([a.pk, b.pk])
    assert services.deliver_due(now=at(3600)).sent == 0  # sent once


def test_a_failing_callback_does_not_unsend(smtp_up):
    (m,) = enqueue(on_sent="dualcontrol.jobs.no_such_module.callback")
    assert services.deliver_due(now=at(0)).sent == 1
    m.refresh_from_db()
    assert m.status == "sent" and len(smtp_up) == 1
    assert services.deliver_due(now=at(60)).sent == 0


def test_a_claimed_message_is_skipped_until_the_claim_expires():
    policy = jobs_policy().outbox
    a, b = enqueue(2)
    first = services.claim_next(now=at(0), claimer="worker-a", policy=policy)
    second = services.claim_next(now=at(0), claimer="worker-b", policy=policy)
    assert {first.pk, second.pk} == {a.pk, b.pk}
    assert services.claim_next(now=at(1), claimer="worker-c", policy=policy) is None
    # worker A crashed: after claim_seconds its message is free again
    later = at(policy.claim_seconds + 1)
    again = services.claim_next(now=later, claimer="worker-c", policy=policy)
    assert again is not None and again.claimed_by == "worker-c"


def test_a_second_worker_during_a_send_never_sends_the_same_message(settings):
    from tests.jobs.backends import SecondWorkerDuringSend

    SecondWorkerDuringSend.nested = []
    settings.EMAIL_BACKEND = "tests.jobs.backends.SecondWorkerDuringSend"
    mail.outbox = []
    enqueue(3)
    outer = services.deliver_due()
    inner = SecondWorkerDuringSend.nested[0]
    assert outer.sent + inner.sent == 3
    assert not set(outer.messages) & set(inner.messages)
    assert Counter(m.subject for m in mail.outbox) == {"预警 0": 1, "预警 1": 1, "预警 2": 1}


def test_sqlite_claim_is_compare_and_set(monkeypatch):
    """A rival claims the row between our read and our UPDATE: our UPDATE changes nothing and we
    take the next message."""
    if connection.features.has_select_for_update_skip_locked:
        pytest.skip("PostgreSQL claims with SELECT … FOR UPDATE SKIP LOCKED (test above)")
    policy = jobs_policy().outbox
    a, b = enqueue(2)
    real_due, calls = services._due, []

    def due_with_rival(now):
        calls.append(now)
        if len(calls) == 2:  # the claimer has read its candidates; the rival is faster
            OutboxMessage.objects.filter(pk=a.pk).update(
                claimed_until=now + dt.timedelta(minutes=5), claimed_by="rival"
            )
        return real_due(now)

    monkeypatch.setattr(services, "_due", due_with_rival)
    got = services.claim_next(now=at(0), claimer="me", policy=policy)
    assert got.pk == b.pk and got.claimed_by == "me"
    a.refresh_from_db()
    assert a.claimed_by == "rival"


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_send_each_message_once(settings):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent workers need PostgreSQL (SQLite serialises the writers)")
    settings.EMAIL_BACKEND = "tests.jobs.backends.SlowLocMem"
    mail.outbox = []
    enqueue(40)
    results, errors = [], []
    barrier = threading.Barrier(4)

    def worker():
        from django.db import connections

        try:
            barrier.wait()
            results.append(services.deliver_due())
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(r.sent for r in results) == 40
    assert Counter(m.subject for m in mail.outbox) == Counter({f"预警 {i}": 1 for i in range(40)})
    assert OutboxMessage.objects.filter(status="sent").count() == 40


def test_retry_now_by_the_system_administrator_is_audited(world, smtp_down):
    policy = OutboxPolicy(
        base_seconds=1,
        factor=1,
        cap_seconds=1,
        max_attempts=1,
        claim_seconds=30,
        batch=10,
        source="t",
    )
    (m,) = enqueue()
    services.deliver_due(now=at(0), policy=policy)
    m.refresh_from_db()
    assert m.status == "dead"
    for role in (Role.PROVINCE_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR):
        with pytest.raises(PermissionDenied):
            services.retry_message(message=m, user=world.users[role])
    services.retry_message(message=m, user=world.users[Role.SYSTEM_ADMIN], now=at(100))
    m.refresh_from_db()
    assert (m.status, m.attempts, m.next_attempt_at) == ("pending", 0, at(100))
    entry = AuditEntry.objects.get(action="outbox.retry")
    assert entry.actor_name == "sys1"
    assert entry.before["status"] == "dead" and entry.after["status"] == "pending"
    with pytest.raises(ValidationError):  # only failed messages
        m.status = "sent"
        services.retry_message(message=m, user=world.users[Role.SYSTEM_ADMIN])


def test_the_policy_file_is_valid_and_bad_policies_list_every_problem():
    policy = jobs_policy()
    assert policy.outbox.max_attempts == 12 and policy.outbox.delay_after(1) == dt.timedelta(
        minutes=1
    )
    assert policy.outbox.delay_after(20) == dt.timedelta(hours=1)
    _version, data = load_yaml("jobs_policy.yaml")
    bad = {
        **data,
        "outbox": {**data["outbox"], "factor": 0, "max_attempts": "many"},
        "schedules": [
            {**data["schedules"][0], "every": "fortnight"},
            {**data["schedules"][1], "name": data["schedules"][0]["name"], "at": "25:00"},
        ],
    }
    with pytest.raises(ReferenceDataError) as exc:
        parse_policy(bad)
    text = str(exc.value)
    for expected in (
        "outbox.factor",
        "outbox.max_attempts",
        "every",
        "appears twice",
        "schedules[1].at",
    ):
        assert expected in text


def test_now_defaults_to_the_clock(smtp_up):
    enqueue()
    assert services.deliver_due().sent == 1
    assert OutboxMessage.objects.get().sent_at <= timezone.now()
