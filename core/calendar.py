"""The NYSE calendar and New York time: one implementation for every part of the project.

Sessions, half days and closes come from `pandas_market_calendars` (never hand-typed); the run
plan, the calendar seed, the alerts service's staleness check, the status report and the
sandbox all ask here. "The latest closed session" is the newest session whose close plus a
delay has passed: `latest_closed_session(as_of, after_close)`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    import pandas as pd

NEW_YORK = ZoneInfo("America/New_York")
NEW_YORK_NAME = "America/New_York"
CALENDAR_START = date(1962, 1, 2)  # the first session of the calendar: session index 0
EXCHANGE = "XNYS"


def ny_midnight(day: date) -> datetime:
    """New York midnight of `day` in UTC: where daily bars start (how Polygon stamps them)."""
    return datetime.combine(day, time(0), tzinfo=NEW_YORK).astimezone(UTC)


def ny_date(ts: datetime) -> date:
    """The New York date of an aware timestamp."""
    return ts.astimezone(NEW_YORK).date()


@lru_cache(maxsize=16)
def nyse_schedule(start: str, end: str) -> pd.DataFrame:
    """NYSE sessions from `start` to `end` (ISO dates, inclusive): session_date, market_open_at,
    market_close_at (UTC timestamps) and is_half_day. Cached: treat the frame as read-only."""
    import warnings

    import pandas as pd
    import pandas_market_calendars as mcal

    cal = mcal.get_calendar(EXCHANGE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecation noise from inside pandas_market_calendars
        sched = cal.schedule(start_date=start, end_date=end)
        early = set(cal.early_closes(sched).index) if len(sched) else set()
    out = pd.DataFrame({
        "session_date": sched.index.date,
        "market_open_at": pd.to_datetime(sched["market_open"], utc=True).to_numpy(),
        "market_close_at": pd.to_datetime(sched["market_close"], utc=True).to_numpy(),
        "is_half_day": [d in early for d in sched.index],
    })
    out["market_open_at"] = pd.to_datetime(out["market_open_at"], utc=True)
    out["market_close_at"] = pd.to_datetime(out["market_close_at"], utc=True)
    return out


def sessions_between(start: date, end: date) -> pd.DataFrame:
    """NYSE sessions from `start` to `end` inclusive (an empty frame when end < start)."""
    import pandas as pd

    if end < start:
        return pd.DataFrame({"session_date": [], "market_open_at": [], "market_close_at": [],
                             "is_half_day": []})
    # padded so the calendar is never asked for a range without sessions (a lone weekend)
    pad = timedelta(days=10)
    frame = nyse_schedule((start - pad).isoformat(), (end + pad).isoformat())
    inside = (frame["session_date"] >= start) & (frame["session_date"] <= end)
    return frame.loc[inside].reset_index(drop=True)


def session_dates(start: date, end: date) -> list[date]:
    return list(sessions_between(start, end)["session_date"])


def closed_sessions(start: date, as_of: datetime, after_close: timedelta) -> list[date]:
    """Sessions from `start` whose close + `after_close` is at or before `as_of` (aware)."""
    import pandas as pd

    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    frame = sessions_between(start, as_of.astimezone(UTC).date())
    if frame.empty:
        return []
    due = frame[frame["market_close_at"] + pd.Timedelta(after_close) <= pd.Timestamp(as_of).tz_convert("UTC")]
    return list(due["session_date"])


def latest_closed_session(as_of: datetime, after_close: timedelta = timedelta(0)) -> date | None:
    """The newest session whose close + `after_close` has passed at `as_of`."""
    recent = closed_sessions(as_of.astimezone(UTC).date() - timedelta(days=14), as_of, after_close)
    return recent[-1] if recent else None


def session_close(day: date) -> datetime | None:
    """The close of the session on `day` (UTC), or None when the exchange is shut that day."""
    frame = sessions_between(day, day)
    return None if frame.empty else frame["market_close_at"].iloc[0].to_pydatetime()
