"""Scale-out: intraday bars and indicators from minute bars on DuckDB and on Spark, in one run.

Generates a minute-bar universe (default 50 tickers x 63 NYSE sessions, every regular-hours
minute: 1.21M rows; the issue's 500 x 504, about 98M rows, takes Spark local[1] about ten hours
on this 2-core machine, see the README) and writes it once as dlt's raw Parquet lake
(<root>/raw_polygon/<table>/<load>.parquet), plus its daily bars. Then, each in a child process
with its own warehouse:
  duckdb      the same rows in raw_polygon of a DuckDB file, `dbt run --select +indicators`
  spark1      the spark target over the Parquet lake, TRADLYTE_SPARK_MASTER=local[1]
  spark2      the same with local[2]
Only `dbt run` is timed (the seed and the JVM start-up are not; a cluster pays them once), and
every build must turn each minute into a silver minute and a 1m bar. A calibration universe a
tenth the size over the same sessions is built first, so the fixed cost of a build separates
from its per-row cost (marginal rows/s). Fibonacci bars are off (--fib to keep them), so the
work is minute -> 1m..1h bars -> indicators. Prints seconds, minute rows/s, the load average
around each build and the Spark 1 -> 2 core speed-up.

    .venv/bin/python bench/scale.py [--tickers 50] [--sessions 63] [--calibration-tickers 5]
                                    [--engines duckdb,spark1,spark2] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DO_NOT_TRACK", "1")

DEFAULT_TICKERS = 50
DEFAULT_SESSIONS = 63


def generate(workdir: Path, tickers: int, sessions: int, seed: int = 11) -> tuple[int, int]:
    """Random-walk minute bars for every regular-hours minute, and the daily bars they make,
    written as raw Parquet in dlt's layout. Returns (minute rows, daily rows)."""
    import numpy as np
    import pandas as pd

    from core.calendar import nyse_schedule
    from ingestion.sandbox.universe import ny_midnight_ms
    from tests.spark.spark_support import write_raw_parquet

    calendar = nyse_schedule("2018-01-01", "2024-12-31")
    calendar = calendar.iloc[-sessions:].reset_index(drop=True)
    minutes_per_session = ((calendar.market_close_at - calendar.market_open_at).dt.total_seconds() // 60).astype(int)
    # epoch milliseconds whatever unit pandas stores the instants in
    open_ms = calendar.market_open_at.dt.as_unit("ms").astype("int64").to_numpy()
    minute_ms = np.concatenate([o + 60_000 * np.arange(n) for o, n in zip(open_ms, minutes_per_session, strict=True)])
    session_of_minute = np.repeat(np.arange(len(calendar)), minutes_per_session)
    raw = workdir / "raw_polygon"
    rng = np.random.default_rng(seed)
    minute_rows = daily_rows = 0
    load = f"{time.time():.6f}"
    for index in range(tickers):
        ticker = f"T{index:04d}"
        steps = rng.normal(0, 0.0008, len(minute_ms))
        close = 50 * np.exp(np.cumsum(steps)) * (1 + index / tickers)
        open_ = np.concatenate([[close[0]], close[:-1]])
        spread = np.abs(rng.normal(0, 0.0004, len(close))) * close
        high = np.maximum(open_, close) + spread
        low = np.minimum(open_, close) - spread
        volume = rng.integers(100, 5000, len(close)).astype(float)
        minute = pd.DataFrame({
            "ticker": ticker, "ts_ms": minute_ms, "open": open_, "high": high, "low": low, "close": close,
            "volume": volume, "vwap": (high + low + close) / 3, "transactions": (volume // 50).astype("int64"),
            "source": "bench",
        })
        write_raw_parquet(raw, "minute_aggs", minute, f"{load}{index:06d}")
        grouped = minute.assign(session=session_of_minute).groupby("session")
        daily = pd.DataFrame({
            "ticker": ticker, "session_date": calendar.session_date,
            "ts_ms": ny_midnight_ms(calendar.session_date),
            "open": grouped.open.first().to_numpy(), "high": grouped.high.max().to_numpy(),
            "low": grouped.low.min().to_numpy(), "close": grouped.close.last().to_numpy(),
            "volume": grouped.volume.sum().to_numpy(), "vwap": grouped.vwap.mean().to_numpy(),
            "transactions": grouped.transactions.sum().to_numpy(), "otc": False, "source": "bench",
        })
        write_raw_parquet(raw, "daily_aggs", daily, f"{load}{index:06d}")
        minute_rows += len(minute)
        daily_rows += len(daily)
    return minute_rows, daily_rows


def load_duckdb(workdir: Path) -> Path:
    """The same raw Parquet into raw_polygon of a DuckDB file, shaped like dlt's merge leaves it."""
    import duckdb

    from tests.dbt_support import RAW_TABLES

    path = workdir / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema raw_polygon")
    for table, (_, columns) in RAW_TABLES.items():
        folder = workdir / "raw_polygon" / table
        if folder.exists():
            con.execute(f"create table raw_polygon.{table} as select * from read_parquet('{folder}/*.parquet')")
        else:
            ddl = ", ".join(f'"{n}" {t}' for n, t in columns)
            con.execute(f'create table raw_polygon.{table} ({ddl}, "_dlt_load_id" text, "_dlt_id" text)')
    con.close()
    return path


# run in the child after the build: what was built (the check that the minutes were not dropped)
COUNT_ROWS = """
def count_rows(target):
    sql = ("select (select count(*) from silver.silver_minute_bars), "
           "(select count(*) from gold.bars where timeframe = '1m'), (select count(*) from gold.indicators)")
    if target == 'duckdb':
        import duckdb, os
        con = duckdb.connect(os.environ['TRADLYTE_DUCKDB_PATH'], read_only=True)
        row = con.execute(sql).fetchone()
        con.close()
    else:
        from pyspark.sql import SparkSession
        row = SparkSession.builder.getOrCreate().sql(sql).collect()[0]
    return dict(zip(['silver_minutes', 'bars_1m', 'indicators'], [int(v) for v in row]))
"""


def timed_build(engine: str, workdir: Path, dbt_vars: dict) -> tuple[float, dict[str, float], dict[str, int]]:
    """seed, then the timed `dbt run --select +indicators`, in a child process; (seconds of the
    run, seconds per model as dbt reports them, rows built)."""
    env = dict(os.environ, TRADLYTE_DATA_DIR=str(workdir / f"data-{engine}"))
    if engine == "duckdb":
        target = "duckdb"
        env["TRADLYTE_DUCKDB_PATH"] = str(workdir / "warehouse.duckdb")
    else:
        target = "spark"
        env.update(TRADLYTE_SPARK_MASTER=f"local[{engine[-1]}]", TRADLYTE_SPARK_DIR=str(workdir / engine),
                   TRADLYTE_SPARK_RAW=str(workdir / "raw_polygon"),
                   TRADLYTE_SPARK_SHUFFLE_PARTITIONS=str(2 * int(engine[-1])))
    code = (
        "import json, sys, time; from orchestration.dbt_runner import run_dbt; "
        "target, dbt_vars = sys.argv[1], json.loads(sys.argv[2]); "
        "run_dbt(['seed'], target=target, vars=dbt_vars); t0 = time.perf_counter(); "
        "out = run_dbt(['run', '--select', '+indicators'], target=target, vars=dbt_vars); "
        "print('SECONDS', time.perf_counter() - t0); "
        "print('MODELS', json.dumps({r.node.name: r.execution_time for r in out.results})); "
        f"print('COUNTS', json.dumps(count_rows({target!r})))"
    )
    code = COUNT_ROWS + code
    out = subprocess.run([sys.executable, "-c", code, target, json.dumps(dbt_vars)], cwd=ROOT, env=env,
                         capture_output=True, text=True)
    seconds = [line.split()[1] for line in out.stdout.splitlines() if line.startswith("SECONDS")]
    models = [line.split(" ", 1)[1] for line in out.stdout.splitlines() if line.startswith("MODELS")]
    if out.returncode != 0 or not seconds:
        sys.stderr.write(out.stderr[-4000:])
        raise SystemExit(f"the {engine} build failed (exit {out.returncode})")
    counts = [json.loads(line.split(" ", 1)[1]) for line in out.stdout.splitlines() if line.startswith("COUNTS")]
    return float(seconds[0]), json.loads(models[0]) if models else {}, counts[0]


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def measure(label: str, tickers: int, sessions: int, engines: list[str], dbt_vars: dict,
            keep: bool = False) -> tuple[int, dict]:
    """Generate one universe, build it on every engine; (minute rows, {engine: seconds})."""
    workdir = Path(tempfile.mkdtemp(prefix=f"tradlyte-bench-scale-{label}-"))
    t0 = time.perf_counter()
    minute_rows, daily_rows = generate(workdir, tickers, sessions)
    print(f"[{label}] {tickers} tickers x {sessions} sessions: {minute_rows:,} minute rows, "
          f"{daily_rows:,} daily rows, generated in {time.perf_counter() - t0:.0f} s ({workdir})", flush=True)
    if "duckdb" in engines:
        load_duckdb(workdir)
    results = {}
    for engine in engines:
        before = load_average()
        results[engine], models, counts = timed_build(engine, workdir, dbt_vars)
        if not counts["silver_minutes"] == counts["bars_1m"] == minute_rows:
            raise SystemExit(f"{engine}: built {counts}, expected {minute_rows:,} minutes and 1m bars")
        slowest = sorted(models.items(), key=lambda item: -item[1])[:4]
        print(f"  {engine:8s} dbt run +indicators: {results[engine]:8.1f} s, "
              f"{minute_rows / results[engine]:12,.0f} minute rows/s  ({before} before, {load_average()} after)",
              flush=True)
        print("           slowest models: " + ", ".join(f"{name} {sec:.1f} s" for name, sec in slowest)
              + f"; gold.indicators {counts['indicators']:,} rows", flush=True)
    if not keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return minute_rows, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickers", type=int, default=DEFAULT_TICKERS)
    parser.add_argument("--sessions", type=int, default=DEFAULT_SESSIONS)
    parser.add_argument("--calibration-tickers", type=int, default=None,
                        help="a second, small universe (same sessions) for the fixed cost per build "
                             "(default: a tenth of --tickers, at least 2; 0 skips it)")
    parser.add_argument("--engines", default="duckdb,spark1,spark2")
    parser.add_argument("--fib", action="store_true", help="keep the Fibonacci daily bars in the build")
    parser.add_argument("--keep", action="store_true", help="keep the generated lake and warehouses")
    args = parser.parse_args()

    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    dbt_vars = {} if args.fib else {"fib_intervals": []}
    print(f"machine: {os.cpu_count()} cores, {load_average()} at start", flush=True)
    small_tickers = max(2, args.tickers // 10) if args.calibration_tickers is None else args.calibration_tickers
    small = None
    if small_tickers and small_tickers < args.tickers:
        small = measure("calibration", small_tickers, args.sessions, engines, dbt_vars, args.keep)
    rows, results = measure("main", args.tickers, args.sessions, engines, dbt_vars, args.keep)

    print(f"\nsummary ({rows:,} minute rows; {load_average()} at the end)")
    for engine, seconds in results.items():
        line = f"  {engine:8s} {seconds:8.1f} s  {rows / seconds:12,.0f} minute rows/s"
        if small is not None and results[engine] > small[1][engine]:
            marginal = (rows - small[0]) / (results[engine] - small[1][engine])
            fixed = small[1][engine] - small[0] / marginal
            line += f"  marginal {marginal:12,.0f} minute rows/s, fixed cost about {max(fixed, 0.0):6.1f} s"
        print(line)
    if "spark1" in results and "spark2" in results:
        print(f"  Spark local[1] -> local[2] speed-up: {results['spark1'] / results['spark2']:.2f}x")
        if small is not None:
            per_row = [(results[e] - small[1][e]) for e in ("spark1", "spark2")]
            if min(per_row) > 0:
                print(f"  speed-up of the per-row (marginal) time: {per_row[0] / per_row[1]:.2f}x")
    if "duckdb" in results and "spark2" in results:
        print(f"  DuckDB / Spark local[2] time: {results['duckdb'] / results['spark2']:.2f}")


if __name__ == "__main__":
    main()
