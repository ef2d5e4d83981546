"""readerfund settings. Every value comes from an environment variable documented in README.md."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

from readerfund.core import locales as core_locales

BASE_DIR = Path(__file__).resolve().parent.parent
PROJECT_DIR = BASE_DIR.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
DEV_SECRET_KEY = "insecure-dev-key-change-me-in-production"
SECRET_KEY = env("SECRET_KEY", DEV_SECRET_KEY)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1", "testserver"}
_SERVES_THE_WORLD = not DEBUG and not set(ALLOWED_HOSTS) <= _LOOPBACK_HOSTS
if SECRET_KEY == DEV_SECRET_KEY and _SERVES_THE_WORLD:
    # The published key signs unsubscribe links and, without FIELD_ENCRYPTION_KEY, derives the key
    # that encrypts readers' addresses: served to the world, that is no encryption at all.
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("Set SECRET_KEY: the development key is refused when serving hosts beyond loopback.")
# Base URL at which this deployment is reached by readers; used in e-mails and the embed.
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
_SITE_ORIGIN = "/".join(SITE_URL.split("/")[:3])
# Behind a proxy that ends TLS we see http, while the reader's browser sends Origin: https://…;
# without our own public origin here, Django's CSRF check refuses every checkout POST.
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "") or [_SITE_ORIGIN]

# The demo site (sample articles under /<newsroom>/, /demo/outbox/). `readerfund demo` turns it on;
# off in production, where those paths answer 404.
DEMO = env_bool("READERFUND_DEMO", False)
VAR_DIR = Path(env("READERFUND_VAR_DIR", str(PROJECT_DIR / "var")))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "readerfund.core",
    "readerfund.newsrooms",
    "readerfund.appeals",
    "readerfund.embed",
    "readerfund.payments",
    "readerfund.checkout",
    "readerfund.notifications",
    "readerfund.reminders",
    "readerfund.supporters",
    "readerfund.demo",
]

MIDDLEWARE = [
    # CSP with nonces, Permissions-Policy, HSTS, short reader CSRF cookies: every response (core/headers.py).
    "readerfund.core.headers.SecurityHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # /api/ is answered here, past the cookie-handling page middleware below.
    "readerfund.core.middleware.PublicApiMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "readerfund.core.middleware.PageLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "readerfund.config.urls"
WSGI_APPLICATION = "readerfund.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "readerfund.core.headers.csp_context",
            ],
        },
    },
]

# SQLite is the embedded default; set DATABASE_URL for PostgreSQL.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'readerfund.sqlite3'}"),
        conn_max_age=600,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL lets the worker and the web server write without blocking readers.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
        "transaction_mode": "IMMEDIATE",
    }
if env("TEST_DATABASE_NAME"):
    # Lets several test runs share one PostgreSQL server without clashing on test_<name>.
    DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = list(core_locales.LANGUAGES)
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"

# --- privacy -------------------------------------------------------------------------------------
# Key for encrypting personal data at rest (32 bytes, urlsafe base64). Derived from SECRET_KEY if unset.
FIELD_ENCRYPTION_KEY = env("FIELD_ENCRYPTION_KEY", "")
# Keys being retired, comma-separated: still decrypt what `readerfund rotate-key` has not yet moved.
FIELD_ENCRYPTION_KEYS_OLD = env("FIELD_ENCRYPTION_KEYS_OLD", "")
# Key of the look-up hashes (Supporter.email_hash, …); never changes. Unset: the current encryption key.
# Set it to the retiring key before a rotation (readerfund/core/privacy.py explains why).
LOOKUP_HASH_KEY = env("LOOKUP_HASH_KEY", "")
# Request header the CDN or proxy sets to the reader's country (ISO 3166-1 alpha-2).
COUNTRY_HEADER = env("COUNTRY_HEADER", "CF-IPCountry")
# Proxies in front of us that append to X-Forwarded-For; rate limits key on the address the
# outermost one saw. 0 (the default): no proxy, use the connection's address, since without a proxy
# X-Forwarded-For is whatever the client wrote (readerfund/core/ratelimit.py client_ip).
TRUSTED_PROXY_HOPS = int(env("TRUSTED_PROXY_HOPS", "0"))
# Or the header in which the CDN in front gives the reader's address (e.g. CF-Connecting-IP, True-Client-IP,
# X-Real-IP): it overwrites what the client sent. Set only when every request comes through that CDN.
CLIENT_IP_HEADER = env("CLIENT_IP_HEADER", "")


# --- card-testing defence (readerfund/checkout/card_testing.py) ---------------------------------------
def _rate(value: str) -> tuple[int, int]:
    """ "20/600": 20 in a window of 600 seconds."""
    count, _, seconds = value.partition("/")
    return int(count), int(seconds or "3600")


CHECKOUT_LIMIT_IP = _rate(env("CHECKOUT_LIMIT_IP", "20/600"))  # checkout starts per IP
CHECKOUT_LIMIT_EMAIL = _rate(env("CHECKOUT_LIMIT_EMAIL", "8/3600"))  # starts per address and newsroom
CHECKOUT_LIMIT_PAY_IP = _rate(env("CHECKOUT_LIMIT_PAY_IP", "60/600"))  # pay calls per IP
# Per card fingerprint and newsroom: checkouts it is charged in, and its declines.
CHECKOUT_LIMIT_CARD = _rate(env("CHECKOUT_LIMIT_CARD", "6/86400"))
CHECKOUT_LIMIT_CARD_DECLINES = _rate(env("CHECKOUT_LIMIT_CARD_DECLINES", "3/86400"))
# Declined confirmations one checkout (one client secret) may take before its intent is cancelled.
CHECKOUT_LIMIT_INTENT_DECLINES = int(env("CHECKOUT_LIMIT_INTENT_DECLINES", "3"))
# Past these, a start needs a proof of work: starts from one IP, starts at one newsroom.
CHECKOUT_PROOF_AFTER_IP = _rate(env("CHECKOUT_PROOF_AFTER_IP", "3/600"))
CHECKOUT_PROOF_AFTER_NEWSROOM = _rate(env("CHECKOUT_PROOF_AFTER_NEWSROOM", "60/600"))
# The newsroom's circuit breaker: this many declines in the window, at this share of its charge attempts or
# more, and every start there needs a proof of work until the window ends.
CHECKOUT_BREAKER_DECLINES = _rate(env("CHECKOUT_BREAKER_DECLINES", "10/3600"))
CHECKOUT_BREAKER_RATE = float(env("CHECKOUT_BREAKER_RATE", "0.25"))
# The proof of work (ALTCHA): the largest number a browser may have to try, and how long a challenge lives.
CHECKOUT_PROOF_DIFFICULTY = int(env("CHECKOUT_PROOF_DIFFICULTY", "50000"))
CHECKOUT_PROOF_LIFETIME = int(env("CHECKOUT_PROOF_LIFETIME", "300"))

# --- appeals -------------------------------------------------------------------------------------
APPEALS_MAX_AGE = int(env("APPEALS_MAX_AGE", "60"))
# Aggregate event counts are buffered in memory and written in batches at most this often.
EVENTS_FLUSH_SECONDS = float(env("EVENTS_FLUSH_SECONDS", "2"))

# --- Stripe --------------------------------------------------------------------------------------
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", "sk_test_readerfund_local")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", "pk_test_readerfund_local")
# The development secret is published in this repository: served to the world, it would let anyone sign
# events. There, no default: the default account's endpoints refuse every event until it is set.
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", "" if _SERVES_THE_WORLD else "whsec_readerfund_local")
# Empty means Stripe itself; the demo and tests point these at localstripe.
STRIPE_API_BASE = env("STRIPE_API_BASE", "")
# The API at STRIPE_API_BASE is localstripe: the gateway leaves out the parameters it refuses and uses
# the event's copy of a dispute (it has no disputes API). On by default wherever STRIPE_API_BASE is set.
STRIPE_EMULATOR = env_bool("STRIPE_EMULATOR", bool(STRIPE_API_BASE))
STRIPE_JS_URL = env("STRIPE_JS_URL", "https://js.stripe.com/v3/")
# Our own retries of a failed renewal, in days after its first failure (payments/dunning.py), for newsrooms
# that do not use Stripe's Smart Retries; the plan is canceled after the last. Increasing whole days.
RENEWAL_RETRY_DAYS = tuple(int(day) for day in env_list("RENEWAL_RETRY_DAYS", "3,5,7"))
if not RENEWAL_RETRY_DAYS or any(b <= a for a, b in zip((0, *RENEWAL_RETRY_DAYS), RENEWAL_RETRY_DAYS, strict=False)):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("RENEWAL_RETRY_DAYS must be increasing whole days after the failure, e.g. 3,5,7.")
# A supporter whose card (as Stripe reports it that day) expires within this many days is told once.
CARD_EXPIRY_NOTICE_DAYS = int(env("CARD_EXPIRY_NOTICE_DAYS", "31"))

# --- e-mail --------------------------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = int(env("EMAIL_PORT", "1025"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "notifications@readerfund.local")
# A worker owns a message it is sending for this long; past it, another worker may send it. Must
# exceed EMAIL_TIMEOUT plus rendering (see readerfund/notifications/delivery.py).
EMAIL_SEND_LEASE_SECONDS = float(env("EMAIL_SEND_LEASE_SECONDS", "60"))

# --- background work -----------------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": env("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}
# How often `readerfund worker` runs its periodic jobs: due reminders, lost e-mails, lost webhook events.
WORKER_SCAN_SECONDS = float(env("WORKER_SCAN_SECONDS", "30"))
# A webhook event whose processing has not finished this long after it was stored or enqueued lost its
# task (a worker killed, a dropped connection): the scan enqueues it again. Longer than any live run.
WEBHOOK_REQUEUE_AFTER_SECONDS = float(env("WEBHOOK_REQUEUE_AFTER_SECONDS", "300"))
# A webhook event whose handler failed is tried again after this many seconds, doubled each time.
WEBHOOK_RETRY_SECONDS = float(env("WEBHOOK_RETRY_SECONDS", "60"))

# --- logging: never a reader's IP, user agent or address -----------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # A path may hold a sign-in or cancel link's token: hidden before any handler sees it (core/log_redaction.py).
    "filters": {"secret_paths": {"()": "readerfund.core.log_redaction.SecretPathFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's request loggers print the path and client address of failed requests.
        "django.request": {"level": "ERROR", "filters": ["secret_paths"]},
        "django.security.csrf": {"filters": ["secret_paths"]},
        "django.server": {"handlers": [], "propagate": False},
    },
}
if env("STRIPE_LOG_LEVEL"):
    # The Stripe SDK logs each request at INFO; the demo sets WARNING so its console stays readable.
    LOGGING["loggers"]["stripe"] = {"level": env("STRIPE_LOG_LEVEL")}  # type: ignore[index]

# Staff's admin session must not travel over plain http once the site is served over https.
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", SITE_URL.startswith("https://"))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Strict-Transport-Security's max-age, sent when the site is served over https (SITE_URL or the request);
# 0 turns it off (readerfund/core/headers.py).
HSTS_SECONDS = int(env("HSTS_SECONDS", "31536000"))
# The CSRF cookie of reader pages (checkout, supporter pages): renewed by each page, gone two hours after
# the last; Django's default is a year, a trace on a shared or seized device. Staff pages keep Django's.
READER_CSRF_COOKIE_SECONDS = int(env("READER_CSRF_COOKIE_SECONDS", "7200"))
