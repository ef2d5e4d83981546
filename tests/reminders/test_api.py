import json
from datetime import timedelta

import pytest
from django.utils import timezone

from readerfund.appeals.models import Variant
from readerfund.reminders import api
from readerfund.reminders.models import Reminder, ReminderDailyCount
from readerfund.reminders.services import reminders_due_send

pytestmark = pytest.mark.django_db
URL = "/api/v1/reminders"


def day(offset: int) -> str:
    return (timezone.now().date() + timedelta(days=offset)).isoformat()


@pytest.fixture
def body(demo_newsroom):
    variant = Variant.objects.filter(campaign__newsroom=demo_newsroom).first()
    return {
        "newsroom": demo_newsroom.slug,
        "email": "Reader@Example.org",
        "remind_on": day(14),
        "consent": True,
        "locale": "en",
        "campaign": variant.campaign_id,
        "variant": variant.id,
    }


def post(client, data, **extra):
    raw = data if isinstance(data, (str, bytes)) else json.dumps(data)
    return client.post(URL, raw, content_type="text/plain", **extra)


def test_schedules_a_reminder(client, body):
    response = post(client, body)
    assert response.status_code == 202
    assert response.json() == {"remind_on": body["remind_on"], "message": response.json()["message"]}
    assert response.json()["message"].startswith("We'll remind you on ")
    reminder = Reminder.objects.get()
    assert reminder.email == "reader@example.org"
    assert (reminder.campaign_id, reminder.variant_id, reminder.locale) == (body["campaign"], body["variant"], "en")
    assert ReminderDailyCount.objects.get().scheduled == 1


def test_second_request_for_the_address_moves_the_date(client, body):
    post(client, body)
    response = post(client, body | {"email": "reader@example.org ", "remind_on": day(30), "locale": "ru"})
    assert response.status_code == 202
    assert response.json()["message"].startswith("Напомним вам")
    reminder = Reminder.objects.get()
    assert reminder.remind_on.isoformat() == day(30)
    assert reminder.locale == "ru"
    counts = ReminderDailyCount.objects.get()
    assert (counts.scheduled, counts.moved) == (1, 1)


def _answer(response):
    return response.status_code, dict(response.items()), response.content


def test_a_new_and_an_already_pending_address_get_the_same_answer_byte_for_byte(client, body):
    # The attacker's probe: is this address waiting for a reminder from this newsroom? Today's answer
    # was 201 "moved": false for a new address and 200 "moved": true, "You already had a reminder".
    post(client, body | {"email": "known@example.org"})
    probe = body | {"remind_on": day(20)}
    known = _answer(post(client, probe | {"email": "known@example.org"}))
    new = _answer(post(client, probe | {"email": "stranger@example.org"}))
    assert known == new
    assert b"moved" not in known[2]
    assert Reminder.objects.count() == 2


def test_an_address_past_its_limit_gets_the_same_answer_and_changes_nothing(client, body):
    for n in range(api.ADDRESS_LIMIT):
        post(client, body | {"remind_on": day(14 + n)}, REMOTE_ADDR=f"198.51.100.{n}")
    over = _answer(post(client, body | {"remind_on": day(40)}, REMOTE_ADDR="198.51.100.99"))
    fresh = _answer(post(client, body | {"email": "fresh@example.org", "remind_on": day(40)}))
    assert over == fresh
    assert over[0] == 202
    # The limit held: the pending reminder keeps the last day it accepted.
    assert Reminder.objects.get(remind_on__lt=day(40)).remind_on.isoformat() == day(14 + api.ADDRESS_LIMIT - 1)


def test_plus_tags_share_the_mailboxs_limit(client, body):
    for n in range(api.ADDRESS_LIMIT):
        post(client, body | {"email": f"reader+{n}@example.org"})
    post(client, body | {"email": "reader+late@example.org"})
    assert Reminder.objects.count() == api.ADDRESS_LIMIT


ZONES = [None, "UTC", "Pacific/Kiritimati", "Etc/GMT+12", "Europe/Riga", "Not/AZone", "../etc"]


@pytest.mark.parametrize("zone", ZONES)
def test_today_becomes_the_readers_tomorrow_and_nothing_goes_out_within_hours(client, body, zone):
    # A stranger asking us to e-mail the newsroom's name to someone right now: today, or a day long past.
    for n, remind_on in enumerate([day(0), day(-1), day(-400)]):
        email = f"victim{n}@example.org"
        response = post(client, body | {"email": email, "remind_on": remind_on, "timezone": zone})
        assert response.status_code == 202
        answered = response.json()["remind_on"]
        assert answered > day(0) if zone != "Etc/GMT+12" else answered >= day(0)
        reminder = Reminder.objects.get()
        assert reminder.remind_on.isoformat() == answered
        assert reminder.due_at > timezone.now() + timedelta(hours=1)
        Reminder.objects.filter(id=reminder.id).delete()
    assert reminders_due_send(now=timezone.now() + timedelta(hours=1)) == 0


def test_the_readers_zone_sets_the_hour_and_is_not_stored(client, body):
    response = post(client, body | {"timezone": "Etc/GMT+12"})
    reminder = Reminder.objects.get()
    assert (reminder.due_at.hour, reminder.due_at.date().isoformat()) == (21, response.json()["remind_on"])
    row = " ".join(str(v) for v in Reminder.objects.values().get().values())
    assert "GMT" not in row


def test_a_day_beyond_a_year_becomes_a_year_from_now(client, body):
    response = post(client, body | {"remind_on": day(800), "timezone": "UTC"})
    assert response.status_code == 202
    assert response.json()["remind_on"] == day(365) or response.json()["remind_on"] == day(366)


def test_unknown_campaign_keeps_the_reminder_without_attribution(client, body):
    assert post(client, body | {"campaign": 999999}).status_code == 202
    assert Reminder.objects.get().campaign_id is None


@pytest.mark.parametrize(
    ("change", "status", "code", "field"),
    [
        ({"email": "not an address"}, 400, "invalid_email", "email"),
        ({"email": "reader@"}, 400, "invalid_email", "email"),
        ({"email": "a" * 250 + "@example.org"}, 400, "invalid_email", "email"),
        ({"remind_on": "next week"}, 400, "invalid_date", "remind_on"),
        ({"consent": False}, 400, "consent_required", "consent"),
        ({"consent": "yes"}, 400, "invalid_field", "consent"),
        ({"newsroom": "nope"}, 404, "unknown_newsroom", "newsroom"),
        ({"email": None}, 400, "missing_field", "email"),
        ({"remind_on": 20270312}, 400, "invalid_field", "remind_on"),
        ({"campaign": "1"}, 400, "invalid_field", "campaign"),
    ],
)
def test_bad_input_gets_an_error_naming_the_field(client, body, change, status, code, field):
    response = post(client, body | change)
    assert response.status_code == status
    error = response.json()["error"]
    assert (error["code"], error["field"]) == (code, field)
    assert error["message"]
    assert not Reminder.objects.exists()


def test_error_messages_are_in_the_readers_language(client, body):
    response = post(client, body | {"locale": "ru", "consent": False})
    assert response.json()["error"]["message"].startswith("Отметьте")


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        ("{not json", 400, "malformed_json"),
        ("[1, 2]", 400, "malformed_json"),
        ("", 400, "empty_body"),
        ('{"newsroom": "demo", "pad": "' + "x" * 17000 + '"}', 413, "body_too_large"),
    ],
)
def test_malformed_bodies(client, demo_newsroom, raw, status, code):
    response = post(client, raw)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_get_is_refused(client):
    assert client.get(URL).status_code == 405


def test_per_ip_limit_answers_429_with_retry_after(client, body):
    for n in range(api.IP_LIMIT):
        post(client, body | {"email": f"r{n}@example.org"}, REMOTE_ADDR="203.0.113.7")
    response = post(client, body | {"email": "late@example.org"}, REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= api.IP_WINDOW_SECONDS
    assert response.json()["error"]["code"] == "rate_limited"
    assert post(client, body | {"email": "late@example.org"}, REMOTE_ADDR="203.0.113.8").status_code == 202


def test_per_address_limit_holds_whatever_the_ip(client, body):
    for n in range(api.ADDRESS_LIMIT):
        assert post(client, body, REMOTE_ADDR=f"198.51.100.{n}").status_code == 202
    post(client, body | {"email": "READER@example.org", "remind_on": day(50)}, REMOTE_ADDR="198.51.100.99")
    assert Reminder.objects.get().remind_on.isoformat() == body["remind_on"]


def test_cors_allows_the_newsrooms_origin_only(client, body, demo_newsroom):
    origin = demo_newsroom.origins[0]
    allowed = post(client, body, HTTP_ORIGIN=origin)
    assert allowed["Access-Control-Allow-Origin"] == origin
    assert "Access-Control-Allow-Credentials" not in allowed
    other = post(client, body | {"email": "x@example.org"}, HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in other
    preflight = client.options(URL, HTTP_ORIGIN=origin)
    assert preflight.status_code == 204


def test_openapi_describes_the_endpoint(client):
    document = client.get("/api/v1/openapi.json").json()
    operation = document["paths"]["/api/v1/reminders"]["post"]
    assert {"202", "400", "404", "413", "429"} <= set(operation["responses"])
    assert "200" not in operation["responses"] and "201" not in operation["responses"]
    assert "ReminderRequest" in document["components"]["schemas"]


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "TRACE", "PATCH"])
def test_other_methods_are_405_with_allow(client, method):
    response = client.generic(method, URL, HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 405
    assert response["Allow"] == "POST, OPTIONS"
    assert response.json()["error"]["code"] == "method_not_allowed"
