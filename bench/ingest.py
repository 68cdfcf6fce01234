"""Flat-file backfill throughput into DuckDB, next to simply reading the same files.

Generates a whole-market universe with the sandbox (default 5,350 tickers x 250 sessions),
writes it as Polygon day files to a local S3 server (SeaweedFS `weed mini`), then measures in
the same run:
  baseline  download + parse every CSV.gz with pyarrow (the floor for any loader)
  backfill  `ingestion.flatfiles.run_backfill` into a fresh DuckDB warehouse (dlt, Arrow path)
and prints rows/s for both and their ratio, plus peak memory.

    .venv/bin/python bench/ingest.py [--tickers 5350] [--sessions 250]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickers", type=int, default=5350)
    parser.add_argument("--sessions", type=int, default=250)
    parser.add_argument("--batch-days", type=int, default=30)
    args = parser.parse_args()

    import pandas as pd

    from core.calendar import nyse_schedule
    from ingestion.flatfiles import FlatFilesConfig, run_backfill
    from ingestion.flatfiles.helpers import read_flat_file
    from ingestion.s3_server import SeaweedS3
    from ingestion.sandbox.flatfiles import write_flat_files
    from ingestion.sandbox.universe import UniverseSpec, build_universe

    end = date(2024, 12, 31)
    sessions = nyse_schedule("2010-01-01", str(end))
    start = sessions.session_date.iloc[-args.sessions]
    t0 = time.perf_counter()
    universe = build_universe(UniverseSpec(n_tickers=args.tickers, start=str(start), end=str(end),
                                           include_bokeh=False, minute_tickers=0))
    rows = len(universe.daily)
    print(f"universe: {args.tickers} tickers x {args.sessions} sessions = {rows:,} daily rows "
          f"(generated in {time.perf_counter() - t0:.1f}s)")

    workdir = Path(tempfile.mkdtemp(prefix="tradlyte-bench-ingest-"))
    os.environ["TRADLYTE_DATA_DIR"] = str(workdir / "data")
    with SeaweedS3(data_dir=str(workdir / "s3"), buckets=["flatfiles"]) as s3:
        client = s3.boto3_client()
        t0 = time.perf_counter()
        keys = write_flat_files(universe, client, "flatfiles", kinds=("day",))
        print(f"wrote {len(keys)} day files to S3 in {time.perf_counter() - t0:.1f}s")
        del universe

        t0 = time.perf_counter()
        read_rows = 0
        for key in keys:
            read_rows += read_flat_file(client.get_object(Bucket="flatfiles", Key=key)["Body"].read()).num_rows
        baseline_s = time.perf_counter() - t0

        config = FlatFilesConfig(endpoint_url=s3.endpoint_url, bucket="flatfiles",
                                 access_key_id=s3.access_key, secret_access_key=s3.secret_key)
        t0 = time.perf_counter()
        report = run_backfill(start, end, "duckdb", config=config, batch_days=args.batch_days)
        backfill_s = time.perf_counter() - t0

    loaded = report.rows.get("daily_aggs", 0)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    table = pd.DataFrame([
        {"step": "pyarrow read (baseline)", "rows": read_rows, "seconds": baseline_s,
         "rows_per_s": read_rows / baseline_s},
        {"step": "dlt backfill into DuckDB", "rows": loaded, "seconds": backfill_s,
         "rows_per_s": loaded / backfill_s},
    ])
    print(table.to_string(index=False, float_format=lambda v: f"{v:,.1f}"))
    print(f"backfill / baseline time ratio: {backfill_s / baseline_s:.1f}x  "
          f"(backfill reaches {100 * baseline_s / backfill_s:.0f}% of the read-only rate)")
    print(f"peak RSS of this process: {peak_mb:,.0f} MiB")
    if loaded != rows:
        raise SystemExit(f"loaded {loaded} rows, expected {rows}")


if __name__ == "__main__":
    main()
