"""POST /api/v1/reminders: "Remind me later" from the embed (text/plain JSON, no credentials)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from readerfund.appeals.models import Variant
from readerfund.core.cors import cors_apply, cors_preflight
from readerfund.core.http import ApiError, field, json_body
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


@csrf_exempt
def reminders(request: HttpRequest) -> HttpResponse:
    if request.method == "OPTIONS":
        return cors_preflight(request, None)
    slug: str | None = None
    locale = "en"
    try:
        if request.method != "POST":
            raise ApiError(405, "method_not_allowed", "Use POST with a JSON body.")
        rate_limit_hit(scope="reminders:ip", key=client_ip(request), limit=IP_LIMIT, window_seconds=IP_WINDOW_SECONDS)
        data = json_body(request)
        slug = field(data, "newsroom", str)
        newsroom = Newsroom.objects.filter(slug=slug).first()
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
    try:
        email = email_checked(raw_email)
    except ValidationError:
        raise ApiError(400, "invalid_email", text(locale, "invalid_email"), field="email") from None
    remind_on = schedule.remind_on_parse(remind_on_text)
    if remind_on is None:
        raise ApiError(400, "invalid_date", text(locale, "invalid_date"), field="remind_on")
    today = timezone.now().date()
    problem = schedule.remind_on_problem(remind_on, today=today)
    if problem is not None:
        latest = day_text(schedule.latest_remind_on(today), locale)
        raise ApiError(400, problem, text(locale, problem, day=latest), field="remind_on")
    if consent is not True:
        raise ApiError(400, "consent_required", text(locale, "consent_required"), field="consent")
    rate_limit_hit(scope="reminders:address", key=email, limit=ADDRESS_LIMIT, window_seconds=ADDRESS_WINDOW_SECONDS)
    if not _attribution_known(newsroom=newsroom, campaign_id=campaign_id, variant_id=variant_id):
        # A campaign may have ended since the appeal was shown: keep the reminder, drop the label.
        campaign_id = variant_id = None
    result = reminder_schedule(
        newsroom=newsroom,
        email=email,
        remind_on=remind_on,
        locale=locale,
        campaign_id=campaign_id,
        variant_id=variant_id,
    )
    day = day_text(remind_on, locale)
    body = {
        "remind_on": remind_on.isoformat(),
        "moved": result.moved,
        "message": text(locale, "moved" if result.moved else "scheduled", day=day),
    }
    return JsonResponse(body, status=200 if result.moved else 201)


def _attribution_known(*, newsroom: Newsroom, campaign_id: int | None, variant_id: int | None) -> bool:
    if campaign_id is None or variant_id is None:
        return False
    return Variant.objects.filter(id=variant_id, campaign_id=campaign_id, campaign__newsroom=newsroom).exists()
