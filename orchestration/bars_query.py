"""`tradlyte bars`: one ticker's bars over a date range, from the serving cache and the archive.

Rows at or after the serving cutoff (recorded by the last publish in `ops.serving_cache`) come
from PostgreSQL; older rows come from the archive the cache was published from (the S3 lake, or
the DuckDB warehouse). Both sides cut on the same instant (`bar_start_at` against the cutoff,
New York midnight), so the series is seamless: every bar once, sorted by `bar_start_at`.
With nothing published yet, everything comes from the archive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd

from orchestration.gold_stores import open_gold
from orchestration.publish import ny_midnight, pg_connect

TIMEFRAMES = ("1m", "5m", "15m", "30m", "1h", "1d", "3d", "5d", "8d", "13d", "21d", "34d")


class BarsQueryError(RuntimeError):
    """The request cannot be answered; the message says what to do."""


@dataclass(frozen=True)
class BarsRequest:
    ticker: str
    timeframe: str
    start: date
    end: date  # inclusive: bars starting on this New York date are returned

    @property
    def start_at(self) -> datetime:
        return ny_midnight(self.start)

    @property
    def end_at(self) -> datetime:
        return ny_midnight(self.end + timedelta(days=1))


@dataclass(frozen=True)
class Route:
    cutoff_at: datetime | None  # None: nothing published, all from the archive
    archive_target: str


def serving_route(default_archive: str = "lake") -> Route:
    """The cutoff and archive of the last publish of gold.bars, read from PostgreSQL."""
    conn = pg_connect()
    try:
        with conn.cursor() as cur:
            cur.execute("select to_regclass('ops.serving_cache') is not null")
            if not cur.fetchone()[0]:
                return Route(None, default_archive)
            cur.execute("select cutoff_at, source_target from ops.serving_cache where mart = 'bars'")
            row = cur.fetchone()
        return Route(row[0], row[1]) if row else Route(None, default_archive)
    finally:
        conn.close()


def _from_postgres(request: BarsRequest, start_at: datetime, end_at: datetime) -> pd.DataFrame:
    conn = pg_connect()
    try:
        with conn.cursor() as cur:
            # served by the key index (ticker, timeframe, bar_start_at)
            cur.execute("select * from gold.bars where ticker = %s and timeframe = %s "
                        "and bar_start_at >= %s and bar_start_at < %s order by bar_start_at",
                        [request.ticker, request.timeframe, start_at, end_at])
            columns = [d[0] for d in cur.description]
            return pd.DataFrame(cur.fetchall(), columns=columns)
    finally:
        conn.close()


def _from_archive(target: str, request: BarsRequest, start_at: datetime, end_at: datetime) -> pd.DataFrame:
    with open_gold(target) as reader:
        relation = reader.relation("bars")
        if relation is None:
            return pd.DataFrame()
        names = ", ".join(f'"{n}"' for n, _ in reader.columns(relation))
        return reader.con.execute(
            f"select {names} from {relation} where ticker = ? and timeframe = ? "
            "and bar_start_at >= ? and bar_start_at < ? order by bar_start_at",
            [request.ticker, request.timeframe, start_at, end_at]).df()


def _normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """One set of dtypes whichever store a row came from, so the two halves concatenate cleanly."""
    out = frame.copy()
    for col in ("bar_start_at", "bar_end_at", "updated_at"):
        if col in out:
            out[col] = pd.to_datetime(out[col], utc=True).dt.as_unit("us")
    for col in ("first_session_date", "last_session_date"):
        if col in out:
            out[col] = pd.to_datetime(out[col]).dt.date
    for col in ("open", "high", "low", "close", "volume", "vwap"):
        if col in out:
            out[col] = pd.to_numeric(out[col], errors="coerce").astype("float64")
    for col in ("transaction_count", "session_count"):
        if col in out:
            out[col] = pd.to_numeric(out[col], errors="coerce").astype("Int64")
    if "is_complete" in out:
        out["is_complete"] = out["is_complete"].astype("boolean")
    for col in ("ticker", "timeframe"):
        if col in out:
            out[col] = out[col].astype(str)
    return out


def query_bars(request: BarsRequest, route: Route | None = None) -> pd.DataFrame:
    """The bars of `request` as one DataFrame sorted by bar_start_at, no bar twice."""
    if request.timeframe not in TIMEFRAMES:
        raise BarsQueryError(f"unknown timeframe {request.timeframe!r}: use one of {' '.join(TIMEFRAMES)}")
    if request.end < request.start:
        raise BarsQueryError(f"--to {request.end} is before --from {request.start}")
    route = route or serving_route()
    start_at, end_at = request.start_at, request.end_at
    parts = []
    if route.cutoff_at is None or start_at < route.cutoff_at:
        archive_end = end_at if route.cutoff_at is None else min(end_at, route.cutoff_at)
        parts.append(_from_archive(route.archive_target, request, start_at, archive_end))
    if route.cutoff_at is not None and end_at > route.cutoff_at:
        parts.append(_from_postgres(request, max(start_at, route.cutoff_at), end_at))
    parts = [_normalise(p) for p in parts if len(p)]
    if not parts:
        return pd.DataFrame()
    columns = list(parts[-1].columns)
    series = pd.concat([p[columns] for p in parts], ignore_index=True)
    series = series.sort_values("bar_start_at", kind="stable").reset_index(drop=True)
    if series.duplicated(["ticker", "timeframe", "bar_start_at"]).any():  # the stores overlap: a bug
        raise BarsQueryError("the serving cache and the archive overlap at the cutoff; republish "
                             "(orchestration.publish) and retry")
    return series
