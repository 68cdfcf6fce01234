"""One ticker's bars over a date range, from the serving cache and the archive (`tradlyte bars`).

Rows at or after the serving cutoff (recorded by the last publish in `ops.serving_cache`) come
from PostgreSQL; older rows come from the archive the cache was published from (the S3 lake, or
the DuckDB warehouse). Both sides cut on the same instant (`bar_start_at` against the cutoff,
New York midnight), so the series is seamless: every bar once, sorted by `bar_start_at`. The
cutoff and the PostgreSQL rows are read in one repeatable-read transaction, so a publish in
between cannot move the cutoff under the rows. With nothing published yet, everything comes
from the DuckDB warehouse when there is one, else from the lake.

The result is an Arrow table (DuckDB hands its rows over without a copy): CSV, Parquet, Arrow
IPC and JSON writers take it as it is, and no DataFrame library is imported on the way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from core.calendar import ny_midnight
from core.contract import TIMEFRAMES
from core.db import DatabaseMissing, open_postgres, sql_literal
from core.errors import TradlyteError
from core.gold import open_gold
from core.settings import PathSettings

if TYPE_CHECKING:
    import pyarrow as pa

class BarsQueryError(TradlyteError):
    """The request cannot be answered; the message says what to do."""


@dataclass(frozen=True)
class BarsRequest:
    ticker: str
    timeframe: str
    start: date
    end: date  # inclusive: bars starting on this New York date are returned

    @property
    def start_at(self) -> datetime:
        return ny_midnight(self.start)

    @property
    def end_at(self) -> datetime:
        return ny_midnight(self.end + timedelta(days=1))


@dataclass(frozen=True)
class Route:
    cutoff_at: datetime | None  # None: nothing published, all from the archive
    archive_target: str


@dataclass
class ServingSide:
    """The PostgreSQL half: the route and, when asked for, its rows, from one snapshot."""

    route: Route
    columns: list[str]
    rows: list[tuple]


def unpublished_archive() -> str:
    """Where gold is read when nothing was published: the DuckDB warehouse if built, else the lake."""
    return "duckdb" if PathSettings().warehouse().exists() else "lake"


def read_serving_side(request: BarsRequest, default_archive: str) -> ServingSide:
    """The cutoff of the last publish and the bars at or after it, in one transaction."""
    try:
        conn = open_postgres()
    except DatabaseMissing:  # no serving database: nothing was ever published
        return ServingSide(Route(None, default_archive), [], [])
    try:
        conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
        with conn.cursor() as cur:
            cur.execute("select to_regclass('ops.serving_cache') is not null")
            row = None
            if cur.fetchone()[0]:
                cur.execute("select cutoff_at, source_target from ops.serving_cache where mart = 'bars'")
                row = cur.fetchone()
            if row is None:
                return ServingSide(Route(None, default_archive), [], [])
            route = Route(row[0], row[1])
            if request.end_at <= route.cutoff_at:
                return ServingSide(route, [], [])
            # served by the key index (ticker, timeframe, bar_start_at)
            cur.execute("select * from gold.bars where ticker = %s and timeframe = %s "
                        "and bar_start_at >= %s and bar_start_at < %s order by bar_start_at",
                        [request.ticker, request.timeframe, max(request.start_at, route.cutoff_at),
                         request.end_at])
            return ServingSide(route, [d[0] for d in cur.description], cur.fetchall())
    finally:
        conn.rollback()
        conn.close()


def query_bars(request: BarsRequest, default_archive: str | None = None) -> pa.Table:
    """The bars of `request` as one Arrow table sorted by bar_start_at, no bar twice."""
    if request.timeframe not in TIMEFRAMES:
        raise BarsQueryError(f"unknown timeframe {request.timeframe!r}: use one of {' '.join(TIMEFRAMES)}")
    if request.end < request.start:
        raise BarsQueryError(f"--to {request.end} is before --from {request.start}")
    serving = read_serving_side(request, default_archive or unpublished_archive())
    cutoff = serving.route.cutoff_at
    archive_end = request.end_at if cutoff is None else min(request.end_at, cutoff)
    with open_gold(serving.route.archive_target) as reader:
        relation = reader.relation("bars")
        archive = None
        if relation is not None:
            names = ", ".join(f'"{n}"' for n, _ in reader.columns(relation))
            # literals, not parameters: binding makes DuckDB import pandas (see core.db.sql_literal)
            archive = reader.con.execute(
                f"select {names} from {relation} where ticker = {sql_literal(request.ticker)} "
                f"and timeframe = {sql_literal(request.timeframe)} "
                f"and bar_start_at >= {sql_literal(request.start_at)} "
                f"and bar_start_at < {sql_literal(archive_end)} order by bar_start_at").to_arrow_table()
    return _one_series(archive, serving)


def _one_series(archive: pa.Table | None, serving: ServingSide) -> pa.Table:
    """The archive's rows then the cache's, in the archive's column order and types."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if archive is None and not serving.columns:
        raise BarsQueryError("gold.bars is not built yet: load and build first "
                             "(tradlyte load, then tradlyte dbt build)")
    parts = [archive] if archive is not None else []
    if serving.rows or archive is None:
        columns = list(zip(*serving.rows, strict=True)) or [[] for _ in serving.columns]
        cached = pa.table({name: pa.array(values) for name, values in zip(serving.columns, columns, strict=True)})
        if archive is not None:
            cached = cached.select(archive.column_names).cast(archive.schema)
        parts.append(cached)
    table = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
    # both halves are sorted and cut on the same instant, so the cache's rows follow the archive's
    if table.num_rows and pc.count_distinct(table["bar_start_at"]).as_py() != table.num_rows:
        raise BarsQueryError("the serving cache and the archive overlap at the cutoff; republish "
                             "(tradlyte publish) and retry")
    return table
