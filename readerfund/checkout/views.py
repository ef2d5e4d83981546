"""The reader's checkout: the page, the two JSON endpoints its script calls, thank-you and refusal pages.

Views parse, call one service, render. Every error a reader can meet comes back as JSON with a message
in their language (the page reads it out through an aria-live region), never as a 500.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.db import OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from readerfund.appeals.rules import rules_for_variant
from readerfund.checkout import card_testing, services
from readerfund.checkout.copy import page_copy, script_messages
from readerfund.checkout.messages import decline_key, message
from readerfund.checkout.scripts import script_response
from readerfund.checkout.validation import (
    REQUEST_KEY,
    CheckoutProblem,
    checkout_request_parse,
    locale_pick,
    return_url_check,
    variant_for,
)
from readerfund.core import amounts
from readerfund.core.http import ApiError, json_body
from readerfund.core.locales import locale_or
from readerfund.core.money import Money
from readerfund.core.ratelimit import RateLimited, client_ip
from readerfund.newsrooms.models import Newsroom
from readerfund.payments.accounts import account_for, stripe_js_url
from readerfund.payments.models import Contribution, Frequency
from readerfund.payments.provider import GatewayError, GatewayUnavailable, PaymentDeclined

logger = logging.getLogger(__name__)


def _source(request: HttpRequest) -> str:
    """The one place the checkout reads who is asking (core/ratelimit.py client_ip: the connection's
    address, or X-Forwarded-For's as far as TRUSTED_PROXY_HOPS says). Only ever hashed."""
    return client_ip(request)


def _error(code: str, text: str, status: int, **extra: Any) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": text, **extra}}, status=status)


def json_endpoint(view: Callable[..., JsonResponse]) -> Callable[..., JsonResponse]:
    """Turns every failure into JSON a person can act on, in the page's locale."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, slug: str) -> JsonResponse:
        locale = locale_or(request.headers.get("X-Readerfund-Locale"))
        try:
            return view(request, slug)
        except CheckoutProblem as problem:
            return _error(problem.code, problem.message, problem.status, field=problem.field, **problem.extra)
        except RateLimited as limited:
            response = _error(
                "rate_limited", message("rate_limited", locale=locale, seconds=str(limited.retry_after)), 429
            )
            response["Retry-After"] = str(limited.retry_after)
            return response
        except card_testing.ProofRequired as required:
            # 428: the page solves the challenge (checkout/static/checkout/proof.js) and sends the start again.
            return _error("proof_required", message("proof_required", locale=locale), 428, challenge=required.challenge)
        except card_testing.CardBlocked:
            return _error("card_blocked", message("card_blocked", locale=locale), 429)
        except ApiError as error:
            return error.response()
        except PaymentDeclined as error:
            key = decline_key(code=error.code, decline_code=error.decline_code)
            return _error(key, message(key, locale=locale), 402)
        except GatewayUnavailable:
            logger.warning("payment provider unreachable during checkout")
            return _error("unavailable", message("unavailable", locale=locale), 503)
        except GatewayError as error:
            logger.warning("payment provider refused a checkout call: %s %s", error.kind, error.code)
            return _error("generic", message("generic", locale=locale), 502)
        except OperationalError as error:
            # SQLite's one writer was busy past busy_timeout, or the database is unreachable: an answer the
            # page reads out, never Django's HTML 500. Whatever was written is whole; the retry continues it.
            logger.warning("database busy during checkout: %s", type(error).__name__)
            response = _error("busy", message("busy", locale=locale), 503)
            response["Retry-After"] = "3"
            return response

    return wrapper


def _newsroom(slug: str) -> Newsroom:
    return get_object_or_404(Newsroom, slug=slug)


def _own_origin(request: HttpRequest) -> str:
    # The demo's articles are served by this deployment itself.
    return f"{request.scheme}://{request.get_host()}"


def _int_or_none(value: str | None) -> int | None:
    # isascii: "²".isdigit() is true, and int("²") raises.
    return int(value) if value and value.isascii() and value.isdigit() and len(value) < 10 else None


@require_GET
def checkout_page(request: HttpRequest, slug: str) -> HttpResponse:
    newsroom = Newsroom.objects.filter(slug=slug).first()
    query = request.GET
    if newsroom is None:
        locale = locale_or(query.get("locale"))
        context: dict[str, Any] = {"t": page_copy(locale, newsroom=""), "locale": locale}
        return render(request, "checkout/not_found.html", context, status=404)
    locale = locale_pick(query.get("locale"), newsroom)
    account = account_for(newsroom)
    campaign, variant = variant_for(newsroom, query.get("campaign"), query.get("variant"))
    rules = rules_for_variant(newsroom, variant)
    frequency, currency, amount = amounts.initial_choice(
        rules,
        frequency=query.get("frequency"),
        currency=query.get("currency"),
        amount=_int_or_none(query.get("amount")),
    )
    options = {
        c: {
            f: {
                "suggested": [
                    {"amount": a, "label": Money(a, c).display(locale)}
                    for a in amounts.suggested_amounts(rules, currency=c, frequency=f)
                ],
                "minimum": amounts.minimum_for(rules, currency=c, frequency=f),
                "minimum_label": Money(amounts.minimum_for(rules, currency=c, frequency=f), c).display(locale),
            }
            for f in amounts.FREQUENCIES
        }
        for c in rules.currencies
    }
    config: dict[str, Any] = {
        "newsroom": newsroom.slug,
        "locale": locale,
        "request_key": services.request_key_new(),
        "campaign": campaign.id if campaign else None,
        "variant": variant.id if variant else None,
        "return": return_url_check(query.get("return"), newsroom, own_origin=_own_origin(request)),
        "frequency": frequency,
        "currency": currency,
        "amount": amount,
        "options": options,
        "publishable_key": account.publishable_key,
        "start_url": reverse("checkout-start", args=[newsroom.slug]),
        "pay_url": reverse("checkout-pay", args=[newsroom.slug]),
        "messages": script_messages(locale),
    }
    t = page_copy(locale, newsroom=newsroom.name)
    context = {
        "newsroom": newsroom,
        "t": t,
        "locale": locale,
        "config": config,
        "frequency_choices": [(f, t[f]) for f in amounts.FREQUENCIES],
        "currencies": rules.currencies,
        "frequencies": amounts.FREQUENCIES,
        "stripe_js_url": stripe_js_url(account),
    }
    response = render(request, "checkout/page.html", context)
    # Each render carries its own request_key: never serve one from a cache.
    response["Cache-Control"] = "no-store"
    return response


def _contribution(newsroom: Newsroom, request_key: Any, locale: str) -> Contribution:
    if not isinstance(request_key, str) or not REQUEST_KEY.match(request_key):
        raise CheckoutProblem("expired_page", message("expired_page", locale=locale))
    contribution = (
        Contribution.objects.select_related("newsroom", "supporter")
        .filter(request_key=request_key, newsroom=newsroom)
        .first()
    )
    if contribution is None:
        raise CheckoutProblem("expired_page", message("expired_page", locale=locale), status=404)
    return contribution


def _answer(outcome: services.CheckoutOutcome, *, locale: str) -> JsonResponse:
    contribution = outcome.contribution
    slug = contribution.newsroom.slug
    if outcome.state in ("done", "processing"):
        url = reverse("checkout-thanks", args=[slug, contribution.request_key])
        return JsonResponse({"state": outcome.state, "redirect": url})
    if outcome.state == "refused":
        url = reverse("checkout-refused", args=[slug, contribution.request_key])
        return JsonResponse({"state": "refused", "redirect": url})
    if outcome.state == "pay":
        return JsonResponse({"state": "pay"})
    if outcome.state in ("setup", "action"):
        body = {
            "state": outcome.state,
            "client_secret": outcome.client_secret,
            "method": contribution.payment_method_type,
        }
        return JsonResponse(body)
    # Failed: this contribution is finished; a fresh key lets the reader try another card at once. Not
    # while a create may have reached Stripe unanswered: a fresh key there could charge a second time.
    unsettled = contribution.status not in services.DEAD and contribution.provider_attempted_at is not None
    extra = {} if unsettled else {"next_request_key": services.request_key_new()}
    return _error(outcome.error_key or "generic", message(outcome.error_key or "generic", locale=locale), 402, **extra)


@require_POST
@json_endpoint
def checkout_start(request: HttpRequest, slug: str) -> JsonResponse:
    newsroom = _newsroom(slug)
    data = json_body(request)
    locale = locale_pick(data.get("locale"), newsroom)
    source = _source(request)
    card_testing.source_limit(newsroom=newsroom, ip=source)
    parsed = checkout_request_parse(data, newsroom=newsroom, own_origin=_own_origin(request))
    card_testing.start_guard(newsroom=newsroom, ip=source, email=parsed.email, proof=data.get("proof"))
    outcome = services.contribution_start(newsroom=newsroom, request=parsed)
    return _answer(outcome, locale=locale)


@require_POST
@json_endpoint
def checkout_pay(request: HttpRequest, slug: str) -> JsonResponse:
    newsroom = _newsroom(slug)
    data = json_body(request)
    locale = locale_pick(data.get("locale"), newsroom)
    card_testing.pay_limit(newsroom=newsroom, ip=_source(request))
    contribution = _contribution(newsroom, data.get("request_key"), locale)
    outcome = services.contribution_pay(contribution=contribution)
    return _answer(outcome, locale=locale)


def _contribution_by_key(newsroom: Newsroom, request_key: str) -> Contribution | None:
    # The key comes from the URL: a %00 in it would make PostgreSQL refuse the query (a 500).
    if not REQUEST_KEY.match(request_key):
        return None
    return Contribution.objects.filter(newsroom=newsroom, request_key=request_key).first()


def _thanks_lines(t: dict[str, str], contribution: Contribution | None) -> list[str]:
    """What the thank-you page says: only what is true now. A SEPA debit takes days and may still fail, so
    a pending one promises neither the money nor a receipt yet."""
    if contribution is None:
        return [t["thanks_unknown"]]
    amount = contribution.money.display(contribution.locale)
    status = contribution.status
    finished = status in services.FINISHED
    if finished:
        lines = [t[f"thanks_{contribution.frequency}"].replace("{amount}", amount)]
    elif status == Contribution.Status.PENDING and contribution.payment_method_type == "sepa_debit":
        lines = [t["thanks_pending_debit"].replace("{amount}", amount)]
        # Only a one-off's failed debit is e-mailed (payments/notices.py payment_failed_notify).
        if contribution.frequency == Frequency.ONE_OFF:
            lines.append(t["thanks_pending_debit_failure"])
    elif status in (Contribution.Status.PENDING, Contribution.Status.REQUIRES_ACTION):
        lines = [t["thanks_pending"].replace("{amount}", amount)]
    else:
        return [t["thanks_unknown"]]
    if contribution.receipt_requested:
        lines.append(t["thanks_receipt"] if finished else t["thanks_receipt_later"])
    return lines


@require_GET
def checkout_thanks(request: HttpRequest, slug: str, request_key: str) -> HttpResponse:
    newsroom = _newsroom(slug)
    contribution = _contribution_by_key(newsroom, request_key)
    locale = contribution.locale if contribution else locale_pick(request.GET.get("locale"), newsroom)
    t = page_copy(locale, newsroom=newsroom.name)
    supported = contribution is not None and contribution.status not in services.DEAD
    return_url = contribution.return_url if contribution else ""
    context = {
        "newsroom": newsroom,
        "t": t,
        "locale": locale,
        "lines": _thanks_lines(t, contribution),
        "supported": supported,
        "back_url": f"{return_url}#readerfund-supporter" if return_url and supported else return_url,
        "storage_key": f"readerfund:{newsroom.slug}:supporter",
        "manage_url": reverse("supporters-signin", args=[newsroom.slug]) + "?" + urlencode({"locale": locale}),
    }
    response = render(request, "checkout/thanks.html", context, status=200 if contribution else 404)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def checkout_refused(request: HttpRequest, slug: str, request_key: str) -> HttpResponse:
    newsroom = _newsroom(slug)
    contribution = _contribution_by_key(newsroom, request_key)
    if contribution is None or contribution.status != Contribution.Status.REFUSED:
        raise Http404("No such refusal.")
    t = page_copy(contribution.locale, newsroom=newsroom.name)
    query = {"locale": contribution.locale, "frequency": contribution.frequency, "currency": contribution.currency}
    if contribution.return_url:
        query["return"] = contribution.return_url
    again = reverse("checkout-page", args=[newsroom.slug]) + "?" + urlencode(query)
    context = {
        "newsroom": newsroom,
        "t": t,
        "locale": contribution.locale,
        "safer_options": newsroom.safer_options,
        "back_url": contribution.return_url,
        "again_url": again,
    }
    return render(request, "checkout/refused.html", context)


@require_GET
def checkout_js(request: HttpRequest) -> HttpResponse:
    return script_response("checkout-js")


@require_GET
def authenticate_js(request: HttpRequest) -> HttpResponse:
    return script_response("checkout-authenticate-js")


@require_GET
def proof_js(request: HttpRequest) -> HttpResponse:
    """The proof-of-work solver, from our own server: no third-party captcha sees who supports whom."""
    return script_response("checkout-proof-js")
