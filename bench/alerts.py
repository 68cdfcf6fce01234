"""Alerts benchmark: evaluation time of 100 rules over 5,350 tickers for one new session (synthetic
gold tables in a DuckDB file), and delivery throughput to Redis Streams.

    .venv/bin/python bench/alerts.py [--tickers 5350] [--rules 100] [--sessions 40] [--firings 20000]

Needs Redis on TRADLYTE_REDIS_URL (default redis://127.0.0.1:6379/0); keys go under a unique
`tradlyte-bench:` prefix and are deleted afterwards.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
import warnings
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DO_NOT_TRACK", "1")

from alerts.evaluator import AlertsConfig, Evaluator, RunResult  # noqa: E402
from alerts.rules import parse_rule  # noqa: E402
from alerts.sql import compile_timeframe  # noqa: E402
from alerts.state import State, connect_redis, iso  # noqa: E402
from core.contract import KNOWN_SIGNALS  # noqa: E402
from core.warehouse import Warehouse  # noqa: E402

NY = ZoneInfo("America/New_York")


def sessions(n: int) -> list:
    import pandas_market_calendars as mcal

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = mcal.get_calendar("NYSE").schedule(start_date="2026-08-01", end_date="2026-11-20")
    return [d.date() for d in sched.index[-n:]]


def build_gold(path: Path, n_tickers: int, days: list) -> None:
    import duckdb

    con = duckdb.connect(str(path))
    con.execute("set TimeZone = 'UTC'")
    con.execute("create schema gold")
    con.execute("create temp table s (i integer, d date, start_at timestamptz)")
    con.executemany("insert into s values (?, ?, ?)",
                    [[i, d, datetime(d.year, d.month, d.day, tzinfo=NY).astimezone(UTC)] for i, d in enumerate(days)])
    con.execute(f"create temp table t as select range as k, 'T' || lpad(cast(range as varchar), 4, '0') as ticker "
                f"from range({n_tickers})")
    con.execute("""
        create table gold.bars as
        select t.ticker, '1d' as timeframe, s.start_at as bar_start_at, s.start_at + interval 1 day as bar_end_at,
               s.d as first_session_date, s.d as last_session_date,
               100 + 10 * sin(s.i * 0.4 + t.k) + random() as close_, 0.0 as open, 0.0 as high, 0.0 as low,
               1e6 * random() as volume, 0.0 as vwap, 100 as transaction_count, 1 as session_count,
               true as is_complete
        from t cross join s""")
    con.execute("alter table gold.bars rename column close_ to close")
    con.execute("""
        create table gold.indicators as
        select ticker, timeframe, bar_start_at, last_session_date, close,
               close * (1 + 0.01 * (random() - 0.5)) as sma_5, close * (1 + 0.02 * (random() - 0.5)) as sma_10,
               close * (1 + 0.03 * (random() - 0.5)) as sma_20, close * (1 + 0.05 * (random() - 0.5)) as sma_50,
               100 + 2 * (random() - 0.5) as sma_200, close * 1.001 as ema_12, close * 0.999 as ema_26,
               close as ema_50, 100.0 as ema_200, random() - 0.5 as macd, random() - 0.5 as macd_signal,
               random() - 0.5 as macd_hist, 50 + 45 * sin(epoch(bar_start_at) / 86400 * 0.5 + hash(ticker) % 100)
               as rsi_14, close + 5 as bb_upper, close as bb_middle, close - 5 as bb_lower, 2.0 as atr_14,
               100 * random() as stoch_k, 100 * random() as stoch_d, 1e7 * random() as obv, true as is_warm
        from gold.bars""")
    sigs = ", ".join(f"'{s}'" for s in KNOWN_SIGNALS)
    con.execute(f"""
        create table gold.signals as
        select ticker, timeframe, bar_start_at, list_extract([{sigs}], 1 + cast(floor(random() * 10) as integer))
               as signal, 'up' as direction, close as value
        from gold.bars where random() < 0.005""")
    con.close()


def make_rules(n: int, tickers: list[str]) -> list:
    rng = random.Random(5)
    cols = ["rsi_14", "macd_hist", "stoch_k", "close", "atr_14", "obv"]
    out = []
    for i in range(n):
        kind = i % 5
        if kind == 0:  # thresholds in the tails, as real alert rules use them
            col = rng.choice(cols[:3])
            op = rng.choice([">", "<"])
            if col == "macd_hist":
                level = 0.49 if op == ">" else -0.49
            else:
                level = rng.uniform(94, 99) if op == ">" else rng.uniform(1, 6)
            cond = f"{col} {op} {level:.3f}"
        elif kind == 1:
            cond = f"close {rng.choice(['crosses_above', 'crosses_below'])} {rng.choice(['sma_200', 'sma_50', 'ema_200'])}"
        elif kind == 2:
            cond = f"close moves_pct {rng.choice([8, 10, 15])}"
        elif kind == 3:
            cond = {"signal": rng.choice(KNOWN_SIGNALS)}
        else:
            cond = f"rsi_14 {rng.choice(['crosses_above', 'crosses_below'])} {rng.choice([30, 70])}"
        out.append(parse_rule({
            "id": f"bench-{i:03d}", "version": 1, "description": "bench", "timeframes": ["1d"],
            "tickers": "all" if i % 4 else rng.sample(tickers, 50), "condition": cond,
            "frequency": "once" if i % 3 == 0 else "once_per_bar", "channels": ["redis"],
        }))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickers", type=int, default=5350)
    ap.add_argument("--rules", type=int, default=100)
    ap.add_argument("--sessions", type=int, default=40)
    ap.add_argument("--firings", type=int, default=20000)
    args = ap.parse_args()
    redis_url = os.environ.get("TRADLYTE_REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = f"tradlyte-bench:{uuid.uuid4().hex[:8]}:"
    client = connect_redis(redis_url)
    days = sessions(args.sessions)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        t0 = time.perf_counter()
        build_gold(path, args.tickers, days)
        print(f"synthetic gold: {args.tickers:,} tickers x {len(days)} sessions "
              f"({args.tickers * len(days):,} bars) built in {time.perf_counter() - t0:.1f}s")
        wh = Warehouse(kind="duckdb", duckdb_path=path)
        tickers = [f"T{k:04d}" for k in range(args.tickers)]
        rules = make_rules(args.rules, tickers)
        last = datetime(days[-1].year, days[-1].month, days[-1].day, tzinfo=NY).astimezone(UTC)
        prev = datetime(days[-2].year, days[-2].month, days[-2].day, tzinfo=NY).astimezone(UTC)
        try:
            # 1. evaluation only: one set-based query for all rules, one new session
            times = []
            for _ in range(3):
                t0 = time.perf_counter()
                with wh.connect() as con:
                    q = compile_timeframe(rules, "1d", prev, last)
                    hits = con.query(q.sql, q.params)
                times.append(time.perf_counter() - t0)
            print(f"evaluation: {len(rules)} rules x {args.tickers:,} tickers, 1 new session: "
                  f"best {min(times):.3f}s, median {sorted(times)[1]:.3f}s -> {len(hits):,} hits "
                  f"({len(rules) * args.tickers / min(times):,.0f} rule-ticker checks/s)")

            # 2. a full pass: evaluation + decisions + delivery to Redis Streams + audit + cursor
            cfg = AlertsConfig(redis_url=redis_url, prefix=prefix, warehouse=wh, check_staleness=False,
                               start_at=last, stream_maxlen=0)
            ev = Evaluator(cfg, rules, clock=lambda: datetime.now(UTC))
            t0 = time.perf_counter()
            res = ev.run_once()
            full = time.perf_counter() - t0
            print(f"full pass (evaluate, decide, XADD exactly-once, audit, cursor): {full:.2f}s for "
                  f"{res.decided:,} firings")

            # 3. delivery throughput to Redis Streams (exactly-once Lua script, pipelined)
            state = State(client, prefix + "tp:")
            base = datetime(2026, 1, 1, tzinfo=UTC)
            items = [{"kind": "firing", "idempotency_key": f"tp:v1:T{i:05d}:1d:{iso(base)}", "rule_id": "tp",
                      "rule_version": 1, "ticker": f"T{i:05d}", "timeframe": "1d", "bar_start_at": iso(base),
                      "value": 1.0 * i, "condition": "rsi_14 > 70", "fired_at": iso(base), "channels": ["redis"]}
                     for i in range(args.firings)]
            ev.cfg.stream = prefix + "tp:stream"
            r = RunResult(run_id="bench")
            t0 = time.perf_counter()
            ev._send("redis", state, items, r, [], None)
            dt = time.perf_counter() - t0
            print(f"Redis Streams delivery: {r.delivered['redis']:,} firings in {dt:.2f}s = "
                  f"{r.delivered['redis'] / dt:,.0f} firings/s (batch {cfg.batch_size})")
            t0 = time.perf_counter()
            r2 = RunResult(run_id="bench2")
            ev._send("redis", state, items[:5000], r2, [], None)
            dt2 = time.perf_counter() - t0
            print(f"re-delivery of 5,000 already delivered keys: {dt2:.2f}s, delivered again: "
                  f"{r2.delivered.get('redis', 0)}")
        finally:
            keys = list(client.scan_iter(match=prefix + "*", count=5000))
            for i in range(0, len(keys), 5000):
                client.delete(*keys[i:i + 5000])
            client.close()


if __name__ == "__main__":
    main()
