"""Write the NYSE trading calendar seed (`dbt_project/seeds/nyse_sessions.csv`).

The calendar comes from `pandas_market_calendars` (never hand-typed): every NYSE session from
1962-01-02 to the end of next year, with open/close in UTC, a half-day flag, and a global
session index (0 = first session) that anchors the Fibonacci bars. Rerun it once a year:

    .venv/bin/python -m orchestration.calendar_seed
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from core.calendar import CALENDAR_START, nyse_schedule
from core.resources import DBT_PROJECT_DIR

SEED_PATH = DBT_PROJECT_DIR / "seeds" / "nyse_sessions.csv"


def build_calendar(end: str):
    sched = nyse_schedule(CALENDAR_START.isoformat(), end).copy()
    sched.insert(1, "session_index", range(len(sched)))
    for col in ("market_open_at", "market_close_at"):
        sched[col] = sched[col].dt.strftime("%Y-%m-%d %H:%M:%S+00:00")
    return sched


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--end", default=f"{date.today().year + 1}-12-31")
    parser.add_argument("--out", type=Path, default=SEED_PATH)
    args = parser.parse_args(argv)
    frame = build_calendar(args.end)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out, index=False)
    print(f"wrote {len(frame)} sessions {frame.session_date.iloc[0]} .. {frame.session_date.iloc[-1]} to {args.out}")
    return args.out


if __name__ == "__main__":
    main()
