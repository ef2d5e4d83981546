"""Django's own log lines about a request print its path; four of our paths carry a working secret.

django.request logs every failed request (a 500: "Internal Server Error: <path>") and
django.security.csrf every refused CSRF check ("Forbidden (CSRF cookie not set.): <path>", a WARNING,
so printed at the default level). A reader whose phone keeps no cookies presses the button of a sign-in
link or of a receipt's cancel link: the refusal would log the link, still valid (for 60 days, for a
cancel link). The filter, set on those loggers (config/settings.py LOGGING), replaces the token in such
a path before any handler sees the record.
"""

from __future__ import annotations

import logging
import re

# The paths whose last part is a secret: the sign-in link, the pause and cancel links, the reminder's
# unsubscribe link, the renewal's 3-D Secure page (supporters/, reminders/ and checkout/urls.py).
_SECRET_PATH = re.compile(
    r"(/account/[^/\s]+/(?:signin|email)/|/reminders/unsubscribe/|/support/[^/\s]+/authenticate/)[^/\s]+"
)
HIDDEN = "[token]"


def path_redact(text: str) -> str:
    return _SECRET_PATH.sub(rf"\g<1>{HIDDEN}", text)


class SecretPathFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = path_redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(path_redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True
