"""Read one Polygon flat file into an Arrow table in the raw table shape (no row dicts)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ingestion.flatfiles.settings import KIND_FOLDERS

CSV_TYPES = {"ticker": pa.string(), "volume": pa.float64(), "open": pa.float64(), "close": pa.float64(),
             "high": pa.float64(), "low": pa.float64(), "window_start": pa.int64(),
             "transactions": pa.int64()}


def file_key(prefix: str, kind: str, day: date) -> str:
    return f"{prefix}/{KIND_FOLDERS[kind]}/{day:%Y/%m}/{day:%Y-%m-%d}.csv.gz"


def read_flat_file(body: bytes) -> pa.Table:
    """Parse a gzip CSV day file with pyarrow's multithreaded reader."""
    return pacsv.read_csv(pa.input_stream(io.BytesIO(body), compression="gzip"),
                          convert_options=pacsv.ConvertOptions(column_types=CSV_TYPES))


def valid_rows(table: pa.Table) -> pa.Array:
    """The mask of rows that pass the same checks as the REST source's validation."""
    o, h, low, c, v = (table[name] for name in ("open", "high", "low", "close", "volume"))
    checks = [
        pc.is_valid(table["ticker"]), pc.is_valid(o), pc.is_valid(h), pc.is_valid(low), pc.is_valid(c),
        pc.is_valid(v), pc.is_valid(table["window_start"]),
        pc.greater(low, 0), pc.greater_equal(v, 0), pc.greater_equal(h, low),
        pc.greater_equal(o, low), pc.less_equal(o, h), pc.greater_equal(c, low), pc.less_equal(c, h),
    ]
    mask = checks[0]
    for check in checks[1:]:
        mask = pc.and_kleene(mask, check)
    return pc.fill_null(mask, False)


def to_raw(table: pa.Table, kind: str, day: date, ingested_at: datetime | None = None) -> pa.Table:
    """Flat-file columns -> raw_polygon columns (window_start ns -> ts_ms; session_date)."""
    n = table.num_rows
    now = ingested_at or datetime.now(UTC)
    columns = {
        "ticker": table["ticker"],
        "ts_ms": pc.divide(table["window_start"], 1_000_000),
        "open": table["open"], "high": table["high"], "low": table["low"], "close": table["close"],
        "volume": table["volume"],
        "vwap": pa.nulls(n, pa.float64()),  # flat files carry no vwap
        "transactions": table["transactions"],
        "source": pa.array(["flatfile"] * n, pa.string()),
        "ingested_at": pa.array([now] * n, pa.timestamp("us", tz="UTC")),
    }
    if kind == "day":
        columns["session_date"] = pa.array([day] * n, pa.date32())
        columns["otc"] = pa.nulls(n, pa.bool_())
    # key columns are NOT NULL, as dlt's primary-key hints declare them
    keys = {"ticker", "session_date"} if kind == "day" else {"ticker", "ts_ms"}
    schema = pa.schema([pa.field(name, col.type, nullable=name not in keys) for name, col in columns.items()])
    return pa.Table.from_arrays([pa.chunked_array(c) if isinstance(c, pa.ChunkedArray) else c
                                 for c in columns.values()], schema=schema)
