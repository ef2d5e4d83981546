"""Checkout round-trips a second against localstripe, through the production server.

A round-trip is one reader's one-off contribution as the page makes it: the checkout page (its CSRF
cookie), `start`, the card confirmed at Stripe as Stripe.js does, `pay`. Its baseline, measured in the
same run against the same localstripe, is the Stripe requests alone that such a checkout needs (a
SetupIntent made, confirmed and read, a PaymentIntent made and confirmed), sent by the SDK with nothing
of ours around them: what is left of the ratio is readerfund's own cost (pages, ledger writes, the lease,
the database). Batches alternate between the two, because localstripe slows down with every object it
holds.
"""

from __future__ import annotations

import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from bench.serving import demo_server
from bench.table import Row, row_add
from readerfund.demo import processes

READERS = 4  # at once
BATCH = int(os.environ.get("BENCH_CHECKOUT_BATCH", "12"))
BATCHES = 3
SECRET_KEY = "sk_test_readerfund_local"
CARD = {"number": "4242424242424242", "exp_month": "12", "exp_year": "2035", "cvc": "123"}
MIN_RATIO = 0.2


def _stripe(base: str, path: str, form: dict[str, str] | None = None) -> dict[str, Any]:
    method = "POST" if form is not None else "GET"
    response = requests.request(method, f"{base}{path}", data=form, auth=(SECRET_KEY, ""), timeout=60)
    response.raise_for_status()
    return response.json()


def _card_form() -> dict[str, str]:
    return {"payment_method_data[type]": "card", **{f"payment_method_data[card][{k}]": v for k, v in CARD.items()}}


def _bare(stripe_base: str, number: int) -> None:
    setup = _stripe(stripe_base, "/v1/setup_intents", {"usage": "off_session"})
    _stripe(stripe_base, f"/v1/setup_intents/{setup['id']}/confirm", _card_form())
    method = _stripe(stripe_base, f"/v1/setup_intents/{setup['id']}")["payment_method"]
    form = {"amount": str(500 + number), "currency": "usd", "payment_method": method, "confirm": "true"}
    _stripe(stripe_base, "/v1/payment_intents", form)


def _readerfund(server: str, stripe_base: str, document: dict[str, Any], number: int) -> None:
    campaign = document["campaigns"][0]
    reader = {"X-Forwarded-For": f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}"}
    session = requests.Session()
    session.get(f"{server}/support/demo/", headers=reader, timeout=60).raise_for_status()
    headers = reader | {"X-CSRFToken": session.cookies["csrftoken"], "Origin": server}
    key = f"bench-checkout-{number:06d}-{os.getpid()}-" + "k" * 8
    body = {
        "request_key": key,
        "frequency": "one_off",
        "amount": 500 + number,
        "currency": "USD",
        "email": f"bench{number}@example.org",
        "receipt": False,
        "campaign": campaign["id"],
        "variant": campaign["variants"][0]["id"],
        "locale": "en",
    }
    started = _as_the_page_does(session, f"{server}/support/demo/start", body, headers)
    setup_id = started["client_secret"].split("_secret_")[0]
    _stripe(stripe_base, f"/v1/setup_intents/{setup_id}/confirm", _card_form())
    paid = _as_the_page_does(session, f"{server}/support/demo/pay", {"request_key": key, "locale": "en"}, headers)
    if paid.get("state") != "done":
        raise RuntimeError(f"checkout {key} did not finish: {paid}")


def _as_the_page_does(session: requests.Session, url: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    """POST as checkout.js does: a busy database's 503 is sent again after Retry-After, "pay" is asked again."""
    for _ in range(40):
        answer = session.post(url, json=body, headers=headers, timeout=60)
        if answer.status_code == 503:
            time.sleep(float(answer.headers.get("Retry-After", "1")))
            continue
        if answer.status_code != 200:
            raise RuntimeError(f"{url}: HTTP {answer.status_code} {answer.text[:200]}")
        data = answer.json()
        if data.get("state") != "pay" or url.endswith("/start"):
            return data
        time.sleep(0.3)
    raise RuntimeError(f"{url}: still busy after 40 tries")


def _rate(work: Any, first: int) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(READERS) as pool:
        list(pool.map(work, range(first, first + BATCH)))
    return BATCH / (time.perf_counter() - started)


def main() -> int:
    stripe_port = processes.free_port()
    localstripe = processes.start_localstripe(stripe_port)
    stripe_base = f"http://127.0.0.1:{stripe_port}"
    extra = {
        "STRIPE_API_BASE": stripe_base,
        "TRUSTED_PROXY_HOPS": "1",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        **processes.LOAD_RUN_LIMITS,
    }
    try:
        with demo_server(workers=2, extra_env=extra) as server:
            document = requests.get(f"{server.base_url}/api/v1/newsrooms/demo/appeals.json", timeout=30).json()
            ours, bare = [], []
            for batch in range(BATCHES):
                first = batch * BATCH
                pair = [
                    ("bare", lambda n: _bare(stripe_base, n)),
                    ("ours", lambda n: _readerfund(server.base_url, stripe_base, document, n)),
                ]
                for name, work in pair if batch % 2 == 0 else pair[::-1]:
                    (bare if name == "bare" else ours).append(_rate(work, first))
    finally:
        processes.stop(localstripe)
    ratios = [o / b for o, b in zip(ours, bare, strict=True)]
    ratio = statistics.median(ratios)
    print(
        f"{BATCHES} batches of {BATCH} one-off checkouts, {READERS} readers at once; rounds (ours / Stripe alone, "
        "round-trips/s): " + "  ".join(f"{o:.1f}/{b:.1f}" for o, b in zip(ours, bare, strict=True))
    )
    met = ratio >= MIN_RATIO
    row_add(
        Row(
            "checkout round-trips against localstripe",
            statistics.median(ours),
            "round-trips/s",
            against="its Stripe requests alone",
            ratio=ratio,
            target=f">= {MIN_RATIO:.0%}",
            met=met,
        )
    )
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
