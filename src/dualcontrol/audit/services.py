"""The one writer of audit entries; called inside the caller's transaction.

Every entry passes the redaction list (reference/data/audit_policy.yaml) before it is stored and
is appended to the hash chain (:mod:`dualcontrol.audit.chain`).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, models, transaction
from django.utils import timezone

from dualcontrol.audit import context
from dualcontrol.audit.models import AuditCheckpoint, AuditEntry
from dualcontrol.audit.policy import redact, redact_text, retention_days


def snapshot(
    obj: models.Model, fields: list[str] | None = None, *, m2m: bool = False
) -> dict[str, Any]:
    """A JSON-able dict of a model instance's concrete fields (for before/after); with ``m2m``
    also its many-to-many relations as lists of ids.  Secrets are redacted by :func:`record`."""
    data: dict[str, Any] = {}
    for f in obj._meta.concrete_fields:
        if fields is not None and f.name not in fields:
            continue
        value = getattr(obj, f.attname)
        data[f.attname] = (
            value if value is None or isinstance(value, int | float | bool) else str(value)
        )
    if m2m and obj.pk is not None:
        for f in obj._meta.many_to_many:
            if fields is None or f.name in fields:
                data[f.name] = sorted(getattr(obj, f.name).values_list("pk", flat=True))
    return data


def _actor(actor: Any) -> tuple[Any, str]:
    user = actor if getattr(actor, "is_authenticated", False) else None
    name = getattr(actor, "username", "") or ("system" if actor is None else str(actor))
    return user, name


def record(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    before: Any = None,
    after: Any = None,
    note: Any = "",
) -> AuditEntry:
    """Append one entry: ``actor`` (a user, None for the system, or a name), ``action``, the object
    (``obj`` or type/id/description), before/after (JSON-able) and a note.  Secrets are redacted."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:255]
    user, name = _actor(actor)
    if isinstance(note, dict | list):
        note = json.dumps(
            redact(note, object_type=object_type), cls=DjangoJSONEncoder, ensure_ascii=False
        )
    return AuditEntry.objects.create(
        actor=user,
        actor_name=name,
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=redact_text(object_repr),
        before=redact(before, object_type=object_type),
        after=redact(after, object_type=object_type),
        note=redact_text(str(note or "")),
    )


def record_export(
    *,
    user: Any,
    what: str,
    filename: str,
    fmt: str = "",
    rows: int | None = None,
    path: str = "",
    params: dict[str, Any] | None = None,
) -> AuditEntry:
    """Record one data export (an Excel/CSV/PDF download) with what was exported and its size."""
    fmt = fmt or (filename.rsplit(".", 1)[-1].lower() if "." in filename else "")
    request = context.current_request()
    if request is not None and not path:
        path, params = request.path, params or (dict(request.GET.items()) or None)
    after: dict[str, Any] = {"format": fmt, "filename": filename, "rows": rows}
    if path:
        after["path"] = path
    if params:
        after["filters"] = params
    return record(
        actor=user,
        action="export",
        object_type=f"export.{what}"[:64],
        object_repr=filename,
        after=after,
    )


# ---------------------------------------------------------------------------------------------
# retention


class PruneRefused(Exception):
    """A prune that would break the retention or destroy evidence of tampering."""


@dataclass(frozen=True)
class PruneResult:
    pruned: int
    checkpoint: AuditCheckpoint | None
    cutoff: dt.datetime
    earliest_allowed: dt.date


def earliest_prunable(today: dt.date | None = None) -> dt.date:
    """The latest ``--before`` date the retention allows (entries before it may go)."""
    today = today or timezone.localdate()
    return today - dt.timedelta(days=retention_days())


def prune(*, before: dt.date, actor: Any, using: str = "default") -> PruneResult:
    """Delete the entries before ``before`` (a prefix of the chain, never inside the retention),
    write a checkpoint (hash of the last pruned entry, count, who, when) and audit the prune."""
    from dualcontrol.audit.chain import _lock_head, verify

    days = retention_days()
    limit = earliest_prunable()
    if before > limit:
        raise PruneRefused(
            f"--before {before.isoformat()} is inside the retention of {days} days: "
            f"the latest date allowed today is {limit.isoformat()}"
        )
    cutoff = timezone.make_aware(dt.datetime.combine(before, dt.time.min))
    _, actor_name = _actor(actor)
    with transaction.atomic(using=using):
        _lock_head(using)  # no append while the prefix is cut
        state = verify(using)
        if not state.ok:
            assert state.broken is not None
            raise PruneRefused(
                f"the chain is broken at #{state.broken.entry_id} ({state.broken.kind}): "
                "nothing is pruned while it is (the entries are evidence); run `dualcontrol audit "
                "verify`"
            )
        entries = AuditEntry.objects.using(using)
        first_kept = entries.filter(at__gte=cutoff).order_by("id").values_list("id", flat=True)
        kept_from = first_kept.first()
        doomed = entries.filter(id__lt=kept_from) if kept_from is not None else entries.all()
        last = doomed.order_by("-id").only("id", "at", "entry_hash").first()
        if last is None:
            return PruneResult(0, None, cutoff, limit)
        count = doomed.count()
        with connections[using].cursor() as cursor:
            if connections[using].vendor == "postgresql":
                # the trigger of migration 0004 lets this transaction delete entries older than
                # six months, and nothing else
                cursor.execute("SET LOCAL dualcontrol.audit_prune = 'on'")
            table = connections[using].ops.quote_name(AuditEntry._meta.db_table)
            cursor.execute(f"DELETE FROM {table} WHERE id <= %s", [last.pk])
            if connections[using].vendor == "postgresql":
                cursor.execute("SET LOCAL dualcontrol.audit_prune = 'off'")
        checkpoint = AuditCheckpoint(
            actor_name=actor_name,
            cutoff=cutoff,
            retention_days=days,
            through_id=last.pk,
            through_at=last.at,
            last_hash=last.entry_hash,
            pruned=count,
        )
        checkpoint.save(using=using)
        record(
            actor=actor,
            action="audit.prune",
            obj=checkpoint,
            after={
                "before": before.isoformat(),
                "retention_days": days,
                "pruned": count,
                "through_id": last.pk,
                "through_at": last.at,
                "last_hash": last.entry_hash,
            },
        )
    return PruneResult(count, checkpoint, cutoff, limit)


def record_verification(*, actor: Any, state: Any) -> AuditEntry:
    """Record a full verification run (the /audit/ page shows the latest one on large logs)."""
    return record(
        actor=actor,
        action="audit.verify",
        object_type="audit.chain",
        object_repr="audit chain",
        after={
            "ok": state.ok,
            "count": state.count,
            "first_id": state.first_id,
            "last_id": state.last_id,
            "last_hash": state.last_hash,
            "broken": (
                {
                    "entry_id": state.broken.entry_id,
                    "kind": state.broken.kind,
                    "detail": state.broken.detail,
                }
                if state.broken
                else None
            ),
        },
    )


@dataclass(frozen=True)
class ChainStatus:
    """What the /audit/ page shows about the chain."""

    verified_now: bool  # the whole chain walked on this request
    state: Any  # chain.ChainState of that walk, or of the entries after the last recorded run
    last_run: AuditEntry | None  # the latest `dualcontrol audit verify` run (large logs)
    added_since: int  # entries appended after that run
    total: int


def chain_status(using: str = "default") -> ChainStatus:
    """Walk the whole chain when the log is small enough (audit_policy.yaml page_max_entries);
    else take the latest `dualcontrol audit verify` run and walk only the entries after it (when
    they are few enough), linked onto the last entry that run verified."""
    from dualcontrol.audit.chain import verify
    from dualcontrol.audit.policy import policy

    limit = policy().page_max_entries
    entries = AuditEntry.objects.using(using)
    total = entries.count()
    if total <= limit:
        return ChainStatus(True, verify(using), None, 0, total)
    last_run = entries.filter(action="audit.verify").order_by("-id").first()
    if last_run is None:
        return ChainStatus(False, None, None, total, total)
    run = last_run.after or {}
    since = entries.filter(id__gt=run.get("last_id") or 0).count()
    state = None
    if run.get("ok") and run.get("last_id") and since <= limit:
        state = verify(using, after_id=int(run["last_id"]), after_hash=str(run["last_hash"]))
    return ChainStatus(False, state, last_run, since, total)


__all__ = [
    "ChainStatus",
    "PruneRefused",
    "PruneResult",
    "chain_status",
    "earliest_prunable",
    "prune",
    "record",
    "record_export",
    "record_verification",
    "snapshot",
]
