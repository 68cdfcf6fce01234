"""Read the gold marts where a dbt target left them: Parquet on S3 (`lake`) or the DuckDB file (`duckdb`).

One DuckDB connection reads either store, so the publish step, `tradlyte bars` and the serving
layer see the same rows whichever target built gold. S3 settings are `core.settings.LakeSettings`,
the same variables as the lake target in profiles/profiles.yml.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import duckdb

from core.db import DatabaseError, open_duckdb, quote_literal, sql_literal
from core.settings import LakeSettings, PathSettings
from core.targets import ARCHIVE_TARGETS


class GoldStoreError(DatabaseError):
    """A gold store cannot be read; the message says what to do."""


def lake_gold_url(mart: str, lake: LakeSettings | None = None) -> str:
    return f"{(lake or LakeSettings()).bucket_url}/gold/{mart}"


def configure_s3(con: duckdb.DuckDBPyConnection, lake: LakeSettings | None = None) -> None:
    """Point DuckDB's httpfs at the lake (values bound as parameters, never pasted into SQL)."""
    lake = lake or LakeSettings()
    settings = {
        "s3_url_style": "path",
        "s3_use_ssl": lake.use_ssl,
        "s3_region": lake.region,
        "s3_access_key_id": lake.access_key_id or "",
        "s3_secret_access_key": lake.secret() or "",
    }
    if lake.endpoint_host:
        settings["s3_endpoint"] = lake.endpoint_host
    for name, value in settings.items():
        con.execute(f"set {name} = {sql_literal(value)}")


class GoldReader:
    """The gold marts of one target as DuckDB relations (`relation('bars')` is SQL text)."""

    def __init__(self, target: str, con: duckdb.DuckDBPyConnection):
        self.target, self.con = target, con

    def relation(self, mart: str) -> str | None:
        """A FROM-clause for the mart, or None when the store has no rows of it yet."""
        if self.target == "lake":
            url = lake_gold_url(mart)
            found = self.con.execute(f"select count(*) from glob({sql_literal(url + '/*/*.parquet')})").fetchone()[0]
            if not found:
                return None
            # the partition value is text whatever it looks like (a ticker may be all digits)
            return (f"read_parquet('{url}/*/*.parquet', hive_partitioning = true, "
                    "hive_types = {'ticker': varchar}, union_by_name = true)")
        exists = self.con.execute(
            "select count(*) from information_schema.tables where table_catalog = 'warehouse' "
            f"and table_schema = 'gold' and table_name = {sql_literal(mart)}").fetchone()[0]
        return f"warehouse.gold.{mart}" if exists else None

    def columns(self, relation: str) -> list[tuple[str, str]]:
        """(name, DuckDB type) of a relation, in the mart's own column order (ticker first)."""
        described = [(row[0], row[1]) for row in self.con.execute(f"describe select * from {relation}").fetchall()]
        ticker = [c for c in described if c[0] == "ticker"]
        return ticker + [c for c in described if c[0] != "ticker"]


@contextlib.contextmanager
def open_gold(target: str, extensions: tuple[str, ...] = ()) -> Iterator[GoldReader]:
    """Read-only access to the gold built by `target` (lake or duckdb), closed afterwards.
    `extensions` adds DuckDB extensions to the connection (publish needs `postgres`)."""
    if target not in ARCHIVE_TARGETS:
        raise GoldStoreError(f"gold of target {target!r} cannot be read as an archive: use one of "
                             f"{', '.join(ARCHIVE_TARGETS)}")
    wanted = tuple(dict.fromkeys((("httpfs",) if target == "lake" else ()) + extensions))
    con = open_duckdb(extensions=wanted)
    try:
        if target == "lake":
            configure_s3(con)
        else:
            path = PathSettings().warehouse()
            if not path.exists():
                raise GoldStoreError(f"warehouse file {path} does not exist: build gold first "
                                     "(tradlyte dbt build)")
            try:
                con.execute(f"attach {quote_literal(str(path))} as warehouse (read_only)")
            except duckdb.IOException as exc:
                raise GoldStoreError(f"warehouse file {path} is locked by a writer; try again when it "
                                     f"finishes ({str(exc).splitlines()[0][:200]})") from None
        yield GoldReader(target, con)
    finally:
        con.close()
