"""Incremental runs give exactly the rows a full refresh gives, on DuckDB and PostgreSQL.

One warehouse per engine goes through the events of a real deployment in order; after each,
the incremental result is compared row for row with a full refresh of the same raw data:
new sessions (twice), a late correction inside the look-back, a duplicate reload, a split that
arrives after the prices it affects. Indicators and signals are compared too: an incremental
run continues each long series from its stored state, and must land on the full refresh's
numbers (to 1e-9 relative, the contract's tolerance; in practice ~1e-15).
"""

from __future__ import annotations

import pandas as pd
import pytest

from tests.conftest import drop_pg_database
from tests.dbt.conftest import make_warehouse
from tests.dbt_support import assert_frames_equal

TABLES = {
    "silver.silver_daily_bars": ["ticker", "session_date"],
    "silver.silver_minute_bars": ["ticker", "minute_start_at"],
    "gold.bars": ["ticker", "timeframe", "bar_start_at"],
    "gold.data_gaps": ["ticker", "session_date"],
    "gold.indicators": ["ticker", "timeframe", "bar_start_at"],
    "gold.signals": ["ticker", "timeframe", "bar_start_at", "signal"],
}
# differences of two price-level averages: judged against the close (as the TA-Lib tests do)
PRICE_DIFFERENCES = {"macd": "close", "macd_signal": "close", "macd_hist": "close"}
# the ML marts are left out: tests/ml/test_point_in_time.py compares their incremental runs
# with full builds (building them here too cost ~80 s and checked nothing)
RUN = ("run", "--exclude", "ml_features", "ml_labels")
LATE_SPLIT_TICKER = "SYN0007"
HELD_BACK_SESSIONS = 10


def _snapshot(warehouse) -> dict[str, pd.DataFrame]:
    out = {}
    for table, _key in TABLES.items():
        frame = warehouse.query(f"select * from {table}")
        frame = frame.drop(columns=[c for c in ("updated_at",) if c in frame.columns])
        for col in frame.columns:
            if "date" in col:
                frame[col] = pd.to_datetime(frame[col]).dt.date
            elif col.endswith("_at"):
                frame[col] = pd.to_datetime(frame[col], utc=True).dt.as_unit("us")
        out[table] = frame
    return out


def _assert_incremental_equals_full_refresh(warehouse) -> None:
    warehouse.dbt(*RUN)
    incremental = _snapshot(warehouse)
    warehouse.dbt(*RUN, "--full-refresh")
    full = _snapshot(warehouse)
    for table, key in TABLES.items():
        assert len(full[table]) > 0 or table == "gold.data_gaps"
        assert_frames_equal(incremental[table], full[table], key=key, scale=PRICE_DIFFERENCES)


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def scenario(request, universe, tmp_path_factory):
    warehouse, db = make_warehouse(request.param, tmp_path_factory)
    sessions = sorted(universe.daily.loc[universe.daily.ticker.str.startswith("SYN"), "session_date"].unique())
    cutoff = sessions[-HELD_BACK_SESSIONS]
    daily = universe.daily
    minute_dates = pd.to_datetime(universe.minute.ts_ms, unit="ms", utc=True).dt.tz_convert(
        "America/New_York").dt.date
    state = {
        "cutoff": cutoff,
        "new_daily": daily[daily.session_date >= cutoff],
        "new_minute": universe.minute[minute_dates >= cutoff],
        "late_split": universe.splits[universe.splits.ticker == LATE_SPLIT_TICKER],
    }
    assert len(state["late_split"]) == 1, "the universe must split the late-split ticker"
    warehouse.load_raw("daily_aggs", daily[daily.session_date < cutoff])
    warehouse.load_raw("minute_aggs", universe.minute[minute_dates < cutoff])
    warehouse.load_raw("splits", universe.splits[universe.splits.ticker != LATE_SPLIT_TICKER])
    for table, frame in (("tickers", universe.tickers), ("dividends", universe.dividends),
                         ("market_holidays", universe.holidays)):
        warehouse.load_raw(table, frame)
    warehouse.dbt("seed")
    warehouse.dbt(*RUN, "--full-refresh")
    try:
        yield warehouse, state
    finally:
        if db is not None:
            drop_pg_database(db)


def _recomputed_rows(warehouse, ticker: str, timeframe: str) -> tuple[int, int]:
    counts = warehouse.query(f"""
        select
            count(*) as total,
            sum(case when updated_at = (select max(updated_at) from gold.indicators) then 1 else 0 end)
                as recomputed
        from gold.indicators
        where ticker = '{ticker}' and timeframe = '{timeframe}'
    """)
    return int(counts.total[0]), int(counts.recomputed[0])


def test_1_new_sessions_in_two_runs(scenario):
    warehouse, state = scenario
    before = warehouse.query("select count(*) as n from gold.bars").n[0]
    new_daily, new_minute = state["new_daily"], state["new_minute"]
    halfway = sorted(new_daily.session_date.unique())[HELD_BACK_SESSIONS // 2]
    for part_daily, part_minute in (
        (new_daily[new_daily.session_date < halfway], new_minute.iloc[: len(new_minute) // 2]),
        (new_daily[new_daily.session_date >= halfway], new_minute.iloc[len(new_minute) // 2:]),
    ):
        warehouse.load_raw("daily_aggs", part_daily)
        warehouse.load_raw("minute_aggs", part_minute)
        warehouse.dbt(*RUN)
        # a long series continued from its stored state: only the re-read look-back and the
        # new sessions were recomputed, not its history
        total, recomputed = _recomputed_rows(warehouse, "AAPL", "1d")
        assert total > 400 and 0 < recomputed <= warehouse_lookback() + HELD_BACK_SESSIONS
        _assert_incremental_equals_full_refresh(warehouse)
    assert warehouse.query("select count(*) as n from gold.bars").n[0] > before


def warehouse_lookback() -> int:
    import yaml

    from core.resources import DBT_PROJECT_DIR

    return int(yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]["lookback_sessions"])


def test_2_late_correction_inside_lookback(scenario):
    warehouse, state = scenario
    new = state["new_daily"]
    last_dates = sorted(new.session_date.unique())
    corrected = new[(new.ticker == "SYN0003") & (new.session_date == last_dates[-3])].copy()
    assert len(corrected) == 1
    corrected["close"] = corrected["close"] * 1.05
    corrected["high"] = corrected[["high", "close"]].max(axis=1)
    warehouse.load_raw("daily_aggs", corrected)
    _assert_incremental_equals_full_refresh(warehouse)
    close = warehouse.query(
        f"select close from silver.silver_daily_bars where ticker = 'SYN0003' "
        f"and session_date = date '{last_dates[-3]}'").close[0]
    assert close == pytest.approx(float(corrected["close"].iloc[0]), rel=1e-12)


def test_3_duplicate_reload_changes_nothing(scenario):
    warehouse, state = scenario
    before = warehouse.query("select count(*) as n from gold.bars").n[0]
    warehouse.load_raw("daily_aggs", state["new_daily"], mode="append")  # same rows again, new load id
    _assert_incremental_equals_full_refresh(warehouse)
    assert warehouse.query("select count(*) as n from gold.bars").n[0] == before


def test_4_split_arriving_late_restates_history(scenario):
    warehouse, state = scenario
    split = state["late_split"].iloc[0]
    first_close = f"""
        select close from silver.silver_daily_bars
        where ticker = '{LATE_SPLIT_TICKER}' order by session_date limit 1"""
    unadjusted = warehouse.query(first_close).close[0]
    warehouse.load_raw("splits", state["late_split"])
    _assert_incremental_equals_full_refresh(warehouse)
    adjusted = warehouse.query(first_close).close[0]
    assert adjusted == pytest.approx(unadjusted * split.split_from / split.split_to, rel=1e-12)
