"""Flat-file backfill: Polygon's (Massive's) whole-market day files, streamed as Arrow tables.

The fastest way to load decades of history: one gzip CSV per day for the whole market, read
with pyarrow and handed to dlt as Arrow tables (no per-row Python). Each finished day is
recorded in dlt state; `run_backfill` loads in batches of days, each its own dlt load, so an
interrupted backfill resumes from the last completed batch and never refetches finished
days. Days without a file (weekends, holidays) are skipped.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta

import dlt
import pyarrow.compute as pc

from ingestion.flatfiles.helpers import file_key, read_flat_file, to_raw, valid_rows
from ingestion.flatfiles.settings import KIND_TABLES, FlatFilesConfig
from ingestion.raw_schema import AGG_COLUMNS, DAILY_COLUMNS, QUARANTINE_COLUMNS

log = logging.getLogger("tradlyte.ingestion.flatfiles")

__all__ = ["flatfiles_source", "run_backfill", "FlatFilesConfig"]


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)
            if (start + timedelta(days=i)).weekday() < 5]


@dlt.source(name="polygon_flatfiles", max_table_nesting=0)
def flatfiles_source(start: date, end: date, kinds: Sequence[str] = ("day",),
                     config: FlatFilesConfig | None = None,
                     progress: Callable[[str, int], None] | None = None):
    config = config or FlatFilesConfig()
    client = config.client()

    def make_resource(kind: str):
        table = KIND_TABLES[kind]
        key = ("ticker", "session_date") if kind == "day" else ("ticker", "ts_ms")

        @dlt.resource(name=f"{kind}_flatfiles", table_name=table, write_disposition="merge",
                      primary_key=key, columns=DAILY_COLUMNS if kind == "day" else AGG_COLUMNS)
        def files():
            done = dlt.current.resource_state().setdefault("done_days", [])
            finished = set(done)
            for day in _days(start, end):
                if day.isoformat() in finished:
                    continue
                try:
                    body = client.get_object(Bucket=config.bucket, Key=file_key(config.prefix, kind, day))
                except client.exceptions.NoSuchKey:
                    continue  # no file: a weekend, a holiday, or not published yet
                raw = read_flat_file(body["Body"].read())
                mask = valid_rows(raw)
                bad = raw.filter(pc.invert(mask))
                if bad.num_rows:
                    yield dlt.mark.with_hints(
                        [{"resource": f"{kind}_flatfiles", "reason": "failed OHLC / completeness checks",
                          "ticker": row.get("ticker"), "payload": json.dumps(row, default=str),
                          "ingested_at": datetime.now(UTC)}
                         for row in bad.to_pylist()],
                        dlt.mark.make_hints(table_name="quarantine", write_disposition="append",
                                            columns=QUARANTINE_COLUMNS, primary_key=[], merge_key=[]),
                        create_table_variant=True)
                good = to_raw(raw.filter(mask), kind, day)
                yield good
                done.append(day.isoformat())
                if progress:
                    progress(day.isoformat(), good.num_rows)

        return files

    return [make_resource(kind) for kind in kinds]


def run_backfill(start: date, end: date, target: str = "duckdb", kinds: Sequence[str] = ("day",),
                 batch_days: int = 20, config: FlatFilesConfig | None = None, progress=None):
    """Backfill [start, end] in batches of `batch_days` calendar days, one dlt load each."""
    from ingestion.pipeline import LoadReport, run_source

    total = LoadReport(target=target, pipeline_name="")
    cursor = start
    while cursor <= end:
        batch_end = min(end, cursor + timedelta(days=batch_days - 1))
        report = run_source(flatfiles_source(cursor, batch_end, kinds, config, progress), target, "flatfiles")
        total.pipeline_name = report.pipeline_name
        total.load_ids += report.load_ids
        total.seconds += report.seconds
        for table, rows in report.rows.items():
            total.rows[table] = total.rows.get(table, 0) + rows
        cursor = batch_end + timedelta(days=1)
    return total
