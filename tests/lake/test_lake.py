"""The lake target on a real S3 server: raw Parquet from dlt, gold marts as ticker partitions that
equal the duckdb target's gold row for row, readable with plain DuckDB and with pyarrow."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from core.contract import SERVED_MARTS as GOLD_MARTS
from tests.dbt_support import assert_frames_equal, normalise
from tests.lake.conftest import MARTS


def _keys(stack, prefix: str) -> list[str]:
    client = stack.s3.boto3_client()
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=stack.bucket, Prefix=prefix)
    return [obj["Key"] for page in pages for obj in page.get("Contents", [])]


def _plain_duckdb(stack, sql: str):
    """A reader with nothing from this project but DuckDB and its httpfs wheel."""
    import duckdb_extensions

    con = duckdb.connect(config={"extension_directory": str(stack.data_dir / "reader_ext"),
                                 "autoinstall_known_extensions": False})
    duckdb_extensions.import_extension("httpfs", con=con)
    con.execute("load httpfs")
    con.execute("set TimeZone = 'UTC'")
    con.execute(f"""create secret lake (type s3, key_id '{stack.s3.access_key}',
                    secret '{stack.s3.secret_key}', endpoint '{stack.s3.endpoint_host}',
                    url_style 'path', use_ssl false, region 'us-east-1')""")
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def test_raw_data_lands_as_parquet_per_table(lake_stack):
    keys = _keys(lake_stack, "raw_polygon/")
    for table in ("daily_aggs", "minute_aggs", "tickers", "splits", "dividends"):
        assert any(k.startswith(f"raw_polygon/{table}/") and k.endswith(".parquet") for k in keys), table
    lake_daily = _plain_duckdb(lake_stack, f"select count(*) as n from "
                                           f"'s3://{lake_stack.bucket}/raw_polygon/daily_aggs/*.parquet'")
    con = duckdb.connect(str(lake_stack.warehouse), read_only=True)
    try:
        reference = con.execute("select count(*) from raw_polygon.daily_aggs").fetchone()[0]
    finally:
        con.close()
    assert int(lake_daily["n"][0]) == reference > 0


def test_gold_marts_are_ticker_partitions_equal_to_duckdb_gold(lake_stack):
    for mart in MARTS:
        expected = lake_stack.duckdb_gold(mart)
        keys = _keys(lake_stack, f"gold/{mart}/")
        partitions = {k.split("/")[2] for k in keys}
        assert all(k.endswith(".parquet") for k in keys)
        assert partitions == {f"ticker={t}" for t in expected["ticker"].unique()}, mart
        lake = _plain_duckdb(lake_stack, f"""
            select * from read_parquet('s3://{lake_stack.bucket}/gold/{mart}/*/*.parquet',
                                       hive_partitioning = true, hive_types = {{'ticker': varchar}})""")
        assert len(lake) == len(expected) > 0, mart
        assert_frames_equal(normalise(lake), normalise(expected), key=list(GOLD_MARTS[mart].key))


def test_pyarrow_reads_the_bars_partitions(lake_stack):
    s3 = pafs.S3FileSystem(access_key=lake_stack.s3.access_key, secret_key=lake_stack.s3.secret_key,
                           endpoint_override=lake_stack.s3.endpoint_url, scheme="http", region="us-east-1")
    partitioning = ds.partitioning(pa.schema([("ticker", pa.string())]), flavor="hive")
    table = ds.dataset(f"{lake_stack.bucket}/gold/bars", filesystem=s3, format="parquet",
                       partitioning=partitioning).to_table()
    assert table.schema.field("bar_start_at").type == pa.timestamp("us", tz="UTC")
    expected = lake_stack.duckdb_gold("bars")
    assert_frames_equal(normalise(table.to_pandas()), normalise(expected), key=list(GOLD_MARTS["bars"].key))


def test_lake_hooks_render_nothing_on_the_duckdb_target(lake_stack):
    # the duckdb build in the fixture ran the same project: it wrote no gold to S3 of its own and
    # kept gold.bars an incremental table in its file
    con = duckdb.connect(str(lake_stack.warehouse), read_only=True)
    try:
        types = dict(con.execute("select table_name, table_type from information_schema.tables "
                                 "where table_schema in ('gold', 'raw_polygon')").fetchall())
    finally:
        con.close()
    assert types["bars"] == "BASE TABLE" and types["daily_aggs"] == "BASE TABLE"
