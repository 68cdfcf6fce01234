"""gold.indicators on DuckDB next to a pandas + TA-Lib loop over the same bars, in one run.

Builds the project up to gold.bars on a generated universe (default 5,350 tickers x 4,200
sessions, daily and all Fibonacci timeframes; intraday off), then times:
  sql     `dbt run --select indicators` (every indicator, every series, exact recurrences)
  talib   reading gold.bars into pandas and looping TA-Lib over every (ticker, timeframe)
and prints both, their ratio, and peak memory. gold.indicators is rebuilt as a table on every
run today, so a one-session incremental costs a full build (reported as such).

    .venv/bin/python bench/indicators.py [--tickers 5350] [--sessions 4200]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DO_NOT_TRACK", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickers", type=int, default=5350)
    parser.add_argument("--sessions", type=int, default=4200)
    args = parser.parse_args()

    import duckdb

    from tests.dbt_support import RawWarehouse
    from tests.reference.talib_reference import talib_indicators

    workdir = Path(tempfile.mkdtemp(prefix="tradlyte-bench-indicators-"))
    path = workdir / "warehouse.duckdb"
    os.environ["TRADLYTE_DATA_DIR"] = str(workdir)
    subprocess.run([sys.executable, str(ROOT / "bench" / "transform.py"), "--load-only", str(path),
                    "--tickers", str(args.tickers), "--sessions", str(args.sessions)], check=True)
    wh = RawWarehouse("duckdb", duckdb_path=path, vars={"intraday_minutes": []})
    wh.dbt("seed")
    wh.dbt("run", "--select", "+bars")

    t0 = time.perf_counter()
    wh.dbt("run", "--select", "indicators")
    sql_s = time.perf_counter() - t0
    peak_sql = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    con = duckdb.connect(str(path), read_only=True)
    rows = con.execute("select count(*) from gold.indicators").fetchone()[0]
    t0 = time.perf_counter()
    bars = con.execute("select ticker, timeframe, bar_start_at, open, high, low, close, volume "
                       "from gold.bars order by ticker, timeframe, bar_start_at").df()
    con.close()
    series = 0
    for _, group in bars.groupby(["ticker", "timeframe"], sort=False):
        talib_indicators(group.reset_index(drop=True))
        series += 1
    talib_s = time.perf_counter() - t0

    print(f"\n{args.tickers} tickers x {args.sessions} sessions, daily + Fibonacci: "
          f"{rows:,} indicator rows in {series:,} series")
    print(f"  SQL (dbt run gold.indicators, DuckDB): {sql_s:8.1f} s")
    print(f"  pandas + TA-Lib loop, same bars:       {talib_s:8.1f} s")
    print(f"  SQL / TA-Lib: {sql_s / talib_s:.1f}x")
    print(f"  one-session incremental: a full rebuild today ({sql_s:.1f} s)")
    print(f"  peak RSS: {peak_sql:,.0f} MiB after the SQL build, "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB with pandas")


if __name__ == "__main__":
    main()
