"""Which sessions a daily run is due to load, from the NYSE calendar (`pandas_market_calendars`).

A session is due once its close plus a delay (Polygon finalises the day's aggregates some time
after the close) has passed. Weekends and holidays are never sessions, so a run on a Sunday or
on Thanksgiving finds nothing new. Without an explicit range, a run picks up every session after
the watermark (the newest session of the last completed run), so a missed day is caught up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from core.calendar import closed_sessions, latest_closed_session
from orchestration.settings import RunSettings


def default_delay() -> timedelta:
    """`TRADLYTE_RUN_DELAY_MINUTES` (default 90): how long after the close a session is due."""
    return timedelta(minutes=RunSettings().run_delay_minutes)


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
    latest = latest_closed_session(as_of, delay)
    sessions = [latest] if latest else []
    return RunPlan(as_of, sessions, "first run: latest closed session only (use --from to backfill)",
                   full_refresh)
