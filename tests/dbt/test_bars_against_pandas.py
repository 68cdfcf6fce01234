"""gold.bars equals an independent pandas computation, on DuckDB and PostgreSQL, for every
timeframe and both Fibonacci anchors, over real bokeh prices and a synthetic universe."""

from __future__ import annotations

import pandas as pd

from tests.dbt.conftest import BAR_KEY, normalize_bars
from tests.dbt_support import assert_frames_equal
from tests.reference import fib_bars


def _gold(warehouse) -> object:
    return normalize_bars(warehouse.query("select * from gold.bars"))


def test_session_anchored_bars_match_pandas(built, universe):
    expected = normalize_bars(fib_bars.all_bars(universe, anchor="session"))
    actual = _gold(built)
    assert set(actual["timeframe"]) == {"1d", "3d", "5d", "8d", "13d", "21d", "34d",
                                        "1m", "5m", "15m", "30m", "1h"}
    for timeframe in sorted(expected["timeframe"].unique()):
        assert_frames_equal(actual[actual.timeframe == timeframe], expected[expected.timeframe == timeframe],
                            key=BAR_KEY)


def test_calendar_anchored_bars_match_pandas(built, universe):
    built.dbt("run", "--select", "bars", "--full-refresh", vars={"fib_anchor": "calendar"})
    try:
        expected = normalize_bars(fib_bars.all_bars(universe, anchor="calendar"))
        actual = _gold(built)
        fib = [f"{n}d" for n in (3, 5, 8, 13, 21, 34)]
        assert_frames_equal(actual[actual.timeframe.isin(fib)], expected[expected.timeframe.isin(fib)],
                            key=BAR_KEY)
    finally:
        built.dbt("run", "--select", "bars", "--full-refresh")


def test_split_inside_a_bar_is_seamless(built):
    # AAPL's 2:1 split on 2005-02-28 falls inside an 8-session bucket: the adjusted bar's
    # range must not contain the raw pre-split prices (about 2x the post-split ones).
    bars = built.query("""
        select high, low, first_session_date, last_session_date from gold.bars
        where ticker = 'AAPL' and timeframe = '8d'
          and first_session_date <= date '2005-02-28' and last_session_date >= date '2005-02-28'
    """)
    assert len(bars) == 1
    assert bars.high[0] / bars.low[0] < 1.3


def test_holidays_are_not_gaps_and_holes_are(built, universe):
    gaps = built.query("select ticker, session_date from gold.data_gaps")
    gap_dates = {str(d)[:10] for d in gaps.session_date}
    # Thanksgiving and Christmas 2012 are not sessions, so never gaps
    assert "2012-11-22" not in gap_dates and "2012-12-25" not in gap_dates
    # every generated hole of a listed synthetic ticker is reported
    daily = universe.daily
    syn = daily[daily.ticker.str.startswith("SYN") & (daily.ticker != "SYN0001")]
    sessions = universe.sessions.session_date
    expected = 0
    for _ticker, rows in syn.groupby("ticker"):
        listed = sessions[(sessions >= rows.session_date.min()) & (sessions <= rows.session_date.max())]
        expected += len(set(listed) - set(rows.session_date))
    reported = gaps[gaps.ticker.str.startswith("SYN") & (gaps.ticker != "SYN0001")]
    assert len(reported) == expected
    assert expected > 0


def test_reused_symbol_gap_between_companies_is_not_a_gap(built, universe):
    _, delisted_on, relisted_on = universe.notes["reused_symbol"]
    gaps = built.query("select session_date from gold.data_gaps where ticker = 'SYN0001'")
    dates = [pd.Timestamp(d).date() for d in gaps.session_date]
    assert not [d for d in dates if delisted_on < d < relisted_on]


def test_dbt_docs_generate_works_offline(built):
    import json

    from core.resources import DBT_PROJECT_DIR

    built.dbt("docs", "generate")
    catalog = json.loads((DBT_PROJECT_DIR / "target" / "catalog.json").read_text())
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    assert "model.tradlyte.bars" in catalog["nodes"]
    documented = manifest["nodes"]["model.tradlyte.indicators"]["columns"]
    assert documented["rsi_14"]["description"]
