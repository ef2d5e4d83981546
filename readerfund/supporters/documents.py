"""The supporter's papers: a printable receipt per payment, a yearly statement, "Download my data", and
"Erase my data" (supporters/data.py holds both services).

Only the signed-in supporter's own payments (supporters/selectors.py; anyone else's id is a 404). The
newsroom's name appears on these pages, never in a file name: a download folder or a print queue may be
seen by someone else.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from readerfund.checkout.validation import locale_pick
from readerfund.core.dates import date_long
from readerfund.core.money import Money
from readerfund.newsrooms.models import Newsroom
from readerfund.payments.models import Payment, Supporter
from readerfund.payments.provider import GatewayError
from readerfund.supporters.copy import page_copy
from readerfund.supporters.data import supporter_data_export, supporter_erase
from readerfund.supporters.page import home_url, page_locale
from readerfund.supporters.selectors import statement_totals, supporter_payment, supporter_payments
from readerfund.supporters.session import supporter_required, supporter_session_end

# Years a statement may be asked for: the project is younger than 2000, and no payment is from the future.
FIRST_YEAR = 2000


def _attachment(response: HttpResponse, filename: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _receipt_lines(t: dict[str, str], payment: Payment) -> dict[str, str]:
    contribution = payment.contribution
    taken_back = min(payment.amount, payment.amount_refunded + payment.amount_disputed)
    return {
        "date": date_long(payment.paid_at.date(), t["locale"]),
        "amount": Money(payment.amount, payment.currency).display(t["locale"]),
        "refunded": Money(taken_back, payment.currency).display(t["locale"]) if taken_back else "",
        "status": t.get(f"payment_{payment.status}", payment.status),
        "frequency": t.get(contribution.frequency, contribution.frequency),
        "reference": payment.provider_charge_id or payment.provider_payment_id,
    }


@require_GET
@supporter_required
def receipt(request: HttpRequest, supporter: Supporter, payment_id: int) -> HttpResponseBase:
    """The receipt, to print (a print stylesheet), or as a file with ?download=1."""
    payment = supporter_payment(supporter=supporter, payment_id=payment_id)
    locale = page_locale(request, supporter)
    newsroom = supporter.newsroom
    t = page_copy(locale, newsroom=newsroom.name)
    lines = _receipt_lines(t, payment)
    query = urlencode({"locale": locale, "download": "1"})
    context = {
        "newsroom": newsroom,
        "t": t,
        "locale": locale,
        "receipt": lines,
        "supporter_reference": supporter.reference,
        "statement_descriptor": newsroom.statement_descriptor,
        "download_url": reverse("supporters-receipt", args=[newsroom.slug, payment.id]) + "?" + query,
        "home_url": home_url(supporter, locale),
    }
    response = render(request, "supporters/receipt.html", context)
    if request.GET.get("download") == "1":
        # The ISO date, not the page's words: a header is latin-1, and a Russian date made Django MIME-encode
        # the whole Content-Disposition, leaving browsers no disposition or name.
        return _attachment(response, f"receipt-{payment.paid_at.date().isoformat()}-{payment.id}.html")
    return response


@require_GET
@supporter_required
def statement(request: HttpRequest, supporter: Supporter, year: int) -> HttpResponseBase:
    if not FIRST_YEAR <= year <= timezone.now().year:
        raise Http404("No such year.")
    locale = page_locale(request, supporter)
    newsroom = supporter.newsroom
    t = page_copy(locale, newsroom=newsroom.name)
    payments = list(reversed(supporter_payments(supporter=supporter, year=year)))  # a statement reads forwards
    context = {
        "newsroom": newsroom,
        "t": t,
        "locale": locale,
        "title": t["statement_title"].replace("{year}", str(year)),
        "empty": t["statement_empty"].replace("{year}", str(year)),
        "payments": [_receipt_lines(t, payment) for payment in payments],
        "totals": statement_totals(payments),
        "supporter_reference": supporter.reference,
        "statement_descriptor": newsroom.statement_descriptor,
        "home_url": home_url(supporter, locale),
    }
    return render(request, "supporters/statement.html", context)


@require_POST
@supporter_required
def data_download(request: HttpRequest, supporter: Supporter) -> HttpResponseBase:
    """Everything we hold about the supporter, as a JSON file (a POST: it is their address and history)."""
    body = json.dumps(supporter_data_export(supporter=supporter), ensure_ascii=False, indent=2)
    response = HttpResponse(body.encode(), content_type="application/json; charset=utf-8")
    return _attachment(response, f"my-data-{timezone.now().date().isoformat()}.json")


@require_http_methods(["GET", "POST"])
@supporter_required
def erase(request: HttpRequest, supporter: Supporter) -> HttpResponseBase:
    """GET: what erasure does, and one button. POST: erase, end the session, and say it is done."""
    locale = page_locale(request, supporter)
    newsroom = supporter.newsroom
    t = page_copy(locale, newsroom=newsroom.name)
    error = ""
    if request.method == "POST":
        try:
            supporter_erase(supporter=supporter)
        except GatewayError:
            # Stripe did not answer: nothing here is erased yet (supporter_erase asks Stripe first), and the
            # supporter, still signed in, is told so and may press again; calling again finishes.
            error = t["erase_failed"]
        else:
            url = reverse("supporters-erased", args=[newsroom.slug]) + "?" + urlencode({"locale": locale})
            response = HttpResponseRedirect(url, status=303)
            supporter_session_end(request=request, response=response)
            return response
    context = {
        "newsroom": newsroom,
        "t": t,
        "locale": locale,
        "data_url": reverse("supporters-data", args=[newsroom.slug]),
        "home_url": home_url(supporter, locale),
        "error": error,
    }
    return render(request, "supporters/erase.html", context, status=503 if error else 200)


@require_GET
def erased(request: HttpRequest, slug: str) -> HttpResponseBase:
    """The last page: the same for anyone (it reveals nothing, and no session is left to show)."""
    newsroom = get_object_or_404(Newsroom, slug=slug)
    locale = locale_pick(request.GET.get("locale"), newsroom)
    context = {"newsroom": newsroom, "t": page_copy(locale, newsroom=newsroom.name), "locale": locale}
    response = render(request, "supporters/erased.html", context)
    response["Cache-Control"] = "no-store"
    return response
