"""The optional Dagster integration: every asset materialized in-process against the sandbox API
into a fresh DuckDB file, raw and gold checked against the universe, and dbt assets downstream
of the dlt assets in the asset graph."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pandas as pd
import pytest

from ingestion.sandbox.server import SandboxServer
from tests.orchestration.conftest import SPEC

dg = pytest.importorskip("dagster", reason="the [dagster] extra is not installed (pip install -e '.[dagster]')")
pytest.importorskip("dagster_dbt", reason="the [dagster] extra is not installed (pip install -e '.[dagster]')")
pytest.importorskip("dagster_dlt", reason="the [dagster] extra is not installed (pip install -e '.[dagster]')")

RAW_TABLES = ("daily_aggs", "tickers", "splits", "dividends", "market_holidays")


@pytest.fixture()
def dagster_env(tmp_path, monkeypatch):
    monkeypatch.setenv("TRADLYTE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    for key in ("TRADLYTE_DUCKDB_PATH", "TRADLYTE_DAGSTER_TARGET", "TRADLYTE_EXTRA_MODEL_PATH",
                "MASSIVE_API_KEY", "POLYGON_API_KEY", "POLYGON_BASE_URL"):
        monkeypatch.delenv(key, raising=False)
    return tmp_path


def _query(path, sql: str) -> list[tuple]:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_definitions_wire_dlt_into_dbt_and_schedule_after_close(dagster_env):
    from orchestration import dagster_defs

    graph = dagster_defs.defs.resolve_asset_graph()
    dlt_keys = set(dagster_defs.polygon_raw.keys)
    assert {k.to_user_string() for k in dlt_keys} == {f"raw_polygon/{t}" for t in RAW_TABLES}
    # bronze reads the tables dlt writes: the dlt assets are its parents, gold descends from all of them
    for table in RAW_TABLES:
        assert dg.AssetKey(["raw_polygon", table]) in graph.get(dg.AssetKey(["bronze", f"bronze_{table}"])).parent_keys
    gold_bars = dg.AssetKey(["gold", "bars"])
    assert gold_bars in dagster_defs.tradlyte_dbt.keys
    assert dg.AssetKey(["raw_polygon", "daily_aggs"]) in graph.get_ancestor_asset_keys(gold_bars)

    job = dagster_defs.defs.resolve_job_def("tradlyte_daily")
    assert dlt_keys | {gold_bars} <= set(job.asset_layer.selected_asset_keys)
    schedule = dagster_defs.defs.resolve_schedule_def("tradlyte_daily_after_close")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("30 17 * * 1-5", "America/New_York")
    assert schedule.job_name == "tradlyte_daily"


def test_materialize_all_assets_from_the_sandbox(dagster_env, universe):
    from orchestration import dagster_defs
    from tests.dbt.conftest import BAR_KEY, normalize_bars
    from tests.dbt_support import assert_frames_equal
    from tests.reference import fib_bars

    with SandboxServer(universe) as server:
        result = dg.materialize(
            [dagster_defs.polygon_raw, dagster_defs.tradlyte_dbt],
            resources={
                "dlt": dagster_defs.DagsterDltResource(),
                "dbt": dagster_defs.dbt_resource(),
                "polygon": dagster_defs.PolygonApi(base_url=server.base_url, api_key=server.api_key,
                                                   requests_per_minute=None),
            },
            run_config={"ops": {"polygon_raw": {"config": {"from_date": SPEC.start, "to_date": SPEC.end}}}},
        )
    assert result.success
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert set(dagster_defs.polygon_raw.keys) | {dg.AssetKey(["gold", "bars"])} <= materialized
    assert all(c.passed for c in result.get_asset_check_evaluations())
    assert len(result.get_asset_check_evaluations()) > 0

    # what the sandbox serves for the sessions asked for (bokeh tickers go back further)
    start, end = date.fromisoformat(SPEC.start), date.fromisoformat(SPEC.end)
    loaded = replace(universe, daily=universe.daily[universe.daily.session_date.between(start, end)])
    warehouse = dagster_env / "warehouse.duckdb"
    expected_rows = {"daily_aggs": len(loaded.daily), "tickers": len(universe.tickers),
                     "splits": len(universe.splits), "dividends": len(universe.dividends)}
    for table, rows in expected_rows.items():
        assert _query(warehouse, f"select count(*) from raw_polygon.{table}")[0][0] == rows, table
    assert rows_per_ticker(warehouse) == loaded.daily.groupby("ticker").size().to_dict()

    expected_bars = normalize_bars(fib_bars.all_bars(loaded, anchor="session"))
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        actual_bars = normalize_bars(con.execute("select * from gold.bars").df())
    finally:
        con.close()
    assert len(actual_bars) == len(expected_bars) > 0
    assert_frames_equal(actual_bars, expected_bars, key=BAR_KEY)


def rows_per_ticker(warehouse) -> dict[str, int]:
    frame = pd.DataFrame(_query(warehouse, "select ticker, count(*) from raw_polygon.daily_aggs group by 1"),
                         columns=["ticker", "rows"])
    return dict(zip(frame.ticker, frame.rows, strict=True))
