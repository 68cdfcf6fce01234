"""TA-Lib computations of every gold.indicators column, from the bars read back from gold.bars."""

from __future__ import annotations

import numpy as np
import pandas as pd
import talib

INDICATOR_COLUMNS = ["sma_5", "sma_10", "sma_20", "sma_50", "sma_200", "ema_12", "ema_26", "ema_50", "ema_200",
                     "macd", "macd_signal", "macd_hist", "rsi_14", "bb_upper", "bb_middle", "bb_lower", "atr_14",
                     "stoch_k", "stoch_d", "obv"]


def talib_indicators(bars: pd.DataFrame) -> pd.DataFrame:
    """`bars`: one series (ticker, timeframe) sorted by bar_start_at with open/high/low/close/volume."""
    close = bars["close"].to_numpy(dtype=float)
    high = bars["high"].to_numpy(dtype=float)
    low = bars["low"].to_numpy(dtype=float)
    volume = bars["volume"].to_numpy(dtype=float)
    out = {f"sma_{n}": talib.SMA(close, n) for n in (5, 10, 20, 50, 200)}
    out.update({f"ema_{n}": talib.EMA(close, n) for n in (12, 26, 50, 200)})
    out["macd"], out["macd_signal"], out["macd_hist"] = talib.MACD(close, 12, 26, 9)
    out["rsi_14"] = talib.RSI(close, 14)
    out["bb_upper"], out["bb_middle"], out["bb_lower"] = talib.BBANDS(close, 20, 2.0, 2.0, 0)
    out["atr_14"] = talib.ATR(high, low, close, 14)
    out["stoch_k"], out["stoch_d"] = talib.STOCH(high, low, close, 14, 3, 0, 3, 0)
    out["obv"] = talib.OBV(close, volume)
    frame = pd.DataFrame(out, index=bars.index)
    frame["is_warm"] = np.arange(len(bars)) >= 199
    return frame


def compare(actual: pd.DataFrame, expected: pd.DataFrame, rtol: float = 1e-9) -> dict[str, float]:
    """Max relative error per column; NULL must match NaN exactly.

    MACD, its signal and histogram are differences of two EMAs at price level, so their
    rounding error (in TA-Lib as in SQL) is relative to the price, not to the difference:
    they are compared relative to max(|value|, |close|). OBV crosses zero too: it is compared
    relative to max(|value|, 1e-6 x its largest magnitude)."""
    close = np.abs(pd.to_numeric(actual["close"], errors="coerce").to_numpy(dtype=float))
    errors = {}
    for col in INDICATOR_COLUMNS:
        a = pd.to_numeric(actual[col], errors="coerce").to_numpy(dtype=float)
        e = expected[col].to_numpy(dtype=float)
        assert (np.isnan(a) == np.isnan(e)).all(), f"{col}: NULL pattern differs at rows " \
            f"{np.where(np.isnan(a) != np.isnan(e))[0][:10].tolist()}"
        ok = ~np.isnan(e)
        if not ok.any():
            errors[col] = 0.0
            continue
        if col.startswith("macd"):
            scale = np.maximum(np.abs(e[ok]), close[ok])
        else:
            scale = np.maximum(np.abs(e[ok]), np.nanmax(np.abs(e[ok])) * 1e-6)
        errors[col] = float(np.max(np.abs(a[ok] - e[ok]) / scale))
        assert errors[col] <= rtol, f"{col}: max relative error {errors[col]:.3g}"
    return errors
