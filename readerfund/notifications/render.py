"""Turn an outbox row into an e-mail: per-locale templates, the newsroom's sender name, fixed headers.

Template layout (any app's templates/ directory):
  notifications/<locale>/<template>.subject.txt   one line
  notifications/<locale>/<template>.txt           plain text
  notifications/<locale>/<template>.html          HTML (may extend notifications/base.html)
A locale without its own templates falls back to English.
"""

from __future__ import annotations

import json
import re
from email.utils import formataddr
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import TemplateDoesNotExist
from django.template.loader import get_template, render_to_string
from django.utils import translation

from readerfund.notifications.models import OutboxMessage

FALLBACK_LOCALE = "en"
PARTS = ("subject.txt", "txt", "html")


def template_locale(template: str, locale: str) -> str:
    """The locale whose templates will render `template`; raises TemplateDoesNotExist if none do."""
    for candidate in dict.fromkeys([(locale or "").lower()[:2], FALLBACK_LOCALE]):
        try:
            for part in PARTS:
                get_template(f"notifications/{candidate}/{template}.{part}")
        except TemplateDoesNotExist:
            continue
        return candidate
    raise TemplateDoesNotExist(f"notifications/{FALLBACK_LOCALE}/{template}.txt")


def message_id_for(message_key: str) -> str:
    # Stable per message_key: if a crash makes us send twice, the copies share one Message-ID, so
    # the receiving side (and our tests) can tell that they are one message.
    host = urlsplit(settings.SITE_URL).hostname or "readerfund"
    return f"<{message_key}@{host}>"


def message_render(message: OutboxMessage) -> EmailMultiAlternatives:
    newsroom = message.newsroom
    context = {**json.loads(message.context or "{}"), "newsroom": newsroom, "site_url": settings.SITE_URL}
    prefix = f"notifications/{message.locale}/{message.template}"
    with translation.override(message.locale):
        subject = " ".join(render_to_string(f"{prefix}.subject.txt", context).split())
        text = render_to_string(f"{prefix}.txt", context)
        html = render_to_string(f"{prefix}.html", context)
    headers = {"Message-ID": message_id_for(message.message_key)}
    if message.unsubscribe_url:
        # RFC 8058 one-click: mail clients POST "List-Unsubscribe=One-Click" to this URL.
        headers["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=formataddr((_one_line(newsroom.sender_name), settings.DEFAULT_FROM_EMAIL)),
        to=[message.to_address],
        headers=headers,
    )
    email.attach_alternative(html, "text/html")
    return email


def _one_line(value: str) -> str:
    return re.sub(r"[\r\n]+", " ", value).strip()
