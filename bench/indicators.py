"""gold.indicators on DuckDB next to a pandas + TA-Lib loop over the same bars, in one run.

Builds the project up to gold.bars on a generated universe (default 5,350 tickers x 4,200
sessions, daily and all Fibonacci timeframes; intraday off; the last session held back), then:
  full          `dbt run --select indicators --full-refresh` (every series, exact recurrences)
  incremental   the held-back session loaded, gold.bars brought up to date, then
                `dbt run --select indicators` (continues each series from its stored state)
  talib         gold.bars read into pandas and TA-Lib looped over every (ticker, timeframe)
Each dbt step runs in a child process so its peak memory (max RSS) is its own. Prints the
times, SQL / TA-Lib, incremental / full, and the peaks.

    .venv/bin/python bench/indicators.py [--tickers 5350] [--sessions 4200]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DO_NOT_TRACK", "1")
NO_INTRADAY = {"intraday_minutes": []}


def dbt_step(path: Path, *args: str) -> tuple[float, float]:
    """`dbt <args>` on the bench warehouse in a child process: (seconds, peak MiB)."""
    code = (
        "import json, sys; from pathlib import Path; from tests.dbt_support import RawWarehouse; "
        f"RawWarehouse('duckdb', duckdb_path=Path({str(path)!r}), vars={NO_INTRADAY!r}).dbt(*json.loads(sys.argv[1]))"
    )
    t0 = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", code, json.dumps(list(args))], cwd=ROOT)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"dbt {' '.join(args)} failed")
    return seconds, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickers", type=int, default=5350)
    parser.add_argument("--sessions", type=int, default=4200)
    args = parser.parse_args()

    import duckdb
    import pandas as pd

    from tests.dbt_support import RawWarehouse
    from tests.reference.talib_reference import talib_indicators

    workdir = Path(tempfile.mkdtemp(prefix="tradlyte-bench-indicators-"))
    path = workdir / "warehouse.duckdb"
    os.environ["TRADLYTE_DATA_DIR"] = str(workdir)
    subprocess.run([sys.executable, str(ROOT / "bench" / "transform.py"), "--load-only", str(path),
                    "--tickers", str(args.tickers), "--sessions", str(args.sessions)], check=True)
    dbt_step(path, "seed")
    dbt_step(path, "run", "--select", "+bars")

    full_s, full_peak = dbt_step(path, "run", "--select", "indicators", "--full-refresh")
    con = duckdb.connect(str(path), read_only=True)
    rows = con.execute("select count(*) from gold.indicators").fetchone()[0]
    con.close()

    RawWarehouse("duckdb", duckdb_path=path).load_raw(
        "daily_aggs", pd.read_parquet(path.with_suffix(".last.parquet")))
    dbt_step(path, "run", "--select", "+bars")
    incremental_s, incremental_peak = dbt_step(path, "run", "--select", "indicators")
    con = duckdb.connect(str(path), read_only=True)
    recomputed = con.execute(
        "select count(*) from gold.indicators where updated_at = (select max(updated_at) from gold.indicators)"
    ).fetchone()[0]

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
    print(f"  full build (dbt run gold.indicators --full-refresh, DuckDB): {full_s:8.1f} s, "
          f"peak {full_peak:,.0f} MiB")
    print(f"  one-session incremental ({recomputed:,} rows recomputed):      {incremental_s:8.1f} s, "
          f"peak {incremental_peak:,.0f} MiB")
    print(f"  pandas + TA-Lib loop, same bars (read included):            {talib_s:8.1f} s")
    print(f"  SQL full / TA-Lib: {full_s / talib_s:.1f}x;  incremental / full: {incremental_s / full_s:.3f}")


if __name__ == "__main__":
    main()
