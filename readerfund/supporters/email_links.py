"""The page a pause or cancel link from an e-mail opens: /account/<newsroom>/email/<token>/.

No sign-in: the signed token (payments/contribution_links.py) names one contribution and one action. GET
shows what the link will do and one button, and changes nothing: mail scanners and link previews open
links. The POST (CSRF-checked) makes the change through payments/changes.py and says so on the page;
the link is then used up, and opening it again only says "already done".

Every answer, refusals too, is a page of its own with a 4xx status, never a 500: a link from another
newsroom, an edited or expired one, a contribution that is not (or no longer) recurring. None of them
tells a stranger whose contribution it was. The token is in the URL: the pages send no Referer and are not
cached (_sealed).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from readerfund.checkout.validation import locale_pick
from readerfund.core.dates import date_long
from readerfund.core.locales import locale_or
from readerfund.newsrooms.models import Newsroom
from readerfund.payments.change_markers import ChangeRefused
from readerfund.payments.changes import PAUSE_MONTHS, contribution_cancel, contribution_pause, pause_end
from readerfund.payments.contribution_links import (
    contribution_link_check,
    contribution_link_mark_used,
    contribution_link_read,
    contribution_link_used,
)
from readerfund.payments.models import Contribution
from readerfund.payments.provider import GatewayError
from readerfund.supporters.email_links_copy import frequency_word, link_copy, refusal_text

Status = Contribution.Status


def _sealed(response: HttpResponse) -> HttpResponse:
    # The token in this page's URL is a working link: no other site may learn it from a Referer, and no
    # shared cache or back button may keep the page.
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    return response


def _day(locale: str, day: Any) -> str:
    # As the supporter's page and the e-mails write a date ("2 December 2026", "2 декабря 2026 г."), not
    # Django's own format ("Dec. 2, 2026").
    return date_long(day, locale)


class _Page:
    """What every answer of one request shares: the newsroom, the reader's language, the link."""

    def __init__(
        self, request: HttpRequest, newsroom: Newsroom, locale: str, contribution: Contribution | None, action: str
    ) -> None:
        self.request, self.newsroom, self.locale = request, newsroom, locale
        self.contribution, self.action = contribution, action
        values = {"newsroom": newsroom.name}
        if contribution is not None:
            values["amount"] = contribution.money.display(locale)
            values["frequency"] = frequency_word(locale, contribution.frequency)
        self.t = link_copy(locale, **values)

    def manage_url(self) -> str:
        return reverse("supporters-signin", args=[self.newsroom.slug]) + f"?locale={self.locale}"

    def message(self, kind: str, *, status: int, text: str = "", note: str = "") -> HttpResponse:
        """A page that only tells: done, used, invalid, expired or refused."""
        context = {
            "newsroom": self.newsroom,
            "locale": self.locale,
            "t": self.t,
            "kind": kind,
            "title": self.t[f"{kind}_title"],
            "text": text or self.t.get(f"{kind}_text", ""),
            "note": note,
            "manage_url": self.manage_url(),
        }
        return _sealed(render(self.request, "supporters/link_message.html", context, status=status))

    def refused(self, code: str, *, status: int = 409) -> HttpResponse:
        return self.message("refused", status=status, text=refusal_text(self.t, code))

    def confirm(self, *, status: int = 200, error: str = "", months: int = 1) -> HttpResponse:
        assert self.contribution is not None
        today = timezone.now().date()
        options = [
            {
                "months": count,
                "label": self.t[f"months_{count}"],
                "until": self._until(pause_end(today=today, months=count)),
                "checked": count == months,
            }
            for count in PAUSE_MONTHS
        ]
        ends_now = self.contribution.status != Status.ACTIVE
        context = {
            "newsroom": self.newsroom,
            "locale": self.locale,
            "t": self.t,
            "action": self.action,
            "title": self.t[f"{self.action}_title"],
            "intro": self.t["pause_intro"]
            if self.action == "pause"
            else self.t["cancel_intro_now" if ends_now else "cancel_intro_active"],
            "options": options,
            "error": error,
            "manage_url": self.manage_url(),
        }
        return _sealed(render(self.request, "supporters/link_confirm.html", context, status=status))

    def _until(self, day: Any) -> str:
        return self.t["months_until"].replace("{date}", _day(self.locale, day))

    def state_line(self, row: Contribution) -> str:
        """Where the contribution stands now, in a sentence; empty when neither paused nor ending."""
        if row.status == Status.CANCELED:
            return self.t["state_ended"]
        if row.cancels_at is not None:
            return self.t["state_cancels"].replace("{date}", _day(self.locale, row.cancels_at))
        if row.status == Status.PAUSED and row.paused_until is not None:
            return self.t["state_paused"].replace("{date}", _day(self.locale, row.paused_until))
        return ""


def _not_found(request: HttpRequest) -> HttpResponse:
    locale = locale_or(request.GET.get("locale"))
    context = {"t": link_copy(locale), "locale": locale}
    return _sealed(render(request, "supporters/link_not_found.html", context, status=404))


def _contribution(newsroom: Newsroom, request_key: str) -> Contribution | None:
    # Another newsroom's contribution is "no such link" here: the answer must not say it exists elsewhere.
    return (
        Contribution.objects.select_related("newsroom", "supporter")
        .filter(newsroom=newsroom, request_key=request_key)
        .first()
    )


def _months(raw: Any) -> int | None:
    text = str(raw or "")
    return int(text) if text in {str(count) for count in PAUSE_MONTHS} else None


def _made(action: str, row: Contribution) -> bool:
    """The service returned without refusing: did the plan end up as the link asked?"""
    if action == "pause":
        return row.status == Status.PAUSED
    return row.status == Status.CANCELED or row.cancels_at is not None


def _perform(page: _Page, token: str) -> HttpResponse:
    contribution, request = page.contribution, page.request
    assert contribution is not None
    try:
        if page.action == "pause":
            months = _months(request.POST.get("months"))
            if months is None:
                return page.confirm(status=400, error=page.t["months_wrong"])
            row = contribution_pause(contribution=contribution, months=months)
        else:
            reason = str(request.POST.get("reason", ""))[:500]
            row = contribution_cancel(contribution=contribution, reason=reason)
    except ChangeRefused as refused:
        return page.refused(refused.code)
    except GatewayError:
        # Nothing changed at the provider (or its answer was lost, and the change's marker makes a retry
        # of this same link safe): the link stays usable.
        return page.refused("unavailable", status=503)
    if not _made(page.action, row):
        return page.refused("not_running")
    contribution_link_mark_used(token)
    return page.message("done", status=200, text=page.state_line(row), note=page.t["done_email"])


@require_http_methods(["GET", "POST"])
def email_link(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    newsroom = Newsroom.objects.filter(slug=slug).first()
    if newsroom is None:
        return _not_found(request)
    link = contribution_link_read(token)
    contribution = _contribution(newsroom, link.request_key) if link.state == "valid" else None
    asked = request.POST.get("locale") or request.GET.get("locale")
    locale = locale_pick(asked or (contribution.locale if contribution else None), newsroom)
    page = _Page(request, newsroom, locale, contribution, link.action)
    if link.state == "expired":
        return page.message("expired", status=410)
    if contribution is None:
        return page.message("invalid", status=404)
    if contribution_link_used(token):
        return page.message("used", status=410, note=page.state_line(contribution))
    if request.method == "POST":
        return _perform(page, token)
    try:
        contribution_link_check(contribution=contribution, action=link.action)
    except ChangeRefused as refused:
        return page.refused(refused.code)
    return page.confirm()
