"""Parse what the checkout page sends into a CheckoutRequest, or a reader-facing CheckoutProblem."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

from readerfund.appeals.models import Campaign, Variant
from readerfund.appeals.rules import rules_for_variant
from readerfund.checkout.messages import message
from readerfund.core import amounts
from readerfund.core.locales import locale_or
from readerfund.core.money import Money
from readerfund.core.privacy import email_checked
from readerfund.newsrooms.models import Newsroom

REQUEST_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
METHODS = ("card", "sepa_debit")


class CheckoutProblem(Exception):
    """A problem the reader can fix: `code` for the page, `message` in their language."""

    def __init__(self, code: str, message_text: str, *, status: int = 400, field_name: str = "", **extra: Any) -> None:
        super().__init__(message_text)
        self.code = code
        self.message = message_text
        self.status = status
        self.field = field_name
        self.extra = extra


@dataclass(frozen=True)
class CheckoutRequest:
    request_key: str
    money: Money
    frequency: str
    email: str
    name: str
    receipt: bool
    locale: str
    method: str
    campaign: Campaign | None
    variant: Variant | None
    return_url: str


def locale_pick(value: Any, newsroom: Newsroom) -> str:
    return locale_or(value, newsroom.default_locale)


def variant_for(newsroom: Newsroom, campaign_id: Any, variant_id: Any) -> tuple[Campaign | None, Variant | None]:
    """The appeal's campaign and variant when they belong to this newsroom; otherwise none (defaults apply)."""

    def as_id(value: Any) -> int | None:
        text = str(value or "")
        # isascii: "²".isdigit() is true, and int("²") raises.
        return int(text) if text.isascii() and text.isdigit() and len(text) < 12 else None

    variant = None
    variant_pk = as_id(variant_id)
    if variant_pk is not None:
        variant = Variant.objects.select_related("campaign").filter(id=variant_pk, campaign__newsroom=newsroom).first()
    if variant is not None:
        return variant.campaign, variant
    campaign_pk = as_id(campaign_id)
    campaign = Campaign.objects.filter(id=campaign_pk, newsroom=newsroom).first() if campaign_pk else None
    return campaign, None


def return_url_check(value: Any, newsroom: Newsroom, *, own_origin: str = "") -> str:
    """Only http(s) links back to the newsroom's own site or this one: no open redirect."""
    if not isinstance(value, str) or len(value) > 500:
        return ""
    try:
        parts = urlsplit(value)
        netloc = parts.netloc
    except ValueError:  # e.g. "http://[::1", an unclosed IPv6 bracket
        return ""
    if parts.scheme not in ("http", "https") or not netloc:
        return ""
    origin = f"{parts.scheme}://{netloc}"
    allowed = set(newsroom.origins)
    if own_origin:
        allowed.add(own_origin.rstrip("/"))
    if newsroom.site_url:
        site = urlsplit(newsroom.site_url)
        allowed.add(f"{site.scheme}://{site.netloc}")
    return value.split("#", 1)[0] if origin in allowed else ""


def amount_problem(problem: amounts.AmountProblem, *, locale: str, rules: amounts.AmountRules) -> CheckoutProblem:
    values = {
        "minimum": problem.minimum.display(locale) if problem.minimum else "",
        "maximum": problem.maximum.display(locale) if problem.maximum else "",
        "currencies": ", ".join(rules.currencies),
    }
    field_name = "frequency" if problem.code == "unsupported_frequency" else "amount"
    if problem.code == "unsupported_currency":
        field_name = "currency"
    return CheckoutProblem(problem.code, message(problem.code, locale=locale, **values), field_name=field_name)


def checkout_request_parse(data: dict[str, Any], *, newsroom: Newsroom, own_origin: str = "") -> CheckoutRequest:
    locale = locale_pick(data.get("locale"), newsroom)
    request_key = data.get("request_key")
    if not isinstance(request_key, str) or not REQUEST_KEY.match(request_key):
        raise CheckoutProblem("expired_page", message("expired_page", locale=locale))
    campaign, variant = variant_for(newsroom, data.get("campaign"), data.get("variant"))
    rules = rules_for_variant(newsroom, variant)
    frequency = data.get("frequency")
    currency = str(data.get("currency") or "").upper()
    raw_amount: Any = data.get("amount")
    try:
        if isinstance(raw_amount, str):
            raw_amount = amounts.amount_from_text(
                raw_amount, currency=currency if currency in rules.currencies else "USD"
            )
        money = amounts.amount_check(rules, amount=raw_amount, currency=currency, frequency=str(frequency or ""))
    except amounts.AmountProblem as problem:
        raise amount_problem(problem, locale=locale, rules=rules) from problem
    try:
        email = email_checked(str(data.get("email") or ""))
    except ValidationError as exc:
        raise CheckoutProblem("invalid_email", message("invalid_email", locale=locale), field_name="email") from exc
    method = data.get("method") or "card"
    if method not in METHODS:
        method = "card"
    if method == "sepa_debit" and money.currency != "EUR":
        raise CheckoutProblem("sepa_currency", message("sepa_currency", locale=locale), field_name="method")
    return CheckoutRequest(
        request_key=request_key,
        money=money,
        frequency=str(frequency),
        email=email,
        name=str(data.get("name") or "").strip()[:120],
        receipt=bool(data.get("receipt")),
        locale=locale,
        method=method,
        campaign=campaign,
        variant=variant,
        return_url=return_url_check(data.get("return"), newsroom, own_origin=own_origin),
    )
