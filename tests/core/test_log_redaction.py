"""Django's log lines about a request hide the token of our four secret-bearing paths (core/log_redaction.py)."""

from __future__ import annotations

import logging

import pytest

from readerfund.core.log_redaction import SecretPathFilter, path_redact
from tests.logwatch import sensitive, watch

TOKEN = "Zm9vYmFyYmF6cXV4LXNlY3JldC10b2tlbi0xMjM0NTY3ODk"


@pytest.mark.parametrize(
    ("path", "kept"),
    [
        (f"/account/demo/signin/{TOKEN}/", "/account/demo/signin/[token]/"),
        (f"/account/demo/email/{TOKEN}:1vQ:abc/", "/account/demo/email/[token]/"),
        (f"/reminders/unsubscribe/{TOKEN}/", "/reminders/unsubscribe/[token]/"),
        (f"/support/demo/authenticate/{TOKEN}/", "/support/demo/authenticate/[token]/"),
        ("/account/demo/contribution/12/cancel", "/account/demo/contribution/12/cancel"),
    ],
)
def test_the_token_of_a_secret_path_is_hidden(path: str, kept: str) -> None:
    assert path_redact(path) == kept


def test_djangos_request_and_csrf_loggers_carry_the_filter() -> None:
    sensitive(TOKEN)
    for name in ("django.request", "django.security.csrf"):
        assert any(isinstance(f, SecretPathFilter) for f in logging.getLogger(name).filters), name
    logging.getLogger("django.security.csrf").warning(
        "Forbidden (%s): %s", "CSRF cookie not set.", f"/account/demo/email/{TOKEN}/"
    )
    logging.getLogger("django.request").error("%s: %s", "Internal Server Error", f"/account/demo/signin/{TOKEN}/")
    assert watch.leaks() == []
