"""The webhooks bench inside its child process (see bench/webhooks.py): Django is set up from the environment."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench._webhook_requests import MAX_REQUESTS_PER_EVENT, RequestCount, requests_table
from bench.table import Row, row_add

# Ingest must keep at least this share of the rate of storing alone (the HTTP stack and the signature
# check cost the rest). Processing reads 1-4 objects from Stripe per event and writes the ledger in
# its own transactions, so it keeps a smaller share of one bare Stripe read per event.
MIN_INGEST_RATIO = 0.4
MIN_PROCESS_RATIO = 0.05
# Real objects at localstripe; creating 1,600 takes minutes (it scans every object on each call).
OBJECTS = int(os.environ.get("BENCH_WEBHOOK_OBJECTS", "200"))
# Baselines are rates: a sample is enough.
BASELINE_SAMPLE = 400


def _signed(body: bytes, secret: str) -> str:
    timestamp = int(time.time())
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _contributions(newsroom: Any, world: Any) -> None:
    from readerfund.payments.models import Contribution, Frequency, Supporter

    owners: list[tuple[str, str, int, str, str]] = []  # kind, provider id, amount, currency, frequency
    for intent in [*world.one_offs, *world.failed]:
        owners.append(("intent", intent["id"], intent["amount"], intent["currency"].upper(), Frequency.ONE_OFF))
    for subscription in world.subscriptions:
        owners.append(("subscription", subscription["id"], 500, subscription["bench_currency"], Frequency.MONTHLY))
    supporters = Supporter.objects.bulk_create(
        [Supporter(newsroom=newsroom, reference=f"S-B{index:08d}") for index in range(len(owners))]
    )
    Contribution.objects.bulk_create(
        [
            Contribution(
                newsroom=newsroom,
                supporter=supporter,
                frequency=frequency,
                amount=amount,
                currency=currency,
                request_key=secrets.token_hex(16),
                provider_payment_intent_id=provider_id if kind == "intent" else "",
                provider_subscription_id=provider_id if kind == "subscription" else "",
            )
            for supporter, (kind, provider_id, amount, currency, frequency) in zip(supporters, owners, strict=True)
        ],
        batch_size=500,
    )


def _ingest(client: Any, newsroom: Any, bodies: list[bytes], secret: str) -> tuple[float, Counter[int]]:
    statuses: Counter[int] = Counter()
    started = time.perf_counter()
    for body in bodies:
        # Signed as it is sent, as Stripe does: signed up front, the last of a slow run fell outside the
        # signature's five-minute tolerance and were refused.
        response = client.post(
            f"/webhooks/stripe/{newsroom.slug}",
            data=body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=_signed(body, secret),
        )
        statuses[response.status_code] += 1
    return time.perf_counter() - started, statuses


def _bare(client: Any, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        client.get("/api/v1/bare?size=64")
    return time.perf_counter() - started


def _ledger_check(newsroom: Any, expected: Any) -> list[str]:
    from readerfund.payments.models import Contribution, Payment

    problems = []
    ledger = {
        p.provider_payment_id: (p.amount, p.currency, p.amount_refunded)
        for p in Payment.objects.filter(newsroom=newsroom)
    }
    missing = expected.payments.keys() - ledger.keys()
    extra = ledger.keys() - expected.payments.keys()
    wrong = [key for key in expected.payments.keys() & ledger.keys() if expected.payments[key] != ledger[key]]
    if missing or extra or wrong:
        problems.append(f"payments: {len(missing)} missing, {len(extra)} extra, {len(wrong)} wrong")
    statuses = Counter(Contribution.objects.filter(newsroom=newsroom).values_list("status", flat=True))
    if statuses != expected.statuses:
        problems.append(f"contribution statuses {dict(statuses)} != expected {dict(expected.statuses)}")
    return problems


def _totals(expected: Any) -> str:
    totals: Counter[str] = Counter()
    for amount, currency, refunded in expected.payments.values():
        totals[currency] += amount - refunded
    return ", ".join(f"{currency} {amount / 100:.2f}" for currency, amount in sorted(totals.items()))


def _store_only(newsroom: Any, bodies: list[bytes]) -> float:
    """Baseline: the same deliveries stored and enqueued by calling the service (no HTTP, no signature)."""
    from django_tasks_db.models import DBTaskResult

    from readerfund.payments.models import WebhookEvent
    from readerfund.payments.webhooks import webhook_event_store

    events = [json.loads(body) for body in bodies]
    for event in events:
        event["id"] = "baseline_" + event["id"]
    started = time.perf_counter()
    for event in events:
        webhook_event_store(newsroom=newsroom, event=event)
    seconds = time.perf_counter() - started
    WebhookEvent.objects.filter(event_id__startswith="baseline_").delete()
    DBTaskResult.objects.all().delete()
    return seconds


def _bare_reads(client_stripe: Any, events: list[dict[str, Any]]) -> float:
    """Baseline for processing: one read of each event's object from localstripe, nothing else."""
    services = {
        "payment_intent": client_stripe.v1.payment_intents,
        "invoice": client_stripe.v1.invoices,
        "subscription": client_stripe.v1.subscriptions,
        "charge": client_stripe.v1.charges,
    }
    started = time.perf_counter()
    for event in events:
        obj = event["data"]["object"]
        services[obj["object"]].retrieve(obj["id"])
    return time.perf_counter() - started


def _process(workers: int) -> tuple[float, RequestCount]:
    """The real task path: `readerfund db_worker --batch`, in `workers` processes, each counting the Stripe
    requests its handlers send (bench/_webhook_worker.py)."""
    worker = [sys.executable, "-m", "bench._webhook_worker"]
    arguments = ["db_worker", "--batch", "--no-startup-delay", "--interval", "0"]
    count = RequestCount()
    with tempfile.TemporaryDirectory(prefix="readerfund-bench-counts-") as folder:
        counts = [Path(folder) / f"worker-{index}.json" for index in range(workers)]
        started = time.perf_counter()
        # The worker logs every task at INFO; keep its output for a failure only.
        with contextlib.ExitStack() as stack:
            logs = [stack.enter_context(tempfile.TemporaryFile()) for _ in range(workers)]
            running = [
                subprocess.Popen([*worker, str(path), *arguments], stdout=log, stderr=subprocess.STDOUT)
                for path, log in zip(counts, logs, strict=True)
            ]
            failed = [process.wait() for process in running]
            seconds = time.perf_counter() - started
            if any(failed):
                for log in logs:
                    log.seek(0)
                    print(log.read().decode(errors="replace")[-3000:])
                raise RuntimeError(f"db_worker exited with {failed}")
        for path in counts:
            count.add(RequestCount.load(path))
    return seconds, count


def run(*, events: int, duplicate_share: float, secret: str) -> int:
    import django

    django.setup()
    import stripe
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from bench._webhook_objects import events_reissued, world_make
    from readerfund.newsrooms.models import Newsroom
    from readerfund.payments.models import WebhookEvent

    label = os.environ.get("BENCH_DATABASE_LABEL", "?")
    workers = 1 if label == "SQLite" else int(os.environ.get("BENCH_WEBHOOK_WORKERS", "2"))
    call_command("migrate", verbosity=0)
    unique = round(events * (1 - duplicate_share))
    client_stripe = stripe.StripeClient(settings.STRIPE_SECRET_KEY, base_addresses={"api": settings.STRIPE_API_BASE})
    world = world_make(client_stripe, objects=OBJECTS)
    real_events = len(world.events)
    world.events = events_reissued(world.events, unique)
    print(
        f"setup:   {OBJECTS} payments/subscriptions made at localstripe ({world.api_calls} API calls in "
        f"{world.seconds:.1f}s, {world.api_calls / world.seconds:.0f} calls/s); {real_events} events for them, "
        f"re-issued under new ids to {len(world.events)} distinct events; database {label}"
    )
    newsroom = Newsroom.objects.create(slug="bench-webhooks", name="Bench")
    _contributions(newsroom, world)

    rng = random.Random(20261130)  # noqa: S311 - a reproducible shuffle, not a secret
    bodies = [json.dumps(event, indent=2, sort_keys=True).encode() for event in world.events]
    chosen = bodies + rng.sample(bodies, events - len(bodies))
    rng.shuffle(chosen)
    deliveries = chosen

    client = Client()
    _bare(client, 50)  # warm-up: URL resolver, middleware, connections
    bare_rate = BASELINE_SAMPLE / _bare(client, BASELINE_SAMPLE)
    store_rate = min(len(chosen), BASELINE_SAMPLE) / _store_only(newsroom, chosen[:BASELINE_SAMPLE])
    ingest_seconds, statuses = _ingest(client, newsroom, deliveries, secret)
    stored = WebhookEvent.objects.count()
    ingest_rate = len(deliveries) / ingest_seconds
    print(
        f"ingest:  {len(deliveries)} signed POSTs ({len(deliveries) - len(bodies)} duplicates, shuffled) in "
        f"{ingest_seconds:.1f}s = {ingest_rate:.0f} events/s; baseline store+enqueue without HTTP or signature "
        f"{store_rate:.0f}/s -> ratio {ingest_rate / store_rate:.2f} (target >= {MIN_INGEST_RATIO}); "
        f"bare no-op endpoint {bare_rate:.0f} req/s -> ratio {ingest_rate / bare_rate:.2f}; "
        f"responses {dict(statuses)}; stored {stored}"
    )

    sample = world.events[:BASELINE_SAMPLE]
    read_rate = len(sample) / _bare_reads(client_stripe, sample)
    process_seconds, requests = _process(workers)
    outcomes = Counter(WebhookEvent.objects.values_list("status", flat=True))
    process_rate = stored / process_seconds
    print(
        f"process: {stored} events in {process_seconds:.1f}s = {process_rate:.0f} events/s "
        f"(db_worker x{workers}); baseline one bare localstripe read per event {read_rate:.0f}/s -> ratio "
        f"{process_rate / read_rate:.2f} (target >= {MIN_PROCESS_RATIO}); outcomes {dict(outcomes)}"
    )
    waited = sum(requests.seconds.values()) / (process_seconds * workers)
    print(
        f"stripe:  {sum(requests.requests.values())} HTTP requests for {sum(requests.events.values())} events "
        f"= {requests.average:.2f} per event (target <= {MAX_REQUESTS_PER_EVENT}); the workers spent "
        f"{waited:.0%} of their time waiting for them. By event type:"
    )
    print("\n".join(requests_table(requests)))

    problems = _ledger_check(newsroom, world.expected)
    if statuses != Counter({200: len(deliveries)}) or stored != len(bodies):
        problems.append(f"ingest: responses {dict(statuses)}, stored {stored} of {len(bodies)} distinct")
    if outcomes != Counter({"processed": stored}):
        problems.append(f"outcomes {dict(outcomes)}")
    if problems:
        print("LEDGER NOT EXACT: " + "; ".join(problems))
    else:
        print(
            f"ledger:  exact - {len(world.expected.payments)} payments, net {_totals(world.expected)}, "
            f"contributions {dict(world.expected.statuses)}"
        )
    row_add(
        Row(
            f"webhook ingest ({label})",
            ingest_rate,
            "events/s",
            against="store+enqueue alone",
            ratio=ingest_rate / store_rate,
            target=f">= {MIN_INGEST_RATIO:.0%}",
            met=ingest_rate / store_rate >= MIN_INGEST_RATIO,
        )
    )
    row_add(
        Row(
            f"webhook processing ({label}, {workers} workers)",
            process_rate,
            "events/s",
            against="one localstripe read/event",
            ratio=process_rate / read_rate,
            target=f">= {MIN_PROCESS_RATIO:.0%}",
            met=process_rate / read_rate >= MIN_PROCESS_RATIO,
        )
    )
    row_add(
        Row(
            "Stripe requests per webhook event",
            requests.average,
            "requests",
            target=f"<= {MAX_REQUESTS_PER_EVENT}",
            met=requests.average <= MAX_REQUESTS_PER_EVENT,
        )
    )
    missed = (
        ingest_rate / store_rate < MIN_INGEST_RATIO
        or process_rate / read_rate < MIN_PROCESS_RATIO
        or requests.average > MAX_REQUESTS_PER_EVENT
    )
    return 1 if problems or missed else 0
