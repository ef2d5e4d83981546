"""Logs never hold an e-mail address, a name or a token: the whole suite checks every log record.

A handler on the root logger keeps the text of each record (message with its arguments, and any
traceback) emitted while a test runs; the test fails if

- a record from readerfund's own loggers, django.request or the Stripe SDK holds anything shaped
  like an e-mail address, or
- any record holds a value registered as sensitive: every plaintext the test encrypted at rest
  (addresses, names, Stripe keys: `core/privacy.py` `encrypt` registers them in tests), and what
  a test registers itself with `sensitive(token)`.
"""

from __future__ import annotations

import logging
import re
import threading

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
ADDRESS_CHECKED = ("readerfund", "django.request", "stripe")  # and their children
# The test's own SMTP server (aiosmtpd) logs each recipient: that is the mail server's log, not ours.
UNCHECKED = ("mail.log",)
# Addresses that name no reader: the Stripe SDK's errors end with its support address.
NOT_PERSONAL = {"support@stripe.com"}
# Shorter values ("Ann", "{}") would match innocent text: registered only when a test asks.
AUTOMATIC_MIN_LENGTH = 6

_formatter = logging.Formatter()


class LogWatch(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self._lock_records = threading.Lock()
        self.records: list[tuple[str, str]] = []
        self.secrets: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a broken format string is the logging module's problem, not a leak
            text = str(record.msg)
        if record.exc_info:
            text += "\n" + _formatter.formatException(record.exc_info)
        with self._lock_records:
            self.records.append((record.name, text))

    def reset(self) -> None:
        with self._lock_records:
            self.records.clear()
        self.secrets.clear()

    def leaks(self) -> list[str]:
        with self._lock_records:
            records = list(self.records)
        found = []
        for name, text in records:
            if name in UNCHECKED:
                continue
            what = [secret for secret in self.secrets if secret in text]
            if name.split(".")[0] in ADDRESS_CHECKED or name in ADDRESS_CHECKED:
                what += [address for address in EMAIL.findall(text) if address not in NOT_PERSONAL]
            if what:
                found.append(f"{name}: {text[:300]!r} holds {what!r}")
        return found


watch = LogWatch()


def sensitive(value: str) -> str:
    """Register a value no log line may hold during this test (a token, a name); returns it."""
    if value:
        watch.secrets.add(value)
    return value


def sensitive_if_long(value: str) -> None:
    if len(value) >= AUTOMATIC_MIN_LENGTH:
        watch.secrets.add(value)
