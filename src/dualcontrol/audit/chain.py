"""The hash chain of the audit log: canonical form, append (serialised), verify.

``entry_hash = sha256(canonical(entry))`` where the canonical form is compact JSON with sorted keys
over: time (UTC, microseconds), actor id and name, action, object type/id/description, before,
after, note and ``prev_hash`` (the previous entry's hash; 64 zeros for the first one).  The entry's
database id is not hashed: entries whose contents were swapped between ids are reported as
*reordered* by their links.

Appending locks the one-row chain head (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite a write to
the head first takes the database's single write lock), so two concurrent writers cannot both link
to the same predecessor.  The lock is held until the caller's transaction ends.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dualcontrol.audit.models import AuditChainHead, AuditCheckpoint, AuditEntry

GENESIS = "0" * 64
HASH_VERSION = 1
_TEXT_FIELDS = ("actor_name", "action", "object_type", "object_id", "object_repr")


def now() -> dt.datetime:
    """The time stamped on an entry (a function so tests can move the clock)."""
    return timezone.now()


def json_value(value: Any) -> Any:
    """``value`` as the database gives it back: through JSON (dates, decimals, UUIDs → strings)."""
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _numbers(value: Any) -> Any:
    # PostgreSQL's jsonb keeps numbers as numeric: 1e20 comes back as 100000000000000000000, so an
    # integral float is hashed as the integer it equals
    if isinstance(value, dict):
        return {str(k): _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _at(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(
    *,
    at: dt.datetime,
    actor_id: int | None,
    actor_name: str,
    action: str,
    object_type: str,
    object_id: str,
    object_repr: str,
    before: Any,
    after: Any,
    note: str,
    prev_hash: str,
) -> bytes:
    data = {
        "v": HASH_VERSION,
        "at": _at(at),
        "actor_id": actor_id,
        "actor_name": actor_name,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "object_repr": object_repr,
        "before": _numbers(before),
        "after": _numbers(after),
        "note": note,
        "prev_hash": prev_hash,
    }
    return json.dumps(
        data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


def hash_of(entry: Any) -> str:
    """The hash ``entry`` (an AuditEntry, or any object with its fields) should carry."""
    return hashlib.sha256(
        canonical(
            at=entry.at,
            actor_id=entry.actor_id,
            actor_name=entry.actor_name,
            action=entry.action,
            object_type=entry.object_type,
            object_id=entry.object_id,
            object_repr=entry.object_repr,
            before=entry.before,
            after=entry.after,
            note=entry.note,
            prev_hash=entry.prev_hash,
        )
    ).hexdigest()


def _head_table(using: str) -> str:
    return connections[using].ops.quote_name(AuditChainHead._meta.db_table)


def _lock_head(using: str) -> str:
    """Lock the chain head until the transaction ends; its hash (the head is created at the
    genesis if missing).  Raw SQL: this runs once per audited write."""
    conn = connections[using]
    table = _head_table(using)
    with conn.cursor() as cursor:
        if conn.vendor == "sqlite":
            # a deferred SQLite transaction that has only read cannot wait for the write lock:
            # write first (takes the database's one write lock, waiting for other writers)
            cursor.execute(f"UPDATE {table} SET length = length WHERE id = 1 RETURNING last_hash")
        else:
            cursor.execute(f"SELECT last_hash FROM {table} WHERE id = 1 FOR UPDATE")
        row = cursor.fetchone()
    if row is not None:
        return str(row[0])
    try:
        with transaction.atomic(using=using):
            AuditChainHead.objects.using(using).create(
                pk=1, last_id=None, last_hash=_genesis_hash(using), length=0
            )
    except IntegrityError:
        pass  # another writer created it first
    return _lock_head(using)


def _genesis_hash(using: str) -> str:
    # a missing head over existing entries (a restored table, a flushed head): continue from the last
    last = AuditEntry.objects.using(using).order_by("-id").only("entry_hash").first()
    if last is not None:
        return last.entry_hash
    checkpoint = AuditCheckpoint.objects.using(using).order_by("-through_id").first()
    return checkpoint.last_hash if checkpoint else GENESIS


def append(entry: AuditEntry, *, using: str = "default") -> AuditEntry:
    """Insert ``entry`` at the end of the chain (inside the caller's transaction, if any: a failure
    rolls the caller back with it — no savepoint, an entry is never half-written)."""
    for name in _TEXT_FIELDS:
        field = AuditEntry._meta.get_field(name)
        value = getattr(entry, name) or ""
        setattr(entry, name, str(value)[: field.max_length])
    entry.note = entry.note or ""
    entry.before = json_value(entry.before)
    entry.after = json_value(entry.after)
    with transaction.atomic(using=using, savepoint=False):
        entry.prev_hash = _lock_head(using)
        entry.at = now()  # under the lock: chain order is time order
        entry.entry_hash = hash_of(entry)
        super(AuditEntry, entry).save(using=using, force_insert=True)
        with connections[using].cursor() as cursor:
            cursor.execute(
                f"UPDATE {_head_table(using)} SET last_id = %s, last_hash = %s, "
                "length = length + 1 WHERE id = 1",
                [entry.pk, entry.entry_hash],
            )
    return entry


# ---------------------------------------------------------------------------------------------
# verification


KINDS = {
    "edited": _("内容被修改"),
    "deleted": _("前面的记录被删除"),
    "reordered": _("记录顺序被调换"),
    "rewritten": _("前一条记录被改写（哈希被重算）或其后记录被删除"),
    "head": _("最新的记录被删除"),
    "checkpoint": _("清理检查点之前的记录仍然存在"),
}


@dataclass(frozen=True)
class Break:
    """The first broken link: which entry, when, and what is wrong."""

    entry_id: int | None
    at: dt.datetime | None
    kind: str  # a key of KINDS
    detail: str

    @property
    def label(self) -> str:
        return str(KINDS.get(self.kind, self.kind))


@dataclass(frozen=True)
class ChainState:
    ok: bool
    count: int  # entries checked
    first_id: int | None
    last_id: int | None
    last_at: dt.datetime | None
    last_hash: str
    checkpoint: AuditCheckpoint | None
    broken: Break | None


_FIELDS = (
    "id",
    "at",
    "actor_id",
    "actor_name",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "before",
    "after",
    "note",
    "prev_hash",
    "entry_hash",
)


def _entries(using: str, after_id: int) -> Iterator[AuditEntry]:
    qs = AuditEntry.objects.using(using).filter(id__gt=after_id).order_by("id").only(*_FIELDS)
    return qs.iterator(chunk_size=2000)


def _link_break(
    using: str, entry: AuditEntry, prev_id: int | None, expected: str, checkpoint: Any
) -> Break:
    """Why ``entry.prev_hash`` is not ``expected`` (the hash of the entry before it)."""
    where = f"#{prev_id}" if prev_id is not None else "the start of the chain"
    elsewhere = (
        AuditEntry.objects.using(using)
        .filter(entry_hash=entry.prev_hash)
        .exclude(pk=entry.pk)
        .values_list("id", flat=True)
        .first()
    )
    if elsewhere is not None:
        return Break(
            entry.pk,
            entry.at,
            "reordered",
            f"entry #{entry.pk} links to #{elsewhere}, not to its predecessor {where}: "
            "entries were moved (reordered)",
        )
    if prev_id is None:
        start = f"checkpoint (pruned through #{checkpoint.through_id})" if checkpoint else "genesis"
        return Break(
            entry.pk,
            entry.at,
            "deleted",
            f"entry #{entry.pk} does not link to the {start}: the entries before it were deleted "
            "(not by `audit prune`)",
        )
    if entry.pk - prev_id > 1:
        return Break(
            entry.pk,
            entry.at,
            "deleted",
            f"entry #{entry.pk} links to an entry that is missing: its predecessor was deleted "
            f"(ids #{prev_id + 1}–#{entry.pk - 1} are absent)",
        )
    return Break(
        entry.pk,
        entry.at,
        "rewritten",
        f"entry #{entry.pk} does not link to #{prev_id}: #{prev_id} was edited and its hash "
        "recomputed, or an entry between them was deleted",
    )


def verify(
    using: str = "default", *, after_id: int | None = None, after_hash: str = ""
) -> ChainState:
    """Walk the chain from the latest checkpoint (or the genesis) to the head; stop at the first
    broken link.  With ``after_id``/``after_hash`` (an entry a full run verified, and its hash)
    only the entries after it are walked, linked onto it."""
    checkpoint = AuditCheckpoint.objects.using(using).order_by("-through_id").first()
    expected = checkpoint.last_hash if checkpoint else GENESIS
    start_after = checkpoint.through_id if checkpoint else 0
    incremental = after_id is not None and after_id >= start_after
    if incremental:
        start_after, expected = int(after_id or 0), after_hash
    count = 0
    first_id: int | None = None
    prev: AuditEntry | None = None

    def state(broken: Break | None) -> ChainState:
        return ChainState(
            ok=broken is None,
            count=count,
            first_id=first_id,
            last_id=prev.pk if prev else None,
            last_at=prev.at if prev else None,
            last_hash=expected,
            checkpoint=checkpoint,
            broken=broken,
        )

    if checkpoint is not None:
        survivor = (
            AuditEntry.objects.using(using)
            .filter(id__lte=checkpoint.through_id)
            .order_by("id")
            .only("id", "at")
            .first()
        )
        if survivor is not None:
            return state(
                Break(
                    survivor.pk,
                    survivor.at,
                    "checkpoint",
                    f"entry #{survivor.pk} is older than the checkpoint of {checkpoint.at:%Y-%m-%d} "
                    f"(pruned through #{checkpoint.through_id}) and should not exist",
                )
            )
    for entry in _entries(using, start_after):
        if hash_of(entry) != entry.entry_hash:
            return state(
                Break(
                    entry.pk,
                    entry.at,
                    "edited",
                    f"entry #{entry.pk} was edited: its content no longer matches its hash",
                )
            )
        if entry.prev_hash != expected:
            before = prev.pk if prev else (start_after if incremental else None)
            return state(_link_break(using, entry, before, expected, checkpoint))
        count += 1
        first_id = first_id if first_id is not None else entry.pk
        prev = entry
        expected = entry.entry_hash
    head = AuditChainHead.objects.using(using).filter(pk=1).first()
    if head is not None and head.last_hash != expected:
        last = f"#{prev.pk}" if prev else "the start"
        missing = (
            f"ids after {last} up to #{head.last_id} are absent"
            if head.last_id and (prev is None or head.last_id > prev.pk)
            else "the head does not match the last entry"
        )
        return state(
            Break(
                head.last_id,
                None,
                "head",
                f"the newest entries were deleted: the chain head records #{head.last_id} "
                f"({head.last_hash[:12]}…) but the chain ends at {last}; {missing}",
            )
        )
    return state(None)
