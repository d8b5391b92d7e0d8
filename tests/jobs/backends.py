"""Mail backends for the jobs tests."""

from __future__ import annotations

from typing import Any

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as LocMem


class Tripwire(BaseEmailBackend):
    """Fails the test if anything talks to the mail server (e.g. inside a request)."""

    def send_messages(self, email_messages: Any) -> int:
        raise AssertionError("a mail was sent where only the outbox may be written")


class SecondWorkerDuringSend(LocMem):
    """While the first message is being sent, a second worker runs a delivery (once)."""

    nested: list[Any] = []

    def send_messages(self, email_messages: Any) -> int:
        if not type(self).nested:
            from dualcontrol.jobs.services import deliver_due

            type(self).nested.append(None)
            type(self).nested[0] = deliver_due()
        return super().send_messages(email_messages)


class SlowLocMem(LocMem):
    """A server that takes a few milliseconds per mail (so concurrent workers overlap)."""

    def send_messages(self, email_messages: Any) -> int:
        import time

        time.sleep(0.005)
        return super().send_messages(email_messages)
