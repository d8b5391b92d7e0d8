"""``python -m django task_warnings`` — list overdue and stalled plan tasks (for cron / mail)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from dualcontrol.tasks.warnings_report import as_text, warning_rows


class Command(BaseCommand):
    help = "List overdue (逾期) and stalled (停滞) plan tasks; exit status 0."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--date", help="as of this day (YYYY-MM-DD; default today)")
        parser.add_argument("--plan", type=int, help="one plan (id)")
        parser.add_argument("--division", help="plans of this division and below (code)")
        parser.add_argument("--kind", choices=("overdue", "stalled"))
        parser.add_argument("--format", choices=("text", "json"), default="text")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            today = (
                dt.date.fromisoformat(options["date"]) if options["date"] else timezone.localdate()
            )
        except ValueError as exc:
            raise CommandError(f"--date: {exc}") from exc
        rows = warning_rows(
            today=today,
            plan_id=options["plan"],
            division_code=options["division"],
            kind=options["kind"],
        )
        if options["format"] == "json":
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
        else:
            self.stdout.write(as_text(rows, today))
