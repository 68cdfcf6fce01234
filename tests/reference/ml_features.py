"""Independent pandas/numpy computation of gold.ml_features and gold.ml_labels.

Written from the formulas in dbt_project/models/gold/_gold__ml.yml (Qlib Alpha158), with
explicit numpy windows rather than the SQL's window functions, so a test comparing the two
checks the SQL against the definitions. Inputs are frames read from the warehouse: the 1d
and Fibonacci rows of gold.bars, gold.indicators (1d) and the ticker reference data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

WINDOWS = (5, 10, 20, 30, 60)
FIB_CONTEXT = (8, 21)
EPS = 1e-12
HORIZONS = (1, 5, 20)
CROSS_SECTION = ("kmid", "roc_5", "roc_20", "ma_20", "std_20", "vma_20", "rsv_20", "corr_20")
LEVEL = ("ma", "std", "beta", "rsqr", "resi", "max", "min", "qtlu", "qtld", "rank", "rsv", "imax", "imin",
         "imxd", "corr", "vma", "vstd")
CHANGE = ("roc", "cord", "cntp", "cntn", "cntd", "sump", "sumn", "sumd", "wvma", "vsump", "vsumn", "vsumd")
ROLLING = ("roc", "ma", "std", "beta", "rsqr", "resi", "max", "min", "qtlu", "qtld", "rank", "rsv", "imax",
           "imin", "imxd", "corr", "cord", "cntp", "cntn", "cntd", "sump", "sumn", "sumd", "vma", "vstd",
           "wvma", "vsump", "vsumn", "vsumd")


def assign_securities(daily: pd.DataFrame, listings: pd.DataFrame) -> pd.DataFrame:
    """Each (ticker, session_date) gets the listing with the latest list_date on or before it."""
    rows = daily.copy()
    lst = listings[["ticker", "security_key", "list_date"]].copy()
    lst["list_date"] = pd.to_datetime(lst["list_date"]).fillna(pd.Timestamp("1900-01-01"))
    rows["_d"] = pd.to_datetime(rows["session_date"])
    merged = rows.reset_index().merge(lst, on="ticker", how="left")
    merged = merged[merged["list_date"].isna() | (merged["list_date"] <= merged["_d"])]
    merged = merged.sort_values(["index", "list_date", "security_key"], ascending=[True, False, True])
    chosen = merged.drop_duplicates("index").set_index("index")["security_key"]
    rows["security_key"] = chosen.reindex(rows.index)
    rows["security_key"] = rows["security_key"].fillna(rows["ticker"])
    rows = rows.drop(columns="_d").sort_values(["ticker", "security_key", "session_date"])
    rows["rn"] = rows.groupby(["ticker", "security_key"]).cumcount()
    rows = rows.sort_values(["ticker", "session_date"])
    rows["ticker_rn"] = rows.groupby("ticker").cumcount()
    rows["security_first_date"] = rows.groupby(["ticker", "security_key"])["session_date"].transform("min")
    return rows.reset_index(drop=True)


def _windows(values: np.ndarray, d: int) -> np.ndarray:
    """(n, d) array: row t holds values[t-d+1 .. t]; rows before d-1 are NaN."""
    n = len(values)
    out = np.full((n, d), np.nan)
    if n >= d:
        out[d - 1:] = sliding_window_view(values.astype(float), d)
    return out


def _lagged(values: np.ndarray, k: int) -> np.ndarray:
    out = np.full(len(values), np.nan)
    if len(values) > k:
        out[k:] = values[:-k]
    return out


def _corr(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Row-wise Pearson correlation over the pairs where both are known; NaN when a side is constant."""
    ok = ~(np.isnan(x) | np.isnan(y))
    n = ok.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mx = np.where(ok, x, 0).sum(axis=1) / n
        my = np.where(ok, y, 0).sum(axis=1) / n
        dx = np.where(ok, x - mx[:, None], 0)
        dy = np.where(ok, y - my[:, None], 0)
        sxx, syy, sxy = (dx * dx).sum(axis=1), (dy * dy).sum(axis=1), (dx * dy).sum(axis=1)
        out = sxy / np.sqrt(sxx * syy)
    return np.where((n >= 2) & (sxx > 0) & (syy > 0), out, np.nan)


def _rolling_one_security(g: pd.DataFrame) -> dict[str, np.ndarray]:
    close, high, low = g["close"].to_numpy(float), g["high"].to_numpy(float), g["low"].to_numpy(float)
    volume = g["volume"].to_numpy(float)
    rn = np.arange(len(g))
    prev_close = np.r_[np.nan, close[:-1]]
    prev_volume = np.r_[np.nan, volume[:-1]]
    move = close - prev_close
    vmove = volume - prev_volume
    with np.errstate(divide="ignore", invalid="ignore"):
        log_volume = np.log(np.where(volume == 0, np.nan, volume))
        ratio = close / prev_close
        log_vratio = np.log(volume / np.where(prev_volume == 0, np.nan, prev_volume) + 1)
        return_volume = np.abs(close / prev_close - 1) * volume
    out: dict[str, np.ndarray] = {}
    for d in WINDOWS:
        c, h, lo, v = _windows(close, d), _windows(high, d), _windows(low, d), _windows(volume, d)
        mean = c.mean(axis=1)
        xm = np.arange(d) - (d - 1) / 2
        yc = c - mean[:, None]
        slope = yc @ xm / (xm @ xm)
        syy = (yc ** 2).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = np.where(syy > 0, slope ** 2 * (xm @ xm) / syy, 1.0)
        hmax, lmin = h.max(axis=1), lo.min(axis=1)
        f = {
            "ma": mean / close,
            "std": c.std(axis=1, ddof=1) / close,
            "beta": slope / close,
            "rsqr": r2,
            "resi": (close - (mean + slope * xm[-1])) / close,
            "max": hmax / close,
            "min": lmin / close,
            "qtlu": np.quantile(c, 0.8, axis=1) / close,
            "qtld": np.quantile(c, 0.2, axis=1) / close,
            "rank": (c <= close[:, None]).sum(axis=1) / d,
            "rsv": (close - lmin) / (hmax - lmin + EPS),
            "corr": _corr(c, _windows(log_volume, d)),
            "vma": v.mean(axis=1) / (volume + EPS),
            "vstd": v.std(axis=1, ddof=1) / (volume + EPS),
        }
        argmax = np.full(len(g), np.nan)
        argmin = np.full(len(g), np.nan)
        full = ~np.isnan(h).any(axis=1)
        argmax[full] = np.argmax(h[full], axis=1) + 1
        argmin[full] = np.argmin(lo[full], axis=1) + 1
        f["imax"], f["imin"], f["imxd"] = argmax / d, argmin / d, (argmax - argmin) / d
        up = _windows((close > prev_close).astype(float), d)
        down = _windows((close < prev_close).astype(float), d)
        gains, losses = _windows(np.maximum(move, 0), d).sum(axis=1), _windows(np.maximum(-move, 0), d).sum(axis=1)
        moves = _windows(np.abs(move), d).sum(axis=1)
        vg, vl = _windows(np.maximum(vmove, 0), d).sum(axis=1), _windows(np.maximum(-vmove, 0), d).sum(axis=1)
        vm = _windows(np.abs(vmove), d).sum(axis=1)
        rv = _windows(return_volume, d)
        f.update({
            "roc": _lagged(close, d) / close,
            "cord": _corr(_windows(ratio, d), _windows(log_vratio, d)),
            "cntp": up.mean(axis=1),
            "cntn": down.mean(axis=1),
            "cntd": up.mean(axis=1) - down.mean(axis=1),
            "sump": gains / (moves + EPS),
            "sumn": losses / (moves + EPS),
            "sumd": (gains - losses) / (moves + EPS),
            "wvma": rv.std(axis=1, ddof=1) / (rv.mean(axis=1) + EPS),
            "vsump": vg / (vm + EPS),
            "vsumn": vl / (vm + EPS),
            "vsumd": (vg - vl) / (vm + EPS),
        })
        for name, values in f.items():
            need = d - 1 if name in LEVEL else d
            out[f"{name}_{d}"] = np.where(rn >= need, values, np.nan)
    return out


def row_features(rows: pd.DataFrame) -> pd.DataFrame:
    """The features of each row's own bar: candle shape (Qlib KBAR) and prices over close."""
    o, h, lo, c = rows["open"], rows["high"], rows["low"], rows["close"]
    return pd.DataFrame({
        "kmid": (c - o) / o, "klen": (h - lo) / o, "kmid2": (c - o) / (h - lo + EPS),
        "kup": (h - np.maximum(o, c)) / o, "kup2": (h - np.maximum(o, c)) / (h - lo + EPS),
        "klow": (np.minimum(o, c) - lo) / o, "klow2": (np.minimum(o, c) - lo) / (h - lo + EPS),
        "ksft": (2 * c - h - lo) / o, "ksft2": (2 * c - h - lo) / (h - lo + EPS),
        "open0": o / c, "high0": h / c, "low0": lo / c, "vwap0": rows["vwap"] / c,
    }, index=rows.index)


def rolling_features(series: pd.DataFrame) -> pd.DataFrame:
    """The window features of one security's series (rows in order), columns <feature>_<d>."""
    return pd.DataFrame(_rolling_one_security(series), index=series.index)


def compute_features(daily: pd.DataFrame, listings: pd.DataFrame, fib_bars: pd.DataFrame,
                     indicators: pd.DataFrame, calendar: pd.DataFrame) -> pd.DataFrame:
    """gold.ml_features from its inputs. `daily`: the 1d rows of gold.bars with session_date
    (= first_session_date); `fib_bars`: the 8d/21d rows; `calendar`: session_date, session_index."""
    cal = calendar[["session_date", "session_index"]].copy()
    rows = daily.merge(cal, on="session_date", how="inner")
    rows = assign_securities(rows, listings)
    rows = rows.sort_values(["ticker", "security_key", "session_date"]).reset_index(drop=True)
    parts = []
    for _key, g in rows.groupby(["ticker", "security_key"], sort=False):
        parts.append(rolling_features(g))
    rolled = pd.concat(parts).sort_index()
    feats = pd.DataFrame({
        "ticker": rows["ticker"], "session_date": rows["session_date"], "session_index": rows["session_index"],
        "security_key": rows["security_key"], "series_row": rows["rn"],
    })
    feats = pd.concat([feats, row_features(rows), rolled], axis=1)
    # the last complete Fibonacci bar: bucket (index + 1) // n - 1 of the global session index
    for n in FIB_CONTEXT:
        bars = fib_bars[fib_bars["timeframe"] == f"{n}d"].merge(
            cal.rename(columns={"session_date": "first_session_date"}), on="first_session_date")
        bars = bars.assign(bucket=bars["session_index"] // n)[
            ["ticker", "bucket", "first_session_date", "open", "high", "low", "close"]]
        want = rows[["ticker", "session_index", "security_first_date", "close"]].assign(
            bucket=(rows["session_index"] + 1) // n - 1)
        joined = want.reset_index().merge(bars, on=["ticker", "bucket"], how="left", suffixes=("", "_bar"))
        joined = joined.set_index("index").sort_index()
        own = joined["first_session_date"] >= joined["security_first_date"]
        bc, bh, bl, bo = (joined[k].where(own) for k in ("close_bar", "high", "low", "open"))
        feats[f"fib{n}_return"] = joined["close"] / bc - 1
        feats[f"fib{n}_position"] = (joined["close"] - bl) / (bh - bl + EPS)
        feats[f"fib{n}_kmid"] = (bc - bo) / bo
    ind = rows[["ticker", "bar_start_at", "close", "rn", "ticker_rn"]].reset_index().merge(
        indicators, on=["ticker", "bar_start_at"], how="left", suffixes=("", "_ind")).set_index("index").sort_index()
    own = (ind["rn"] == ind["ticker_rn"]) | (ind["rn"] >= 199)
    for p in (5, 10, 20, 50, 200):
        feats[f"ind_sma_{p}"] = (ind[f"sma_{p}"] / ind["close"] - 1).where(own)
    for p in (12, 26, 50, 200):
        feats[f"ind_ema_{p}"] = (ind[f"ema_{p}"] / ind["close"] - 1).where(own)
    for k in ("macd", "macd_signal", "macd_hist", "atr_14"):
        feats[f"ind_{k}"] = (ind[k] / ind["close"]).where(own)
    for k in ("rsi_14", "stoch_k", "stoch_d"):
        feats[f"ind_{k}"] = (ind[k] / 100).where(own)
    width = ind["bb_upper"] - ind["bb_lower"]
    feats["ind_bb_position"] = ((ind["close"] - ind["bb_lower"]) / width.where(width != 0)).where(own)
    feats["ind_bb_width"] = (width / ind["bb_middle"]).where(own)
    feats["ind_is_warm"] = (own & ind["is_warm"].fillna(False).astype(bool)).astype(bool)
    for f in CROSS_SECTION:
        feats[f"cs_rank_{f}"] = cross_sectional_rank(feats, f)
    return feats


def cross_sectional_rank(feats: pd.DataFrame, column: str) -> pd.Series:
    """(min rank - 1) / (count - 1) per session among known values; 0 when alone."""
    known = feats[column].notna()
    ranks = feats.loc[known].groupby("session_date")[column].rank(method="min")
    counts = feats.loc[known].groupby("session_date")[column].transform("count")
    pct = ((ranks - 1) / (counts - 1)).where(counts > 1, 0.0)
    return pct.reindex(feats.index)


def compute_labels(daily: pd.DataFrame, listings: pd.DataFrame, calendar: pd.DataFrame) -> pd.DataFrame:
    cal = calendar[["session_date", "session_index"]]
    rows = assign_securities(daily.merge(cal, on="session_date"), listings)
    rows = rows.sort_values(["ticker", "security_key", "session_date"]).reset_index(drop=True)
    g = rows.groupby(["ticker", "security_key"])
    out = rows[["ticker", "session_date", "session_index", "security_key"]].copy()
    for h in HORIZONS:
        out[f"label_return_{h}"] = g["open"].shift(-h - 1) / g["open"].shift(-1) - 1
        out[f"label_qlib_{h}"] = g["close"].shift(-h - 1) / g["close"].shift(-1) - 1
    return out


def feature_columns() -> list[str]:
    cols = ["kmid", "klen", "kmid2", "kup", "kup2", "klow", "klow2", "ksft", "ksft2", "open0", "high0", "low0",
            "vwap0"]
    cols += [f"{f}_{d}" for d in WINDOWS for f in ROLLING]
    cols += [f"fib{n}_{k}" for n in FIB_CONTEXT for k in ("return", "position", "kmid")]
    cols += [f"ind_sma_{p}" for p in (5, 10, 20, 50, 200)] + [f"ind_ema_{p}" for p in (12, 26, 50, 200)]
    cols += ["ind_macd", "ind_macd_signal", "ind_macd_hist", "ind_rsi_14", "ind_bb_position", "ind_bb_width",
             "ind_atr_14", "ind_stoch_k", "ind_stoch_d", "ind_is_warm"]
    cols += [f"cs_rank_{f}" for f in CROSS_SECTION]
    return cols
