"""The spark target under test: a raw Parquet lake in dlt's layout, builds, and reads.

`write_raw_lake` writes raw tables the way dlt's filesystem destination lays them out
(<root>/<table>/<load_id>.<file_id>.parquet, `_dlt_load_id` / `_dlt_id` columns, typed as
dlt types them), so the spark target reads exactly what it reads from the real lake.
dbt-spark (`method: session`) runs pyspark inside this process: one SparkSession, one
metastore and warehouse folder for the whole pytest session.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from orchestration.dbt_runner import DbtOutcome, run_dbt
from tests.dbt_support import RAW_TABLES, UNIVERSE_TABLES, _prepare, universe_frames

_ARROW_TYPES = {
    "text": "string", "date": "date32", "bigint": "int64", "double precision": "float64",
    "boolean": "bool_", "timestamp with time zone": "timestamp_utc",
}


def _arrow_schema(table: str):
    import pyarrow as pa

    def arrow_type(sql_type: str):
        name = _ARROW_TYPES[sql_type]
        return pa.timestamp("us", tz="UTC") if name == "timestamp_utc" else getattr(pa, name)()

    fields = [pa.field(n, arrow_type(t)) for n, t in RAW_TABLES[table][1]]
    return pa.schema([*fields, pa.field("_dlt_load_id", pa.string()), pa.field("_dlt_id", pa.string())])


def write_raw_parquet(root: Path, table: str, frame: pd.DataFrame, load_id: str) -> Path:
    """One load of `frame` into <root>/<table>/ as dlt's filesystem destination writes it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = _prepare(table, frame, load_id)
    schema = _arrow_schema(table)
    for column in schema:
        if pa.types.is_timestamp(column.type):
            rows[column.name] = pd.to_datetime(rows[column.name], utc=True)
        elif pa.types.is_date32(column.type):
            rows[column.name] = pd.to_datetime(rows[column.name]).dt.date
    folder = root / table
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{load_id}.{abs(hash((table, load_id))) % 10**10:010d}.parquet"
    pq.write_table(pa.Table.from_pandas(rows, schema=schema, preserve_index=False), path)
    return path


@dataclass
class SparkLake:
    """A raw lake folder plus the spark target built over it (all in this process)."""

    raw_root: Path
    spark_dir: Path
    vars: dict = field(default_factory=dict)
    _load_seq: int = 0

    def env(self) -> dict[str, str]:
        return {"TRADLYTE_SPARK_RAW": str(self.raw_root), "TRADLYTE_SPARK_DIR": str(self.spark_dir)}

    def load_raw(self, table: str, frame: pd.DataFrame) -> str:
        self._load_seq += 1
        load_id = f"{time.time():.6f}{self._load_seq:04d}"
        if len(frame):
            write_raw_parquet(self.raw_root, table, frame, load_id)
        return load_id

    def load_universe(self, universe, tables: Sequence[str] = UNIVERSE_TABLES) -> None:
        for table, frame in universe_frames(universe, tables):
            self.load_raw(table, frame)  # an empty frame writes no file

    def dbt(self, *args: str, vars: Mapping | None = None, raise_on_failure: bool = True) -> DbtOutcome:
        merged = {**self.vars, **(vars or {})}
        return run_dbt(list(args), target="spark", vars=merged or None, env=self.env(),
                       raise_on_failure=raise_on_failure)

    def build(self, select: str | None = None, full_refresh: bool = False, command: str = "build",
              exclude: str | None = None) -> DbtOutcome:
        args = [command]
        if select:
            args += ["--select", select]
        if exclude:
            args += ["--exclude", exclude]
        if full_refresh:
            args.append("--full-refresh")
        return self.dbt(*args)

    def query(self, sql: str) -> pd.DataFrame:
        """Read through the SparkSession dbt opened (timestamps come back as UTC instants)."""
        from pyspark.sql import SparkSession

        frame = SparkSession.builder.getOrCreate().sql(sql).toPandas()
        return frame
