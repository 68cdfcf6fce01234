"""Write a sandbox universe as Polygon flat files (the bulk-history format).

Layout and format as Polygon/Massive publish them: one gzip CSV per day and kind,
`<prefix>/day_aggs_v1/YYYY/MM/YYYY-MM-DD.csv.gz` and `.../minute_aggs_v1/...`, header
`ticker,volume,open,close,high,low,window_start,transactions`, `window_start` in epoch
nanoseconds, unadjusted prices. Files go to an S3 bucket (boto3 client) or a local folder.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from core.calendar import NEW_YORK_NAME as NY
from ingestion.sandbox.universe import Universe

KIND_FOLDERS = {"day": "day_aggs_v1", "minute": "minute_aggs_v1"}
CSV_COLUMNS = ["ticker", "volume", "open", "close", "high", "low", "window_start", "transactions"]


def flat_file_key(prefix: str, kind: str, day: date) -> str:
    return f"{prefix}/{KIND_FOLDERS[kind]}/{day:%Y/%m}/{day:%Y-%m-%d}.csv.gz"


def _frames(universe: Universe, kind: str, start: date | None, end: date | None) -> Iterator[tuple[date, pd.DataFrame]]:
    frame = universe.daily if kind == "day" else universe.minute
    if frame is None or frame.empty:
        return
    frame = frame.copy()
    if kind == "day":
        frame["file_date"] = frame["session_date"]
    else:
        frame["file_date"] = pd.to_datetime(frame["ts_ms"], unit="ms", utc=True).dt.tz_convert(NY).dt.date
    if start:
        frame = frame[frame["file_date"] >= start]
    if end:
        frame = frame[frame["file_date"] <= end]
    frame["window_start"] = frame["ts_ms"].astype("int64") * 1_000_000
    frame["transactions"] = frame["transactions"].fillna(0).astype("int64")
    for day, rows in frame.groupby("file_date", sort=True):
        yield day, rows.sort_values(["ticker", "window_start"])[CSV_COLUMNS]


def _csv_gz(rows: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    table = pa.Table.from_pandas(rows, preserve_index=False)
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=6, mtime=0) as gz:
        pacsv.write_csv(table, gz, pacsv.WriteOptions(quoting_style="none"))
    return buffer.getvalue()


def write_flat_files(universe: Universe, s3_client=None, bucket: str | None = None,
                     local_dir: Path | None = None, prefix: str = "us_stocks_sip",
                     kinds: tuple[str, ...] = ("day", "minute"), start: date | None = None,
                     end: date | None = None) -> list[str]:
    """Write one file per day and kind; returns the keys (or paths) written."""
    if (s3_client is None) == (local_dir is None):
        raise ValueError("give either an S3 client and bucket, or a local directory")
    written = []
    for kind in kinds:
        for day, rows in _frames(universe, kind, start, end):
            key = flat_file_key(prefix, kind, day)
            body = _csv_gz(rows)
            if s3_client is not None:
                s3_client.put_object(Bucket=bucket, Key=key, Body=body)
            else:
                path = Path(local_dir) / key
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(body)
            written.append(key)
    return written
