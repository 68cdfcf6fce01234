"""`make demo`: the sandbox loaded into the embedded DuckDB warehouse, dbt built, a summary printed."""

from __future__ import annotations

import click

from core.db import open_duckdb
from core.resources import DBT_PROJECT_DIR, PROFILES_DIR
from core.settings import PathSettings
from ingestion.load import LoadRequest
from orchestration.sources import load


def _summary(path) -> list[str]:
    con = open_duckdb(path, read_only=True)
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('raw_polygon', 'bronze', 'silver', 'gold', 'ops') "
            "and table_name not like '\\_dlt%' escape '\\' order by 1, 2").fetchall()
        lines = []
        for schema, table in tables:
            count = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
            lines.append(f"  {schema + '.' + table:<42} {count:>10,} rows")
        return lines
    finally:
        con.close()


def run_demo(spec: dict) -> None:
    path = PathSettings().warehouse()
    click.echo(f"1/3 Loading the Polygon sandbox (bokeh real prices + {spec['n_tickers']} synthetic tickers) "
               f"into {path} ...")
    report = load("sandbox", LoadRequest(target="duckdb"), sandbox=spec)
    click.echo(f"    {report.total_rows:,} raw rows in {report.seconds:.1f}s")
    has_models = any((DBT_PROJECT_DIR / "models").rglob("*.sql"))
    if has_models:
        from orchestration.dbt_runner import run_dbt

        click.echo("2/3 Building the dbt project (bronze -> silver -> gold) and running its tests ...")
        run_dbt(["build"], target="duckdb")
    else:
        click.echo("2/3 No dbt models yet: skipping dbt build")
    click.echo("3/3 What the warehouse holds:")
    for line in _summary(path):
        click.echo(line)
    click.echo(f"""
Where to look:
  SQL:        .venv/bin/python -c "import duckdb; print(duckdb.connect('{path}', read_only=True).sql('select * from gold.bars limit 10'))"
  dbt docs:   cd dbt_project && DBT_PROFILES_DIR={PROFILES_DIR} ../.venv/bin/dbt docs generate && DBT_PROFILES_DIR={PROFILES_DIR} ../.venv/bin/dbt docs serve --port 8080
  CLI:        .venv/bin/tradlyte --help""")
