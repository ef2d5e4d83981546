"""POST /api/v1/reminders: "Remind me later" from the embed (text/plain JSON, no credentials).

No oracle: the answer to a valid request is the same, byte for byte, whether the address is new here,
already has a pending reminder (which is moved), or has used up its per-address limit (nothing
changes). Otherwise anyone could learn that an address asked this newsroom for a reminder.
"""

from __future__ import annotations

import functools
from datetime import date, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from readerfund.appeals.models import Variant
from readerfund.core.cors import cors_apply, cors_preflight
from readerfund.core.http import ApiError, field, json_body, method_not_allowed
from readerfund.core.privacy import email_checked
from readerfund.core.ratelimit import RateLimited, client_ip, rate_limit_hit
from readerfund.newsrooms.models import Newsroom
from readerfund.reminders import schedule
from readerfund.reminders.copy import day_text, locale_or_default, text
from readerfund.reminders.services import reminder_schedule

# Readers of exiled newsrooms often share an address (VPNs, Tor exits, carrier NAT): the per-IP
# limit is generous and the per-address one is tight.
IP_LIMIT, IP_WINDOW_SECONDS = 30, 600
ADDRESS_LIMIT, ADDRESS_WINDOW_SECONDS = 5, 3600
# Longest IANA zone names are about 30 characters ("America/Argentina/ComodRivadavia").
_MAX_ZONE_LENGTH = 64


@csrf_exempt
def reminders(request: HttpRequest) -> HttpResponse:
    if request.method == "OPTIONS":
        return cors_preflight(request, None)
    slug: str | None = None
    locale = "en"
    try:
        if request.method != "POST":
            return cors_apply(request, method_not_allowed(("POST", "OPTIONS"), "Use POST with a JSON body."), None)
        rate_limit_hit(scope="reminders:ip", key=client_ip(request), limit=IP_LIMIT, window_seconds=IP_WINDOW_SECONDS)
        data = json_body(request, refuse_nul=False)
        slug = field(data, "newsroom", str)
        # A NUL is in no newsroom's slug, and PostgreSQL would refuse the query (a 500).
        newsroom = None if "\x00" in slug else Newsroom.objects.filter(slug=slug).first()
        if newsroom is None:
            raise ApiError(404, "unknown_newsroom", f"No newsroom '{slug}' is published here.", field="newsroom")
        locale = locale_or_default(field(data, "locale", str, required=False), newsroom.default_locale)
        response: HttpResponse = _schedule(newsroom=newsroom, data=data, locale=locale)
    except RateLimited as limited:
        minutes = max(1, -(-limited.retry_after // 60))
        response = ApiError(429, "rate_limited", text(locale, "rate_limited", minutes=minutes)).response()
        response["Retry-After"] = str(limited.retry_after)
    except ApiError as error:
        response = error.response()
    return cors_apply(request, response, slug)


def _schedule(*, newsroom: Newsroom, data: dict[str, Any], locale: str) -> JsonResponse:
    raw_email = field(data, "email", str)
    remind_on_text = field(data, "remind_on", str)
    consent = field(data, "consent", bool)
    campaign_id = field(data, "campaign", int, required=False)
    variant_id = field(data, "variant", int, required=False)
    zone = reader_zone(field(data, "timezone", str, required=False))
    try:
        email = email_checked(raw_email)
    except ValidationError:
        raise ApiError(400, "invalid_email", text(locale, "invalid_email"), field="email") from None
    chosen = schedule.remind_on_parse(remind_on_text)
    if chosen is None:
        raise ApiError(400, "invalid_date", text(locale, "invalid_date"), field="remind_on")
    if consent is not True:
        raise ApiError(400, "consent_required", text(locale, "consent_required"), field="consent")
    remind_on = schedule.remind_on_within(chosen, today=schedule.reader_today(now=timezone.now(), zone=zone))
    try:
        rate_limit_hit(
            scope="reminders:address",
            key=address_limit_key(email),
            limit=ADDRESS_LIMIT,
            window_seconds=ADDRESS_WINDOW_SECONDS,
        )
    except RateLimited:
        # Answered as if scheduled, and nothing changes: a 429 here would say that this address was
        # sent to us again and again within the hour, by someone.
        return _scheduled_answer(remind_on, locale)
    if not _attribution_known(newsroom=newsroom, campaign_id=campaign_id, variant_id=variant_id):
        # A campaign may have ended since the appeal was shown: keep the reminder, drop the label.
        campaign_id = variant_id = None
    reminder_schedule(
        newsroom=newsroom,
        email=email,
        remind_on=remind_on,
        locale=locale,
        campaign_id=campaign_id,
        variant_id=variant_id,
        zone=zone,
    )
    return _scheduled_answer(remind_on, locale)


def _scheduled_answer(remind_on: date, locale: str) -> JsonResponse:
    """The one answer to every valid request: nothing in it depends on what we hold for the address."""
    body = {"remind_on": remind_on.isoformat(), "message": text(locale, "scheduled", day=day_text(remind_on, locale))}
    return JsonResponse(body, status=202)


@functools.lru_cache(maxsize=512)
def reader_zone(name: str | None) -> tzinfo | None:
    """The reader's IANA time zone, or None (unknown) for anything that is not one: never an error,
    since the rule without it (the latest date on Earth) is the safe one."""
    if not name or len(name) > _MAX_ZONE_LENGTH or not name.isascii() or "\x00" in name:
        return None
    try:
        return ZoneInfo(name)
    except (ValueError, OSError, KeyError):  # ZoneInfoNotFoundError is a KeyError; "../x" a ValueError
        return None


def address_limit_key(email: str) -> str:
    """The per-address limit's key: the mailbox, without a "+tag" (a+1@, a+2@ … all reach a@)."""
    local, _, domain = email.rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def _attribution_known(*, newsroom: Newsroom, campaign_id: int | None, variant_id: int | None) -> bool:
    if campaign_id is None or variant_id is None:
        return False
    return Variant.objects.filter(id=variant_id, campaign_id=campaign_id, campaign__newsroom=newsroom).exists()
