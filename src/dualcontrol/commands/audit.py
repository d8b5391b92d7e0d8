"""``dualcontrol audit verify`` and ``dualcontrol audit prune --before DATE``.

verify walks the hash chain of the audit log from the latest prune checkpoint (or the first entry)
to the chain head and prints ``OK`` with the number of entries, or the FIRST broken link — the
entry's id and time and what is wrong (edited content / missing predecessor (deleted) / reordered /
newest entries deleted) — and exits 1.  Each run is itself recorded (action ``audit.verify``).

prune deletes the entries older than DATE, never inside the retention (audit_policy.yaml, at least
six months), writes a checkpoint (hash of the last pruned entry, count, who, when) from which verify
starts, and records the prune.  It refuses to prune a broken chain.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import sys
from typing import Any

from dualcontrol.cli import CommandError, setup_django


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "audit",
        help="verify the audit log's hash chain; prune entries past the retention",
        description="The audit log (审计日志): verify its hash chain, prune old entries.",
    )
    sub = parser.add_subparsers(dest="audit_command", metavar="COMMAND", required=True)
    p = sub.add_parser(
        "verify",
        help="walk the hash chain; print OK and the count, or the first broken link (exit 1)",
    )
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument(
        "--no-record", action="store_true", help="do not record this run in the audit log"
    )
    p.set_defaults(func=verify)
    p = sub.add_parser(
        "prune",
        help="delete entries older than DATE (never inside the retention) and write a checkpoint",
    )
    p.add_argument("--before", required=True, metavar="YYYY-MM-DD")
    p.add_argument(
        "--dry-run", action="store_true", help="show what would be pruned, change nothing"
    )
    p.set_defaults(func=prune)


def _operator() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry (containers)
        return "cli"


def _when(value: Any) -> str:
    from django.utils import timezone

    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else "—"


def verify(args: argparse.Namespace) -> int:
    setup_django()
    from django.db import DatabaseError

    from dualcontrol.audit.chain import verify as walk
    from dualcontrol.audit.services import record_verification

    try:
        state = walk()
        if not args.no_record:
            record_verification(actor=_operator(), state=state)
    except DatabaseError as exc:
        raise CommandError(f"database error: {exc} (run `dualcontrol migrate` first?)") from exc
    cp = state.checkpoint
    if args.format == "json":
        data = {
            "ok": state.ok,
            "count": state.count,
            "first_id": state.first_id,
            "last_id": state.last_id,
            "last_hash": state.last_hash,
            "checkpoint": (
                {"through_id": cp.through_id, "pruned": cp.pruned, "last_hash": cp.last_hash}
                if cp
                else None
            ),
            "broken": (
                {
                    "entry_id": state.broken.entry_id,
                    "at": state.broken.at.isoformat() if state.broken.at else None,
                    "kind": state.broken.kind,
                    "detail": state.broken.detail,
                }
                if state.broken
                else None
            ),
        }
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return 0 if state.ok else 1
    start = (
        f"from the checkpoint of {_when(cp.at)} (pruned {cp.pruned} through #{cp.through_id})"
        if cp
        else "from the first entry"
    )
    if state.ok:
        span = f"#{state.first_id}–#{state.last_id}, " if state.count else ""
        print(
            f"OK: {state.count} entries verified {start} ({span}last at {_when(state.last_at)}); "
            f"head {state.last_hash}"
        )
        return 0
    b = state.broken
    assert b is not None
    print(
        f"BROKEN at entry #{b.entry_id} ({_when(b.at)}): {b.kind} — {b.detail}\n"
        f"{state.count} entries verified {start} before it"
        + (f" (up to #{state.last_id})" if state.last_id else ""),
    )
    return 1


def prune(args: argparse.Namespace) -> int:
    try:
        before = dt.date.fromisoformat(args.before)
    except ValueError as exc:
        raise CommandError(f"--before {args.before!r} is not a date (YYYY-MM-DD)") from exc
    setup_django()
    from django.core.exceptions import ImproperlyConfigured

    from dualcontrol.audit import services
    from dualcontrol.audit.models import AuditEntry

    try:
        limit = services.earliest_prunable()
        if args.dry_run:
            if before > limit:
                raise services.PruneRefused(
                    f"--before {before.isoformat()} is inside the retention: the latest date "
                    f"allowed today is {limit.isoformat()}"
                )
            from django.utils import timezone

            cutoff = timezone.make_aware(dt.datetime.combine(before, dt.time.min))
            kept = AuditEntry.objects.filter(at__gte=cutoff).order_by("id").first()
            qs = AuditEntry.objects.filter(id__lt=kept.pk) if kept else AuditEntry.objects.all()
            print(f"would prune {qs.count()} entries before {before} (nothing changed)")
            return 0
        result = services.prune(before=before, actor=_operator())
    except (services.PruneRefused, ImproperlyConfigured) as exc:
        raise CommandError(str(exc)) from exc
    if result.checkpoint is None:
        print(f"nothing to prune before {before} (retention allows up to {limit})")
        return 0
    cp = result.checkpoint
    print(
        f"pruned {result.pruned} entries through #{cp.through_id} ({_when(cp.through_at)}); "
        f"checkpoint #{cp.pk}: last hash {cp.last_hash}"
    )
    return 0
