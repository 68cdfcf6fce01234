"""The same dbt project on Spark equals DuckDB, row for row.

gold.bars, gold.indicators, gold.signals, gold.ml_features and gold.ml_labels built on the
spark target (local pyspark, raw data read from Parquet in dlt's lake layout) against the same
universe built on DuckDB; doubles to 1e-9 relative (MACD and its signal relative to the close:
they cross zero; ML features also to 1e-12 absolute, see FEATURE_ATOL).
"""

from __future__ import annotations

import pytest

from tests.dbt_support import assert_frames_equal, normalise
from tests.ml.test_ml_macros import SERIES_TABLE_SQL, assert_rolling_list_macros_match_numpy
from tests.spark.conftest import INCREMENTAL_RUN, MARTS, RERUN_MARTS, late_correction

pytestmark = pytest.mark.spark

MACD_SCALE = {"macd": "close", "macd_signal": "close", "macd_hist": "close", "macd_fast_ema": "close"}
# ML features are ratios and correlations of scale 1; one near zero (a correlation of 2e-7 whose
# Spark and DuckDB values differ by 4e-16, 1.7e-9 relative) carries the rounding error of that
# scale, so it is judged to 1e-12 absolute as well (as tests/ml judges them against pandas)
FEATURE_ATOL = {"ml_features": 1e-12}


def assert_mart_equal(mart: str, left, right) -> None:
    assert_frames_equal(left, right, key=MARTS[mart], scale=MACD_SCALE, atol=FEATURE_ATOL.get(mart, 0.0))


@pytest.mark.parametrize("mart", list(MARTS))
def test_gold_on_spark_equals_duckdb(spark_built, duckdb_built, mart):
    spark = normalise(spark_built.query(f"select * from gold.{mart}"))
    duck = normalise(duckdb_built.query(f"select * from gold.{mart}"))
    assert len(spark) == len(duck) > 0, mart
    assert_mart_equal(mart, spark, duck)


def test_the_comparison_covers_every_timeframe_and_warm_indicators(spark_built):
    timeframes = set(spark_built.query("select distinct timeframe from gold.bars")["timeframe"])
    assert {"1m", "5m", "1h", "1d", "3d", "34d"} <= timeframes
    warm = spark_built.query("select count(*) as n from gold.indicators where is_warm and ema_200 is not null")
    assert int(warm["n"][0]) > 0


INCREMENTAL_MODELS = ["bronze.bronze_daily_aggs", "bronze.bronze_minute_aggs", "silver.silver_daily_bars",
                      "silver.silver_minute_bars", "gold.bars", "gold.indicators", "gold.signals",
                      "gold.ml_features", "gold.ml_labels"]


def test_incremental_models_are_parquet_tables_partitioned_by_ticker(spark_built, spark_universe):
    tickers = set(spark_universe.daily["ticker"])
    for model in INCREMENTAL_MODELS:
        details = spark_built.query(f"describe table extended {model}")
        info = dict(zip(details["col_name"], details["data_type"], strict=False))
        assert info.get("Provider") == "parquet", model
        partitions = set(spark_built.query(f"show partitions {model}")["partition"])
        expected = tickers if "minute" not in model else set(spark_universe.minute["ticker"])
        assert partitions == {f"ticker={t}" for t in expected}, model


def test_a_rerun_of_the_same_incremental_run_changes_nothing(spark_built):
    """`dbt run` twice without a new load: the second run overwrites the same partitions with
    the same rows (the look-back is recomputed, so only `updated_at` may move)."""
    for mart in RERUN_MARTS:
        once, rerun = normalise(spark_built.incremental_gold[mart]), normalise(spark_built.rerun_gold[mart])
        assert len(once) > 0, mart
        assert_mart_equal(mart, rerun, once)


def test_incremental_runs_on_spark_equal_a_full_refresh_on_spark(spark_built, spark_universe, duckdb_built):
    """The fixture built first without the last sessions, then ran incrementally over three
    later loads (two with new sessions, one a late correction). Gold really grew, the correction
    reached silver, and a --full-refresh of the same selection (every model the marts depend on,
    bronze up) on the same lake gives exactly the incremental end state (and DuckDB's)."""
    first = normalise(spark_built.first_gold["bars"])
    now = normalise(spark_built.incremental_gold["bars"])
    daily = [frame[frame.timeframe == "1d"] for frame in (first, now)]
    assert daily[0]["last_session_date"].max() < daily[1]["last_session_date"].max()
    assert len(daily[0]) < len(daily[1])
    corrected = late_correction(spark_universe).iloc[0]
    close = spark_built.query(
        f"select close from silver.silver_daily_bars where ticker = '{corrected.ticker}' "
        f"and session_date = date '{corrected.session_date}'")["close"][0]
    assert close == pytest.approx(float(corrected["close"]), rel=1e-12)
    spark_built.build(select=INCREMENTAL_RUN, full_refresh=True, command="run")
    for mart in MARTS:
        refreshed = normalise(spark_built.query(f"select * from gold.{mart}"))
        incremental = normalise(spark_built.incremental_gold[mart])
        assert len(refreshed) == len(incremental) > 0, mart
        assert_mart_equal(mart, incremental, refreshed)
        reference = normalise(duckdb_built.query(f"select * from gold.{mart}"))
        assert_mart_equal(mart, refreshed, reference)


def test_raw_sources_read_every_parquet_load(spark_built, spark_universe):
    """Four loads of daily_aggs sit in the raw folder (the first, two later sessions' loads and
    a correction); bronze holds every (ticker, session) once."""
    files = list((spark_built.raw_root / "daily_aggs").glob("*.parquet"))
    assert len(files) == 4
    bronze = spark_built.query("select count(*) as n from bronze.bronze_daily_aggs")
    assert int(bronze["n"][0]) == len(spark_universe.daily)


def test_rolling_list_macros_on_spark_match_numpy(spark_built):
    """The list macros' spark__ versions (collect_list order, slice, filter, array_position of
    the first max / min, the sorted-list quantile) on tests/ml's series with ties."""
    spark_built.query("create schema if not exists fixtures")
    spark_built.query("drop table if exists fixtures.series")
    spark_built.query(SERIES_TABLE_SQL)
    assert_rolling_list_macros_match_numpy(spark_built)
