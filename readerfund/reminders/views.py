"""The unsubscribe link of a reminder e-mail: GET shows a confirm button, POST cancels.

POST is also RFC 8058 one-click unsubscribe: mail providers POST "List-Unsubscribe=One-Click"
without cookies or a CSRF token, hence csrf_exempt; the signed token is the authority.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from readerfund.reminders.copy import TEXT, locale_or_default
from readerfund.reminders.models import Reminder
from readerfund.reminders.services import reminder_cancel, reminder_id_from_token


@csrf_exempt
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponse("Use GET to see the page, or POST to cancel.", status=405, headers={"Allow": "GET, POST"})
    reminder_id = reminder_id_from_token(token)
    reminder = Reminder.objects.select_related("newsroom").filter(id=reminder_id).first() if reminder_id else None
    if reminder is None:
        locale = locale_or_default(request.GET.get("lang"))
        return render(request, "reminders/unsubscribe.html", {"copy": TEXT[locale], "broken": True}, status=400)
    if request.method == "POST":
        reminder = reminder_cancel(reminder_id=reminder.id) or reminder
    copy = TEXT[locale_or_default(reminder.locale)]
    context = {
        "copy": copy,
        "newsroom": reminder.newsroom,
        "done": reminder.status == Reminder.Status.CANCELLED,
        "prompt": copy["unsubscribe_prompt"].format(newsroom=reminder.newsroom.name),
        "done_text": copy["unsubscribed"].format(newsroom=reminder.newsroom.name),
        "lang": locale_or_default(reminder.locale),
    }
    return render(request, "reminders/unsubscribe.html", context)
