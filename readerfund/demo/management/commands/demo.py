"""`readerfund demo`: migrate, seed, start localstripe (sending its events to us) and serve under granian.

What the newcomer changes is kept: the SQLite database, the emulator's state (var/localstripe.pickle,
readerfund/demo/localstripe_kept.py) and the outbox stay in var/ between runs, and the demo newsroom is
seeded only into a new database. `--reset` (`make demo-reset`) starts afresh.

Ctrl-C, or a SIGTERM to the demo or to its process group, stops every helper it started (the emulator,
the SMTP sink, the worker, the web server), each in a session of its own so it is stopped as a whole.
Only the web port is fixed; every helper listens on a free port, so two demos never collide.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from readerfund.demo import processes
from readerfund.demo.stripe_webhooks import emulated_newsrooms, webhook_endpoints_register

# The emulator's test cards and IBAN, as localstripe 1.15.10 answers them through our checkout (run in
# tests/browser/test_checkout.py). The README has the same table.
TEST_CARDS = (
    ("plain, succeeds", "4242 4242 4242 4242"),
    ("3-D Secure (confirm or cancel in its dialog)", "4000 0027 6000 3184"),
    ("declined at attach (monthly or annual)", "4000 0000 0000 0002"),
    ("declined when charged", "4000 0000 0000 0341"),
    ("risk country: every card is French (FR)", "list FR in the newsroom's risk countries (admin)"),
    ("failing IBAN (SEPA, in euros; fails a second later)", "DE62 3704 0044 0532 0130 01"),
)


def _interrupt(signum: int, frame: object) -> None:
    # The first signal stops the demo; any after it (a group's SIGTERM reaches `make` too, and a second
    # Ctrl-C is common) is ignored at once, so it cannot land inside the clean-up and cut it short.
    for other in (signal.SIGINT, signal.SIGTERM):
        signal.signal(other, signal.SIG_IGN)
    raise KeyboardInterrupt


def _sqlite_file() -> Path | None:
    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.sqlite3":
        return None
    return Path(database["NAME"])


class Command(BaseCommand):
    help = "Run the demo: SQLite, a seeded newsroom, the Stripe emulator, and the site on 127.0.0.1."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--stripe-port", type=int, default=0, help="0 picks a free port")
        parser.add_argument(
            "--reset", action="store_true", help="start afresh: a new database, an empty emulator and outbox"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        missing = [name for name in ("localstripe", "aiosmtpd") if importlib.util.find_spec(name) is None]
        if missing:
            # A production install (`pip install .`) has neither: they are the demo's extra.
            raise CommandError(
                f"The demo needs {' and '.join(missing)}: pip install -e '.[demo]' (make demo installs it)."
            )
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        # Ctrl-C and `kill` both stop every child; SIGINT is set explicitly because a shell
        # that starts us in the background makes Python ignore it. Set before any child starts.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, _interrupt)
        try:
            self.prepare(reset=options["reset"])
        except KeyboardInterrupt:
            return
        self.run(port=options["port"], stripe_port=options["stripe_port"] or processes.free_port())

    def prepare(self, *, reset: bool) -> None:
        state = self.emulator_state()
        database = _sqlite_file()
        if reset:
            if database is None:
                raise CommandError(
                    "--reset starts afresh only on the demo's own SQLite database (DATABASE_URL is set)."
                )
            for path in (database, state):
                path.unlink(missing_ok=True)
            for message in (settings.VAR_DIR / "outbox").glob("*.eml"):
                message.unlink()
        new_database = database is None or not database.exists() or database.stat().st_size == 0
        call_command("migrate", interactive=False, verbosity=0)
        from readerfund.newsrooms.models import Newsroom

        if new_database or not Newsroom.objects.filter(slug="demo").exists():
            # A new database: the emulator's old objects belong to no contribution of it.
            state.unlink(missing_ok=True)
            self.seed = True
        else:
            self.seed = False

    def emulator_state(self) -> Path:
        return Path(settings.VAR_DIR) / "localstripe.pickle"

    def run(self, *, port: int, stripe_port: int) -> None:
        site_url = f"http://127.0.0.1:{port}"
        stripe_base = f"http://127.0.0.1:{stripe_port}"
        env = {
            "READERFUND_DEMO": "1",
            "SITE_URL": site_url,
            "STRIPE_API_BASE": stripe_base,
            "STRIPE_JS_URL": f"{stripe_base}/js.stripe.com/v3/",
            # The Stripe SDK logs every request at INFO; STRIPE_LOG_LEVEL=INFO shows them.
            "STRIPE_LOG_LEVEL": os.environ.get("STRIPE_LOG_LEVEL", "WARNING"),
        }
        os.environ.update(env)
        settings.DEMO = True
        settings.SITE_URL = site_url
        settings.STRIPE_API_BASE = stripe_base  # as the children see it: the newsrooms' accounts are the emulator
        children: list = []
        try:
            if self.seed:
                call_command("seed_demo")
            else:
                self.stdout.write(
                    "Kept the demo's database, emulator and outbox from last time (make demo-reset starts afresh)."
                )
            children.append(
                processes.start_localstripe(
                    stripe_port, log=settings.VAR_DIR / "localstripe.log", state=self.emulator_state()
                )
            )
            self.stdout.write(f"Stripe emulator (localstripe) on {stripe_base}")
            self.webhooks_register(stripe_base=stripe_base, site_url=site_url)
            children += self.start_extras(env)
            children.append(processes.start_granian(port, env=env))
            self.ready(site_url)
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
            self.stderr.write("a demo process exited; stopping the rest")
        except KeyboardInterrupt:
            pass
        finally:
            # A second Ctrl-C must not cut the clean-up short and leave a helper holding its port.
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, signal.SIG_IGN)
            for child in reversed(children):
                processes.stop(child)
            self.stdout.write("demo stopped; every helper with it")

    def ready(self, site_url: str) -> None:
        width = max(len(label) for label, _ in TEST_CARDS)
        lines = [
            "",
            self.style.SUCCESS(f"readerfund demo is ready on {site_url}/  (Ctrl-C stops it)"),
            f"  An article with the appeal, in English:  {site_url}/demo/",
            f"  The same article in Russian:             {site_url}/demo/?lang=ru",
            f"  E-mails the demo sent (the outbox):      {site_url}/demo/outbox/",
            f"  The newsroom's settings (admin):          {site_url}/admin/  (readerfund createsuperuser first)",
            "",
            "  Test cards (any future expiry date, any CVC, any postcode):",
            *(f"    {label:<{width}}  {number}" for label, number in TEST_CARDS),
            "",
        ]
        self.stdout.write("\n".join(lines))

    def webhooks_register(self, *, stripe_base: str, site_url: str) -> None:
        """The emulator posts its events to the site, as Stripe does once a newsroom registers its endpoint."""
        newsrooms = emulated_newsrooms(stripe_base=stripe_base)
        for url in webhook_endpoints_register(stripe_base=stripe_base, site_url=site_url, newsrooms=newsrooms):
            self.stdout.write(f"Stripe emulator sends its events to {url}")

    def start_extras(self, env: dict[str, str]) -> list:
        """The demo's other processes: the SMTP sink and the task worker."""
        from readerfund.demo.outbox import smtp_sink_start, worker_start

        sink, smtp_port = smtp_sink_start(log=settings.VAR_DIR / "smtp.log")
        extras = [sink]
        try:
            # The web server (started after this hook, with this env) and the worker send to the sink.
            env["EMAIL_HOST"], env["EMAIL_PORT"] = "127.0.0.1", str(smtp_port)
            self.stdout.write(f"SMTP sink on 127.0.0.1:{smtp_port}")
            extras.append(worker_start(env=env, log=settings.VAR_DIR / "worker.log"))
            self.stdout.write("task worker (readerfund worker) started")
        except BaseException:
            processes.stop(sink)
            raise
        return extras
