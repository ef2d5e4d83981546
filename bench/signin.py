"""Sign-in requests: a supporter's address and a stranger's must take about the same time to answer.

The sign-in page promises an answer that says nothing about who the address belongs to, its time
included (supporters/signin.py). This bench asks for a sign-in link many times for a supporter's
address and for a stranger's, interleaved, through Django's full request stack (the test client) on a
SQLite database of its own, and compares the medians and the 90th percentiles. The rate limits are
raised for the run (they would otherwise answer early, alike for both, and measure nothing).

Target: each ratio supporter/stranger within 0.85..1.18 (a fifth of a millisecond on a 1.5 ms answer).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROUNDS = int(os.environ.get("BENCH_SIGNIN_ROUNDS", "200"))
LOW, HIGH = 0.85, 1.18


def main() -> int:
    """Runs in a child process: Django's settings come from the environment it starts with."""
    folder = Path(tempfile.mkdtemp(prefix="readerfund-bench-signin-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "readerfund.config.settings",
        "DATABASE_URL": f"sqlite:///{folder / 'signin.sqlite3'}",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("STRIPE_API_BASE", None)
    try:
        return subprocess.call([sys.executable, "-m", "bench.signin", "--child"], env=env)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _child() -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from readerfund.checkout.services import supporter_for
    from readerfund.newsrooms.models import Newsroom
    from readerfund.payments.models import Contribution
    from readerfund.supporters import views

    call_command("migrate", verbosity=0)
    newsroom = Newsroom.objects.create(slug="bench", name="Bench Gazette")
    supporter = supporter_for(newsroom=newsroom, email="reader@example.org", name="", locale="en")
    Contribution.objects.create(
        newsroom=newsroom,
        supporter=supporter,
        frequency="monthly",
        amount=500,
        currency="USD",
        status=Contribution.Status.ACTIVE,
        request_key="bench-signin",
    )
    views.LIMITS = {scope: (10**9, limit[1]) for scope, limit in views.LIMITS.items()}
    client = Client()
    timings: dict[str, list[float]] = {"supporter": [], "stranger": []}
    addresses = {"supporter": "reader@example.org", "stranger": "stranger@example.org"}
    for round_ in range(ROUNDS + 20):
        order = ("supporter", "stranger") if round_ % 2 else ("stranger", "supporter")
        for who in order:
            started = time.perf_counter()
            response = client.post("/account/bench/", {"email": addresses[who], "locale": "en"})
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, response.status_code
            if round_ >= 20:  # the first rounds warm caches and the database file
                timings[who].append(elapsed)
    median = {who: statistics.median(values) for who, values in timings.items()}
    p90 = {who: statistics.quantiles(values, n=10)[-1] for who, values in timings.items()}
    ratio_median = median["supporter"] / median["stranger"]
    ratio_p90 = p90["supporter"] / p90["stranger"]
    print(f"sign-in request, {ROUNDS} each, interleaved (SQLite, Django test client)")
    print(f"  {'':10} {'median ms':>10} {'p90 ms':>8}")
    for who in ("supporter", "stranger"):
        print(f"  {who:10} {median[who] * 1000:10.3f} {p90[who] * 1000:8.3f}")
    ok = LOW <= ratio_median <= HIGH and LOW <= ratio_p90 <= HIGH
    print(
        f"  ratio supporter/stranger: median {ratio_median:.2f}, p90 {ratio_p90:.2f} "
        f"(target {LOW}..{HIGH}) {'ok' if ok else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(_child() if "--child" in sys.argv else main())
