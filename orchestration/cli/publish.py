"""`tradlyte publish`: the serving window of gold into the PostgreSQL serving cache."""

from __future__ import annotations

import click

from orchestration.cli.options import ARCHIVE_TARGETS, target_option


@click.command(help="Copy the last serving_retention_years of gold (bars, indicators, signals, data gaps) "
                    "into the PostgreSQL serving cache, in one transaction.")
@target_option(ARCHIVE_TARGETS, help="Whose gold to publish: the lake's Parquet or the DuckDB warehouse.")
@click.option("--retention-years", type=click.IntRange(min=1), default=None,
              help="Years kept (default: env TRADLYTE_SERVING_RETENTION_YEARS, else the dbt var, 5).")
def publish(target, retention_years) -> None:
    from orchestration.publish import publish_gold

    written = publish_gold(target, retention_years)
    click.echo("published: " + ", ".join(f"{mart} {rows:,} rows written" for mart, rows in written.items()))
