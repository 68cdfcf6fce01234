"""The raw tables' names and column hints: one definition for dlt and for the empty tables the
CLI creates before a build (`orchestration.raw_tables`).

Column hints are explicit so the raw tables have the same types on DuckDB, PostgreSQL and
Parquet whatever the first page happened to contain (docs/contracts.md). This module imports
nothing (not dlt), so reading the schema costs nothing.
"""

from __future__ import annotations

DATASET_NAME = "raw_polygon"

AGG_COLUMNS = {
    "ticker": {"data_type": "text"},
    "ts_ms": {"data_type": "bigint"},
    # one dict per column: dlt writes the column name into each hint dict
    **{name: {"data_type": "double"} for name in ("open", "high", "low", "close", "volume", "vwap")},
    "transactions": {"data_type": "bigint", "nullable": True},
    "source": {"data_type": "text"},
    "ingested_at": {"data_type": "timestamp"},
}
DAILY_COLUMNS = {
    **AGG_COLUMNS,
    "session_date": {"data_type": "date"},
    "otc": {"data_type": "bool", "nullable": True},
}

TICKER_COLUMNS = {
    "ticker": {"data_type": "text"},
    "security_key": {"data_type": "text"},
    "name": {"data_type": "text"}, "market": {"data_type": "text"}, "locale": {"data_type": "text"},
    "primary_exchange": {"data_type": "text"}, "type": {"data_type": "text"},
    "active": {"data_type": "bool"}, "currency_name": {"data_type": "text"}, "cik": {"data_type": "text"},
    "composite_figi": {"data_type": "text"}, "share_class_figi": {"data_type": "text"},
    "delisted_utc": {"data_type": "timestamp"}, "last_updated_utc": {"data_type": "timestamp"},
    "list_date": {"data_type": "date"}, "ingested_at": {"data_type": "timestamp"},
}
SPLIT_COLUMNS = {
    "id": {"data_type": "text"}, "ticker": {"data_type": "text"},
    "execution_date": {"data_type": "date"}, "split_from": {"data_type": "double"},
    "split_to": {"data_type": "double"}, "ingested_at": {"data_type": "timestamp"},
}
DIVIDEND_COLUMNS = {
    "id": {"data_type": "text"}, "ticker": {"data_type": "text"},
    "ex_dividend_date": {"data_type": "date"}, "pay_date": {"data_type": "date"},
    "record_date": {"data_type": "date"}, "declaration_date": {"data_type": "date"},
    "cash_amount": {"data_type": "double"}, "currency": {"data_type": "text"},
    "dividend_type": {"data_type": "text"}, "frequency": {"data_type": "bigint"},
    "ingested_at": {"data_type": "timestamp"},
}
HOLIDAY_COLUMNS = {
    "exchange": {"data_type": "text"}, "date": {"data_type": "date"},
    "name": {"data_type": "text"}, "status": {"data_type": "text"},
    "open": {"data_type": "timestamp"}, "close": {"data_type": "timestamp"},
    "ingested_at": {"data_type": "timestamp"},
}
QUARANTINE_COLUMNS = {
    "resource": {"data_type": "text"}, "reason": {"data_type": "text"}, "ticker": {"data_type": "text"},
    "payload": {"data_type": "text"}, "ingested_at": {"data_type": "timestamp"},
}
