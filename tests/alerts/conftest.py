"""Fixtures for the alerts tests: gold tables with the exact contract columns, on a DuckDB file or
on PostgreSQL, a loopback webhook receiver, and an evaluator factory."""

from __future__ import annotations

import json
import threading
import warnings
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pandas_market_calendars as mcal
import pytest

from alerts.evaluator import AlertsConfig, Evaluator
from alerts.rules import parse_rule
from core.contract import BARS_COLUMNS, INDICATOR_COLUMNS
from core.settings import PostgresSettings
from core.warehouse import Warehouse

NY = ZoneInfo("America/New_York")
REDIS_URL = "redis://127.0.0.1:6379/0"

_BAR_TYPES = {
    "ticker": "text", "timeframe": "text", "bar_start_at": "timestamptz", "bar_end_at": "timestamptz",
    "first_session_date": "date", "last_session_date": "date", "open": "double precision",
    "high": "double precision", "low": "double precision", "close": "double precision",
    "volume": "double precision", "vwap": "double precision", "transaction_count": "bigint",
    "session_count": "integer", "is_complete": "boolean",
}
IND_COLUMNS = ("ticker", "timeframe", "bar_start_at", "last_session_date", *INDICATOR_COLUMNS, "is_warm")


def sessions(start: str, n: int) -> list[date]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = mcal.get_calendar("NYSE").schedule(start_date=start,
                                                   end_date=pd.Timestamp(start) + pd.Timedelta(days=3 * n + 10))
    return [d.date() for d in sched.index[:n]]


def ny_midnight(d: date) -> datetime:
    return datetime.combine(d, time(0), tzinfo=NY).astimezone(UTC)


def after_close(d: date, hours: float = 7) -> datetime:
    """A wall-clock time `hours` after the 16:00 New York close of session d."""
    return datetime.combine(d, time(16), tzinfo=NY).astimezone(UTC) + timedelta(hours=hours)


class Gold:
    """Writes gold.bars / gold.indicators / gold.signals fixture rows to a warehouse."""

    def __init__(self, wh: Warehouse):
        self.wh = wh
        with wh.connect(read_only=False) as con:
            con.execute("create schema if not exists gold")
            con.execute(f"create table if not exists gold.bars ({', '.join(f'{c} {_BAR_TYPES[c]}' for c in BARS_COLUMNS)})")
            ind_types = {c: "double precision" for c in INDICATOR_COLUMNS}
            ind_types.update({"ticker": "text", "timeframe": "text", "bar_start_at": "timestamptz",
                              "last_session_date": "date", "is_warm": "boolean"})
            con.execute(f"create table if not exists gold.indicators ({', '.join(f'{c} {ind_types[c]}' for c in IND_COLUMNS)})")
            con.execute("create table if not exists gold.signals (ticker text, timeframe text, bar_start_at timestamptz, "
                        "signal text, direction text, value double precision)")

    def add_daily(self, ticker: str, days: list[date], complete: bool = True, **series: list) -> None:
        """Daily bars for `days`; `series` gives per-bar indicator values (close defaults to 100)."""
        bars, inds = [], []
        for i, d in enumerate(days):
            vals = {k: v[i] for k, v in series.items()}
            close = vals.get("close", 100.0)
            start = ny_midnight(d)
            is_complete = complete or i < len(days) - 1
            bars.append([ticker, "1d", start, ny_midnight(d + timedelta(days=1)), d, d, close, close, close, close,
                         1000.0, close, 10, 1, is_complete])
            row = {c: None for c in IND_COLUMNS}
            row.update({"ticker": ticker, "timeframe": "1d", "bar_start_at": start, "last_session_date": d,
                        "close": close, "is_warm": True})
            row.update({k: v for k, v in vals.items() if k != "close"})
            inds.append([row[c] for c in IND_COLUMNS])
        with self.wh.connect(read_only=False) as con:
            con.executemany(f"insert into gold.bars ({', '.join(BARS_COLUMNS)}) values "
                            f"({', '.join('?' for _ in BARS_COLUMNS)})", bars)
            con.executemany(f"insert into gold.indicators ({', '.join(IND_COLUMNS)}) values "
                            f"({', '.join('?' for _ in IND_COLUMNS)})", inds)

    def add_intraday(self, ticker: str, timeframe: str, starts: list[datetime], minutes: int,
                     complete: bool = True, **series: list) -> None:
        """Intraday bars starting at `starts` (UTC), each `minutes` long; the last one open unless complete."""
        bars, inds = [], []
        for i, start in enumerate(starts):
            vals = {k: v[i] for k, v in series.items()}
            close = vals.get("close", 100.0)
            d = start.astimezone(NY).date()
            bars.append([ticker, timeframe, start, start + timedelta(minutes=minutes), d, d, close, close, close,
                         close, 10.0, close, 1, 1, complete or i < len(starts) - 1])
            row = {c: None for c in IND_COLUMNS}
            row.update({"ticker": ticker, "timeframe": timeframe, "bar_start_at": start, "last_session_date": d,
                        "close": close, "is_warm": True})
            row.update({k: v for k, v in vals.items() if k != "close"})
            inds.append([row[c] for c in IND_COLUMNS])
        with self.wh.connect(read_only=False) as con:
            con.executemany(f"insert into gold.bars ({', '.join(BARS_COLUMNS)}) values "
                            f"({', '.join('?' for _ in BARS_COLUMNS)})", bars)
            con.executemany(f"insert into gold.indicators ({', '.join(IND_COLUMNS)}) values "
                            f"({', '.join('?' for _ in IND_COLUMNS)})", inds)

    def add_signal(self, ticker: str, d: date, signal: str, direction: str = "up", value: float = 1.0,
                   timeframe: str = "1d") -> None:
        with self.wh.connect(read_only=False) as con:
            con.execute("insert into gold.signals values (?, ?, ?, ?, ?, ?)",
                        [ticker, timeframe, ny_midnight(d), signal, direction, value])

    def query(self, sql: str, params=()) -> list[tuple]:
        with self.wh.connect(read_only=True) as con:
            return con.query(sql, params)


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request, tmp_path) -> Iterator[Warehouse]:
    """The same tests on a DuckDB file and on a PostgreSQL database."""
    if request.param == "duckdb":
        yield Warehouse(kind="duckdb", duckdb_path=tmp_path / "warehouse.duckdb", wait_seconds=2)
    else:
        db = request.getfixturevalue("pg_database")
        yield Warehouse(kind="postgres", pg=PostgresSettings(host=db.host, port=db.port, user=db.user,
                                                             database=db.name))


@pytest.fixture()
def duck(tmp_path) -> Warehouse:
    return Warehouse(kind="duckdb", duckdb_path=tmp_path / "warehouse.duckdb", wait_seconds=2)


@pytest.fixture()
def gold(warehouse) -> Gold:
    return Gold(warehouse)


@pytest.fixture()
def duck_gold(duck) -> Gold:
    return Gold(duck)


def rule(**kw) -> dict:
    base = {"id": "r1", "version": 1, "description": "test rule", "tickers": "all", "timeframes": ["1d"],
            "frequency": "once_per_bar", "channels": ["redis"]}
    base.update(kw)
    return base


def make_evaluator(wh: Warehouse, prefix: str, rules: list[dict], now: datetime, **cfg) -> Evaluator:
    cfg.setdefault("check_staleness", False)
    config = AlertsConfig(redis_url=REDIS_URL, prefix=prefix, warehouse=wh, webhook_backoff=0.01, **cfg)
    return Evaluator(config, [parse_rule(r) for r in rules], clock=lambda: now)


def stream_entries(prefix: str, stream: str | None = None) -> list[dict]:
    import redis

    r = redis.Redis.from_url(REDIS_URL)
    out = []
    for _id, fields in r.xrange(stream or prefix + "stream"):
        out.append({k.decode(): v.decode() for k, v in fields.items()})
    r.close()
    return out


class Receiver:
    """A loopback webhook receiver (stdlib http.server on port 0)."""

    def __init__(self, fail_first: int = 0, always_status: int | None = None):
        self.requests: list[dict] = []
        self.fail_first, self.always_status = fail_first, always_status
        self.calls = 0
        lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with lock:
                    outer.calls += 1
                    n = outer.calls
                status = outer.always_status or (500 if n <= outer.fail_first else 200)
                if status == 200:
                    outer.requests.append({"headers": dict(self.headers), "body": body,
                                           "json": json.loads(body)})
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


RULES_DIR = Path(__file__).resolve().parents[2] / "alerts" / "rules"
