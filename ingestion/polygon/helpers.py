"""HTTP client and row mapping for the Polygon (Massive) REST API.

The client sends the key as a bearer header on every request (Polygon's `next_url` links do
not carry it), paces requests with a token bucket (the free plan allows 5 a minute), retries
429 / 5xx / unreadable bodies with exponential backoff honouring `Retry-After`, and turns
401 / 403 into one `PolygonAuthError` that says what to do.
"""

from __future__ import annotations

import json
import logging
import math
import random
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime

import requests

from core.calendar import NEW_YORK
from core.errors import TradlyteError
from core.settings import PolygonSettings
from ingestion.polygon.settings import DEFAULT_REQUESTS_PER_MINUTE, MAX_RETRIES

log = logging.getLogger("tradlyte.ingestion.polygon")


class PolygonError(TradlyteError):
    """The API could not be read; the message says what to do."""


class PolygonAuthError(PolygonError):
    """Missing, wrong or insufficient API key (401 / 403)."""


def api_key_from_env() -> str:
    key = PolygonSettings().key()
    if key:
        return key
    raise PolygonAuthError(
        "No API key: set MASSIVE_API_KEY (or POLYGON_API_KEY) to your Massive/Polygon key, "
        "or use `--source sandbox` to load the local sandbox.")


def base_url_from_env() -> str:
    return PolygonSettings().base_url


class RateLimiter:
    """Token bucket shared by all worker threads: `rate_per_minute` requests, bursts of 1."""

    def __init__(self, rate_per_minute: float | None):
        self.interval = 60.0 / rate_per_minute if rate_per_minute else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            time.sleep(start - now)


class PolygonClient:
    def __init__(self, api_key: str | None = None, base_url: str | None = None,
                 requests_per_minute: float | None = DEFAULT_REQUESTS_PER_MINUTE,
                 max_retries: int = MAX_RETRIES, backoff_base_s: float = 1.0, timeout_s: float = 30.0):
        self.api_key = api_key or api_key_from_env()
        self.base_url = (base_url or base_url_from_env()).rstrip("/")
        self.limiter = RateLimiter(requests_per_minute)
        self.max_retries = max_retries
        self.backoff_base_s = backoff_base_s
        self.timeout_s = timeout_s
        self._local = threading.local()
        self.requests_made = 0

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {self.api_key}"
            session.headers["User-Agent"] = "tradlyte-pipeline"
            self._local.session = session
        return session

    def _backoff(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return max(0.0, float(retry_after))
            except ValueError:
                pass
        return self.backoff_base_s * (2 ** attempt) * (0.5 + random.random() / 2)

    def get_json(self, url: str, params: dict | None = None) -> dict | list:
        """GET with pacing and retries; `url` may be a path or an absolute `next_url`."""
        full = url if url.startswith("http") else f"{self.base_url}{url}"
        last_problem = ""
        for attempt in range(self.max_retries + 1):
            self.limiter.wait()
            try:
                resp = self._session().get(full, params=params, timeout=self.timeout_s)
            except requests.RequestException as exc:
                last_problem = f"connection error: {exc}"
                time.sleep(self._backoff(attempt, None))
                continue
            self.requests_made += 1
            if resp.status_code in (401, 403):
                detail = _error_text(resp)
                what = ("the API key was rejected" if resp.status_code == 401
                        else "your plan does not include this data")
                raise PolygonAuthError(
                    f"Polygon/Massive answered {resp.status_code} ({what}: {detail}) for "
                    f"{_redact(full)}. Check MASSIVE_API_KEY / POLYGON_API_KEY and your plan.")
            if resp.status_code == 429 or resp.status_code >= 500:
                last_problem = f"HTTP {resp.status_code}: {_error_text(resp)}"
                delay = self._backoff(attempt, resp.headers.get("Retry-After"))
                log.warning("retrying %s after %s in %.2fs", _redact(full), last_problem, delay)
                time.sleep(delay)
                continue
            if resp.status_code == 404:
                return {"status": "NOT_FOUND"}
            if resp.status_code >= 400:
                raise PolygonError(f"Polygon/Massive answered {resp.status_code} for {_redact(full)}: "
                                   f"{_error_text(resp)}")
            try:
                return resp.json()
            except (ValueError, json.JSONDecodeError):
                last_problem = "unreadable (malformed or truncated) JSON body"
                time.sleep(self._backoff(attempt, None))
                continue
        raise PolygonError(
            f"Gave up on {_redact(full)} after {self.max_retries + 1} attempts ({last_problem}). "
            "Rows already loaded are kept; rerun the load to continue.")

    def paginate(self, path: str, params: dict) -> Iterator[list[dict]]:
        """Yield each page's `results` list, following `next_url` until the last page."""
        body = self.get_json(path, params)
        while True:
            if isinstance(body, list):
                yield body
                return
            results = body.get("results") or []
            if results:
                yield results
            next_url = body.get("next_url")
            if not next_url:
                return
            body = self.get_json(next_url)


def _redact(url: str) -> str:
    if "apiKey=" not in url:
        return url
    head, _, tail = url.partition("apiKey=")
    return head + "apiKey=***" + ("&" + tail.split("&", 1)[1] if "&" in tail else "")


def _error_text(resp: requests.Response) -> str:
    try:
        body = resp.json()
        return str(body.get("error") or body.get("message") or body.get("status"))
    except ValueError:
        return resp.text[:200]


# -- rows ----------------------------------------------------------------------------------
_REQUIRED = ("o", "h", "l", "c", "v", "t")


def ny_session_date(ts_ms: int) -> date:
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).astimezone(NEW_YORK).date()


def _number(value) -> float:
    if isinstance(value, bool) or value is None:
        raise ValueError
    number = float(value)
    if not math.isfinite(number):
        raise ValueError
    return number


def validate_agg(raw: dict) -> str | None:
    """The reason a Polygon aggregate row is unusable, or None when it is fine."""
    missing = [k for k in _REQUIRED if k not in raw or raw[k] is None]
    if missing:
        return f"missing fields: {', '.join(missing)}"
    try:
        o, h, low, c, v = (_number(raw[k]) for k in ("o", "h", "l", "c", "v"))
        int(raw["t"])
        vw = _number(raw["vw"]) if raw.get("vw") is not None else None
    except (TypeError, ValueError):
        return "non-numeric value"
    if min(o, h, low, c) <= 0 or (vw is not None and vw < 0):
        return "non-positive price"
    if v < 0:
        return "negative volume"
    if h < low:
        return "high < low"
    if not (low <= o <= h and low <= c <= h):
        return "open/close outside [low, high]"
    return None


def map_agg(raw: dict, ticker: str, source: str, ingested_at: datetime, daily: bool) -> dict:
    """Polygon's short names to raw column names; `T`/`t` renamed before dlt sees them."""
    ts_ms = int(raw["t"])
    row = {
        "ticker": ticker, "ts_ms": ts_ms,
        "open": float(raw["o"]), "high": float(raw["h"]), "low": float(raw["l"]),
        "close": float(raw["c"]), "volume": float(raw["v"]),
        "vwap": float(raw["vw"]) if raw.get("vw") is not None else None,
        "transactions": int(raw["n"]) if raw.get("n") is not None else None,
        "source": source, "ingested_at": ingested_at,
    }
    if daily:
        row["session_date"] = ny_session_date(ts_ms)
        row["otc"] = bool(raw["otc"]) if "otc" in raw else None
    return row


def quarantine_row(resource: str, reason: str, ticker: str | None, raw: dict, ingested_at: datetime) -> dict:
    return {"resource": resource, "reason": reason, "ticker": ticker,
            "payload": json.dumps(raw, default=str, sort_keys=True), "ingested_at": ingested_at}


def parse_date(value: str | None) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


def parse_timestamp(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
