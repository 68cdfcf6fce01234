"""Short-lived connections to the warehouse a dbt target builds: a DuckDB file or PostgreSQL.

SQL passed to `Connection` is written with `?` placeholders; PostgreSQL gets them as `%s`.
Values are always bound parameters. Each use is one short span (`with wh.connect() as con`),
so a DuckDB file is never held between steps: a reader opens it read-only and lets go.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.db import open_duckdb, open_postgres
from core.settings import PathSettings, PostgresSettings
from core.targets import TARGETS


@dataclass
class Warehouse:
    """`kind` is `duckdb` (the file `duckdb_path`) or `postgres` (settings `pg`)."""

    kind: str = "duckdb"
    duckdb_path: Path | None = None
    pg: PostgresSettings = field(default_factory=PostgresSettings)
    wait_seconds: float = 30.0  # how long a DuckDB open waits for another process's lock

    @property
    def placeholder(self) -> str:
        return "?" if self.kind == "duckdb" else "%s"

    def describe(self) -> str:
        return f"duckdb:{self.duckdb_path}" if self.kind == "duckdb" else self.pg.describe()

    @contextmanager
    def connect(self, read_only: bool = True) -> Iterator[Connection]:
        if self.kind == "duckdb":
            raw = open_duckdb(self.duckdb_path, read_only=read_only, wait_seconds=self.wait_seconds)
        else:
            raw = open_postgres(self.pg)
        conn = Connection(raw, self.kind)
        try:
            yield conn
            if self.kind == "postgres":
                raw.commit()
        finally:
            raw.close()


def warehouse_for(target: str) -> Warehouse:
    """The warehouse a target's dbt build writes to (where its audit trail lives too)."""
    if target == "postgres":
        return Warehouse(kind="postgres")
    if target == "lake":
        return Warehouse(kind="duckdb", duckdb_path=PathSettings().lake_warehouse())
    if target == "duckdb":
        return Warehouse(kind="duckdb", duckdb_path=PathSettings().warehouse())
    raise ValueError(f"unknown target {target!r}: use one of {', '.join(TARGETS)}")


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
