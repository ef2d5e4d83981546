"""`readerfund worker`: run background tasks and the periodic scan (due reminders, lost e-mails)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from readerfund.notifications.worker import db_worker_run, scheduler_start, worker_run_once


class Command(BaseCommand):
    help = "Run django-tasks' database worker plus the periodic scan for due reminders and lost e-mails."
    # The web process runs the checks; a worker restarted after a crash should be back at work at once.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Scan once, run every ready task, then exit.")
        parser.add_argument(
            "--scan-seconds",
            type=float,
            default=None,
            help="Seconds between scans (default: WORKER_SCAN_SECONDS).",
        )
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between polls of an empty queue.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            ran = worker_run_once()
            self.stdout.write(f"ran {ran} task(s)")
            return
        every = options["scan_seconds"] or settings.WORKER_SCAN_SECONDS
        scheduler_start(every_seconds=every)
        db_worker_run(interval=options["interval"], verbosity=options["verbosity"])
