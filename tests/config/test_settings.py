"""Production-unsafe defaults are refused at start-up, and the development set-ups still start."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

DEV_KEY_ERROR = "Set SECRET_KEY"


OURS = {
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "SITE_URL",
    "CSRF_TRUSTED_ORIGINS",
    "SECURE_COOKIES",
    "STRIPE_WEBHOOK_SECRET",
}


def _start(code: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in OURS}
    return subprocess.run(
        [sys.executable, "-c", "import readerfund.config.settings as s\n" + code],
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_development_key_is_refused_when_serving_the_world() -> None:
    started = _start(ALLOWED_HOSTS="support.example.org")
    assert started.returncode != 0
    assert DEV_KEY_ERROR in started.stderr


@pytest.mark.parametrize(
    "env",
    [
        {},  # the demo and the tests: loopback only
        {"ALLOWED_HOSTS": "127.0.0.1,localhost"},
        {"ALLOWED_HOSTS": "support.example.org", "SECRET_KEY": "a-real-secret"},
        {"ALLOWED_HOSTS": "support.example.org", "DEBUG": "1"},
    ],
)
def test_safe_or_local_configurations_start(env: dict[str, str]) -> None:
    started = _start(**env)
    assert started.returncode == 0, started.stderr


def test_the_published_webhook_secret_signs_nothing_when_serving_the_world() -> None:
    """The development signing secret is in this repository: anyone could sign events with it, and each is
    stored (up to 1 MB) and costs Stripe requests. Beyond loopback, no default: a newsroom on the default
    account refuses every event until STRIPE_WEBHOOK_SECRET is set."""
    code = "print(repr(s.STRIPE_WEBHOOK_SECRET))"
    world = _start(code, ALLOWED_HOSTS="support.example.org", SECRET_KEY="a-real-secret")
    assert world.stdout.strip() == "''", world.stderr
    local = _start(code)
    assert local.stdout.strip() == "'whsec_readerfund_local'", local.stderr
    configured = _start(
        code, ALLOWED_HOSTS="support.example.org", SECRET_KEY="a-real-secret", STRIPE_WEBHOOK_SECRET="whsec_real"
    )
    assert configured.stdout.strip() == "'whsec_real'", configured.stderr


def test_behind_a_tls_proxy_the_checkout_origin_is_trusted_and_cookies_are_secure() -> None:
    # The proxy speaks http to us; the reader's browser posts with Origin: https://support.example.org.
    started = _start(
        "print(s.CSRF_TRUSTED_ORIGINS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)",
        SECRET_KEY="a-real-secret",
        ALLOWED_HOSTS="support.example.org",
        SITE_URL="https://support.example.org/",
    )
    assert started.stdout.split() == ["['https://support.example.org']", "True", "True"], started.stderr


def test_explicit_csrf_origins_and_cookie_choice_win() -> None:
    started = _start(
        "print(s.CSRF_TRUSTED_ORIGINS, s.SESSION_COOKIE_SECURE)",
        SITE_URL="https://support.example.org",
        CSRF_TRUSTED_ORIGINS="https://a.example,https://b.example",
        SECURE_COOKIES="0",
    )
    assert started.stdout.split() == ["['https://a.example',", "'https://b.example']", "False"], started.stderr
