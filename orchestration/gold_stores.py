"""Read the gold marts where a dbt target left them: Parquet on S3 (`lake`) or the DuckDB file (`duckdb`).

One DuckDB connection reads either store, so the publish step and `tradlyte bars` see the same
rows whichever target built gold. S3 settings come from the same environment variables as the
lake target in profiles/profiles.yml.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

import duckdb

from ingestion.duckdb_extensions import connect
from orchestration.paths import duckdb_path


@dataclass(frozen=True)
class Mart:
    name: str
    key: tuple[str, ...]
    time_column: str  # what retention and routing cut on


GOLD_MARTS: dict[str, Mart] = {
    mart.name: mart for mart in (
        Mart("bars", ("ticker", "timeframe", "bar_start_at"), "bar_start_at"),
        Mart("indicators", ("ticker", "timeframe", "bar_start_at"), "bar_start_at"),
        Mart("signals", ("ticker", "timeframe", "bar_start_at", "signal"), "bar_start_at"),
        Mart("data_gaps", ("ticker", "session_date"), "session_date"),
    )
}

ARCHIVE_TARGETS = ("lake", "duckdb")


class GoldStoreError(RuntimeError):
    """A gold store cannot be read; the message says what to do."""


def lake_gold_url(mart: str) -> str:
    return f"s3://{os.environ.get('TRADLYTE_LAKE_BUCKET', 'tradlyte-lake')}/gold/{mart}"


def _configure_s3(con: duckdb.DuckDBPyConnection) -> None:
    settings = {
        "s3_endpoint": os.environ.get("TRADLYTE_S3_ENDPOINT_HOST", "127.0.0.1:8333"),
        "s3_url_style": "path",
        "s3_use_ssl": os.environ.get("TRADLYTE_S3_USE_SSL", "false"),
        "s3_region": os.environ.get("AWS_REGION", "us-east-1"),
        "s3_access_key_id": os.environ.get("AWS_ACCESS_KEY_ID", ""),
        "s3_secret_access_key": os.environ.get("AWS_SECRET_ACCESS_KEY", ""),
    }
    for name, value in settings.items():
        con.execute(f"set {name} = ?", [value])


class GoldReader:
    """The gold marts of one target as DuckDB relations (`relation('bars')` is SQL text)."""

    def __init__(self, target: str, con: duckdb.DuckDBPyConnection):
        self.target, self.con = target, con

    def relation(self, mart: str) -> str | None:
        """A FROM-clause for the mart, or None when the store has no rows of it yet."""
        if self.target == "lake":
            url = lake_gold_url(mart)
            found = self.con.execute("select count(*) from glob(?)", [f"{url}/*/*.parquet"]).fetchone()[0]
            if not found:
                return None
            # the partition value is text whatever it looks like (a ticker may be all digits)
            return (f"read_parquet('{url}/*/*.parquet', hive_partitioning = true, "
                    "hive_types = {'ticker': varchar}, union_by_name = true)")
        exists = self.con.execute(
            "select count(*) from information_schema.tables where table_catalog = 'warehouse' "
            "and table_schema = 'gold' and table_name = ?", [mart]).fetchone()[0]
        return f"warehouse.gold.{mart}" if exists else None

    def columns(self, relation: str) -> list[tuple[str, str]]:
        """(name, DuckDB type) of a relation, in the mart's own column order (ticker first)."""
        described = [(row[0], row[1]) for row in self.con.execute(f"describe select * from {relation}").fetchall()]
        ticker = [c for c in described if c[0] == "ticker"]
        return ticker + [c for c in described if c[0] != "ticker"]


@contextlib.contextmanager
def open_gold(target: str) -> Iterator[GoldReader]:
    """Read-only access to the gold built by `target` (lake or duckdb), closed afterwards."""
    if target not in ARCHIVE_TARGETS:
        raise GoldStoreError(f"gold of target {target!r} cannot be read as an archive: use one of "
                             f"{', '.join(ARCHIVE_TARGETS)}")
    # postgres: the publish step writes its staging tables through DuckDB's postgres extension
    con = connect(extensions=("httpfs", "postgres") if target == "lake" else ("postgres",))
    try:
        if target == "lake":
            _configure_s3(con)
        else:
            path = duckdb_path()
            if not path.exists():
                raise GoldStoreError(f"warehouse file {path} does not exist: build gold first "
                                     "(tradlyte dbt build)")
            try:
                con.execute(f"attach '{path}' as warehouse (read_only)")
            except duckdb.IOException as exc:
                raise GoldStoreError(f"warehouse file {path} is locked by a writer (a load or build?); "
                                     f"try again when it finishes: {exc}") from None
        yield GoldReader(target, con)
    finally:
        con.close()
