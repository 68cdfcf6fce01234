"""The dlt Polygon source over real HTTP against the sandbox: pagination, retries, auth
errors, quarantine, idempotent reruns, incremental requests, and every destination."""

from __future__ import annotations

from datetime import date

import pytest
from click.testing import CliRunner

from ingestion.load import LoadRequest
from ingestion.pipeline import run_source
from ingestion.polygon import PolygonClient, polygon_source
from ingestion.sandbox.server import FaultConfig, SandboxServer
from orchestration.cli import main
from orchestration.sources import load
from tests.ingestion.conftest import TICKERS, duckdb_rows

START, END = date(2012, 6, 1), date(2013, 3, 1)


def _client(server, **kw) -> PolygonClient:
    return PolygonClient(api_key=server.api_key, base_url=server.base_url, requests_per_minute=None,
                         backoff_base_s=0.01, **kw)


def _daily_source(server, **kw):
    return polygon_source(tickers=TICKERS, start=START, end=END, client=_client(server), **kw).with_resources(
        "daily_aggs")


def _expected_daily(universe) -> int:
    d = universe.daily
    return int(((d.ticker.isin(TICKERS)) & (d.session_date >= START) & (d.session_date <= END)).sum())


def test_pagination_walks_every_page_once(small_universe, data_dir):
    with SandboxServer(small_universe, faults=FaultConfig(max_page_size=50)) as server:
        run_source(_daily_source(server), "duckdb")
        pages = [r for r in server.request_log if r[1].startswith("/v2/aggs/ticker/SYN0000")]
    assert len(pages) > 3  # ~190 sessions in pages of 50
    assert any("cursor" in r[2] for r in pages)
    assert all("apiKey" not in r[2] for r in pages)  # the key travels in the header only
    (count, distinct), = duckdb_rows(
        data_dir, "select count(*), count(distinct (ticker, session_date)) from raw_polygon.daily_aggs")
    assert count == distinct == _expected_daily(small_universe)


def test_429_then_success_and_5xx_retried(small_universe, data_dir):
    faults = FaultConfig(burst_429=3, retry_after_s=0.05, errors_500=2)
    with SandboxServer(small_universe, faults=faults) as server:
        run_source(_daily_source(server), "duckdb")
        aggs_requests = [r for r in server.request_log if r[1].startswith("/v2/aggs")]
    assert len(aggs_requests) == len(TICKERS) + 5  # five refused, then every ticker once
    (count,), = duckdb_rows(data_dir, "select count(*) from raw_polygon.daily_aggs")
    assert count == _expected_daily(small_universe)


def test_malformed_and_truncated_bodies_are_retried(small_universe, data_dir):
    faults = FaultConfig(malformed_json_every=3, truncated_page_every=5)
    with SandboxServer(small_universe, faults=faults) as server:
        run_source(_daily_source(server), "duckdb")
    (count,), = duckdb_rows(data_dir, "select count(*) from raw_polygon.daily_aggs")
    assert count == _expected_daily(small_universe)


def test_retries_give_up_with_a_clear_error(small_universe, data_dir):
    with SandboxServer(small_universe, faults=FaultConfig(errors_500=100)) as server:
        client = PolygonClient(api_key=server.api_key, base_url=server.base_url, requests_per_minute=None,
                               backoff_base_s=0.001, max_retries=2)
        source = polygon_source(tickers=["SYN0000"], start=START, end=END, client=client)
        with pytest.raises(Exception, match="Gave up on .* after 3 attempts"):
            run_source(source.with_resources("daily_aggs"), "duckdb")


def test_bad_rows_are_quarantined_with_their_reason(small_universe, data_dir):
    with SandboxServer(small_universe, faults=FaultConfig(bad_rows=True)) as server:
        run_source(_daily_source(server), "duckdb")
    reasons = dict(duckdb_rows(data_dir, "select reason, count(*) from raw_polygon.quarantine group by 1"))
    assert reasons == {"high < low": 4, "non-positive price": 4, "missing fields: c": 4, "non-numeric value": 4}
    (count,), = duckdb_rows(data_dir, "select count(*) from raw_polygon.daily_aggs")
    assert count == _expected_daily(small_universe)  # the good rows all loaded
    (payload,), = duckdb_rows(data_dir, "select payload from raw_polygon.quarantine "
                                        "where reason = 'non-numeric value' limit 1")
    assert '"v": "lots"' in payload


def test_rerun_loads_nothing_new_and_second_run_asks_only_recent_days(small_universe, data_dir):
    with SandboxServer(small_universe) as server:
        run_source(_daily_source(server), "duckdb")
        first = duckdb_rows(data_dir, "select count(*), sum(close) from raw_polygon.daily_aggs")
        server.request_log.clear()
        run_source(_daily_source(server, lookback_days=5), "duckdb")
        second_requests = [r[1] for r in server.request_log if r[1].startswith("/v2/aggs/ticker/SYN0000")]
    assert duckdb_rows(data_dir, "select count(*), sum(close) from raw_polygon.daily_aggs") == first
    (dupes,), = duckdb_rows(data_dir, "select count(*) - count(distinct (ticker, session_date)) "
                                      "from raw_polygon.daily_aggs")
    assert dupes == 0
    # last loaded session 2013-03-01 minus the 5-day look-back
    assert second_requests == ["/v2/aggs/ticker/SYN0000/range/1/day/2013-02-24/2013-03-01"]


def test_every_resource_lands_with_contract_columns(small_universe, data_dir):
    with SandboxServer(small_universe) as server:
        source = polygon_source(tickers=TICKERS, start=START, end=END, minute_tickers=["SYN0000"],
                                grouped_dates=[date(2013, 2, 28)], client=_client(server))
        report = run_source(source, "duckdb")
    assert {"daily_aggs", "minute_aggs", "tickers", "splits", "dividends", "market_holidays"} <= set(report.rows)
    tickers = duckdb_rows(data_dir, "select ticker, security_key, active from raw_polygon.tickers "
                                    "where ticker = 'SYN0001' order by active")
    assert len(tickers) == 2 and tickers[0][1] != tickers[1][1]  # a reused symbol is two securities
    columns = {r[0] for r in duckdb_rows(data_dir, "select column_name from information_schema.columns "
                                                   "where table_name = 'daily_aggs'")}
    assert {"ticker", "session_date", "ts_ms", "open", "high", "low", "close", "volume", "vwap",
            "transactions", "source", "ingested_at", "_dlt_load_id"} <= columns
    assert duckdb_rows(data_dir, "select count(*) from raw_polygon.daily_aggs where source = 'grouped'")[0][0] > 0


@pytest.mark.parametrize(("faults", "key", "expected"), [
    (FaultConfig(), "wrong-key", "answered 401"),
    (FaultConfig(forbidden_paths=("/v2/aggs",)), None, "answered 403"),
])
def test_auth_errors_exit_non_zero_with_one_line(small_universe, data_dir, monkeypatch, faults, key, expected):
    with SandboxServer(small_universe, faults=faults) as server:
        monkeypatch.setenv("POLYGON_BASE_URL", server.base_url)
        monkeypatch.setenv("MASSIVE_API_KEY", key or server.api_key)
        result = CliRunner().invoke(main, ["load", "--source", "polygon", "--tickers", "SYN0000",
                                           "--from", "2013-01-02", "--to", "2013-03-01", "--rate", "600",
                                           "--resources", "daily_aggs"])
    assert result.exit_code == 2
    assert expected in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_missing_key_says_what_to_do(data_dir):
    result = CliRunner().invoke(main, ["load", "--source", "polygon", "--tickers", "AAPL",
                                       "--resources", "daily_aggs"])
    assert result.exit_code == 2
    assert "MASSIVE_API_KEY" in result.output


def test_postgres_destination(small_universe, data_dir, pg_database, monkeypatch):
    for key, value in pg_database.env().items():
        monkeypatch.setenv(key, value)
    with SandboxServer(small_universe) as server:
        run_source(_daily_source(server), "postgres")
        run_source(_daily_source(server), "postgres")  # idempotent
    with pg_database.connect() as conn, conn.cursor() as cur:
        cur.execute("select count(*), count(distinct (ticker, session_date)) from raw_polygon.daily_aggs")
        count, distinct = cur.fetchone()
    assert count == distinct == _expected_daily(small_universe)


def test_lake_destination_writes_parquet_to_s3(small_universe, data_dir, s3_server, s3_bucket, monkeypatch):
    import pyarrow.dataset as ds
    import pyarrow.fs as pafs

    for key, value in s3_server.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("TRADLYTE_LAKE_BUCKET", s3_bucket)
    with SandboxServer(small_universe) as server:
        run_source(_daily_source(server), "lake")
    keys = [o["Key"] for o in s3_server.boto3_client().list_objects_v2(Bucket=s3_bucket)["Contents"]]
    parquet = [k for k in keys if k.startswith("raw_polygon/daily_aggs/") and k.endswith(".parquet")]
    assert parquet
    fs = pafs.S3FileSystem(endpoint_override=s3_server.endpoint_url, access_key=s3_server.access_key,
                           secret_key=s3_server.secret_key, scheme="http", region="us-east-1")
    table = ds.dataset([f"{s3_bucket}/{k}" for k in parquet], filesystem=fs, format="parquet").to_table()
    assert table.num_rows == _expected_daily(small_universe)


def test_sandbox_load_through_the_ordinary_polygon_path(small_universe, data_dir):
    report = load("sandbox", LoadRequest(), sandbox={"n_tickers": 3, "start": "2012-12-03", "end": "2013-03-01",
                                                     "minute_tickers": 1, "minute_sessions": 1})
    assert report.rows["daily_aggs"] > 0 and report.rows["minute_aggs"] == 390


def test_duplicate_rows_in_pages_load_once(small_universe, data_dir):
    with SandboxServer(small_universe, faults=FaultConfig(duplicate_rows=True, max_page_size=40)) as server:
        run_source(_daily_source(server), "duckdb")
    (count, distinct), = duckdb_rows(
        data_dir, "select count(*), count(distinct (ticker, session_date)) from raw_polygon.daily_aggs")
    assert count == distinct == _expected_daily(small_universe)
