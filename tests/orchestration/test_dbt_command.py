"""`tradlyte dbt` on a warehouse that has only some raw tables: the missing ones are created
empty (as dlt would create them), so bronze models reading them build instead of failing."""

from __future__ import annotations

import duckdb
from click.testing import CliRunner

from orchestration.cli import main
from orchestration.raw_tables import raw_table_columns


def test_dbt_command_creates_the_missing_raw_tables(tmp_path, monkeypatch):
    path = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("TRADLYTE_DUCKDB_PATH", str(path))
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw_polygon")
        con.execute("create table raw_polygon.daily_aggs (ticker text, marker integer)")
        con.execute("insert into raw_polygon.daily_aggs values ('KEEP', 1)")

    result = CliRunner().invoke(main, ["dbt", "--target", "duckdb", "ls", "--select", "bronze"])

    assert result.exit_code == 0, result.output
    with duckdb.connect(str(path), read_only=True) as con:
        tables = {name for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw_polygon'").fetchall()}
        assert tables == set(raw_table_columns())
        # an existing table is left alone, rows and all
        assert con.execute("select * from raw_polygon.daily_aggs").fetchall() == [("KEEP", 1)]
        minute_columns = [c for (c,) in con.execute(
            "select column_name from information_schema.columns where table_schema = 'raw_polygon' "
            "and table_name = 'minute_aggs' order by ordinal_position").fetchall()]
        assert minute_columns == list(raw_table_columns()["minute_aggs"])


def test_dbt_command_names_an_unreachable_postgres(monkeypatch):
    monkeypatch.setenv("TRADLYTE_PG_PORT", "1")
    result = CliRunner().invoke(main, ["dbt", "--target", "postgres", "debug"])
    assert result.exit_code == 2
    assert "cannot open the postgres warehouse" in result.output
    assert "Traceback" not in result.output
