"""One NYSE calendar: sessions, half days, and the latest closed session."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from core.calendar import NEW_YORK, latest_closed_session, ny_midnight, session_close, session_dates


def ny(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=NEW_YORK)


def test_latest_closed_session_after_the_close_plus_a_delay():
    # Presidents' Day 2013-02-18 is a holiday
    assert latest_closed_session(ny("2013-02-19T10:00")) == date(2013, 2, 15)
    assert latest_closed_session(ny("2013-02-19T16:00")) == date(2013, 2, 19)
    assert latest_closed_session(ny("2013-02-19T16:00"), timedelta(minutes=90)) == date(2013, 2, 15)


def test_half_days_close_early():
    assert session_close(date(2013, 11, 29)).astimezone(NEW_YORK).hour == 13  # the day after Thanksgiving
    assert session_close(date(2013, 11, 28)) is None
    assert session_dates(date(2013, 12, 23), date(2013, 12, 27)) == [
        date(2013, 12, 23), date(2013, 12, 24), date(2013, 12, 26), date(2013, 12, 27)]


def test_ny_midnight_in_utc_across_daylight_saving():
    assert ny_midnight(date(2024, 1, 2)).isoformat() == "2024-01-02T05:00:00+00:00"
    assert ny_midnight(date(2024, 3, 11)).isoformat() == "2024-03-11T04:00:00+00:00"
