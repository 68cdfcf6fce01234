"""Publish: copy the last `serving_retention_years` of the gold marts into PostgreSQL (schema `gold`).

The lake (or the DuckDB warehouse) keeps the full history; PostgreSQL is the serving cache that
many concurrent readers hit. Every publish, per mart:

1. the window (rows at or after the cutoff) is read from the source gold with DuckDB and written
   into an unlogged staging table through DuckDB's postgres extension (binary COPY, exact types);
2. in ONE PostgreSQL transaction for all marts: rows that are new or differ are upserted, rows
   of the window that left the source are deleted, rows older than the cutoff are deleted, and
   `ops.serving_cache` records the cutoff that `tradlyte bars` routes on.

Readers never see a half-published cache, and a second publish of the same gold writes nothing.
The cutoff is the latest session in gold.bars minus `serving_retention_years` (dbt var, default 5),
at New York midnight, so intraday and multi-day bars split on the same instant.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

import yaml

from core.calendar import ny_midnight
from core.contract import SERVED_MARTS, Mart
from core.db import open_postgres, quote_identifier, quote_literal
from core.errors import TradlyteError
from core.gold import GoldReader, open_gold
from core.resources import DBT_PROJECT_DIR
from core.settings import PostgresSettings
from orchestration.settings import RunSettings

log = logging.getLogger("tradlyte.publish")

STAGE_PREFIX = "_publish_"

# DuckDB type -> PostgreSQL type for the serving tables
_PG_TYPES = {
    "VARCHAR": "text", "DOUBLE": "double precision", "FLOAT": "real", "BIGINT": "bigint",
    "INTEGER": "integer", "SMALLINT": "smallint", "BOOLEAN": "boolean", "DATE": "date",
    "TIMESTAMP WITH TIME ZONE": "timestamptz", "TIMESTAMP": "timestamp", "HUGEINT": "numeric",
}

STATE_DDL = """
create table if not exists ops.serving_cache (
    mart text primary key,
    source_target text not null,
    retention_years integer not null,
    latest_session date not null,
    cutoff_date date not null,
    cutoff_at timestamptz not null,
    rows_written bigint not null,
    rows_deleted bigint not null,
    published_at timestamptz not null default now()
)
"""


class PublishError(TradlyteError):
    """Publishing cannot start or failed; the message says what to do."""


@dataclass(frozen=True)
class ServingWindow:
    retention_years: int
    latest_session: date
    cutoff_date: date

    @property
    def cutoff_at(self) -> datetime:
        return ny_midnight(self.cutoff_date)


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February into a common year
        return day.replace(year=day.year - years, day=28)


def retention_years_setting(override: int | None = None) -> int:
    """`override`, else env TRADLYTE_SERVING_RETENTION_YEARS, else the dbt var (default 5)."""
    if override is not None:
        value = override
    elif RunSettings().serving_retention_years is not None:
        value = RunSettings().serving_retention_years
    else:
        project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())
        value = int(project.get("vars", {}).get("serving_retention_years", 5))
    if value < 1:
        raise PublishError(f"serving_retention_years must be at least 1, got {value}")
    return value


def serving_window(reader: GoldReader, retention_years: int) -> ServingWindow:
    bars = reader.relation("bars")
    latest = None
    if bars is not None:
        latest = reader.con.execute(
            f"select max(last_session_date) from {bars} where timeframe = '1d'").fetchone()[0]
    if latest is None:
        raise PublishError(f"gold.bars of target {reader.target} has no daily bars: load and build first "
                           f"(tradlyte dbt --target {reader.target} build)")
    return ServingWindow(retention_years, latest, years_before(latest, retention_years))


def _prepare_table(cur, mart: Mart, columns: list[tuple[str, str]]) -> None:
    """The serving table (created or widened to the source's columns), its key index, an empty stage."""
    definitions = ", ".join(f"{quote_identifier(n)} {_PG_TYPES.get(t, 'text')}" for n, t in columns)
    cur.execute(f"create table if not exists gold.{mart.name} ({definitions})")
    for name, duck_type in columns:
        cur.execute(f"alter table gold.{mart.name} add column if not exists {quote_identifier(name)} "
                    f"{_PG_TYPES.get(duck_type, 'text')}")
    # the key is also the index of a ticker's time-range query (ticker, timeframe, bar_start_at)
    cur.execute(f"create unique index if not exists {mart.name}_serving_key on gold.{mart.name} "
                f"({', '.join(mart.key)})")
    stage = f"gold.{STAGE_PREFIX}{mart.name}"
    cur.execute(f"drop table if exists {stage}")
    cur.execute(f"create unlogged table {stage} (like gold.{mart.name})")


def _stage_window(reader: GoldReader, relation: str, mart: Mart, columns: list[tuple[str, str]],
                  window: ServingWindow) -> int:
    names = ", ".join(quote_identifier(n) for n, _ in columns)
    bound = window.cutoff_date if mart.time_column == "session_date" else window.cutoff_at
    reader.con.execute(
        f"insert into pg.gold.{STAGE_PREFIX}{mart.name} ({names}) "
        f"select {names} from {relation} where {quote_identifier(mart.time_column)} >= ?", [bound])
    return reader.con.execute(f"select count(*) from pg.gold.{STAGE_PREFIX}{mart.name}").fetchone()[0]


def _apply(cur, mart: Mart, columns: list[tuple[str, str]], window: ServingWindow) -> tuple[int, int]:
    """Upsert the staged window, drop what left it and what aged out; (written, deleted)."""
    stage = f"gold.{STAGE_PREFIX}{mart.name}"
    names = [quote_identifier(n) for n, _ in columns]
    values = [n for n in names if n.strip('"') not in mart.key]
    key = ", ".join(mart.key)
    changed = (f"({', '.join(f't.{n}' for n in values)}) is distinct from "
               f"({', '.join(f'excluded.{n}' for n in values)})")
    cur.execute(
        f"insert into gold.{mart.name} as t ({', '.join(names)}) select {', '.join(names)} from {stage} "
        f"on conflict ({key}) do update set {', '.join(f'{n} = excluded.{n}' for n in values)} "
        f"where {changed}")
    written = cur.rowcount
    bound = window.cutoff_date if mart.time_column == "session_date" else window.cutoff_at
    match = " and ".join(f"s.{k} = t.{k}" for k in mart.key)
    cur.execute(f"delete from gold.{mart.name} as t where t.{mart.time_column} >= %s "
                f"and not exists (select 1 from {stage} as s where {match})", [bound])
    deleted = cur.rowcount
    cur.execute(f"delete from gold.{mart.name} where {mart.time_column} < %s", [bound])
    deleted += cur.rowcount
    cur.execute(f"drop table {stage}")
    return written, deleted


def publish_gold(target: str, retention_years: int | None = None) -> dict[str, int]:
    """Copy the serving window of every gold mart built by `target` into PostgreSQL.

    Returns the rows written (inserted or changed) per mart: all zeros when nothing changed.
    `target` is the dbt target whose gold is the source: `lake` (S3 Parquet) or `duckdb`.
    With `postgres` the marts already live in PostgreSQL, where dbt keeps their full history
    (incremental models need it): there is nothing to copy, and nothing is deleted.
    """
    if target == "postgres":
        log.info("publish: target postgres builds gold in PostgreSQL itself; nothing to copy")
        return {}
    years = retention_years_setting(retention_years)
    conn = open_postgres()
    written: dict[str, int] = {}
    try:
        # postgres: the staging tables are written through DuckDB's postgres extension
        with open_gold(target, extensions=("postgres",)) as reader:
            window = serving_window(reader, years)
            marts = {name: reader.relation(name) for name in SERVED_MARTS}
            # a mart with no rows at the source (no gaps at all) empties its serving table
            emptied = [name for name, rel in marts.items() if rel is None]
            marts = {name: rel for name, rel in marts.items() if rel is not None}
            columns = {name: reader.columns(rel) for name, rel in marts.items()}
            with conn, conn.cursor() as cur:
                cur.execute("create schema if not exists gold")
                cur.execute("create schema if not exists ops")
                cur.execute(STATE_DDL)
                for name in marts:
                    _prepare_table(cur, SERVED_MARTS[name], columns[name])
            # the DSN is quoted value by value (a password may hold spaces or quotes) and never logged
            reader.con.execute(f"attach {quote_literal(PostgresSettings().libpq_dsn())} as pg (type postgres)")
            staged = {name: _stage_window(reader, rel, SERVED_MARTS[name], columns[name], window)
                      for name, rel in marts.items()}
            reader.con.execute("detach pg")
        with conn, conn.cursor() as cur:  # one transaction: readers see the old cache or the new one
            for name in emptied:
                cur.execute("select to_regclass(%s) is not null", [f"gold.{name}"])
                if cur.fetchone()[0]:
                    cur.execute(f"delete from gold.{name}")
                written[name] = 0
            for name in marts:
                written[name], deleted = _apply(cur, SERVED_MARTS[name], columns[name], window)
                cur.execute(
                    "insert into ops.serving_cache as s (mart, source_target, retention_years, latest_session, "
                    "cutoff_date, cutoff_at, rows_written, rows_deleted, published_at) "
                    "values (%s, %s, %s, %s, %s, %s, %s, %s, now()) on conflict (mart) do update set "
                    "source_target = excluded.source_target, retention_years = excluded.retention_years, "
                    "latest_session = excluded.latest_session, cutoff_date = excluded.cutoff_date, "
                    "cutoff_at = excluded.cutoff_at, rows_written = excluded.rows_written, "
                    "rows_deleted = excluded.rows_deleted, published_at = excluded.published_at",
                    [name, target, years, window.latest_session, window.cutoff_date, window.cutoff_at,
                     written[name], deleted])
                log.info("publish %s: %d rows in window, %d written, %d deleted (cutoff %s)",
                         name, staged[name], written[name], deleted, window.cutoff_date)
        return written
    finally:
        conn.close()
