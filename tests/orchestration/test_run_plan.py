"""Which sessions are due: weekends, holidays, half days, the close delay, the watermark.

Expected sessions come straight from pandas_market_calendars, independently of run_plan."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas_market_calendars as mcal
import pytest

from core.calendar import latest_closed_session
from orchestration.run_plan import plan_run

NY = ZoneInfo("America/New_York")
DELAY = timedelta(minutes=90)


def ny(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=NY)


def calendar_sessions(start: str, end: str) -> list[date]:
    return [ts.date() for ts in mcal.get_calendar("NYSE").schedule(start_date=start, end_date=end).index]


def test_weekend_and_holiday_have_nothing_due():
    # Fri 2013-02-15 loaded; Sat, Sun and Presidents' Day (Mon 18th) add nothing
    for when in ("2013-02-16T12:00", "2013-02-17T20:00", "2013-02-18T20:00", "2013-02-19T17:29"):
        plan = plan_run(ny(when), watermark=date(2013, 2, 15), delay=DELAY)
        assert plan.sessions == [], when
    plan = plan_run(ny("2013-02-19T17:30"), watermark=date(2013, 2, 15), delay=DELAY)
    assert plan.sessions == [date(2013, 2, 19)]


def test_missed_days_are_caught_up_from_the_watermark():
    plan = plan_run(ny("2013-02-22T20:00"), watermark=date(2013, 2, 13), delay=DELAY)
    assert plan.sessions == calendar_sessions("2013-02-14", "2013-02-22")
    assert date(2013, 2, 18) not in plan.sessions and len(plan.sessions) == 6


def test_half_day_is_due_after_its_early_close():
    # the day after Thanksgiving 2012 closed at 13:00
    assert plan_run(ny("2012-11-23T14:29"), watermark=date(2012, 11, 21), delay=DELAY).sessions == []
    assert plan_run(ny("2012-11-23T14:30"), watermark=date(2012, 11, 21),
                    delay=DELAY).sessions == [date(2012, 11, 23)]


def test_explicit_range_is_capped_at_the_last_closed_session():
    plan = plan_run(ny("2013-02-20T12:00"), watermark=None, start=date(2013, 1, 2), end=date(2013, 3, 1),
                    delay=DELAY)
    assert plan.sessions == calendar_sessions("2013-01-02", "2013-02-19")
    plan = plan_run(ny("2013-02-20T18:00"), watermark=date(2013, 2, 19), start=date(2013, 1, 2),
                    end=date(2013, 1, 31), delay=DELAY)
    assert plan.sessions == calendar_sessions("2013-01-02", "2013-01-31")


def test_first_run_without_watermark_takes_the_latest_closed_session():
    plan = plan_run(ny("2013-02-18T20:00"), watermark=None, delay=DELAY)
    assert plan.sessions == [date(2013, 2, 15)]
    assert latest_closed_session(ny("2013-02-19T10:00"), DELAY) == date(2013, 2, 15)
    assert latest_closed_session(ny("2013-02-19T17:30"), DELAY) == date(2013, 2, 19)


def test_naive_as_of_is_refused():
    with pytest.raises(ValueError):
        plan_run(datetime(2013, 2, 19, 18), watermark=None)


def test_schedule_prints_a_new_york_cron_entry():
    from tests.orchestration.conftest import tradlyte

    result = tradlyte("schedule", "--target", "postgres", "--delay-minutes", "75")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "CRON_TZ=America/New_York" in lines
    entry = next(line for line in lines if line and not line.startswith(("#", "CRON_TZ")))
    minute, hour, dom, month, dow, *command = entry.split()
    assert (minute, hour, dom, month, dow) == ("15", "17", "*", "*", "1-5")
    assert "orchestration.cli run --target postgres" in " ".join(command)
