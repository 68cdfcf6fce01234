"""`tradlyte demo` (what `make demo` runs): the sandbox loaded, dbt built, where to look."""

from __future__ import annotations

import click


@click.command(help="Load the sandbox into data/warehouse.duckdb, build dbt, and print where to look.")
def demo() -> None:
    from ingestion.sandbox import DEMO_SPEC
    from orchestration.demo import run_demo

    run_demo(DEMO_SPEC)
