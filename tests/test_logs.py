"""The suite-wide log check (tests/logwatch.py) itself: what it catches and what it lets through."""

from __future__ import annotations

import logging

import pytest

from readerfund.core.privacy import encrypt
from tests.logwatch import LogWatch, sensitive, watch


@pytest.fixture
def local_watch() -> LogWatch:
    return LogWatch()


def _emit(handler: LogWatch, name: str, message: str, *args: object) -> None:
    logger = logging.getLogger(name)
    handler.handle(logger.makeRecord(name, logging.WARNING, __file__, 1, message, args, None))


def test_an_address_from_our_loggers_is_a_leak(local_watch: LogWatch) -> None:
    _emit(local_watch, "readerfund.payments.handlers", "could not reach %s", "reader@example.org")
    _emit(local_watch, "django.request", "Internal Server Error: /x/ann.lee@mail.example.co.uk")
    _emit(local_watch, "stripe", "message='Request to Stripe api' url=/v1/customers?email=a%40b.org")
    assert len(local_watch.leaks()) == 2  # the percent-encoded one is beyond a regular expression


def test_ids_and_other_loggers_addresses_pass(local_watch: LogWatch) -> None:
    _emit(local_watch, "readerfund.payments.webhooks", "webhook event %s failed", "evt_1Nabc")
    _emit(local_watch, "asyncio", "unrelated library says root@localhost.localdomain")
    assert local_watch.leaks() == []


def test_registered_values_are_leaks_from_any_logger(local_watch: LogWatch) -> None:
    local_watch.secrets.add("Tok3n-xyz")
    _emit(local_watch, "urllib3", "GET /signin/%s", "Tok3n-xyz")
    assert local_watch.leaks() and "Tok3n-xyz" in local_watch.leaks()[0]


def test_the_suites_watch_registers_what_is_encrypted_and_what_tests_name() -> None:
    encrypt("Anna Karenina")
    sensitive("s3cret-token")
    assert {"Anna Karenina", "s3cret-token"} <= watch.secrets
    logging.getLogger("readerfund.test").warning("hello %s", "Anna Karenina")
    assert watch.leaks()
    watch.reset()  # or this test would fail, which is the point
