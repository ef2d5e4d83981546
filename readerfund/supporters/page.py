"""The supporter's page, /account/<newsroom>/home/, and the changes it makes to their own contributions.

Every change is a POST (with Django's CSRF check) for a contribution looked up among the signed-in
supporter's own (supporters/selectors.py: anyone else's id is a 404 and changes nothing), handed to one
service of payments/changes.py, then answered with a redirect to the page, which confirms it (`done=`).
The services make a double submit harmless and queue the confirmation e-mail. A refusal re-renders the
page with the reason in the reader's language next to the form that caused it, keyed by the refusal's
code (the service's message is English, for logs and the API).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from readerfund.checkout.scripts import script_response
from readerfund.checkout.validation import locale_pick
from readerfund.core import amounts
from readerfund.core.dates import date_long
from readerfund.core.money import Money
from readerfund.payments import changes
from readerfund.payments.accounts import account_for, stripe_js_url
from readerfund.payments.models import Contribution, Frequency, Payment, Supporter
from readerfund.payments.provider import GatewayError
from readerfund.supporters.copy import page_copy
from readerfund.supporters.selectors import (
    contribution_changeable,
    supporter_contribution,
    supporter_contributions,
    supporter_payment_years,
    supporter_payments,
)
from readerfund.supporters.session import supporter_required

# Stripe's ids, e.g. seti_1NxY...: letters, digits and underscores.
_PROVIDER_ID = re.compile(r"[A-Za-z0-9_]+")
DONE = ("amount", "pause", "resume", "cancel", "card")
Status = Contribution.Status


def page_locale(request: HttpRequest, supporter: Supporter) -> str:
    """The language asked for by the form or the link, else the supporter's own."""
    asked = request.POST.get("locale") or request.GET.get("locale") or supporter.locale
    return locale_pick(asked, supporter.newsroom)


def home_url(supporter: Supporter, locale: str, **query: str) -> str:
    return reverse("supporters-home", args=[supporter.newsroom.slug]) + "?" + urlencode({"locale": locale, **query})


def _done_url(supporter: Supporter, locale: str, kind: str, contribution: Contribution) -> str:
    # No #fragment: a page with one ignores autofocus, and the confirmation, in the contribution's own
    # card, takes the focus (and scrolls there) so that a screen reader says it.
    return home_url(supporter, locale, done=kind, contribution=str(contribution.id))


def refusal_text(t: dict[str, str], refused: changes.ChangeRefused) -> str:
    text = t.get(f"refused_{refused.code}") or t["refused_generic"]
    # An amount's refusal is raised from the checkout's AmountProblem, which carries the limit.
    problem = refused.__cause__
    for limit in ("minimum", "maximum"):
        money = getattr(problem, limit, None)
        if isinstance(money, Money):
            text = text.replace("{" + limit + "}", money.display(t["locale"]))
    return text.replace("{minimum}", "").replace("{maximum}", "")


# --- the page --------------------------------------------------------------------------------------


def _contribution_view(
    t: dict[str, str], contribution: Contribution, problem: dict[str, Any], done: tuple[str, str]
) -> dict[str, Any]:
    frequency = t.get(contribution.frequency, contribution.frequency)
    amount = contribution.money.display(t["locale"])
    changeable = contribution_changeable(contribution)
    cancels_at = contribution.cancels_at
    canceling = cancels_at is not None
    return {
        "id": contribution.id,
        "heading": t["contribution_heading"].replace("{frequency}", frequency).replace("{amount}", amount),
        "status": t.get(f"status_{contribution.status}", contribution.status),
        "started": t["started_on"].replace("{date}", date_long(contribution.created_at.date(), t["locale"])),
        "paused_until": (
            t["paused_until"].replace("{date}", date_long(contribution.paused_until, t["locale"]))
            if contribution.status == Status.PAUSED and contribution.paused_until
            else ""
        ),
        "ends_on": t["ends_on"].replace("{date}", date_long(cancels_at, t["locale"])) if cancels_at is not None else "",
        "currency": contribution.currency,
        "frequency": contribution.frequency,
        "amount_major": contribution.money.major_str(),
        "can_change": changeable and not canceling and contribution.status in (Status.ACTIVE, Status.PAUSED),
        "can_pause": changeable and not canceling and contribution.status == Status.ACTIVE,
        "can_resume": changeable and contribution.status == Status.PAUSED,
        "can_cancel": changeable and not canceling,
        "cancels_now": contribution.status != Status.ACTIVE,
        "can_card": changeable and bool(contribution.provider_customer_id),
        "problem": problem if problem.get("contribution") == contribution.id else {},
        "done_text": done[1] if done[0] == str(contribution.id) else "",
        "new_amount_label": t["new_amount"].replace("{currency}", contribution.currency),
    }


def _payment_view(t: dict[str, str], payment: Payment, slug: str, locale: str) -> dict[str, Any]:
    day = date_long(payment.paid_at.date(), locale)
    return {
        "id": payment.id,
        "date": day,
        "amount": Money(payment.amount, payment.currency).display(locale),
        "status": t.get(f"payment_{payment.status}", payment.status),
        "receipt_url": reverse("supporters-receipt", args=[slug, payment.id]) + "?" + urlencode({"locale": locale}),
        "receipt_text": t["receipt_link"].replace("{date}", day),
    }


def _home(
    request: HttpRequest, supporter: Supporter, locale: str, *, status: int = 200, problem: dict[str, Any] | None = None
) -> HttpResponse:
    newsroom = supporter.newsroom
    t = page_copy(locale, newsroom=newsroom.name)
    slug = newsroom.slug
    done = request.GET.get("done", "") if request.method == "GET" else ""
    done_text = t[f"done_{done}"] if done in DONE else ""
    done_at = (str(request.GET.get("contribution", "")), done_text)
    years = supporter_payment_years(supporter=supporter)
    contributions = supporter_contributions(supporter=supporter)
    context = {
        "newsroom": newsroom,
        "t": t,
        "locale": locale,
        # Shown at the top only when the contribution it is about is not on the page.
        "done_text": "" if any(str(c.id) == done_at[0] for c in contributions) else done_text,
        "contributions": [
            _contribution_view(t, contribution, problem or {}, done_at) for contribution in contributions
        ],
        "payments": [_payment_view(t, p, slug, locale) for p in supporter_payments(supporter=supporter)],
        "statements": [
            {
                "url": reverse("supporters-statement", args=[slug, year]) + "?" + urlencode({"locale": locale}),
                "text": t["statement_link"].replace("{year}", str(year)),
            }
            for year in years
        ],
        "pause_months": [(months, t[f"pause_months_{months}"]) for months in changes.PAUSE_MONTHS],
        "frequencies": [(Frequency.MONTHLY.value, t["monthly"]), (Frequency.ANNUAL.value, t["annual"])],
        "slug": slug,
        "signout_url": reverse("supporters-signout", args=[slug]),
        "data_url": reverse("supporters-data", args=[slug]),
        "erase_url": reverse("supporters-erase", args=[slug]) + "?" + urlencode({"locale": locale}),
    }
    return render(request, "supporters/home.html", context, status=status)


@require_GET
@supporter_required
def account_home(request: HttpRequest, supporter: Supporter) -> HttpResponseBase:
    return _home(request, supporter, page_locale(request, supporter))


# --- the changes -----------------------------------------------------------------------------------


def _change(
    request: HttpRequest,
    supporter: Supporter,
    contribution: Contribution,
    kind: str,
    service: Callable[[], Any],
) -> HttpResponseBase:
    """Run one change; on success back to the page with its confirmation, else the page with the refusal."""
    locale = page_locale(request, supporter)
    t = page_copy(locale, newsroom=supporter.newsroom.name)
    try:
        service()
    except changes.ChangeRefused as refused:
        problem = {"contribution": contribution.id, "form": kind, "text": refusal_text(t, refused)}
        return _home(request, supporter, locale, status=400, problem=problem)
    except GatewayError:
        problem = {"contribution": contribution.id, "form": kind, "text": t["refused_generic"]}
        return _home(request, supporter, locale, status=503, problem=problem)
    return HttpResponseRedirect(_done_url(supporter, locale, kind, contribution), status=303)


@require_POST
@supporter_required
def contribution_amount(request: HttpRequest, supporter: Supporter, contribution_id: int) -> HttpResponseBase:
    contribution = supporter_contribution(supporter=supporter, contribution_id=contribution_id)
    frequency = str(request.POST.get("frequency") or contribution.frequency)

    def change() -> Any:
        try:
            amount = amounts.amount_from_text(str(request.POST.get("amount", ""))[:20], currency=contribution.currency)
        except amounts.AmountProblem as problem:
            raise changes.ChangeRefused(problem.code, "That is not an amount.") from problem
        return changes.contribution_amount_change(contribution=contribution, amount=amount, frequency=frequency)

    return _change(request, supporter, contribution, "amount", change)


@require_POST
@supporter_required
def contribution_pause(request: HttpRequest, supporter: Supporter, contribution_id: int) -> HttpResponseBase:
    contribution = supporter_contribution(supporter=supporter, contribution_id=contribution_id)
    text = str(request.POST.get("months", ""))
    months = int(text) if text in {str(m) for m in changes.PAUSE_MONTHS} else 0

    def change() -> Any:
        return changes.contribution_pause(contribution=contribution, months=months)

    return _change(request, supporter, contribution, "pause", change)


@require_POST
@supporter_required
def contribution_resume(request: HttpRequest, supporter: Supporter, contribution_id: int) -> HttpResponseBase:
    contribution = supporter_contribution(supporter=supporter, contribution_id=contribution_id)
    return _change(
        request, supporter, contribution, "resume", lambda: changes.contribution_resume(contribution=contribution)
    )


@require_POST
@supporter_required
def contribution_cancel(request: HttpRequest, supporter: Supporter, contribution_id: int) -> HttpResponseBase:
    contribution = supporter_contribution(supporter=supporter, contribution_id=contribution_id)
    reason = str(request.POST.get("reason", ""))[:500]
    return _change(
        request,
        supporter,
        contribution,
        "cancel",
        lambda: changes.contribution_cancel(contribution=contribution, reason=reason),
    )


# --- a new card ------------------------------------------------------------------------------------


def _card_page(
    request: HttpRequest,
    supporter: Supporter,
    contribution: Contribution,
    locale: str,
    *,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    newsroom = supporter.newsroom
    t = page_copy(locale, newsroom=newsroom.name)
    account = account_for(newsroom)
    frequency = t.get(contribution.frequency, contribution.frequency).lower()
    ids = [newsroom.slug, contribution.id]
    config = {
        "publishable_key": account.publishable_key,
        "start_url": reverse("supporters-card-start", args=ids),
        "locale": locale,
        "messages": {
            "working": t["card_working"],
            "card_declined": t["refused_card_declined"],
            "generic": t["refused_generic"],
        },
    }
    context = {
        "newsroom": newsroom,
        "t": t,
        "locale": locale,
        "intro": t["card_intro"]
        .replace("{frequency}", frequency)
        .replace("{amount}", contribution.money.display(t["locale"])),
        "finish_url": reverse("supporters-card-finish", args=ids),
        "home_url": home_url(supporter, locale),
        "stripe_js_url": stripe_js_url(account),
        "config": config,
        "error": error,
    }
    return render(request, "supporters/card.html", context, status=status)


@require_GET
@supporter_required
def contribution_card(request: HttpRequest, supporter: Supporter, contribution_id: int) -> HttpResponseBase:
    """The card form. The SetupIntent is made only when the supporter submits it (card_start), not on a GET."""
    contribution = supporter_contribution(supporter=supporter, contribution_id=contribution_id)
    return _card_page(request, supporter, contribution, page_locale(request, supporter))


@require_POST
@supporter_required
def contribution_card_start(request: HttpRequest, supporter: Supporter, contribution_id: int) -> HttpResponseBase:
    """JSON for the card page's script: {"client_secret"} to confirm with Stripe.js, or {"error"} in words."""
    contribution = supporter_contribution(supporter=supporter, contribution_id=contribution_id)
    t = page_copy(page_locale(request, supporter), newsroom=supporter.newsroom.name)
    try:
        secret = changes.contribution_card_replace_start(contribution=contribution)
    except changes.ChangeRefused as refused:
        return JsonResponse({"error": refusal_text(t, refused)}, status=400)
    except GatewayError:
        return JsonResponse({"error": t["refused_generic"]}, status=503)
    return JsonResponse({"client_secret": secret})


@require_POST
@supporter_required
def contribution_card_finish(request: HttpRequest, supporter: Supporter, contribution_id: int) -> HttpResponseBase:
    contribution = supporter_contribution(supporter=supporter, contribution_id=contribution_id)
    locale = page_locale(request, supporter)
    t = page_copy(locale, newsroom=supporter.newsroom.name)
    setup_intent_id = str(request.POST.get("setup_intent_id", ""))[:64]
    if not _PROVIDER_ID.fullmatch(setup_intent_id):
        setup_intent_id = ""  # not an id at all (a NUL would even fail PostgreSQL's query): refused as foreign
    try:
        changes.contribution_card_replace_finish(contribution=contribution, setup_intent_id=setup_intent_id)
    except changes.ChangeRefused as refused:
        return _card_page(request, supporter, contribution, locale, error=refusal_text(t, refused), status=400)
    except GatewayError:
        return _card_page(request, supporter, contribution, locale, error=t["refused_generic"], status=503)
    return HttpResponseRedirect(_done_url(supporter, locale, "card", contribution), status=303)


@require_GET
def card_js(request: HttpRequest) -> HttpResponse:
    return script_response("supporters-card-js")
