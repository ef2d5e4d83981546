"""`readerfund demo`: migrate, seed, start localstripe (sending its events to us) and serve under granian."""

from __future__ import annotations

import importlib.util
import os
import signal
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from readerfund.demo import processes
from readerfund.demo.stripe_webhooks import emulated_newsrooms, webhook_endpoints_register


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Run the demo: SQLite, a seeded newsroom, the Stripe emulator, and the site on 127.0.0.1."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--stripe-port", type=int, default=0, help="0 picks a free port")

    def handle(self, *args: Any, **options: Any) -> None:
        missing = [name for name in ("localstripe", "aiosmtpd") if importlib.util.find_spec(name) is None]
        if missing:
            # A production install (`pip install .`) has neither: they are the demo's extra.
            raise CommandError(
                f"The demo needs {' and '.join(missing)}: pip install -e '.[demo]' (make demo installs it)."
            )
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        port = options["port"]
        stripe_port = options["stripe_port"] or processes.free_port()
        site_url = f"http://127.0.0.1:{port}"
        stripe_base = f"http://127.0.0.1:{stripe_port}"
        env = {
            "READERFUND_DEMO": "1",
            "SITE_URL": site_url,
            "STRIPE_API_BASE": stripe_base,
            "STRIPE_JS_URL": f"{stripe_base}/js.stripe.com/v3/",
        }
        os.environ.update(env)
        settings.DEMO = True
        call_command("migrate", interactive=False, verbosity=0)
        settings.SITE_URL = site_url
        settings.STRIPE_API_BASE = stripe_base  # as the children see it: the newsrooms' accounts are the emulator
        call_command("seed_demo")
        children = []
        # Ctrl-C and `kill` both stop every child; SIGINT is set explicitly because a shell
        # that starts us in the background makes Python ignore it.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, _interrupt)
        try:
            children.append(processes.start_localstripe(stripe_port, log=settings.VAR_DIR / "localstripe.log"))
            self.stdout.write(f"Stripe emulator (localstripe) on {stripe_base}")
            self.webhooks_register(stripe_base=stripe_base, site_url=site_url)
            children += self.start_extras(env)
            children.append(processes.start_granian(port, env=env))
            self.stdout.write(self.style.SUCCESS(f"readerfund demo on {site_url}/demo/  (Ctrl-C stops it)"))
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
            self.stderr.write("a demo process exited; stopping the rest")
        except KeyboardInterrupt:
            pass
        finally:
            for child in reversed(children):
                processes.stop(child)

    def webhooks_register(self, *, stripe_base: str, site_url: str) -> None:
        """The emulator posts its events to the site, as Stripe does once a newsroom registers its endpoint."""
        newsrooms = emulated_newsrooms(stripe_base=stripe_base)
        for url in webhook_endpoints_register(stripe_base=stripe_base, site_url=site_url, newsrooms=newsrooms):
            self.stdout.write(f"Stripe emulator sends its events to {url}")

    def start_extras(self, env: dict[str, str]) -> list:
        """Hook for the demo's other processes (SMTP sink, task worker)."""
        from readerfund.demo.outbox import smtp_sink_start, worker_start

        sink, smtp_port = smtp_sink_start(log=settings.VAR_DIR / "smtp.log")
        # The web server (started after this hook, with this env) and the worker send to the sink.
        env["EMAIL_HOST"], env["EMAIL_PORT"] = "127.0.0.1", str(smtp_port)
        self.stdout.write(f"SMTP sink on 127.0.0.1:{smtp_port}; e-mails at {env['SITE_URL']}/demo/outbox/")
        worker = worker_start(env=env, log=settings.VAR_DIR / "worker.log")
        self.stdout.write("task worker (readerfund worker) started")
        return [sink, worker]
