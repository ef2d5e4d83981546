import pytest

from readerfund.reminders.models import Reminder
from readerfund.reminders.services import reminder_token

pytestmark = pytest.mark.django_db


def url(reminder_id):
    return f"/reminders/unsubscribe/{reminder_token(reminder_id)}/"


def test_get_shows_a_confirm_button_and_changes_nothing(client, schedule_reminder):
    reminder = schedule_reminder(locale="ru")
    response = client.get(url(reminder.id))
    assert response.status_code == 200
    assert "Отменить напоминание" in response.content.decode()
    assert Reminder.objects.get().status == Reminder.Status.PENDING


def test_one_click_post_cancels_without_csrf_token(schedule_reminder):
    from django.test import Client

    reminder = schedule_reminder()
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        url(reminder.id), "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert "your address has been erased" in response.content.decode()
    assert Reminder.objects.get().status == Reminder.Status.CANCELLED
    assert client.post(url(reminder.id)).status_code == 200  # idempotent


def test_broken_token_gets_a_page_saying_so(client):
    response = client.get("/reminders/unsubscribe/not-a-token/")
    assert response.status_code == 400
    assert "link is broken" in response.content.decode()
