"""The PostgreSQL serving cache (publish) and `tradlyte bars` routing across the cache and the lake."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from click.testing import CliRunner

from core.contract import SERVED_MARTS as GOLD_MARTS
from orchestration.cli import main
from orchestration.publish import publish_gold
from tests.dbt_support import assert_frames_equal, normalise
from tests.lake.conftest import MARTS, RETENTION_YEARS


def _cutoff(stack, years: int) -> tuple[date, pd.Timestamp]:
    """Independently: the latest daily session minus `years`, at New York midnight."""
    bars = stack.duckdb_gold("bars")
    latest = pd.to_datetime(bars.loc[bars["timeframe"] == "1d", "last_session_date"]).max().date()
    cutoff = latest.replace(year=latest.year - years)
    at = pd.Timestamp(datetime.combine(cutoff, time(0)), tz=ZoneInfo("America/New_York")).tz_convert("UTC")
    return cutoff, at


def _window(stack, mart: str, years: int) -> pd.DataFrame:
    frame = normalise(stack.duckdb_gold(mart))
    cutoff, at = _cutoff(stack, years)
    if GOLD_MARTS[mart].time_column == "session_date":
        return frame[frame["session_date"] >= cutoff]
    return frame[frame["bar_start_at"] >= at]


def _pg_mart(stack, mart: str) -> pd.DataFrame:
    return normalise(stack.pg_query(f"select * from gold.{mart}"))


@pytest.fixture(scope="module")
def published(lake_stack):
    """First a two-year window (the whole sandbox), then the one-year retention: rows age out."""
    with pytest.MonkeyPatch.context() as mp:
        for key, value in lake_stack.pg.env().items():
            mp.setenv(key, value)
        first = publish_gold("lake", retention_years=RETENTION_YEARS + 1)
        second = publish_gold("lake", retention_years=RETENTION_YEARS)
    return first, second


def test_publish_copies_exactly_the_retention_window(lake_stack, published):
    first, second = published
    for mart in MARTS:
        expected = _window(lake_stack, mart, RETENTION_YEARS)
        everything = lake_stack.duckdb_gold(mart)
        assert 0 < len(expected) <= len(everything), mart
        if mart in ("bars", "indicators"):  # the window really cuts the history (signals need warm-up)
            assert len(expected) < len(everything), mart
        assert first[mart] == len(everything)  # two years cover the whole sandbox
        assert second[mart] == 0  # shrinking the window changes no kept row
        assert_frames_equal(_pg_mart(lake_stack, mart), expected, key=list(GOLD_MARTS[mart].key))
    state = lake_stack.pg_query("select mart, source_target, retention_years, cutoff_date from ops.serving_cache")
    cutoff, _ = _cutoff(lake_stack, RETENTION_YEARS)
    assert set(state["mart"]) == set(MARTS)
    assert (state["cutoff_date"] == cutoff).all() and (state["source_target"] == "lake").all()


def test_republish_repairs_drift_and_otherwise_changes_nothing(lake_stack, published):
    env = lake_stack.pg.env()
    _, at = _cutoff(lake_stack, RETENTION_YEARS)
    before = _pg_mart(lake_stack, "bars")
    victim = lake_stack.pg_query("select ticker, timeframe, bar_start_at from gold.bars "
                                 "where timeframe = '1d' order by bar_start_at desc limit 1").iloc[0]
    # drift: a changed value, a row that left the source, a row older than retention
    lake_stack.pg_execute("update gold.bars set close = close + 1 where ticker = %s and timeframe = %s "
                          "and bar_start_at = %s", list(victim))
    for start in (at + timedelta(days=3650), at - timedelta(days=30)):
        lake_stack.pg_execute("insert into gold.bars (ticker, timeframe, bar_start_at, open, high, low, close) "
                              "values ('ZZZZ', '1d', %s, 1, 1, 1, 1)", [start.to_pydatetime()])
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        repaired = publish_gold("lake", retention_years=RETENTION_YEARS)
        unchanged = publish_gold("lake", retention_years=RETENTION_YEARS)
    assert repaired == {"bars": 1, "indicators": 0, "signals": 0, "data_gaps": 0}
    assert unchanged == dict.fromkeys(MARTS, 0)
    assert_frames_equal(_pg_mart(lake_stack, "bars"), before, key=list(GOLD_MARTS["bars"].key))
    raw = lake_stack.pg_query("select updated_at from gold.bars")
    assert raw["updated_at"].notna().all()


def test_serving_tables_have_the_time_range_index(lake_stack, published):
    indexes = lake_stack.pg_query("select indexname, indexdef from pg_indexes where schemaname = 'gold'")
    definition = indexes.set_index("indexname").loc["bars_serving_key", "indexdef"]
    assert "(ticker, timeframe, bar_start_at)" in definition and "UNIQUE" in definition


def _reference_range(stack, ticker: str, timeframe: str, start: date, end: date) -> pd.DataFrame:
    bars = normalise(stack.duckdb_gold("bars"))
    ny = ZoneInfo("America/New_York")
    lo = pd.Timestamp(datetime.combine(start, time(0)), tz=ny).tz_convert("UTC")
    hi = pd.Timestamp(datetime.combine(end + timedelta(days=1), time(0)), tz=ny).tz_convert("UTC")
    picked = bars[(bars["ticker"] == ticker) & (bars["timeframe"] == timeframe)
                  & (bars["bar_start_at"] >= lo) & (bars["bar_start_at"] < hi)]
    return picked.sort_values("bar_start_at").reset_index(drop=True)


@pytest.mark.parametrize("timeframe", ["8d", "1d"])
def test_bars_spanning_both_stores_equals_gold(lake_stack, published, tmp_path, timeframe):
    cutoff, at = _cutoff(lake_stack, RETENTION_YEARS)
    ticker = "SYN0000"
    start, end = cutoff - timedelta(days=120), cutoff + timedelta(days=120)
    expected = _reference_range(lake_stack, ticker, timeframe, start, end)
    # both stores really contribute: the cache has nothing before the cutoff
    assert (expected["bar_start_at"] < at).sum() > 3 and (expected["bar_start_at"] >= at).sum() > 3
    assert lake_stack.pg_query("select count(*) as n from gold.bars where bar_start_at < %s",
                               [at.to_pydatetime()])["n"][0] == 0
    env = {**lake_stack.pg.env()}
    out = tmp_path / "bars.parquet"
    result = CliRunner().invoke(main, ["bars", ticker, "--timeframe", timeframe, "--from", start.isoformat(),
                                       "--to", end.isoformat(), "--format", "parquet", "--out", str(out)],
                                env=env)
    assert result.exit_code == 0, result.output
    got = normalise(pd.read_parquet(out))
    assert got["bar_start_at"].is_monotonic_increasing and not got.duplicated(["bar_start_at"]).any()
    assert_frames_equal(got, expected, key=["bar_start_at"])
    csv = CliRunner().invoke(main, ["bars", ticker, "--timeframe", timeframe, "--from", start.isoformat(),
                                    "--to", end.isoformat()], env=env)
    assert csv.exit_code == 0, csv.output
    from io import StringIO

    from_csv = normalise(pd.read_csv(StringIO(csv.stdout)))
    assert_frames_equal(from_csv, expected, key=["bar_start_at"])


def test_bars_rejects_a_bad_timeframe_with_one_line(lake_stack, published):
    result = CliRunner().invoke(main, ["bars", "SYN0000", "--timeframe", "7d", "--from", "2012-01-01",
                                       "--to", "2012-02-01"], env=lake_stack.pg.env())
    assert result.exit_code == 2
    assert "unknown timeframe" in result.output and len(result.output.strip().splitlines()) == 1
