"""An independent pandas implementation of gold.bars, for comparison with the dbt models.

It works from the raw sandbox frames (unadjusted prices + the splits table) and the NYSE
calendar from pandas_market_calendars, sharing no code with the SQL.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

NY = "America/New_York"
EPOCH = pd.Timestamp("1970-01-01")


def calendar() -> pd.DataFrame:
    from core.calendar import nyse_schedule

    cal = nyse_schedule("1962-01-02", f"{pd.Timestamp.today().year + 1}-12-31").copy()
    cal["session_index"] = np.arange(len(cal))
    cal["session_date"] = pd.to_datetime(cal["session_date"])
    return cal


def ny_midnight(dates: pd.Series) -> pd.Series:
    return pd.to_datetime(dates).dt.tz_localize(NY).dt.tz_convert("UTC")


def adjusted_daily(daily: pd.DataFrame, splits: pd.DataFrame, cal: pd.DataFrame) -> pd.DataFrame:
    df = daily.copy()
    df["session_date"] = pd.to_datetime(df["session_date"])
    df = df.merge(cal[["session_date", "session_index"]], on="session_date", how="inner")
    factor = np.ones(len(df))
    for split in splits.itertuples():
        later = (df["ticker"] == split.ticker) & (df["session_date"] < pd.Timestamp(split.execution_date))
        factor[later.to_numpy()] /= split.split_to / split.split_from
    for col in ("open", "high", "low", "close", "vwap"):
        df[col] = df[col].astype(float) * factor
    df["volume"] = df["volume"].astype(float) / factor
    return df.sort_values(["ticker", "session_index"]).reset_index(drop=True)


def _vwap(group: pd.DataFrame) -> float:
    ok = group["vwap"].notna() & (group["volume"] > 0)
    if not ok.any():
        return np.nan
    return float((group.loc[ok, "vwap"] * group.loc[ok, "volume"]).sum() / group.loc[ok, "volume"].sum())


def _aggregate(df: pd.DataFrame, keys: list[str], order: str) -> pd.DataFrame:
    df = df.sort_values([*keys, order])
    g = df.groupby(keys, sort=False)
    out = g.agg(first_session_date=("session_date", "min"), last_session_date=("session_date", "max"),
                open=("open", "first"), high=("high", "max"), low=("low", "min"), close=("close", "last"),
                volume=("volume", "sum"), session_count=("session_date", "size"))
    tx = df.assign(known=df["transactions"].notna()).groupby(keys, sort=False)
    out["transaction_count"] = tx["transactions"].sum(min_count=1)
    out["vwap"] = g[["vwap", "volume"]].apply(_vwap)
    return out.reset_index()


def daily_bars(adj: pd.DataFrame) -> pd.DataFrame:
    out = adj.assign(timeframe="1d", first_session_date=adj["session_date"],
                     last_session_date=adj["session_date"], session_count=1, is_complete=True,
                     transaction_count=adj["transactions"])
    out["bar_start_at"] = ny_midnight(adj["session_date"])
    out["bar_end_at"] = ny_midnight(adj["session_date"] + pd.Timedelta(days=1))
    return out[COLUMNS]


def fib_bars(adj: pd.DataFrame, n: int, anchor: str, cal: pd.DataFrame) -> pd.DataFrame:
    df = adj.copy()
    as_of_date = df["session_date"].max()
    as_of_index = int(df["session_index"].max())
    if anchor == "session":
        df["bucket"] = df["session_index"] // n
    else:
        df["bucket"] = (df["session_date"] - EPOCH).dt.days // n
    out = _aggregate(df, ["ticker", "bucket"], "session_index")
    if anchor == "session":
        by_index = cal.set_index("session_index")["session_date"]
        first = out["bucket"] * n
        last = out["bucket"] * n + n - 1
        out["bar_start_at"] = ny_midnight(first.map(by_index))
        out["bar_end_at"] = ny_midnight(last.map(by_index) + pd.Timedelta(days=1))
        out["is_complete"] = last <= as_of_index
    else:
        start = EPOCH + pd.to_timedelta(out["bucket"] * n, unit="D")
        end = EPOCH + pd.to_timedelta((out["bucket"] + 1) * n, unit="D")
        out["bar_start_at"] = ny_midnight(start)
        out["bar_end_at"] = ny_midnight(end)
        next_session = cal.loc[cal["session_date"] > as_of_date, "session_date"].min()
        out["is_complete"] = end <= next_session
    out["timeframe"] = f"{n}d"
    return out[COLUMNS]


def intraday_bars(minute: pd.DataFrame, splits: pd.DataFrame, cal: pd.DataFrame, m: int) -> pd.DataFrame:
    df = minute.copy()
    df["start"] = pd.to_datetime(df["ts_ms"], unit="ms", utc=True)
    df["session_date"] = df["start"].dt.tz_convert(NY).dt.tz_localize(None).dt.normalize()
    df = df.merge(cal[["session_date", "market_open_at", "market_close_at"]], on="session_date")
    df = df[(df["start"] >= df["market_open_at"]) & (df["start"] < df["market_close_at"])]
    factor = np.ones(len(df))
    for split in splits.itertuples():
        later = (df["ticker"] == split.ticker) & (df["session_date"] < pd.Timestamp(split.execution_date))
        factor[later.to_numpy()] /= split.split_to / split.split_from
    for col in ("open", "high", "low", "close", "vwap"):
        df[col] = df[col].astype(float) * factor
    df["volume"] = df["volume"].astype(float) / factor
    df["minute"] = ((df["start"] - df["market_open_at"]).dt.total_seconds() // 60).astype(int)
    df["bucket"] = df["minute"] // m
    as_of = df["start"].max() + pd.Timedelta(minutes=1)
    out = _aggregate(df, ["ticker", "session_date", "bucket", "market_open_at", "market_close_at"], "minute")
    out["bar_start_at"] = out["market_open_at"] + pd.to_timedelta(out["bucket"] * m, unit="min")
    out["bar_end_at"] = np.minimum(out["market_open_at"] + pd.to_timedelta((out["bucket"] + 1) * m, unit="min"),
                                   out["market_close_at"])
    out["session_count"] = 1
    out["is_complete"] = out["bar_end_at"] <= as_of
    out["timeframe"] = "1h" if m == 60 else f"{m}m"
    return out[COLUMNS]


COLUMNS = ["ticker", "timeframe", "bar_start_at", "bar_end_at", "first_session_date", "last_session_date",
           "open", "high", "low", "close", "volume", "vwap", "transaction_count", "session_count",
           "is_complete"]


def all_bars(universe, anchor: str = "session", fib=(3, 5, 8, 13, 21, 34), minutes=(1, 5, 15, 30, 60)):
    cal = calendar()
    adj = adjusted_daily(universe.daily, universe.splits, cal)
    parts = [daily_bars(adj)] + [fib_bars(adj, n, anchor, cal) for n in fib]
    if len(universe.minute):
        parts += [intraday_bars(universe.minute, universe.splits, cal, m) for m in minutes]
    out = pd.concat(parts, ignore_index=True)
    for col in ("first_session_date", "last_session_date"):
        out[col] = pd.to_datetime(out[col]).dt.date
    return out
