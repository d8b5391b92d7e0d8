"""Who is acting, for audit entries written where no user is passed in (signal handlers).

Many-to-many changes are seen through ``m2m_changed``, which carries no request: the request's user
is kept in a context variable for the length of the request (:class:`AuditMiddleware`), or of an
admin save (``acting_as``).  Everything else passes its actor to ``record`` explicitly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_actor: ContextVar[Callable[[], Any] | None] = ContextVar("dualcontrol_audit_actor", default=None)
_request: ContextVar[Any] = ContextVar("dualcontrol_audit_request", default=None)


def current_request() -> Any:
    """The request being answered (None outside one): an export entry takes its path and filters."""
    return _request.get()


@contextmanager
def in_request(request: Any) -> Iterator[None]:
    token = _request.set(request)
    try:
        yield
    finally:
        _request.reset(token)


def current_actor() -> Any:
    """The acting user (None outside a request: the system, a command, a job)."""
    get = _actor.get()
    return get() if get is not None else None


@contextmanager
def acting_as(actor: Any) -> Iterator[None]:
    """Entries written by signal handlers inside the block name ``actor`` (a user or a callable
    returning one, evaluated when the entry is written)."""
    token = _actor.set(actor if callable(actor) else (lambda: actor))
    try:
        yield
    finally:
        _actor.reset(token)
