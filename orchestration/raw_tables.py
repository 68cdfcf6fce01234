"""Empty raw tables for resources a daily run did not load (yet).

dlt creates a table only when rows arrive, but dbt's bronze models read every raw table of the
source: a warehouse fed only by the daily run (grouped daily, no minute bars, no quarantined
rows) would fail on `raw_polygon.minute_aggs`. Before the build, missing tables are created
empty with the columns dlt would give them (from the resource hints in
`ingestion.polygon.settings`); dlt later loads into them like into its own tables.
"""

from __future__ import annotations

from core.warehouse import Warehouse

SQL_TYPES = {"text": "text", "bigint": "bigint", "double": "double precision", "date": "date",
             "bool": "boolean", "timestamp": "timestamp with time zone"}


def raw_table_columns() -> dict[str, dict[str, str]]:
    from ingestion import raw_schema as s

    hints = {"daily_aggs": s.DAILY_COLUMNS, "minute_aggs": s.AGG_COLUMNS, "tickers": s.TICKER_COLUMNS,
             "splits": s.SPLIT_COLUMNS, "dividends": s.DIVIDEND_COLUMNS, "market_holidays": s.HOLIDAY_COLUMNS,
             "quarantine": s.QUARANTINE_COLUMNS}
    return {table: {**{name: SQL_TYPES[h["data_type"]] for name, h in columns.items()},
                    "_dlt_load_id": "text", "_dlt_id": "text"}
            for table, columns in hints.items()}


def ensure_raw_tables(warehouse: Warehouse) -> list[str]:
    """Create the raw tables that do not exist; returns their names."""
    from ingestion.raw_schema import DATASET_NAME

    created = []
    with warehouse.connect(read_only=False) as con:
        con.execute(f"create schema if not exists {DATASET_NAME}")
        for table, columns in raw_table_columns().items():
            if con.table_exists(DATASET_NAME, table):
                continue
            ddl = ", ".join(f'"{name}" {sql_type}' for name, sql_type in columns.items())
            con.execute(f'create table {DATASET_NAME}."{table}" ({ddl})')
            created.append(table)
    return created
