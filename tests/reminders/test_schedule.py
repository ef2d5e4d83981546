from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from readerfund.reminders import schedule

TODAY = date(2026, 11, 30)


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
    ("day", "problem"),
    [
        (TODAY, None),
        (TODAY - timedelta(days=1), None),  # yesterday in UTC is still today west of Greenwich
        (TODAY - timedelta(days=2), "date_in_past"),
        (date(2027, 11, 30), None),
        (date(2027, 12, 1), None),  # a year from tomorrow, which it already is east of Greenwich
        (date(2027, 12, 2), "date_too_far"),
        (date(2030, 1, 1), "date_too_far"),
    ],
)
def test_remind_on_problem(day, problem):
    assert schedule.remind_on_problem(day, today=TODAY) == problem


def test_a_year_after_29_february_is_28_february():
    assert schedule.one_year_after(date(2028, 2, 29)) == date(2029, 2, 28)
    assert schedule.latest_remind_on(date(2028, 2, 29)) == date(2029, 3, 1)


@pytest.mark.parametrize("utc_today", [date(2026, 11, 30), date(2027, 2, 28), date(2028, 2, 28), date(2028, 2, 29)])
def test_the_longest_choice_picked_after_midnight_east_of_greenwich_is_accepted(utc_today):
    # The embed adds the campaign's days (at most 365, the admin's limit) to the reader's own date.
    readers_today = utc_today + timedelta(days=1)
    assert schedule.remind_on_problem(readers_today + timedelta(days=365), today=utc_today) is None


def test_send_at_is_nine_utc_on_the_day_or_now_if_that_has_passed():
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert schedule.send_at(date(2026, 12, 14), now=now) == datetime(2026, 12, 14, 9, 0, tzinfo=UTC)
    assert schedule.send_at(date(2026, 11, 30), now=now) == now


@given(today=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)), offset=st.integers(-800, 800))
def test_every_accepted_date_is_within_a_day_before_and_a_year_after(today, offset):
    day = today + timedelta(days=offset)
    accepted = schedule.remind_on_problem(day, today=today) is None
    assert accepted == (today - timedelta(days=1) <= day <= schedule.one_year_after(today) + timedelta(days=1))
    if accepted:
        assert 0 <= (day - today).days + 1 <= 368


@given(
    day=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
    now=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
)
def test_send_at_is_never_before_now_nor_before_the_chosen_day(day, now):
    due = schedule.send_at(day, now=now)
    assert due >= now
    assert due.date() >= day
