"""/demo/outbox/: the e-mails the demo sent, as its SMTP sink saved them; and the demo's mail processes.

The page exists only where the sink has created its folder (settings.VAR_DIR / "outbox"), i.e.
under `make demo`; elsewhere it is a 404.
"""

from __future__ import annotations

import email
import email.policy
import os
import subprocess
import sys
from datetime import timedelta
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from readerfund.demo import processes
from readerfund.demo.views import demo_only
from readerfund.newsrooms.models import Newsroom
from readerfund.reminders.models import Reminder
from readerfund.reminders.services import reminder_hand_over

SHOWN = 50


def outbox_dir() -> Path:
    return Path(settings.VAR_DIR) / "outbox"


def _part(message: EmailMessage, kind: str) -> str:
    body = message.get_body(preferencelist=(kind,))
    return body.get_content() if body is not None else ""


def outbox_messages(directory: Path, *, limit: int = SHOWN) -> list[dict[str, Any]]:
    """The newest messages first, as the page shows them."""
    files = sorted(directory.glob("*.eml"), reverse=True)[:limit]
    shown = []
    for path in files:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        date = message["Date"]
        shown.append(
            {
                "file": path.name,
                "subject": str(message["Subject"] or "").strip(),
                "from": str(message["From"] or ""),
                "to": str(message["To"] or "").strip(),
                "date": parsedate_to_datetime(str(date)) if date else None,
                "message_id": str(message["Message-ID"] or ""),
                "unsubscribe": "".join(str(message["List-Unsubscribe"] or "").split()).strip("<>"),
                "text": _part(message, "plain"),
                "html": _part(message, "html"),
            }
        )
    return shown


def outbox(request: HttpRequest) -> HttpResponse:
    demo_only()
    directory = outbox_dir()
    if not directory.is_dir():
        raise Http404("The outbox exists only in the demo (make demo).")
    if request.method == "POST":
        handed = _reminders_due_now()
        return redirect(f"{request.path}?handed={handed}")
    context = {
        "messages": outbox_messages(directory),
        "pending": Reminder.objects.filter(newsroom__slug="demo", status=Reminder.Status.PENDING).count(),
        "handed": request.GET.get("handed"),
    }
    return render(request, "demo/outbox.html", context)


def _reminders_due_now() -> int:
    """Demo only: pretend the demo newsroom's reminder days have come, so their e-mails go out now."""
    newsroom = Newsroom.objects.filter(slug="demo").first()
    if newsroom is None:
        return 0
    later = timezone.now() + timedelta(days=400)
    ids = Reminder.objects.filter(newsroom=newsroom, status=Reminder.Status.PENDING).values_list("id", flat=True)
    return sum(reminder_hand_over(reminder_id=reminder_id, now=later) for reminder_id in list(ids))


def smtp_sink_start(*, log: Path) -> tuple[subprocess.Popen, int]:
    """The SMTP sink on a free port of 127.0.0.1 (never a fixed one: two demos may run). Returns it and its port."""
    port = processes.free_port()
    out = open(log, "ab")  # noqa: SIM115 - lives as long as the process
    process = subprocess.Popen(
        [sys.executable, "-m", "readerfund.demo.smtp_sink", "--port", str(port), "--dir", str(outbox_dir())],
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    processes.wait_or_stop(port, process)
    return process, port


def worker_start(*, env: dict[str, str], log: Path) -> subprocess.Popen:
    out = open(log, "ab")  # noqa: SIM115 - lives as long as the process
    return subprocess.Popen(
        [sys.executable, "-m", "readerfund.cli", "worker"],
        env={**os.environ, **env, "WORKER_SCAN_SECONDS": "5"},
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
