"""Fixtures for the spark suite: one small sandbox universe built on Spark (over the raw
Parquet lake) and on DuckDB. Every test here carries the `spark` marker; the suite skips
with the reason when the [spark] extra or Java is missing."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from ingestion.sandbox.universe import UniverseSpec, build_universe
from tests.dbt_support import RawWarehouse

pytest.importorskip("pyspark", reason="the spark tests need the [spark] extra: pip install -e '.[spark]'")
pytest.importorskip("dbt.adapters.spark", reason="the spark tests need dbt-spark: pip install -e '.[spark]'")
if shutil.which("java") is None:
    pytest.skip("the spark tests need a Java runtime (17) on PATH", allow_module_level=True)

from tests.spark.spark_support import SparkLake  # noqa: E402

# Small, so a build takes minutes on 2 cores: 3 synthetic tickers over a year (a split, a
# dividend, a hole, minute bars for one ticker on two sessions), no bokeh history.
SPEC = UniverseSpec(n_tickers=3, start="2012-03-01", end="2013-03-01", include_bokeh=False,
                    minute_tickers=1, minute_sessions=2)
HELD_BACK_SESSIONS = 3
# what the incremental runs (and the full refresh they are compared with) build: the lineage
# of the compared marts (every incremental model), not gold.data_gaps, to keep the suite short
INCREMENTAL_RUN = "+signals +ml_features +ml_labels"
# the idempotent rerun leaves the ML marts out (each of their runs costs about a minute here):
# their incremental run already rewrites the look-back rows under the same keys, which is all
# a rerun does
RERUN = "+signals"
MARTS = {
    "bars": ["ticker", "timeframe", "bar_start_at"],
    "indicators": ["ticker", "timeframe", "bar_start_at"],
    "signals": ["ticker", "timeframe", "bar_start_at", "signal"],
    "ml_features": ["ticker", "session_date"],
    "ml_labels": ["ticker", "session_date"],
}
RERUN_MARTS = ["bars", "indicators", "signals"]


@pytest.fixture(scope="session")
def spark_universe():
    return build_universe(SPEC)


def split_universe(universe) -> tuple[dict[str, pd.DataFrame], list[pd.DataFrame]]:
    """(every raw table without the last sessions' daily bars, those daily bars as two later
    dlt loads: all but the last session, then the last one), as daily runs would bring them."""
    daily = universe.daily
    last_dates = sorted(daily["session_date"].unique())[-HELD_BACK_SESSIONS:]
    late = daily["session_date"].isin(last_dates)
    first = {"daily_aggs": daily[~late], "minute_aggs": universe.minute, "tickers": universe.tickers,
             "splits": universe.splits, "dividends": universe.dividends, "market_holidays": universe.holidays}
    steps = [daily[daily["session_date"].isin(last_dates[:-1])], daily[daily["session_date"] == last_dates[-1]]]
    return first, steps


def late_correction(universe) -> pd.DataFrame:
    """One daily bar of the first held-back session restated 5% higher: a later load that
    corrects a bar inside the look-back (both engines get it as their last load)."""
    daily = universe.daily
    session = sorted(daily["session_date"].unique())[-HELD_BACK_SESSIONS]
    corrected = daily[(daily["session_date"] == session) & (daily["ticker"] == daily["ticker"].min())].copy()
    assert len(corrected) == 1
    corrected["close"] = corrected["close"] * 1.05
    corrected["high"] = corrected[["high", "close"]].max(axis=1)
    return corrected


def gold_snapshot(lake) -> dict[str, pd.DataFrame]:
    return {mart: lake.query(f"select * from gold.{mart}") for mart in MARTS}


@pytest.fixture(scope="session")
def spark_built(spark_universe, tmp_path_factory):
    """The spark target built (models and dbt tests) from the lake without the last sessions,
    then, as loads arrive (the held-back sessions in two loads and a late correction of an
    earlier bar), an incremental `dbt run` of INCREMENTAL_RUN (insert_overwrite of ticker
    partitions): `incremental_gold`; then RERUN again without a new load (`rerun_gold`:
    must not change a row, though it recomputes the look-back from the stored state).
    `first_gold` keeps gold after the first build. (DuckDB and PostgreSQL go through several
    incremental steps in tests/dbt/test_incremental.py; each Spark run costs minutes here.)"""
    root = tmp_path_factory.mktemp("spark")
    lake = SparkLake(raw_root=root / "lake" / "raw_polygon", spark_dir=root / "spark")
    first, steps = split_universe(spark_universe)
    for table, frame in first.items():
        lake.load_raw(table, frame)
    lake.build()
    lake.first_gold = gold_snapshot(lake)
    for step in steps:
        lake.load_raw("daily_aggs", step)
    lake.load_raw("daily_aggs", late_correction(spark_universe))
    lake.dbt("run", "--select", *INCREMENTAL_RUN.split())
    lake.incremental_gold = gold_snapshot(lake)
    lake.dbt("run", "--select", RERUN)
    lake.rerun_gold = gold_snapshot(lake)
    return lake


@pytest.fixture(scope="session")
def duckdb_built(spark_universe, tmp_path_factory):
    """The same universe, all of it (and the same late correction), built on DuckDB: the reference."""
    warehouse = RawWarehouse("duckdb", duckdb_path=tmp_path_factory.mktemp("duck") / "warehouse.duckdb")
    warehouse.load_universe(spark_universe)
    warehouse.load_raw("daily_aggs", late_correction(spark_universe))
    warehouse.build()
    return warehouse
