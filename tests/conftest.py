"""Real parts for the tests: localstripe, an aiosmtpd server, headless chromium through Playwright.

Each is started on a free loopback port by the fixture that needs it and stopped afterwards.
"""

from __future__ import annotations

import email
import logging
import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

import pytest
from django.conf import settings
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from readerfund.core import privacy
from readerfund.demo import processes
from tests import logwatch

# A loaded 2-core machine runs even pure functions slowly now and then: no deadlines, no "too slow".
hypothesis_settings.register_profile(
    "readerfund", deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
hypothesis_settings.load_profile("readerfund")


def _encrypt_registering(plaintext: str) -> str:
    logwatch.sensitive_if_long(plaintext)
    return _encrypt(plaintext)


_encrypt = privacy.encrypt
privacy.encrypt = _encrypt_registering  # what is encrypted at rest is what no log may print


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # Every log record of every test is checked for addresses and the test's secrets (tests/logwatch.py);
    # attached here, so Django's own logging set-up cannot have replaced it.
    root = logging.getLogger()
    if logwatch.watch not in root.handlers:
        root.addHandler(logwatch.watch)
    logwatch.watch.reset()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    result = yield
    leaks = logwatch.watch.leaks()
    if leaks:
        pytest.fail("a log record holds personal data:\n" + "\n".join(leaks), pytrace=False)
    return result


# Playwright's own sync API runs an event loop; Django refuses sync ORM calls when it sees one.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _demo_site_on(settings: Any) -> None:
    """The demo's article pages are the browser tests' newsroom site."""
    settings.DEMO = True


@pytest.fixture(autouse=True)
def _fresh_process_caches() -> Iterator[None]:
    from readerfund.appeals import counters
    from readerfund.appeals.selectors import published_cache_clear
    from readerfund.core import cors

    published_cache_clear()
    cors._origins_cache.clear()
    counters._buffer.clear()
    yield
    published_cache_clear()
    counters._buffer.clear()


# --- Stripe ----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def localstripe_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One localstripe per test session, from scratch, on a free port. Yields its base URL."""
    with processes.localstripe_running(tmp_path_factory.mktemp("localstripe") / "localstripe.log") as base:
        yield base


@pytest.fixture
def localstripe(localstripe_server: str, settings: Any) -> Iterator[str]:
    """Point the SDK and Stripe.js at the session's localstripe.

    The test itself runs as a deployment serving one newsroom on the default account: gateway calls the
    test makes directly go there. The code under test selects each newsroom's own account itself (a
    live server's threads don't see this selection at all); tests/payments/test_accounts.py runs two
    newsrooms on two emulators to prove it."""
    from readerfund.payments import gateway
    from readerfund.payments.accounts import default_account

    settings.STRIPE_API_BASE = localstripe_server
    settings.STRIPE_EMULATOR = True
    settings.STRIPE_JS_URL = f"{localstripe_server}/js.stripe.com/v3/"
    with gateway.account_use(default_account()):
        yield localstripe_server


@pytest.fixture
def emulator_webhooks(localstripe: str, live_server: Any) -> Iterator[Any]:
    """Register newsrooms' webhook endpoints at the session's localstripe as `readerfund demo` does, pointed
    at this test's live server: `emulator_webhooks(newsroom, ...)` returns the URLs.

    localstripe cannot forget an endpoint: afterwards each is pointed at nothing, or a later test's events
    would be posted to a server that is gone (or, worse, to the next test's)."""
    from readerfund.demo.stripe_webhooks import (
        webhook_endpoint_id,
        webhook_endpoint_register,
        webhook_endpoints_register,
    )

    slugs: list[str] = []

    def register(*newsrooms: Any) -> list[str]:
        if not slugs:
            # localstripe sends each event a second after the change, to the endpoints registered then: let
            # the events of earlier tests go out first, so no delivery races this test on SQLite.
            time.sleep(1.5)
        slugs.extend(newsroom.slug for newsroom in newsrooms)
        return webhook_endpoints_register(stripe_base=localstripe, site_url=live_server.url, newsrooms=newsrooms)

    try:
        yield register
    finally:
        for slug in slugs:
            webhook_endpoint_register(
                stripe_base=localstripe,
                endpoint_id=webhook_endpoint_id(slug),
                url="http://127.0.0.1:9/",
                secret="whsec_unused",
                events=["readerfund.never"],
            )


# --- e-mail ----------------------------------------------------------------------------------------


@dataclass
class SmtpSink:
    host: str
    port: int
    messages: list[Message] = field(default_factory=list)
    envelopes: list[Any] = field(default_factory=list)
    received: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Message]:
        with self.received:
            self.received.wait_for(lambda: len(self.messages) >= count, timeout=timeout)
        return list(self.messages)


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd API
        with self.sink.received:
            self.sink.envelopes.append(envelope)
            self.sink.messages.append(email.message_from_bytes(envelope.original_content))
            self.sink.received.notify_all()
        return "250 Message accepted"


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[SmtpSink]:
    """A real SMTP server (aiosmtpd) on loopback; Django's SMTP backend delivers to it."""
    from aiosmtpd.controller import Controller

    port = processes.free_port()
    sink = SmtpSink(host="127.0.0.1", port=port)
    controller = Controller(_Handler(sink), hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    try:
        yield sink
    finally:
        controller.stop()


# --- browser ---------------------------------------------------------------------------------------

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's chromium driven by Playwright (Playwright's own browser download can't run here)."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class BrowserSession:
    context: Any
    page: Any
    requests: list[str]
    console: list[str]


@pytest.fixture
def browser_session(chromium: Any) -> Iterator[BrowserSession]:
    """A fresh browser profile (its own localStorage) that records every request and console message."""
    context = chromium.new_context()
    page = context.new_page()
    session = BrowserSession(context=context, page=page, requests=[], console=[])
    page.on("request", lambda request: session.requests.append(request.url))
    page.on("console", lambda message: session.console.append(f"{message.type}: {message.text}"))
    try:
        yield session
    finally:
        context.close()


@pytest.fixture
def new_browser_session(chromium: Any) -> Iterator[Any]:
    """Factory for more fresh profiles in one test."""
    contexts: list[Any] = []

    def make() -> BrowserSession:
        context = chromium.new_context()
        contexts.append(context)
        page = context.new_page()
        session = BrowserSession(context=context, page=page, requests=[], console=[])
        page.on("request", lambda request: session.requests.append(request.url))
        page.on("console", lambda message: session.console.append(f"{message.type}: {message.text}"))
        return session

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def demo_newsroom(db: Any) -> Any:
    from readerfund.demo.seed import demo_seed

    return demo_seed(site_url=settings.SITE_URL)
