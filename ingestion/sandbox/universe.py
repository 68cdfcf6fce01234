"""The sandbox's market: real daily prices from `bokeh-sampledata` plus a synthetic universe.

Everything is deterministic for a given `UniverseSpec` (numpy's seeded generator) and laid on
the real NYSE calendar from `pandas_market_calendars`, so tests can assert exact values.
Frames come out in the raw table shapes of docs/contracts.md (unadjusted prices).

What the synthetic part contains, so tests can rely on it (with `with_events=True`):
- `SYN0000` .. `SYN{n-1}`: random-walk prices, volumes, vwap, transaction counts.
- splits: every 7th ticker (`SYN0000`, `SYN0007`, ...) splits 2-for-1 at 60% of its life; every
  23rd ticker (starting at `SYN0005`) has a 1-for-4 reverse split at 30%. Raw prices before
  the execution date are scaled by the ratio, exactly as a real unadjusted series.
- dividends: every 3rd ticker pays a quarterly cash dividend of about 0.5% of its price.
- IPOs: every 11th ticker (from `SYN0004`) lists at 35% of the range.
- delisting: every 13th ticker (from `SYN0006`) stops trading at 70% of the range.
- a reused symbol: `SYN0001` is delisted at 40% of the range; a different company (new
  composite FIGI and CIK) lists under the same symbol at 55%.
- missing days: about `missing_day_rate` of a ticker's listed sessions have no bar (never
  its first or last session).
- one 100x price glitch: `SYN0002`'s bar at 50% of the range has every price x100.
- minute bars: the first `minute_tickers` tickers (that trade the whole range) over the last
  `minute_sessions` sessions, regular hours only; the daily bar of those days is rebuilt from
  the minutes (high/low extremes, volume sum) so both agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.calendar import NEW_YORK_NAME as NY
from core.calendar import nyse_schedule

# Real splits inside the bokeh sample (2000-03-01 .. 2013-03-01), checked against the data:
# the unadjusted close halves on these dates while adj_close does not move.
BOKEH_SPLITS = [
    ("AAPL", "2000-06-21", 1.0, 2.0),
    ("AAPL", "2005-02-28", 1.0, 2.0),
    ("MSFT", "2003-02-18", 1.0, 2.0),
]

BOKEH_REFERENCE = {
    "AAPL": ("Apple Inc.", "XNAS", "0000320193", "BBG000B9XRY4"),
    "FB": ("Meta Platforms, Inc.", "XNAS", "0001326801", "BBG000MM2P62"),
    "GOOG": ("Alphabet Inc. Class C", "XNAS", "0001652044", "BBG009S3NB30"),
    "IBM": ("International Business Machines Corporation", "XNYS", "0000051143", "BBG000BLNNH6"),
    "MSFT": ("Microsoft Corporation", "XNAS", "0000789019", "BBG000BPH459"),
}


@dataclass(frozen=True)
class UniverseSpec:
    n_tickers: int = 20
    start: str = "2015-01-02"
    end: str = "2016-12-30"
    include_bokeh: bool = True
    seed: int = 7
    minute_tickers: int = 2
    minute_sessions: int = 5
    missing_day_rate: float = 0.002
    with_events: bool = True
    # "today" for the upcoming-holidays endpoint; default: the day after `end`
    today: str | None = None


@dataclass
class Universe:
    spec: UniverseSpec
    sessions: pd.DataFrame  # session_date, market_open_at, market_close_at, is_half_day
    daily: pd.DataFrame
    minute: pd.DataFrame
    tickers: pd.DataFrame
    splits: pd.DataFrame
    dividends: pd.DataFrame
    holidays: pd.DataFrame
    notes: dict = field(default_factory=dict)


def ny_midnight_ms(dates) -> np.ndarray:
    """Epoch milliseconds of New York midnight for each date (how Polygon stamps daily bars)."""
    idx = pd.DatetimeIndex(pd.to_datetime(pd.Series(dates)).to_numpy()).as_unit("ns").tz_localize(NY)
    return (idx.tz_convert("UTC").asi8 // 1_000_000).astype("int64")


def _bokeh_frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    from bokeh_sampledata.stocks import data

    df = data.copy()
    df["session_date"] = pd.to_datetime(df["date"]).dt.date
    daily = pd.DataFrame({
        "ticker": df["ticker"].astype(str),
        "session_date": df["session_date"],
        "ts_ms": ny_midnight_ms(df["session_date"]),
        "open": df["open"].astype(float), "high": df["high"].astype(float),
        "low": df["low"].astype(float), "close": df["close"].astype(float),
        "volume": df["volume"].astype(float),
        "vwap": np.nan, "transactions": pd.array([pd.NA] * len(df), dtype="Int64"),
    })
    firsts = df.groupby("ticker")["session_date"].min()
    lasts = df.groupby("ticker")["session_date"].max()
    rows = []
    for ticker, (name, exchange, cik, figi) in BOKEH_REFERENCE.items():
        if ticker not in firsts.index:
            continue
        rows.append({
            "ticker": ticker, "name": name, "market": "stocks", "locale": "us",
            "primary_exchange": exchange, "type": "CS", "active": True, "currency_name": "usd",
            "cik": cik, "composite_figi": figi, "share_class_figi": None, "delisted_utc": pd.NaT,
            "list_date": firsts[ticker], "security_key": figi,
        })
    tickers = pd.DataFrame(rows)
    splits = pd.DataFrame([
        {"id": f"bokeh-{t}-{d}", "ticker": t, "execution_date": pd.Timestamp(d).date(),
         "split_from": f, "split_to": to}
        for t, d, f, to in BOKEH_SPLITS
    ])
    del lasts
    return daily, tickers, splits


def _synthetic(spec: UniverseSpec, sessions: pd.DataFrame) -> dict:
    rng = np.random.default_rng(spec.seed)
    n, m = spec.n_tickers, len(sessions)
    names = np.array([f"SYN{i:04d}" for i in range(n)])
    session_dates = sessions["session_date"].to_numpy()

    # listed life [first, last] in session positions
    first = np.zeros(n, dtype=np.int64)
    last = np.full(n, m - 1, dtype=np.int64)
    idx = np.arange(n)
    if spec.with_events and m >= 20:
        first[(idx % 11 == 4)] = int(m * 0.35)
        last[(idx % 13 == 6)] = int(m * 0.70)
        if n > 1:
            last[1] = int(m * 0.40)

    # adjusted (continuous) log-price paths, vectorised over the whole matrix
    start_price = np.exp(rng.normal(np.log(40.0), 0.8, size=n))
    drift = rng.normal(0.0002, 0.0004, size=n)
    vol = rng.uniform(0.008, 0.03, size=n)
    log_ret = rng.standard_normal((n, m), dtype=np.float64) * vol[:, None] + drift[:, None]
    log_close = np.log(start_price)[:, None] + np.cumsum(log_ret, axis=1)
    close = np.exp(log_close)
    gap = rng.standard_normal((n, m)) * (vol[:, None] * 0.3)
    prev_close = np.concatenate([start_price[:, None], close[:, :-1]], axis=1)
    open_ = prev_close * np.exp(gap)
    spread_hi = np.abs(rng.standard_normal((n, m))) * vol[:, None] * 0.5
    spread_lo = np.abs(rng.standard_normal((n, m))) * vol[:, None] * 0.5
    high = np.maximum(open_, close) * np.exp(spread_hi)
    low = np.minimum(open_, close) * np.exp(-spread_lo)
    volume = np.round(np.exp(rng.normal(13.0, 0.6, size=(n, m))), 2)
    vwap = (high + low + close) / 3.0
    transactions = np.maximum(1, (volume / 120.0)).astype(np.int64)

    # splits: raw price before the execution session = adjusted price x (to / from)
    split_rows = []
    raw_factor = np.ones((n, m))
    if spec.with_events and m >= 20:
        for i in range(n):
            life = last[i] - first[i]
            if life < 10:
                continue
            events = []
            if i % 7 == 0:
                events.append((first[i] + int(life * 0.6), 1.0, 2.0))
            if i % 23 == 5:
                events.append((first[i] + int(life * 0.3), 4.0, 1.0))
            for pos, split_from, split_to in events:
                raw_factor[i, :pos] *= split_to / split_from
                split_rows.append({
                    "id": f"syn-split-{names[i]}-{session_dates[pos]}", "ticker": names[i],
                    "execution_date": session_dates[pos], "split_from": split_from, "split_to": split_to,
                })
    open_r, high_r, low_r, close_r = (a * raw_factor for a in (open_, high, low, close))
    vwap_r = vwap * raw_factor
    volume_r = np.round(volume / raw_factor, 2)

    # the 100x glitch
    notes: dict = {}
    if spec.with_events and n > 2 and m >= 20:
        g = int(m * 0.5)
        for arr in (open_r, high_r, low_r, close_r, vwap_r):
            arr[2, g] *= 100.0
        notes["glitch"] = (names[2], session_dates[g])

    # presence mask: listed life minus random holes (never the first or last listed session)
    pos = np.arange(m)[None, :]
    present = (pos >= first[:, None]) & (pos <= last[:, None])
    holes = rng.random((n, m)) < spec.missing_day_rate
    holes &= (pos > first[:, None]) & (pos < last[:, None])
    present &= ~holes
    notes["holes"] = int(holes.sum())

    ti, si = np.nonzero(present)
    daily = pd.DataFrame({
        "ticker": names[ti],
        "session_date": session_dates[si],
        "ts_ms": ny_midnight_ms(session_dates)[si],
        "open": np.round(open_r[ti, si], 4), "high": np.round(high_r[ti, si], 4),
        "low": np.round(low_r[ti, si], 4), "close": np.round(close_r[ti, si], 4),
        "volume": volume_r[ti, si], "vwap": np.round(vwap_r[ti, si], 4),
        "transactions": transactions[ti, si],
    })
    # rounding can cross open/close over high/low by a hair: re-impose the OHLC envelope
    daily["high"] = daily[["open", "high", "low", "close"]].max(axis=1)
    daily["low"] = daily[["open", "high", "low", "close"]].min(axis=1)
    daily["vwap"] = daily["vwap"].clip(lower=daily["low"], upper=daily["high"])

    # reference data
    list_dates = session_dates[first]
    delisted = pd.Series([
        pd.Timestamp(session_dates[last[i]]).tz_localize(NY).tz_convert("UTC") + pd.Timedelta(hours=16)
        if last[i] < m - 1 else pd.NaT for i in range(n)
    ], dtype="datetime64[ns, UTC]")
    tickers = pd.DataFrame({
        "ticker": names, "name": [f"Synthetic Company {i}" for i in range(n)], "market": "stocks",
        "locale": "us", "primary_exchange": np.where(idx % 2 == 0, "XNYS", "XNAS"), "type": "CS",
        "active": last == m - 1, "currency_name": "usd",
        "cik": [f"{9_000_000 + i:010d}" for i in range(n)],
        "composite_figi": [f"BBGSYN{i:06d}" for i in range(n)], "share_class_figi": None,
        "delisted_utc": delisted, "list_date": list_dates,
    })
    tickers["security_key"] = tickers["composite_figi"]

    if spec.with_events and n > 1 and m >= 20:
        # a new company reuses SYN0001 after the first one was delisted
        reuse_start = int(m * 0.55)
        k = m - reuse_start
        r_close = 15.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, size=k)))
        r_open = np.concatenate([[15.0], r_close[:-1]])
        r_high = np.maximum(r_open, r_close) * 1.01
        r_low = np.minimum(r_open, r_close) * 0.99
        reuse = pd.DataFrame({
            "ticker": "SYN0001", "session_date": session_dates[reuse_start:],
            "ts_ms": ny_midnight_ms(session_dates)[reuse_start:],
            "open": np.round(r_open, 4), "high": np.round(r_high, 4), "low": np.round(r_low, 4),
            "close": np.round(r_close, 4), "volume": np.round(np.exp(rng.normal(12, 0.5, size=k)), 2),
            "vwap": np.round((r_high + r_low + r_close) / 3, 4), "transactions": 900,
        })
        reuse["high"] = reuse[["open", "high", "low", "close"]].max(axis=1)
        reuse["low"] = reuse[["open", "high", "low", "close"]].min(axis=1)
        daily = pd.concat([daily, reuse], ignore_index=True)
        tickers = pd.concat([tickers, pd.DataFrame([{
            "ticker": "SYN0001", "name": "Reused Symbol Holdings", "market": "stocks", "locale": "us",
            "primary_exchange": "XNAS", "type": "CS", "active": True, "currency_name": "usd",
            "cik": "0009999999", "composite_figi": "BBGSYNREUSE1", "share_class_figi": None,
            "delisted_utc": pd.NaT, "list_date": session_dates[reuse_start], "security_key": "BBGSYNREUSE1",
        }])], ignore_index=True)
        notes["reused_symbol"] = ("SYN0001", session_dates[last[1]], session_dates[reuse_start])

    # dividends: quarterly, about 0.5% of the raw close on the ex-date
    div_rows = []
    if spec.with_events:
        for i in range(0, n, 3):
            for p in range(first[i] + 40, last[i], 63):
                div_rows.append({
                    "id": f"syn-div-{names[i]}-{session_dates[p]}", "ticker": names[i],
                    "ex_dividend_date": session_dates[p],
                    "pay_date": session_dates[min(p + 10, m - 1)],
                    "record_date": session_dates[min(p + 1, m - 1)],
                    "declaration_date": session_dates[max(p - 15, 0)],
                    "cash_amount": round(float(close_r[i, p]) * 0.005, 4),
                    "currency": "USD", "dividend_type": "CD", "frequency": 4,
                })
    return {"daily": daily, "tickers": tickers, "splits": pd.DataFrame(split_rows),
            "dividends": pd.DataFrame(div_rows), "notes": notes, "first": first, "last": last,
            "names": names}


def _minute_bars(spec: UniverseSpec, sessions: pd.DataFrame, daily: pd.DataFrame, names, first, last,
                 rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Regular-hours minute bars for a few tickers; the matching daily bars are rebuilt from them."""
    m = len(sessions)
    if spec.minute_tickers <= 0 or spec.minute_sessions <= 0 or m == 0:
        return pd.DataFrame(columns=["ticker", "ts_ms"]), daily
    full_life = [names[i] for i in range(len(names)) if first[i] == 0 and last[i] == m - 1
                 and names[i] not in ("SYN0001", "SYN0002")]
    chosen = full_life[: spec.minute_tickers]
    recent = sessions.iloc[max(0, m - spec.minute_sessions):]
    frames = []
    keyed = daily.set_index(["ticker", "session_date"])
    for ticker in chosen:
        for row in recent.itertuples():
            key = (ticker, row.session_date)
            if key not in keyed.index:
                continue
            bar = keyed.loc[key]
            minutes = int((row.market_close_at - row.market_open_at).total_seconds() // 60)
            steps = rng.standard_normal(minutes) * 0.0008
            bridge = np.cumsum(steps)
            bridge = bridge - np.linspace(0, 1, minutes) * (bridge[-1] - np.log(bar["close"] / bar["open"]))
            closes = bar["open"] * np.exp(bridge)
            opens = np.concatenate([[bar["open"]], closes[:-1]])
            highs = np.maximum(opens, closes) * np.exp(np.abs(rng.standard_normal(minutes)) * 0.0003)
            lows = np.minimum(opens, closes) * np.exp(-np.abs(rng.standard_normal(minutes)) * 0.0003)
            vols = np.round(np.exp(rng.normal(8.0, 0.7, size=minutes)), 2)
            start_ms = int(row.market_open_at.value // 1_000_000)
            frames.append(pd.DataFrame({
                "ticker": ticker, "ts_ms": start_ms + np.arange(minutes, dtype=np.int64) * 60_000,
                "open": np.round(opens, 4), "high": np.round(highs, 4), "low": np.round(lows, 4),
                "close": np.round(closes, 4), "volume": vols,
                "vwap": np.round((highs + lows + closes) / 3, 4),
                "transactions": np.maximum(1, (vols / 50).astype(np.int64)),
            }))
    if not frames:
        return pd.DataFrame(columns=["ticker", "ts_ms"]), daily
    minute = pd.concat(frames, ignore_index=True)
    minute["high"] = minute[["open", "high", "low", "close"]].max(axis=1)
    minute["low"] = minute[["open", "high", "low", "close"]].min(axis=1)
    minute["vwap"] = minute["vwap"].clip(lower=minute["low"], upper=minute["high"])
    # rebuild the daily bars of those days from their minutes
    minute["session_date"] = (pd.to_datetime(minute["ts_ms"], unit="ms", utc=True)
                              .dt.tz_convert(NY).dt.date)
    agg = minute.groupby(["ticker", "session_date"]).agg(
        open=("open", "first"), high=("high", "max"), low=("low", "min"), close=("close", "last"),
        volume=("volume", "sum"), transactions=("transactions", "sum"))
    pv = (minute["vwap"] * minute["volume"]).groupby([minute["ticker"], minute["session_date"]]).sum()
    agg["vwap"] = (pv / agg["volume"]).round(4)
    agg["volume"] = agg["volume"].round(2)
    daily = daily.set_index(["ticker", "session_date"])
    daily.update(agg)
    daily = daily.reset_index()
    return minute.drop(columns=["session_date"]), daily


def _holidays(start: str, end: str) -> pd.DataFrame:
    """NYSE weekday closures and early closes in [start, end] (the upcoming-holidays endpoint)."""
    import pandas_market_calendars as mcal

    cal = mcal.get_calendar("XNYS")
    sched = nyse_schedule(start, end)
    weekdays = pd.bdate_range(start, end).date
    open_days = set(sched["session_date"])
    holiday_names = {}
    for rule in cal.regular_holidays.rules:
        for d in rule.dates(start, end):
            holiday_names[d.date()] = rule.name
    rows = [{"exchange": "NYSE", "date": d, "name": holiday_names.get(d, "Market Holiday"),
             "status": "closed", "open": pd.NaT, "close": pd.NaT}
            for d in weekdays if d not in open_days]
    for r in sched[sched["is_half_day"]].itertuples():
        rows.append({"exchange": "NYSE", "date": r.session_date, "name": "Early Close",
                     "status": "early-close", "open": r.market_open_at, "close": r.market_close_at})
    out = pd.DataFrame(rows, columns=["exchange", "date", "name", "status", "open", "close"])
    out["open"] = pd.to_datetime(out["open"], utc=True)
    out["close"] = pd.to_datetime(out["close"], utc=True)
    return out.sort_values("date").reset_index(drop=True)


def build_universe(spec: UniverseSpec | None = None) -> Universe:
    spec = spec or UniverseSpec()
    sessions = nyse_schedule(spec.start, spec.end).reset_index(drop=True)
    syn = _synthetic(spec, sessions)
    rng = np.random.default_rng(spec.seed + 1)
    minute, syn_daily = _minute_bars(spec, sessions, syn["daily"], syn["names"], syn["first"],
                                     syn["last"], rng)
    daily_parts, ticker_parts, split_parts = [syn_daily], [syn["tickers"]], [syn["splits"]]
    if spec.include_bokeh:
        b_daily, b_tickers, b_splits = _bokeh_frames()
        daily_parts.append(b_daily)
        ticker_parts.append(b_tickers)
        split_parts.append(b_splits)
    daily = pd.concat([p for p in daily_parts if len(p)], ignore_index=True)
    daily["transactions"] = daily["transactions"].astype("Int64")
    daily = daily.sort_values(["ticker", "session_date"], kind="stable").reset_index(drop=True)
    tickers = pd.concat(ticker_parts, ignore_index=True)
    tickers["delisted_utc"] = pd.to_datetime(tickers["delisted_utc"], utc=True)
    tickers["last_updated_utc"] = pd.Timestamp(spec.end, tz="UTC")
    splits = pd.concat([p for p in split_parts if len(p)], ignore_index=True) if any(
        len(p) for p in split_parts) else pd.DataFrame(
        columns=["id", "ticker", "execution_date", "split_from", "split_to"])
    dividends = syn["dividends"] if len(syn["dividends"]) else pd.DataFrame(columns=[
        "id", "ticker", "ex_dividend_date", "pay_date", "record_date", "declaration_date",
        "cash_amount", "currency", "dividend_type", "frequency"])
    today = spec.today or str((pd.Timestamp(spec.end) + pd.Timedelta(days=1)).date())
    holidays = _holidays(spec.start, str((pd.Timestamp(today) + pd.Timedelta(days=365)).date()))
    return Universe(spec=spec, sessions=sessions, daily=daily, minute=minute, tickers=tickers,
                    splits=splits, dividends=dividends, holidays=holidays, notes=syn["notes"])
