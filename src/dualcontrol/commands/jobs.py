"""``dualcontrol worker`` runs the background jobs; ``dualcontrol jobs …`` looks after them.

``dualcontrol worker`` synchronises the timetable (``reference/data/jobs_policy.yaml`` → django-q2
schedules; also done after every ``dualcontrol migrate``) and runs the django-q2 cluster
(``qcluster``): the mail outbox every minute, the nightly and monthly jobs, the jobs started
from pages.  Run it as a service beside the web server (docs/operations.md); SIGTERM stops it
after the running tasks.

``dualcontrol jobs schedules`` synchronises and lists the timetable, ``dualcontrol jobs outbox``
lists the outbox by status, ``dualcontrol jobs deliver`` sends the due mails once, now.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from dualcontrol.cli import CommandError, setup_django


def register(subparsers: Any) -> None:
    w = subparsers.add_parser(
        "worker",
        help="run the background jobs (mail outbox, periodic jobs, page jobs): django-q2 cluster",
        description="Synchronise the job timetable and run the django-q2 cluster (qcluster) "
        "until SIGTERM/SIGINT.",
    )
    w.add_argument(
        "--run-once", action="store_true", help="start the cluster, then stop it (a smoke test)"
    )
    w.set_defaults(func=run_worker)

    p = subparsers.add_parser("jobs", help="background jobs: timetable, outbox, delivery")
    sub = p.add_subparsers(dest="jobs_command", metavar="SUBCOMMAND")
    s = sub.add_parser(
        "schedules", help="synchronise the timetable with jobs_policy.yaml and list it"
    )
    s.set_defaults(func=run_schedules)
    o = sub.add_parser("outbox", help="count the outbox messages by status; list the failed ones")
    o.add_argument("--format", choices=("text", "json"), default="text")
    o.set_defaults(func=run_outbox)
    d = sub.add_parser("deliver", help="send the due mails of the outbox now (once)")
    d.set_defaults(func=run_deliver)
    p.set_defaults(func=lambda args: p.print_help() or 0)


def _sync() -> dict[str, list[str]]:
    from django.db import DatabaseError

    from dualcontrol.jobs.services import sync_schedules
    from dualcontrol.reference import ReferenceDataError

    try:
        return sync_schedules()
    except ReferenceDataError as exc:
        raise CommandError(str(exc)) from exc
    except DatabaseError as exc:
        raise CommandError(f"database error: {exc} (run `dualcontrol migrate` first?)") from exc


def run_worker(args: argparse.Namespace) -> int:
    setup_django()
    from django.core.management import call_command

    changes = _sync()
    changed = ", ".join(f"{k} {', '.join(v)}" for k, v in changes.items() if v)
    print(f"job timetable: {changed or 'up to date'}", flush=True)
    call_command("qcluster", run_once=args.run_once)
    return 0


def run_schedules(args: argparse.Namespace) -> int:
    setup_django()
    from django.utils import timezone

    from dualcontrol.jobs.services import schedule_rows

    changes = _sync()
    for key, names in changes.items():
        if names:
            print(f"{key}: {', '.join(names)}")
    for row in schedule_rows():
        spec, nxt = row["spec"], row["next_run"]
        when = timezone.localtime(nxt).strftime("%Y-%m-%d %H:%M") if nxt else "—"
        print(f"{spec.name:<20} next {when}  {spec.func}")
    return 0


def run_outbox(args: argparse.Namespace) -> int:
    setup_django()
    from dualcontrol.jobs.models import OutboxMessage, OutboxStatus
    from dualcontrol.jobs.services import outbox_counts

    counts = outbox_counts()
    failed = list(
        OutboxMessage.objects.filter(
            status__in=[OutboxStatus.RETRYING, OutboxStatus.DEAD]
        ).order_by("-created")[:50]
    )
    if args.format == "json":
        data = {
            "counts": counts,
            "failed": [
                {
                    "id": m.pk,
                    "status": m.status,
                    "to": m.to,
                    "subject": m.subject,
                    "attempts": m.attempts,
                    "next_attempt_at": m.next_attempt_at.isoformat() if m.next_attempt_at else None,
                    "last_error": m.last_error,
                }
                for m in failed
            ],
        }
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    print("outbox: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    for m in failed:
        print(f"  #{m.pk} {m.status} ×{m.attempts} {m.subject[:40]} — {m.last_error[:80]}")
    return 0


def run_deliver(args: argparse.Namespace) -> int:
    setup_django()
    from dualcontrol.jobs.services import deliver_due

    s = deliver_due()
    print(
        f"outbox: {s.sent} sent, {s.failed} failed ({s.dead} given up)"
        + (f"; mail server: {s.server_error}" if s.server_error else "")
    )
    return 0
