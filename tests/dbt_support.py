"""Test harness for the dbt project: load raw tables, build, query — on DuckDB and PostgreSQL.

`RawWarehouse` writes DataFrames in the raw shapes of docs/contracts.md into `raw_polygon`
the way dlt's `merge` leaves them (one row per primary key, `_dlt_load_id` of the load that
wrote it), so dbt models can be tested without the HTTP path. End-to-end tests use dlt itself.
"""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from orchestration.dbt_runner import DbtOutcome, run_dbt

RAW_SCHEMA = "raw_polygon"

# table -> (primary key, [(column, portable SQL type)])
RAW_TABLES: dict[str, tuple[tuple[str, ...], list[tuple[str, str]]]] = {
    "daily_aggs": (("ticker", "session_date"), [
        ("ticker", "text"), ("session_date", "date"), ("ts_ms", "bigint"),
        ("open", "double precision"), ("high", "double precision"), ("low", "double precision"),
        ("close", "double precision"), ("volume", "double precision"), ("vwap", "double precision"),
        ("transactions", "bigint"), ("otc", "boolean"), ("source", "text"),
        ("ingested_at", "timestamp with time zone"),
    ]),
    "minute_aggs": (("ticker", "ts_ms"), [
        ("ticker", "text"), ("ts_ms", "bigint"),
        ("open", "double precision"), ("high", "double precision"), ("low", "double precision"),
        ("close", "double precision"), ("volume", "double precision"), ("vwap", "double precision"),
        ("transactions", "bigint"), ("source", "text"), ("ingested_at", "timestamp with time zone"),
    ]),
    "tickers": (("ticker", "security_key"), [
        ("ticker", "text"), ("name", "text"), ("market", "text"), ("locale", "text"),
        ("primary_exchange", "text"), ("type", "text"), ("active", "boolean"),
        ("currency_name", "text"), ("cik", "text"), ("composite_figi", "text"),
        ("share_class_figi", "text"), ("delisted_utc", "timestamp with time zone"),
        ("last_updated_utc", "timestamp with time zone"), ("list_date", "date"),
        ("security_key", "text"), ("ingested_at", "timestamp with time zone"),
    ]),
    "splits": (("id",), [
        ("id", "text"), ("ticker", "text"), ("execution_date", "date"),
        ("split_from", "double precision"), ("split_to", "double precision"),
        ("ingested_at", "timestamp with time zone"),
    ]),
    "dividends": (("id",), [
        ("id", "text"), ("ticker", "text"), ("ex_dividend_date", "date"), ("pay_date", "date"),
        ("record_date", "date"), ("declaration_date", "date"), ("cash_amount", "double precision"),
        ("currency", "text"), ("dividend_type", "text"), ("frequency", "bigint"),
        ("ingested_at", "timestamp with time zone"),
    ]),
    "market_holidays": (("exchange", "date"), [
        ("exchange", "text"), ("date", "date"), ("name", "text"), ("status", "text"),
        ("open", "timestamp with time zone"), ("close", "timestamp with time zone"),
        ("ingested_at", "timestamp with time zone"),
    ]),
    "quarantine": ((), [
        ("resource", "text"), ("reason", "text"), ("ticker", "text"), ("payload", "text"),
        ("ingested_at", "timestamp with time zone"),
    ]),
}


UNIVERSE_TABLES = ("daily_aggs", "minute_aggs", "tickers", "splits", "dividends", "market_holidays")


def universe_frames(universe, tables: Sequence[str] = UNIVERSE_TABLES):
    """(raw table, its frame) for each table of a sandbox `Universe`; a table the universe does
    not have comes as an empty frame with the raw columns."""
    attribute = {"daily_aggs": "daily", "minute_aggs": "minute", "market_holidays": "holidays"}
    for table in tables:
        frame = getattr(universe, attribute.get(table, table), None)
        if frame is None:
            frame = pd.DataFrame(columns=[c for c, _ in RAW_TABLES[table][1]])
        yield table, frame


def _prepare(table: str, frame: pd.DataFrame, load_id: str) -> pd.DataFrame:
    _, columns = RAW_TABLES[table]
    out = pd.DataFrame(index=frame.index)
    for name, _sql_type in columns:
        out[name] = frame[name] if name in frame.columns else None
    if out["ingested_at"].isna().all():
        out["ingested_at"] = pd.Timestamp.now(tz="UTC")
    out["_dlt_load_id"] = load_id
    out["_dlt_id"] = [uuid.uuid4().hex[:14] for _ in range(len(out))]
    return out.reset_index(drop=True)


@dataclass
class RawWarehouse:
    """One warehouse (a DuckDB file or a PostgreSQL database) under test."""

    target: str  # "duckdb" | "postgres"
    duckdb_path: Path | None = None
    pg: object | None = None  # tests.conftest.PgDatabase
    vars: dict = field(default_factory=dict)
    _load_seq: int = 0

    # -- environment -------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        if self.target == "duckdb":
            return {"TRADLYTE_DUCKDB_PATH": str(self.duckdb_path)}
        return dict(self.pg.env())

    def _next_load_id(self) -> str:
        # dlt load ids are unix timestamps as text; larger = later. Keep them increasing.
        self._load_seq += 1
        return f"{time.time():.6f}{self._load_seq:04d}"

    # -- raw loading ----------------------------------------------------------------------------
    def load_raw(self, table: str, frame: pd.DataFrame, mode: str = "merge") -> str:
        """Write `frame` into raw_polygon.<table> like a dlt load (`merge` or `append`)."""
        key, columns = RAW_TABLES[table]
        load_id = self._next_load_id()
        rows = _prepare(table, frame, load_id)
        ddl_cols = ", ".join(f'"{n}" {t}' for n, t in columns) + ', "_dlt_load_id" text, "_dlt_id" text'
        if table == "quarantine":
            mode = "append"
        if self.target == "duckdb":
            import duckdb

            con = duckdb.connect(str(self.duckdb_path))
            try:
                con.execute(f"create schema if not exists {RAW_SCHEMA}")
                con.execute(f'create table if not exists {RAW_SCHEMA}."{table}" ({ddl_cols})')
                con.register("incoming", rows)
                casts = ", ".join(
                    f'cast("{n}" as {t.replace("double precision", "double")}) as "{n}"'
                    for n, t in columns) + ', "_dlt_load_id", "_dlt_id"'
                con.execute(f"create temp table staged as select {casts} from incoming")
                if mode == "merge" and key:
                    match = " and ".join(f't."{k}" = s."{k}"' for k in key)
                    con.execute(f'delete from {RAW_SCHEMA}."{table}" t using staged s where {match}')
                con.execute(f'insert into {RAW_SCHEMA}."{table}" by name select * from staged')
            finally:
                con.close()
        else:
            conn = self.pg.connect()
            try:
                with conn, conn.cursor() as cur:
                    cur.execute(f"create schema if not exists {RAW_SCHEMA}")
                    cur.execute(f'create table if not exists {RAW_SCHEMA}."{table}" ({ddl_cols})')
                    cur.execute(f'create temp table staged (like {RAW_SCHEMA}."{table}") on commit drop')
                    buf = io.StringIO()
                    rows.to_csv(buf, index=False, header=False, na_rep="\\N", date_format="%Y-%m-%d %H:%M:%S.%f%z")
                    buf.seek(0)
                    names = ", ".join(f'"{c}"' for c in rows.columns)
                    cur.copy_expert(f"copy staged ({names}) from stdin with (format csv, null '\\N')", buf)
                    if mode == "merge" and key:
                        match = " and ".join(f't."{k}" = s."{k}"' for k in key)
                        cur.execute(f'delete from {RAW_SCHEMA}."{table}" t using staged s where {match}')
                    cur.execute(f'insert into {RAW_SCHEMA}."{table}" ({names}) select {names} from staged')
            finally:
                conn.close()
        return load_id

    def load_universe(self, universe, tables: Sequence[str] = UNIVERSE_TABLES) -> None:
        """Load every raw table of a sandbox `Universe` (ingestion.sandbox.universe)."""
        for table, frame in universe_frames(universe, tables):
            self.load_raw(table, frame)

    # -- dbt ------------------------------------------------------------------------------------
    def dbt(self, *args: str, vars: Mapping | None = None, raise_on_failure: bool = True) -> DbtOutcome:
        merged = {**self.vars, **(vars or {})}
        return run_dbt(list(args), target=self.target, vars=merged or None, env=self.env(),
                       raise_on_failure=raise_on_failure)

    def build(self, select: str | None = None, full_refresh: bool = False, vars: Mapping | None = None,
              command: str = "build") -> DbtOutcome:
        args = [command]
        if select:
            args += ["--select", select]
        if full_refresh:
            args.append("--full-refresh")
        return self.dbt(*args, vars=vars)

    # -- reading --------------------------------------------------------------------------------
    def query(self, sql: str) -> pd.DataFrame:
        if self.target == "duckdb":
            import duckdb

            con = duckdb.connect(str(self.duckdb_path), read_only=True)
            try:
                con.execute("set TimeZone = 'UTC'")
                return con.execute(sql).df()
            finally:
                con.close()
        conn = self.pg.connect()
        try:
            with conn.cursor() as cur:
                cur.execute("set time zone 'UTC'")
                cur.execute(sql)
                cols = [d[0] for d in cur.description]
                return pd.DataFrame(cur.fetchall(), columns=cols)
        finally:
            conn.close()

    def execute(self, sql: str) -> None:
        if self.target == "duckdb":
            import duckdb

            con = duckdb.connect(str(self.duckdb_path))
            try:
                con.execute(sql)
            finally:
                con.close()
        else:
            conn = self.pg.connect()
            try:
                with conn, conn.cursor() as cur:
                    cur.execute(sql)
            finally:
                conn.close()


def assert_frames_equal(left: pd.DataFrame, right: pd.DataFrame, key: Sequence[str], rtol: float = 1e-9,
                        scale: Mapping[str, str] | None = None, atol: float = 0.0) -> None:
    """Row-for-row equality of two result sets, doubles to `rtol` relative (plus `atol` absolute).

    `scale` maps a column to the column its error is relative to: a difference of two
    price-level numbers (MACD) is near zero where they cross, so it is judged against the price.
    `atol` is for values whose natural scale is 1 (ratios, correlations): near zero they carry
    the rounding error of that scale, not of their own size.
    """
    import numpy as np

    assert list(sorted(left.columns)) == list(sorted(right.columns)), (left.columns, right.columns)
    left = left.sort_values(list(key)).reset_index(drop=True)
    right = right.sort_values(list(key)).reset_index(drop=True)[left.columns]
    assert len(left) == len(right), f"row counts differ: {len(left)} vs {len(right)}"
    for col in left.columns:
        a, b = left[col], right[col]
        if pd.api.types.is_float_dtype(a) or pd.api.types.is_float_dtype(b):
            a = pd.to_numeric(a, errors="coerce").to_numpy(dtype=float)
            b = pd.to_numeric(b, errors="coerce").to_numpy(dtype=float)
            both_nan = np.isnan(a) & np.isnan(b)
            if scale and col in scale:
                level = np.abs(pd.to_numeric(left[scale[col]], errors="coerce").to_numpy(dtype=float))
                close = (np.abs(a - b) <= rtol * level) | both_nan
            else:
                close = np.isclose(a, b, rtol=rtol, atol=atol) | both_nan
            assert close.all(), f"column {col} differs at rows {np.where(~close)[0][:10].tolist()}"
        else:
            mismatch = ~((a == b) | (a.isna() & b.isna()))
            assert not mismatch.any(), f"column {col} differs at rows {list(mismatch[mismatch].index[:10])}"


def normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """Any store's rows in one set of dtypes (timestamps UTC, dates as dates, text as str)."""
    out = frame.copy().drop(columns=[c for c in ("updated_at",) if c in frame.columns])
    for col in out.columns:
        series = out[col]
        if col.endswith("_at"):
            out[col] = pd.to_datetime(series, utc=True).dt.as_unit("us")
        elif col.endswith("_date"):
            out[col] = pd.to_datetime(series).dt.date
        elif isinstance(series.dtype, pd.CategoricalDtype) or col in ("ticker", "timeframe", "signal"):
            out[col] = series.astype(str)
        elif pd.api.types.is_bool_dtype(series) or col.startswith("is_"):
            out[col] = series.astype(bool)
        elif pd.api.types.is_numeric_dtype(series) or series.dtype == object:
            converted = pd.to_numeric(series, errors="coerce")
            if converted.notna().sum() == series.notna().sum():
                out[col] = converted.astype(float)
    return out
