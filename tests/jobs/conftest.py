"""Fixtures of the jobs tests: a refusing mail server, a working one, synchronous tasks."""

from __future__ import annotations

import socket

import pytest
from django.core import mail


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends: connections refused


@pytest.fixture
def smtp_down(settings):
    """The real SMTP backend pointed at a port where nothing listens."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = _closed_port()
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    return settings


@pytest.fixture
def smtp_up(settings):
    """The mail server is back: Django's in-memory backend records what is sent."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    return mail.outbox


@pytest.fixture
def q_sync(monkeypatch):
    """django-q2 runs each queued task at once in this process (only the tests that ask)."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture
def worker_pass(monkeypatch):
    """One pass of a django-q2 worker over the queue, in this process: the queued tasks are taken
    from the ORM broker, run by django-q2's own worker and saved by its monitor (successes and
    failures, acknowledgement) — the cluster's pipeline without its processes."""
    from multiprocessing import Queue, Value

    from django_q.brokers import get_broker
    from django_q.conf import Conf
    from django_q.monitor import monitor
    from django_q.signing import SignedPackage
    from django_q.worker import worker

    def run() -> int:
        broker = get_broker()
        tasks, results = Queue(), Queue()
        n = 0
        with monkeypatch.context() as m:
            m.setattr(Conf, "SYNC", True)  # keep the test's database connection open
            m.setattr(Conf, "POLL", 0)
            for ack_id, payload in broker.dequeue() or []:
                task = SignedPackage.loads(payload)
                task["ack_id"] = ack_id
                tasks.put(task)
                n += 1
            tasks.put("STOP")
            worker(tasks, results, Value("f", -1))
            results.put("STOP")
            monitor(results, broker)
        for q in (tasks, results):
            q.close()
            q.join_thread()
        return n

    return run
