from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from readerfund.reminders import schedule

TODAY = date(2026, 11, 30)
KIRITIMATI = ZoneInfo("Pacific/Kiritimati")  # UTC+14
BAKER = ZoneInfo("Etc/GMT+12")  # UTC-12
_zones = st.sampled_from([None, UTC, KIRITIMATI, BAKER, ZoneInfo("Europe/Riga"), ZoneInfo("America/Los_Angeles")])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027-03-12", date(2027, 3, 12)),
        ("2027-02-30", None),
        ("2027-3-12", None),
        ("12.03.2027", None),
        ("2027-03-12T09:00", None),
        ("", None),
        ("２０２７-03-12", None),
    ],
)
def test_remind_on_parse_accepts_only_iso_dates(text, expected):
    assert schedule.remind_on_parse(text) == expected


@pytest.mark.parametrize(
    ("now", "zone", "today"),
    [
        # 23:00 UTC: already the next day at UTC+14, still the same day at UTC-12.
        (datetime(2026, 11, 30, 23, 0, tzinfo=UTC), KIRITIMATI, date(2026, 12, 1)),
        (datetime(2026, 11, 30, 23, 0, tzinfo=UTC), BAKER, date(2026, 11, 30)),
        (datetime(2026, 11, 30, 9, 0, tzinfo=UTC), BAKER, date(2026, 11, 29)),
        # Not knowing the zone: the latest date anywhere.
        (datetime(2026, 11, 30, 9, 0, tzinfo=UTC), None, date(2026, 11, 30)),
        (datetime(2026, 11, 30, 10, 0, tzinfo=UTC), None, date(2026, 12, 1)),
    ],
)
def test_the_readers_today_is_in_their_zone_or_the_latest_on_earth(now, zone, today):
    assert schedule.reader_today(now=now, zone=zone) == today


@pytest.mark.parametrize(
    ("day", "within"),
    [
        (TODAY, TODAY + timedelta(days=1)),  # today is moved to tomorrow: never an e-mail within seconds
        (TODAY - timedelta(days=30), TODAY + timedelta(days=1)),
        (TODAY + timedelta(days=1), TODAY + timedelta(days=1)),
        (date(2027, 11, 30), date(2027, 11, 30)),  # a year ahead
        (date(2027, 12, 1), date(2027, 11, 30)),
        (date(2030, 1, 1), date(2027, 11, 30)),
    ],
)
def test_a_day_outside_the_window_moves_to_its_nearest_end(day, within):
    assert schedule.remind_on_within(day, today=TODAY) == within


def test_a_year_after_29_february_is_28_february():
    assert schedule.one_year_after(date(2028, 2, 29)) == date(2029, 2, 28)
    assert schedule.latest_remind_on(date(2028, 2, 29)) == date(2029, 2, 28)


def test_send_at_is_nine_in_the_readers_zone_or_utc():
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert schedule.send_at(date(2026, 12, 14), now=now) == datetime(2026, 12, 14, 9, 0, tzinfo=UTC)
    assert schedule.send_at(date(2026, 12, 14), now=now, zone=BAKER) == datetime(2026, 12, 14, 21, 0, tzinfo=UTC)
    assert schedule.send_at(date(2026, 11, 30), now=now) == now


@given(
    now=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
    offset=st.integers(-800, 800),
    zone=_zones,
)
def test_no_chosen_day_is_due_before_the_readers_tomorrow(now, offset, zone):
    # Whatever day is sent, in whatever zone: due no earlier than the reader's next midnight, so never
    # within seconds or hours of the request, and at most a year and a day away.
    today = schedule.reader_today(now=now, zone=zone)
    day = schedule.remind_on_within(today + timedelta(days=offset), today=today)
    due = schedule.send_at(day, now=now, zone=zone)
    readers_midnight = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=zone or UTC)
    assert due > now
    assert due >= readers_midnight
    assert (day - today).days <= 366


@given(
    day=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
    now=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
    zone=_zones,
)
def test_send_at_is_never_before_now(day, now, zone):
    assert schedule.send_at(day, now=now, zone=zone) >= now
