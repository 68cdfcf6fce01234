"""Which sessions a daily run is due to load, from the NYSE calendar (`pandas_market_calendars`).

A session is due once its close plus a delay (Polygon finalises the day's aggregates some time
after the close) has passed. Weekends and holidays are never sessions, so a run on a Sunday or
on Thanksgiving finds nothing new. Without an explicit range, a run picks up every session after
the watermark (the newest session of the last completed run), so a missed day is caught up.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pandas as pd

NY = "America/New_York"
DEFAULT_DELAY_MINUTES = 90
CALENDAR_START = date(1962, 1, 2)


def default_delay() -> timedelta:
    """`TRADLYTE_RUN_DELAY_MINUTES` (default 90): how long after the close a session is due."""
    return timedelta(minutes=int(os.environ.get("TRADLYTE_RUN_DELAY_MINUTES", DEFAULT_DELAY_MINUTES)))


def sessions_between(start: date, end: date) -> pd.DataFrame:
    """NYSE sessions from `start` to `end` inclusive: session_date, market_close_at (UTC)."""
    from ingestion.sandbox.universe import nyse_schedule

    if end < start:
        return pd.DataFrame({"session_date": [], "market_close_at": []})
    # padded so the calendar is never asked for a range without sessions (a lone weekend)
    pad = timedelta(days=10)
    frame = nyse_schedule((start - pad).isoformat(), (end + pad).isoformat())
    inside = (frame["session_date"] >= start) & (frame["session_date"] <= end)
    return frame.loc[inside, ["session_date", "market_close_at"]].reset_index(drop=True)


def closed_sessions(start: date, as_of: datetime, delay: timedelta) -> list[date]:
    """Sessions from `start` whose close + `delay` is at or before `as_of`."""
    frame = sessions_between(start, as_of.astimezone(UTC).date())
    if frame.empty:
        return []
    due = frame[frame["market_close_at"] + delay <= pd.Timestamp(as_of).tz_convert("UTC")]
    return list(due["session_date"])


def latest_expected_session(as_of: datetime, delay: timedelta | None = None) -> date | None:
    """The newest session whose data should exist at `as_of` (what freshness is measured against)."""
    delay = default_delay() if delay is None else delay
    recent = closed_sessions(as_of.astimezone(UTC).date() - timedelta(days=14), as_of, delay)
    return recent[-1] if recent else None


@dataclass(frozen=True)
class RunPlan:
    as_of: datetime
    sessions: list[date] = field(default_factory=list)
    reason: str = ""
    full_refresh: bool = False

    @property
    def first_session(self) -> date | None:
        return self.sessions[0] if self.sessions else None

    @property
    def last_session(self) -> date | None:
        return self.sessions[-1] if self.sessions else None

    def describe(self) -> str:
        if not self.sessions:
            return f"nothing due at {self.as_of.isoformat()}: {self.reason}"
        span = (self.first_session.isoformat() if len(self.sessions) == 1
                else f"{self.first_session} .. {self.last_session}")
        return (f"{len(self.sessions)} session(s) due at {self.as_of.isoformat()}: {span} ({self.reason})"
                + (", full refresh" if self.full_refresh else ""))


def plan_run(
    as_of: datetime,
    watermark: date | None,
    start: date | None = None,
    end: date | None = None,
    delay: timedelta | None = None,
    full_refresh: bool = False,
) -> RunPlan:
    """The sessions to load: `start..end` when given (capped at the last closed session), else
    every closed session after `watermark`, else (a first run) only the latest closed one."""
    delay = default_delay() if delay is None else delay
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    if start is not None or end is not None:
        first = start or (watermark + timedelta(days=1) if watermark else None)
        if first is None:
            raise ValueError("--to without --from needs an earlier completed run: pass --from too")
        sessions = [s for s in closed_sessions(first, as_of, delay) if end is None or s <= end]
        return RunPlan(as_of, sessions, f"requested range {first} .. {end or 'latest closed'}", full_refresh)
    if watermark is not None:
        sessions = closed_sessions(watermark + timedelta(days=1), as_of, delay)
        reason = f"after watermark {watermark}" if sessions else (
            f"no session closed (+{int(delay.total_seconds() // 60)} min) since watermark {watermark}")
        return RunPlan(as_of, sessions, reason, full_refresh)
    latest = latest_expected_session(as_of, delay)
    sessions = [latest] if latest else []
    return RunPlan(as_of, sessions, "first run: latest closed session only (use --from to backfill)",
                   full_refresh)
