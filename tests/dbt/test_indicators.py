"""gold.indicators equals TA-Lib on the same bars, for every series and timeframe, on DuckDB and
PostgreSQL, over bokeh's real prices and the synthetic universe (gaps, splits, a delisting)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.reference.talib_reference import INDICATOR_COLUMNS, compare, talib_indicators


def test_every_indicator_matches_talib_on_every_series(built):
    bars = built.query("select * from gold.bars order by ticker, timeframe, bar_start_at")
    indicators = built.query("select * from gold.indicators order by ticker, timeframe, bar_start_at")
    assert len(bars) == len(indicators)
    worst = dict.fromkeys(INDICATOR_COLUMNS, 0.0)
    series = 0
    for (ticker, timeframe), rows in bars.groupby(["ticker", "timeframe"], sort=False):
        actual = indicators[(indicators.ticker == ticker) & (indicators.timeframe == timeframe)]
        actual = actual.reset_index(drop=True)
        expected = talib_indicators(rows.reset_index(drop=True))
        assert (pd.to_datetime(actual.bar_start_at, utc=True).to_numpy()
                == pd.to_datetime(rows.bar_start_at, utc=True).to_numpy()).all()
        for column, error in compare(actual, expected).items():
            worst[column] = max(worst[column], error)
        assert (actual.is_warm.astype(bool).to_numpy() == expected.is_warm.to_numpy()).all()
        series += 1
    assert series > 100  # every ticker x 12 timeframes
    assert set(bars.timeframe) >= {"1d", "3d", "34d", "1m", "1h"}
    # the long series really exercise the recursions
    assert indicators.ema_200.notna().sum() > 1000


def test_rows_before_warm_up_are_null(built):
    first = built.query("""
        select * from gold.indicators
        where ticker = 'AAPL' and timeframe = '1d'
        order by bar_start_at
        limit 40
    """)
    assert first.sma_5.iloc[:4].isna().all() and first.sma_5.iloc[4:].notna().all()
    assert first.rsi_14.iloc[:14].isna().all() and np.isfinite(first.rsi_14.iloc[14])
    assert first.macd.iloc[:33].isna().all() and first.macd_signal.iloc[33:].notna().all()
    assert not first.is_warm.astype(bool).any()
