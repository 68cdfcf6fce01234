"""Fixtures for the lake suite: one sandbox universe loaded by dlt into a real S3 (weed mini) and
into a DuckDB file, both built with dbt, and a PostgreSQL database for the serving cache."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from ingestion.load import LoadRequest
from orchestration.dbt_runner import run_dbt
from orchestration.sources import load

# No bokeh history: four synthetic tickers over 21 months keep the builds small; a one-year
# retention then cuts the series in two, so reads span the cache and the lake.
SPEC = {"n_tickers": 4, "start": "2011-06-01", "end": "2013-03-01", "include_bokeh": False,
        "minute_tickers": 1, "minute_sessions": 2, "missing_day_rate": 0.01}
RETENTION_YEARS = 1
MARTS = ("bars", "indicators", "signals", "data_gaps")


@dataclass
class LakeStack:
    s3: object  # ingestion.s3_server.SeaweedS3
    bucket: str
    pg: object  # tests.conftest.PgDatabase
    data_dir: Path

    @property
    def warehouse(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    def duckdb_gold(self, mart: str) -> pd.DataFrame:
        """The reference: the mart as the duckdb target built it."""
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            con.execute("set TimeZone = 'UTC'")
            return con.execute(f"select * from gold.{mart}").df()
        finally:
            con.close()

    def pg_query(self, sql: str, params=()) -> pd.DataFrame:
        conn = self.pg.connect()
        try:
            with conn.cursor() as cur:
                cur.execute("set time zone 'UTC'")
                cur.execute(sql, list(params))
                return pd.DataFrame(cur.fetchall(), columns=[d[0] for d in cur.description])
        finally:
            conn.close()

    def pg_execute(self, sql: str, params=()) -> None:
        conn = self.pg.connect()
        try:
            with conn, conn.cursor() as cur:
                cur.execute(sql, list(params))
        finally:
            conn.close()


@pytest.fixture(scope="module")
def lake_stack(s3_server, pg_module_database, tmp_path_factory):
    """Sandbox -> dlt -> S3 Parquet -> dbt build --target lake; the same universe -> dlt -> DuckDB
    -> dbt build --target duckdb as the reference."""
    data_dir = tmp_path_factory.mktemp("lake")
    bucket = f"lake-{uuid.uuid4().hex[:10]}"
    s3_server.boto3_client().create_bucket(Bucket=bucket)
    with pytest.MonkeyPatch.context() as mp:
        for key, value in {**s3_server.env(), **pg_module_database.env()}.items():
            mp.setenv(key, value)
        mp.setenv("TRADLYTE_LAKE_BUCKET", bucket)
        mp.setenv("TRADLYTE_DATA_DIR", str(data_dir))
        mp.setenv("TRADLYTE_DUCKDB_PATH", str(data_dir / "warehouse.duckdb"))
        mp.setenv("TRADLYTE_LAKE_DUCKDB_PATH", str(data_dir / "lake.duckdb"))
        mp.delenv("TRADLYTE_SERVING_RETENTION_YEARS", raising=False)
        for target in ("lake", "duckdb"):
            load("sandbox", LoadRequest(target=target), sandbox=SPEC)
            run_dbt(["build"], target=target)
        yield LakeStack(s3=s3_server, bucket=bucket, pg=pg_module_database, data_dir=data_dir)
