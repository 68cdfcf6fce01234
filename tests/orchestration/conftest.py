"""Fixtures for the daily-run suites: a small sandbox universe, a data folder per test, the
publish step stubbed where only the run machinery is under test, and one reference warehouse
built by a single run over the whole range (what the daily runs must add up to)."""

from __future__ import annotations

import json
import os
import sys
import types
from dataclasses import asdict

import pandas as pd
import pytest
from click.testing import CliRunner

from ingestion.sandbox.universe import UniverseSpec, build_universe

# 8 tickers (5 real from bokeh, 3 synthetic with a split and dividends) around Presidents' Day 2013
SPEC = UniverseSpec(n_tickers=3, start="2012-11-01", end="2013-03-01", minute_tickers=0)
BACKFILL_FROM = "2013-01-02"
# New York evening times, after the 16:00 close + the default 90 minutes
EVENING = "T18:00"
LAST_DAY = "2013-02-20"
BAR_KEY = ["ticker", "timeframe", "bar_start_at"]


def spec_json() -> str:
    return json.dumps({k: v for k, v in asdict(SPEC).items() if v is not None})


@pytest.fixture(scope="session")
def universe():
    return build_universe(SPEC)


def run_environment(data_dir, prefix: str) -> dict[str, str]:
    return {"TRADLYTE_DATA_DIR": str(data_dir), "TRADLYTE_SANDBOX_SPEC": spec_json(),
            "TRADLYTE_ALERTS_PREFIX": prefix, "TRADLYTE_RUN_DELAY_MINUTES": "90"}


@pytest.fixture()
def run_env(tmp_path, monkeypatch, redis_prefix):
    """A fresh data folder (warehouse, dlt state, run lock) and Redis prefix for one test."""
    for key, value in run_environment(tmp_path, redis_prefix).items():
        monkeypatch.setenv(key, value)
    for key in ("TRADLYTE_DUCKDB_PATH", "TRADLYTE_EXTRA_MODEL_PATH", "TRADLYTE_LOG_JSON"):
        monkeypatch.delenv(key, raising=False)
    return tmp_path


class PublishStub:
    """Stands in for orchestration.publish (built in another branch): counts gold rows."""

    def __init__(self):
        self.calls: list[str] = []

    def publish_gold(self, target: str) -> dict[str, int]:
        from core.warehouse import warehouse_for

        self.calls.append(target)
        with warehouse_for(target).connect(read_only=True) as con:
            return {t: int(con.query(f"select count(*) from gold.{t}")[0][0]) for t in ("bars", "indicators")}


@pytest.fixture()
def publish_stub(monkeypatch) -> PublishStub:
    stub = PublishStub()
    module = types.ModuleType("orchestration.publish")
    module.publish_gold = stub.publish_gold
    monkeypatch.setitem(sys.modules, "orchestration.publish", module)
    return stub


def tradlyte(*args: str):
    """`tradlyte ...` in this process; returns click's Result (exit_code, output)."""
    from orchestration.cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def read_gold(data_dir, table: str) -> pd.DataFrame:
    import duckdb

    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        frame = con.execute(f"select * from gold.{table}").df()
    finally:
        con.close()
    return frame.drop(columns=[c for c in ("updated_at",) if c in frame.columns])


def query(data_dir, sql: str) -> list[tuple]:
    import duckdb

    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="session")
def reference_dir(tmp_path_factory, universe):
    """One run loading every session from BACKFILL_FROM to LAST_DAY and building once."""
    import redis

    from tests.conftest import REDIS_URL, RUN_ID

    path = tmp_path_factory.mktemp("reference")
    prefix = f"tradlyte-test:{RUN_ID}:reference:"
    saved = {k: os.environ.get(k) for k in ("TRADLYTE_DATA_DIR", "TRADLYTE_SANDBOX_SPEC",
                                             "TRADLYTE_ALERTS_PREFIX", "TRADLYTE_RUN_DELAY_MINUTES")}
    os.environ.update(run_environment(path, prefix))
    try:
        result = tradlyte("run", "--from", BACKFILL_FROM, "--to", LAST_DAY, "--as-of", LAST_DAY + EVENING,
                          "--skip", "publish", "--skip", "alerts")
        assert result.exit_code == 0, result.output
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)
    return path


def assert_same_gold(left_dir, right_dir) -> None:
    from tests.dbt_support import assert_frames_equal

    for table in ("bars", "indicators"):
        left, right = read_gold(left_dir, table), read_gold(right_dir, table)
        assert len(left) > 0
        assert_frames_equal(left, right, BAR_KEY)
