"""The page a renewal e-mail links to when the bank wants 3-D Secure for a renewal
(invoice.payment_action_required): it completes that one invoice's payment, nothing else.

The link is signed and names one contribution (by its random request key) and one invoice; it works
without signing in, so it can do nothing but confirm that payment. GET only shows the page (mail
scanners follow links); Stripe.js asks the bank, then a POST has our server read the result.
"""

from __future__ import annotations

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from readerfund.checkout.copy import page_copy
from readerfund.newsrooms.models import Newsroom
from readerfund.payments import gateway, ledger
from readerfund.payments.accounts import account_for, stripe_js_url
from readerfund.payments.models import Contribution
from readerfund.payments.notices import renewal_action_read
from readerfund.payments.provider import GatewayError, GatewayNotFound

# The plans whose renewal may wait for the supporter's bank.
_RUNNING = (Contribution.Status.ACTIVE, Contribution.Status.PAST_DUE)


def _renewal(newsroom: Newsroom, token: str) -> tuple[Contribution, str] | None:
    read = renewal_action_read(token)
    if read is None:
        return None
    request_key, invoice_id = read
    contribution = Contribution.objects.filter(newsroom=newsroom, request_key=request_key).first()
    if contribution is None or not contribution.provider_subscription_id:
        return None
    if contribution.status not in _RUNNING:
        # The plan ended since the e-mail went out (canceled): an old link must not take money for it.
        return None
    return contribution, invoice_id


@require_http_methods(["GET", "POST"])
def renewal_authenticate(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    newsroom = Newsroom.objects.filter(slug=slug).first()
    found = _renewal(newsroom, token) if newsroom is not None else None
    locale = found[0].locale if found else "en"
    t = page_copy(locale, newsroom=newsroom.name if newsroom else "")
    context = {"newsroom": newsroom, "t": t, "locale": locale, "client_secret": ""}
    if newsroom is None or found is None:
        return render(request, "checkout/authenticate.html", {**context, "text": t["authenticate_gone"]}, status=404)
    contribution, invoice_id = found
    amount = contribution.money.display(contribution.locale)
    account = account_for(newsroom)
    with gateway.account_use(account):
        try:
            invoice = gateway.invoice_get(invoice_id=invoice_id)
            if invoice.subscription != contribution.provider_subscription_id:
                return render(
                    request, "checkout/authenticate.html", {**context, "text": t["authenticate_gone"]}, status=404
                )
            if request.method == "POST":
                ledger.invoice_sync(newsroom=newsroom, invoice_id=invoice_id)
            intent = gateway.payment_intent_get(intent_id=invoice.payment_intent) if invoice.payment_intent else None
        except GatewayNotFound:
            # Signed by us, but the invoice is not (or no longer) in this newsroom's account.
            return render(
                request, "checkout/authenticate.html", {**context, "text": t["authenticate_gone"]}, status=404
            )
        except (GatewayError, OperationalError):
            # Stripe unreachable, or the database busy past its timeout: a page that says try again, not a 500.
            response = render(
                request, "checkout/authenticate.html", {**context, "text": t["authenticate_failed"]}, status=503
            )
            response["Retry-After"] = "5"
            return response
    if invoice.paid or (intent is not None and intent.status == "succeeded"):
        return render(
            request,
            "checkout/authenticate.html",
            {**context, "text": t["authenticate_done"].replace("{amount}", amount)},
        )
    if intent is None or intent.status != "requires_action":
        text = t["authenticate_failed"] if request.method == "POST" else t["authenticate_gone"]
        return render(request, "checkout/authenticate.html", {**context, "text": text})
    config = {
        "client_secret": intent.client_secret,
        "publishable_key": account.publishable_key,
        "working": t["working"],
    }
    text = t["authenticate_failed"] if request.method == "POST" else t["authenticate_text"].replace("{amount}", amount)
    response = render(
        request,
        "checkout/authenticate.html",
        {
            **context,
            "text": text,
            "client_secret": intent.client_secret,
            "config": config,
            "stripe_js_url": stripe_js_url(account),
        },
    )
    response["Cache-Control"] = "no-store"
    return response
