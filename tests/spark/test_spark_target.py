"""The same dbt project on Spark equals DuckDB, row for row.

gold.bars, gold.indicators and gold.signals built on the spark target (local pyspark, raw
data read from Parquet in dlt's lake layout) against the same universe built on DuckDB;
doubles to 1e-9 relative (MACD and its signal relative to the close: they cross zero).
"""

from __future__ import annotations

import pandas as pd
import pytest

from tests.dbt_support import assert_frames_equal
from tests.spark.conftest import MARTS

pytestmark = pytest.mark.spark

MACD_SCALE = {"macd": "close", "macd_signal": "close", "macd_hist": "close", "macd_fast_ema": "close"}


def normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows from either engine in one set of dtypes (timestamps UTC, dates as dates)."""
    out = frame.drop(columns=[c for c in ("updated_at",) if c in frame.columns]).copy()
    for col in out.columns:
        series = out[col]
        if col.endswith("_at"):
            out[col] = pd.to_datetime(series, utc=True).dt.as_unit("us")
        elif col.endswith("_date"):
            out[col] = pd.to_datetime(series).dt.date
        elif col in ("ticker", "timeframe", "signal", "direction"):
            out[col] = series.astype(str)
        elif col.startswith("is_"):
            out[col] = series.astype(bool)
        else:
            out[col] = pd.to_numeric(series, errors="coerce").astype(float)
    return out


@pytest.mark.parametrize("mart", list(MARTS))
def test_gold_on_spark_equals_duckdb(spark_built, duckdb_built, mart):
    spark = normalise(spark_built.query(f"select * from gold.{mart}"))
    duck = normalise(duckdb_built.query(f"select * from gold.{mart}"))
    assert len(spark) == len(duck) > 0, mart
    assert_frames_equal(spark, duck, key=MARTS[mart], scale=MACD_SCALE)


def test_the_comparison_covers_every_timeframe_and_warm_indicators(spark_built):
    timeframes = set(spark_built.query("select distinct timeframe from gold.bars")["timeframe"])
    assert {"1m", "5m", "1h", "1d", "3d", "34d"} <= timeframes
    warm = spark_built.query("select count(*) as n from gold.indicators where is_warm and ema_200 is not null")
    assert int(warm["n"][0]) > 0


def test_a_new_load_on_spark_equals_a_full_refresh(spark_built, duckdb_built):
    """The fixture built first without the last sessions: gold then lacked them, and the rerun
    after the new load matches DuckDB built on everything (the test above), so here: the first
    build really was older, and a --full-refresh rerun changes nothing."""
    first = normalise(spark_built.first_gold["bars"])
    now = normalise(spark_built.query("select * from gold.bars"))
    daily_before, daily_now = first[first.timeframe == "1d"], now[now.timeframe == "1d"]
    assert daily_now["last_session_date"].max() > daily_before["last_session_date"].max()
    assert len(daily_now) > len(daily_before)
    spark_built.build(select="bars indicators signals", full_refresh=True, command="run")
    for mart, key in MARTS.items():
        refreshed = normalise(spark_built.query(f"select * from gold.{mart}"))
        reference = normalise(duckdb_built.query(f"select * from gold.{mart}"))
        assert_frames_equal(refreshed, reference, key=key, scale=MACD_SCALE)


def test_raw_sources_read_every_parquet_load(spark_built, spark_universe):
    """Two loads of daily_aggs sit in the raw folder; bronze holds every row once."""
    files = list((spark_built.raw_root / "daily_aggs").glob("*.parquet"))
    assert len(files) == 2
    bronze = spark_built.query("select count(*) as n from bronze.bronze_daily_aggs")
    assert int(bronze["n"][0]) == len(spark_universe.daily)
