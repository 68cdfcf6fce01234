"""A local Polygon.io (Massive) REST server over a sandbox `Universe`.

It speaks the endpoints the pipeline uses, with Polygon's response shapes, `next_url`
pagination (links carry a cursor, never the key), bearer or `apiKey=` auth, per-key rate
limiting with `Retry-After`, and deterministic fault injection (`FaultConfig`), so the real
client code runs end to end without the internet. Start it with `SandboxServer(...)` as a
context manager, or `tradlyte sandbox serve` (`serve_forever`).
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

import numpy as np
import pandas as pd

from core.calendar import NEW_YORK_NAME as NY
from ingestion.sandbox.universe import Universe

MAX_LIMIT = 50_000


@dataclass
class FaultConfig:
    """Deterministic faults, counted per path prefix (`/v2/aggs`, `/v3/reference/tickers`, ...)."""

    burst_429: int = 0  # the first N requests of each path prefix answer 429 with Retry-After
    retry_after_s: float = 0.1
    errors_500: int = 0  # the next N requests of each path prefix answer 500
    malformed_json_every: int = 0  # every Nth successful response body is not JSON
    truncated_page_every: int = 0  # every Nth successful response body is cut in half
    duplicate_rows: bool = False  # repeat the first row of every page at its end
    bad_rows: bool = False  # inject rows that must fail validation into aggregate pages
    forbidden_paths: tuple[str, ...] = ()  # path prefixes answering 403 NOT_AUTHORIZED
    max_page_size: int | None = None  # cap every page below the requested limit (forces pagination)
    delay_s: float = 0.0  # sleep before every answer (lets tests kill a client mid-load)


def _cursor_encode(offset: int) -> str:
    return base64.urlsafe_b64encode(str(offset).encode()).decode()


def _cursor_decode(token: str) -> int:
    return int(base64.urlsafe_b64decode(token.encode()).decode())


def _ms(value) -> int:
    """A date (YYYY-MM-DD) or epoch-ms string as epoch ms at New York midnight."""
    text = str(value)
    if text.isdigit():
        return int(text)
    return int(pd.Timestamp(text).tz_localize(NY).tz_convert("UTC").value // 1_000_000)


class _State:
    def __init__(self, universe: Universe, faults: FaultConfig):
        self.universe = universe
        self.faults = faults
        self.lock = threading.Lock()
        self.counters: dict[str, int] = defaultdict(int)
        self.ok_responses = 0
        self.request_log: list[tuple[str, str, dict]] = []
        self.rate_windows: dict[str, deque] = defaultdict(deque)
        daily = universe.daily.sort_values(["ticker", "ts_ms"])
        self.daily_by_ticker = {t: g.reset_index(drop=True) for t, g in daily.groupby("ticker")}
        self.daily_by_date = {d: g.reset_index(drop=True) for d, g in daily.groupby("session_date")}
        minute = universe.minute.sort_values(["ticker", "ts_ms"]) if len(universe.minute) else universe.minute
        self.minute_by_ticker = {t: g.reset_index(drop=True) for t, g in minute.groupby("ticker")} if len(
            minute) else {}
        splits = universe.splits
        self.split_events = {t: list(zip(pd.to_datetime(g["execution_date"]).dt.date,
                                         g["split_to"] / g["split_from"], strict=True))
                             for t, g in splits.groupby("ticker")} if len(splits) else {}


def _adjust(frame: pd.DataFrame, events: list[tuple[date, float]], minute: bool) -> pd.DataFrame:
    """Split-adjust like Polygon's `adjusted=true`: prices / ratio and volume x ratio before each split."""
    if not events or frame.empty:
        return frame
    frame = frame.copy()
    when = (pd.to_datetime(frame["ts_ms"], unit="ms", utc=True).dt.tz_convert(NY).dt.date)
    factor = np.ones(len(frame))
    for exec_date, ratio in events:
        factor[(when < exec_date).to_numpy()] *= ratio
    for col in ("open", "high", "low", "close", "vwap"):
        frame[col] = frame[col] / factor
    frame["volume"] = frame["volume"] * factor
    del minute
    return frame


def _agg_result(row: dict, with_ticker: bool, ts_override: int | None = None) -> dict:
    out = {"v": row["volume"], "o": row["open"], "c": row["close"], "h": row["high"], "l": row["low"],
           "t": int(ts_override if ts_override is not None else row["ts_ms"])}
    if row.get("vwap") is not None and not pd.isna(row.get("vwap")):
        out["vw"] = row["vwap"]
    if row.get("transactions") is not None and not pd.isna(row.get("transactions")):
        out["n"] = int(row["transactions"])
    if with_ticker:
        out["T"] = row["ticker"]
    return out


def _json_ready(value):
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, (pd.Timestamp,)):
        return None if pd.isna(value) else value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    return value


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: _json_ready(v) for k, v in row.items() if _json_ready(v) is not None}
            for row in frame.to_dict("records")]


class _Handler(BaseHTTPRequestHandler):
    server_version = "TradlyteSandbox/1.0"
    state: _State
    api_key: str
    rate_limit_per_minute: int | None

    def log_message(self, *_args) -> None:  # keep test output quiet
        return

    # -- plumbing ---------------------------------------------------------------------------
    def _send(self, status: int, body: dict | bytes, headers: dict | None = None) -> None:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)

    def _error(self, status: int, code: str, message: str, headers: dict | None = None) -> None:
        self._send(status, {"status": code, "request_id": uuid.uuid4().hex, "error": message}, headers)

    def _base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def _key(self, query: dict) -> str | None:
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return auth[len("Bearer "):].strip()
        return query.get("apiKey", [None])[0]

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        url = urlparse(self.path)
        query = parse_qs(url.query)
        st = self.state
        prefix = "/".join(url.path.split("/")[:3])
        with st.lock:
            st.request_log.append(("GET", url.path, {k: v[0] for k, v in query.items()}))
        key = self._key(query)
        if key != self.api_key:
            self._error(401, "ERROR", "Unknown API Key" if key else
                        "API Key was not provided. Pass it as apiKey= or an Authorization: Bearer header.")
            return
        if any(url.path.startswith(p) for p in st.faults.forbidden_paths):
            self._error(403, "NOT_AUTHORIZED",
                        "You are not entitled to this data. Please upgrade your plan at https://massive.com/pricing")
            return
        if self.rate_limit_per_minute:
            now = time.monotonic()
            with st.lock:
                window = st.rate_windows[key]
                while window and now - window[0] > 60:
                    window.popleft()
                over = len(window) >= self.rate_limit_per_minute
                if not over:
                    window.append(now)
                retry_after = max(0.0, 60 - (now - window[0])) if over else 0
            if over:
                self._error(429, "ERROR", "You've exceeded the maximum requests per minute, please wait or "
                            "upgrade your subscription to continue.",
                            {"Retry-After": f"{retry_after:.1f}"})
                return
        with st.lock:
            st.counters[prefix] += 1
            n = st.counters[prefix]
        faults = st.faults
        if faults.delay_s:
            time.sleep(faults.delay_s)
        if n <= faults.burst_429:
            self._error(429, "ERROR", "You've exceeded the maximum requests per minute.",
                        {"Retry-After": str(faults.retry_after_s)})
            return
        if n <= faults.burst_429 + faults.errors_500:
            self._error(500, "ERROR", "Internal server error")
            return
        try:
            body = self._route(url.path, query)
        except LookupError as exc:
            self._error(404, "NOT_FOUND", str(exc))
            return
        except ValueError as exc:
            self._error(400, "ERROR", str(exc))
            return
        with st.lock:
            st.ok_responses += 1
            ok = st.ok_responses
        payload = json.dumps(body).encode()
        if faults.malformed_json_every and ok % faults.malformed_json_every == 0:
            payload = b"<html>502 Bad Gateway</html>"
        elif faults.truncated_page_every and ok % faults.truncated_page_every == 0:
            payload = payload[: len(payload) // 2]
        self._send(200, payload)

    # -- endpoints --------------------------------------------------------------------------
    def _page(self, items: list, query: dict, path: str, default_limit: int, max_limit: int,
              base: dict) -> dict:
        limit = min(int(query.get("limit", [default_limit])[0]), max_limit,
                    self.state.faults.max_page_size or max_limit)
        if limit <= 0:
            raise ValueError("limit must be positive")
        offset = _cursor_decode(query["cursor"][0]) if "cursor" in query else 0
        page = items[offset: offset + limit]
        if self.state.faults.duplicate_rows and page:
            page = [*page, page[0]]
        body = {**base, "status": "OK", "request_id": uuid.uuid4().hex}
        if page:
            body["results"] = page
        body["count"] = len(page)
        if offset + limit < len(items):
            params = {k: v[0] for k, v in query.items() if k not in ("cursor", "apiKey")}
            params["cursor"] = _cursor_encode(offset + limit)
            body["next_url"] = f"{self._base()}{path}?{urlencode(params)}"
        return body

    def _route(self, path: str, query: dict) -> dict:
        parts = [p for p in path.split("/") if p]
        if parts[:3] == ["v2", "aggs", "ticker"] and len(parts) == 9:
            return self._aggs(parts[3], int(parts[5]), parts[6], parts[7], parts[8], query, path)
        if parts[:6] == ["v2", "aggs", "grouped", "locale", "us", "market"] and len(parts) == 8:
            return self._grouped(parts[7], query)
        if parts == ["v3", "reference", "tickers"]:
            return self._tickers(query, path)
        if parts == ["v3", "reference", "splits"]:
            return self._reference(self.state.universe.splits, "execution_date", query, path)
        if parts == ["v3", "reference", "dividends"]:
            return self._reference(self.state.universe.dividends, "ex_dividend_date", query, path)
        if parts == ["v1", "marketstatus", "upcoming"]:
            return self._upcoming()
        if parts == ["v1", "marketstatus", "now"]:
            return {"market": "closed", "serverTime": pd.Timestamp.now(tz=NY).isoformat(),
                    "exchanges": {"nyse": "closed", "nasdaq": "closed"}}
        raise LookupError(f"no route for {path}")

    def _bad_rows(self, ticker: str, ts: int) -> list[dict]:
        return [
            {"v": 100.0, "o": 10.0, "c": 10.5, "h": 9.0, "l": 11.0, "t": ts + 1},  # high < low
            {"v": 100.0, "o": -1.0, "c": 10.5, "h": 11.0, "l": 9.0, "t": ts + 2},  # negative price
            {"v": 100.0, "o": 10.0, "h": 11.0, "l": 9.0, "t": ts + 3},  # close missing
            {"v": "lots", "o": 10.0, "c": 10.5, "h": 11.0, "l": 9.0, "t": ts + 4},  # non-numeric
        ]

    def _aggs(self, ticker: str, multiplier: int, timespan: str, start: str, end: str,
              query: dict, path: str) -> dict:
        st = self.state
        if multiplier != 1 or timespan not in ("day", "minute"):
            raise ValueError("the sandbox serves multiplier 1 with timespan day or minute")
        source = st.daily_by_ticker if timespan == "day" else st.minute_by_ticker
        frame = source.get(ticker)
        start_ms, end_ms = _ms(start), _ms(end) + (86_400_000 - 1 if not str(end).isdigit() else 0)
        if frame is None:
            frame = pd.DataFrame(columns=["ts_ms"])
        frame = frame[(frame["ts_ms"] >= start_ms) & (frame["ts_ms"] <= end_ms)]
        adjusted = query.get("adjusted", ["true"])[0].lower() == "true"
        if adjusted:
            frame = _adjust(frame, st.split_events.get(ticker, []), timespan == "minute")
        if query.get("sort", ["asc"])[0] == "desc":
            frame = frame.iloc[::-1]
        results = [_agg_result(r, False) for r in frame.to_dict("records")]
        if st.faults.bad_rows and results:
            results = results[:1] + self._bad_rows(ticker, results[0]["t"]) + results[1:]
        body = self._page(results, query, path, 5000, MAX_LIMIT,
                          {"ticker": ticker, "adjusted": adjusted, "queryCount": len(results)})
        body["resultsCount"] = body.pop("count")
        return body

    def _grouped(self, day: str, query: dict) -> dict:
        st = self.state
        frame = st.daily_by_date.get(pd.Timestamp(day).date())
        adjusted = query.get("adjusted", ["true"])[0].lower() == "true"
        results = []
        if frame is not None:
            ts = int(pd.Timestamp(day).tz_localize(NY).tz_convert("UTC").value // 1_000_000) + 16 * 3_600_000
            for ticker, g in frame.groupby("ticker"):
                if adjusted:
                    g = _adjust(g, st.split_events.get(ticker, []), False)
                results.extend(_agg_result(r, True, ts) for r in g.to_dict("records"))
        if st.faults.bad_rows and results:
            bad = self._bad_rows("BADROW", results[0]["t"])
            for row in bad:
                row["T"] = "BADROW"
            results = results + bad
        if st.faults.duplicate_rows and results:
            results = [*results, results[0]]
        body = {"status": "OK", "request_id": uuid.uuid4().hex, "adjusted": adjusted,
                "queryCount": len(results), "resultsCount": len(results)}
        if results:
            body["results"] = results
        return body

    def _tickers(self, query: dict, path: str) -> dict:
        frame = self.state.universe.tickers
        if "active" in query:
            frame = frame[frame["active"] == (query["active"][0].lower() == "true")]
        if "ticker" in query:
            frame = frame[frame["ticker"] == query["ticker"][0]]
        frame = frame.drop(columns=["security_key"], errors="ignore").sort_values(["ticker", "list_date"])
        return self._page(_records(frame), query, path, 100, 1000, {})

    def _reference(self, frame: pd.DataFrame, date_col: str, query: dict, path: str) -> dict:
        if "ticker" in query and len(frame):
            frame = frame[frame["ticker"] == query["ticker"][0]]
        for op, fn in (("gte", lambda s, v: s >= v), ("lte", lambda s, v: s <= v)):
            key = f"{date_col}.{op}"
            if key in query and len(frame):
                frame = frame[fn(pd.to_datetime(frame[date_col]).dt.date, pd.Timestamp(query[key][0]).date())]
        if len(frame):
            frame = frame.sort_values([date_col, "ticker"])
        return self._page(_records(frame), query, path, 10, 1000, {})

    def _upcoming(self) -> list | dict:
        spec = self.state.universe.spec
        today = pd.Timestamp(spec.today or (pd.Timestamp(spec.end) + pd.Timedelta(days=1))).date()
        h = self.state.universe.holidays
        h = h[pd.to_datetime(h["date"]).dt.date >= today]
        return [{"exchange": r["exchange"], "date": r["date"].isoformat(), "name": r["name"],
                 "status": r["status"],
                 **({"open": r["open"].strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                     "close": r["close"].strftime("%Y-%m-%dT%H:%M:%S.000Z")} if r["status"] == "early-close"
                    else {})}
                for r in h.to_dict("records")]


class SandboxServer:
    """A threaded sandbox server on 127.0.0.1 (free port by default)."""

    def __init__(self, universe: Universe, api_key: str = "sandbox-key", faults: FaultConfig | None = None,
                 rate_limit_per_minute: int | None = None, host: str = "127.0.0.1", port: int = 0):
        self.state = _State(universe, faults or FaultConfig())
        handler = type("Handler", (_Handler,), {"state": self.state, "api_key": api_key,
                                                "rate_limit_per_minute": rate_limit_per_minute})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.api_key = api_key
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def request_log(self) -> list[tuple[str, str, dict]]:
        return self.state.request_log

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="sandbox", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


@dataclass
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8765
    api_key: str = "sandbox-key"
    rate_limit_per_minute: int | None = None
    faults: FaultConfig = field(default_factory=FaultConfig)


def serve_forever(universe: Universe, options: ServeOptions) -> None:
    """Serve until interrupted (the `tradlyte sandbox serve` command)."""
    server = SandboxServer(universe, api_key=options.api_key, faults=options.faults,
                           rate_limit_per_minute=options.rate_limit_per_minute,
                           host=options.host, port=options.port)
    print(f"Polygon sandbox on {server.base_url} (key: {options.api_key}); Ctrl+C to stop", flush=True)
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()
