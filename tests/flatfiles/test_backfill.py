"""Flat-file backfill against a real S3 server: day files written by the sandbox, read back
as Arrow tables into DuckDB, resumed after an interruption without refetching or duplicating."""

from __future__ import annotations

from datetime import date

import pytest

from ingestion.flatfiles import FlatFilesConfig, run_backfill
from ingestion.sandbox.flatfiles import write_flat_files
from ingestion.sandbox.universe import UniverseSpec, build_universe
from tests.ingestion.conftest import duckdb_rows

START, END = date(2013, 1, 2), date(2013, 3, 1)


@pytest.fixture(scope="module")
def universe():
    return build_universe(UniverseSpec(n_tickers=30, start="2012-11-01", end="2013-03-01",
                                       minute_tickers=2, minute_sessions=2))


@pytest.fixture()
def flat_bucket(universe, s3_server, s3_bucket, monkeypatch, tmp_path):
    monkeypatch.setenv("TRADLYTE_DATA_DIR", str(tmp_path))
    write_flat_files(universe, s3_server.boto3_client(), s3_bucket, start=START, end=END)
    return FlatFilesConfig(endpoint_url=s3_server.endpoint_url, bucket=s3_bucket,
                           access_key_id=s3_server.access_key, secret_access_key=s3_server.secret_key)


def _expected(universe):
    d = universe.daily
    return d[(d.session_date >= START) & (d.session_date <= END)]


def test_day_files_are_polygon_shaped(universe, s3_server, flat_bucket):
    from ingestion.flatfiles.helpers import read_flat_file

    body = s3_server.boto3_client().get_object(
        Bucket=flat_bucket.bucket, Key="us_stocks_sip/day_aggs_v1/2013/02/2013-02-28.csv.gz")["Body"].read()
    table = read_flat_file(body)
    assert table.column_names == ["ticker", "volume", "open", "close", "high", "low", "window_start",
                                  "transactions"]
    row = next(r for r in table.to_pylist() if r["ticker"] == "SYN0003")
    expected = universe.daily.query("ticker == 'SYN0003' and session_date == @date(2013, 2, 28)").iloc[0]
    assert row["close"] == expected.close
    assert row["window_start"] == expected.ts_ms * 1_000_000  # nanoseconds


def test_backfill_loads_every_row_once(universe, flat_bucket, tmp_path):
    report = run_backfill(START, END, "duckdb", config=flat_bucket, batch_days=15)
    expected = _expected(universe)
    assert report.rows["daily_aggs"] == len(expected)
    (count, distinct, closes), = duckdb_rows(
        tmp_path, "select count(*), count(distinct (ticker, session_date)), sum(close) "
                  "from raw_polygon.daily_aggs where source = 'flatfile'")
    assert count == distinct == len(expected)
    assert closes == pytest.approx(expected.close.sum(), rel=1e-12)


def test_interrupted_backfill_resumes_after_the_last_finished_day(universe, flat_bucket, tmp_path, monkeypatch):
    from ingestion.flatfiles import helpers

    real_read = helpers.read_flat_file
    calls = {"n": 0}

    def failing_read(body):
        calls["n"] += 1
        if calls["n"] == 25:
            raise ConnectionError("simulated network failure mid-backfill")
        return real_read(body)

    monkeypatch.setattr("ingestion.flatfiles.read_flat_file", failing_read)
    with pytest.raises(Exception, match="simulated network failure"):
        run_backfill(START, END, "duckdb", config=flat_bucket, batch_days=10)
    loaded_before = duckdb_rows(tmp_path, "select count(distinct session_date) from raw_polygon.daily_aggs")[0][0]
    assert 0 < loaded_before < 40

    reads = {"n": 0}

    def counting_read(body):
        reads["n"] += 1
        return real_read(body)

    monkeypatch.setattr("ingestion.flatfiles.read_flat_file", counting_read)
    run_backfill(START, END, "duckdb", config=flat_bucket, batch_days=10)
    expected = _expected(universe)
    sessions = expected.session_date.nunique()
    assert reads["n"] == sessions - loaded_before  # finished days are not fetched again
    (count, distinct), = duckdb_rows(tmp_path, "select count(*), count(distinct (ticker, session_date)) "
                                               "from raw_polygon.daily_aggs")
    assert count == distinct == len(expected)


def test_minute_files_backfill(universe, s3_server, s3_bucket, tmp_path, monkeypatch):
    monkeypatch.setenv("TRADLYTE_DATA_DIR", str(tmp_path))
    write_flat_files(universe, s3_server.boto3_client(), s3_bucket, kinds=("minute",))
    config = FlatFilesConfig(endpoint_url=s3_server.endpoint_url, bucket=s3_bucket,
                             access_key_id=s3_server.access_key, secret_access_key=s3_server.secret_key)
    run_backfill(date(2013, 2, 27), END, "duckdb", kinds=("minute",), config=config)
    (count,), = duckdb_rows(tmp_path, "select count(*) from raw_polygon.minute_aggs")
    assert count == len(universe.minute)
