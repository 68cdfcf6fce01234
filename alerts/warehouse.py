"""Short-lived warehouse connections for the alerts service: a DuckDB file or PostgreSQL.

SQL in this package is written with `?` placeholders; PostgreSQL gets them as `%s`. Values are
always bound parameters. A DuckDB file held by a writer (dbt, dlt) is opened read-only for short
spans and retried with a clear message (`WarehouseBusy` after the last try).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("tradlyte.alerts")


class WarehouseError(RuntimeError):
    pass


class WarehouseBusy(WarehouseError):
    """The DuckDB file stayed locked by another process for every retry."""


@dataclass
class Warehouse:
    """`kind` is `duckdb` (file `duckdb_path`) or `postgres` (env TRADLYTE_PG_*)."""

    kind: str = "duckdb"
    duckdb_path: Path | None = None
    pg: dict[str, Any] = field(default_factory=dict)
    retries: int = 10
    retry_delay: float = 0.5

    @classmethod
    def from_env(cls, kind: str | None = None) -> Warehouse:
        kind = kind or os.environ.get("TRADLYTE_ALERTS_WAREHOUSE", "duckdb")
        if kind not in ("duckdb", "postgres"):
            raise WarehouseError(f"unknown warehouse {kind!r}: use duckdb or postgres")
        if kind == "postgres":
            return cls(kind="postgres", pg=pg_settings_from_env())
        from orchestration.paths import duckdb_path

        return cls(kind="duckdb", duckdb_path=duckdb_path())

    @property
    def placeholder(self) -> str:
        return "?" if self.kind == "duckdb" else "%s"

    def describe(self) -> str:
        if self.kind == "duckdb":
            return f"duckdb:{self.duckdb_path}"
        return f"postgres://{self.pg.get('user')}@{self.pg.get('host')}:{self.pg.get('port')}/{self.pg.get('dbname')}"

    # -------------------------------------------------------------- connections

    def _open_duckdb(self, read_only: bool):
        import duckdb

        path = self.duckdb_path
        if path is None:
            raise WarehouseError("no DuckDB path configured")
        if read_only and not Path(path).exists():
            raise WarehouseError(f"warehouse file {path} does not exist: build gold first (tradlyte dbt build)")
        last: Exception | None = None
        for attempt in range(1, self.retries + 1):
            try:
                con = duckdb.connect(str(path), read_only=read_only)
                con.execute("set TimeZone = 'UTC'")
                return con
            except duckdb.IOException as exc:  # locked by a writer in another process
                last = exc
                log.warning("warehouse %s is held by another process (attempt %d/%d); retrying in %.1fs",
                            path, attempt, self.retries, self.retry_delay)
                time.sleep(self.retry_delay * min(attempt, 4))
        raise WarehouseBusy(f"warehouse file {path} is locked by another process (a dbt build or load?) "
                            f"after {self.retries} tries; try again when it finishes: {last}")

    def _open_pg(self):
        import psycopg2

        try:
            con = psycopg2.connect(**self.pg)
        except psycopg2.OperationalError as exc:
            raise WarehouseError(f"PostgreSQL not reachable at {self.pg.get('host')}:{self.pg.get('port')} "
                                 f"({str(exc).strip().splitlines()[0] if str(exc).strip() else exc})") from None
        with con.cursor() as cur:
            cur.execute("set time zone 'UTC'")
        return con

    @contextmanager
    def connect(self, read_only: bool = True) -> Iterator[Connection]:
        raw = self._open_duckdb(read_only) if self.kind == "duckdb" else self._open_pg()
        conn = Connection(raw, self.kind)
        try:
            yield conn
            if self.kind == "postgres":
                raw.commit()
        finally:
            raw.close()


class Connection:
    def __init__(self, raw: Any, kind: str):
        self.raw, self.kind = raw, kind

    def _sql(self, sql: str) -> str:
        return sql if self.kind == "duckdb" else sql.replace("?", "%s")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        if self.kind == "duckdb":
            return self.raw.execute(sql, list(params)).fetchall()
        with self.raw.cursor() as cur:
            cur.execute(self._sql(sql), list(params))
            return cur.fetchall() if cur.description else []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        if self.kind == "duckdb":
            self.raw.execute(sql, list(params))
        else:
            with self.raw.cursor() as cur:
                cur.execute(self._sql(sql), list(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        if self.kind == "duckdb":
            self.raw.executemany(sql, [list(r) for r in rows])
        else:
            from psycopg2.extras import execute_batch

            with self.raw.cursor() as cur:
                execute_batch(cur, self._sql(sql), [list(r) for r in rows], page_size=500)

    def table_exists(self, schema: str, table: str) -> bool:
        rows = self.query("select count(*) from information_schema.tables where table_schema = ? "
                          "and table_name = ?", [schema, table])
        return bool(rows[0][0])


def pg_settings_from_env() -> dict[str, Any]:
    return {
        "host": os.environ.get("TRADLYTE_PG_HOST", "127.0.0.1"),
        "port": int(os.environ.get("TRADLYTE_PG_PORT", "5432")),
        "user": os.environ.get("TRADLYTE_PG_USER", "postgres"),
        "password": os.environ.get("TRADLYTE_PG_PASSWORD", ""),
        "dbname": os.environ.get("TRADLYTE_PG_DATABASE", "tradlyte"),
    }


AUDIT_DDL = """
create table if not exists ops.alert_firings (
    event_id text,
    run_id text,
    recorded_at timestamptz,
    event text,
    idempotency_key text,
    rule_id text,
    rule_version integer,
    ticker text,
    timeframe text,
    bar_start_at timestamptz,
    channel text,
    attempt integer,
    status text,
    detail text
)
"""

AUDIT_COLUMNS = ("event_id", "run_id", "recorded_at", "event", "idempotency_key", "rule_id", "rule_version",
                 "ticker", "timeframe", "bar_start_at", "channel", "attempt", "status", "detail")


def write_audit(wh: Warehouse, rows: list[tuple]) -> None:
    """Append audit rows to ops.alert_firings (created if missing) in one short write span."""
    if not rows:
        return
    with wh.connect(read_only=False) as con:
        con.execute("create schema if not exists ops")
        con.execute(AUDIT_DDL)
        cols = ", ".join(AUDIT_COLUMNS)
        if con.kind == "duckdb":  # bulk insert through a registered frame; executemany is row by row
            import pandas as pd

            frame = pd.DataFrame(rows, columns=list(AUDIT_COLUMNS))
            for c in ("recorded_at", "bar_start_at"):
                frame[c] = pd.to_datetime(frame[c], utc=True)
            for c in ("rule_version", "attempt"):
                frame[c] = frame[c].astype("Int64")
            con.raw.register("alert_audit_rows", frame)
            con.execute(f"insert into ops.alert_firings ({cols}) select {cols} from alert_audit_rows")
            con.raw.unregister("alert_audit_rows")
        else:
            from psycopg2.extras import execute_values

            with con.raw.cursor() as cur:
                execute_values(cur, f"insert into ops.alert_firings ({cols}) values %s", rows, page_size=1000)
