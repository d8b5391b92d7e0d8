"""Signals of the jobs app."""

from django.dispatch import Signal

# sent after an outbox message went out: ``message`` (the OutboxMessage, status "sent")
message_sent = Signal()
