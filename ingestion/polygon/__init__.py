"""dlt source for Polygon.io (Massive) stock data.

Resources (all land in dataset `raw_polygon`, shapes in docs/contracts.md):
`daily_aggs` (per ticker, `range/1/day`, unadjusted), `grouped_daily` (whole market for given
dates, into the same `daily_aggs` table), `minute_aggs`, `tickers` (active and delisted),
`splits`, `dividends`, `market_holidays` (upcoming). Aggregates merge on their natural keys,
so a rerun never duplicates rows; rows that fail validation go to `quarantine` with a reason.

Incremental: per ticker, dlt state remembers the last session loaded; the next run asks from
that day minus `lookback_days` (late corrections inside the look-back are picked up). State is
committed with the load package, so a load killed mid-way resumes from the last committed
state and the merge absorbs the overlap.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import dlt

from ingestion.polygon.helpers import (
    PolygonAuthError,
    PolygonClient,
    PolygonError,
    map_agg,
    parse_date,
    parse_timestamp,
    quarantine_row,
    validate_agg,
)
from ingestion.polygon.settings import (
    AGGS_PAGE_LIMIT,
    DEFAULT_LOOKBACK_DAYS,
    DEFAULT_MAX_WORKERS,
    REFERENCE_PAGE_LIMIT,
)
from ingestion.raw_schema import (
    AGG_COLUMNS,
    DAILY_COLUMNS,
    DIVIDEND_COLUMNS,
    HOLIDAY_COLUMNS,
    QUARANTINE_COLUMNS,
    SPLIT_COLUMNS,
    TICKER_COLUMNS,
)

__all__ = ["polygon_source", "PolygonClient", "PolygonAuthError", "PolygonError"]

_QUARANTINE_HINTS = dlt.mark.make_hints(table_name="quarantine", write_disposition="append",
                                        columns=QUARANTINE_COLUMNS, primary_key=[], merge_key=[])


def _quarantined(resource: str, reason: str, ticker: str | None, raw: dict, now: datetime):
    return dlt.mark.with_hints(quarantine_row(resource, reason, ticker, raw, now), _QUARANTINE_HINTS,
                               create_table_variant=True)


def _fetch_aggs(client: PolygonClient, ticker: str, timespan: str, start: date, end: date) -> list[dict]:
    path = f"/v2/aggs/ticker/{ticker}/range/1/{timespan}/{start.isoformat()}/{end.isoformat()}"
    params = {"adjusted": "false", "sort": "asc", "limit": AGGS_PAGE_LIMIT}
    rows: list[dict] = []
    for page in client.paginate(path, params):
        rows.extend(page)
    return rows


def _ticker_aggs(resource_name: str, client: PolygonClient, tickers: Sequence[str], timespan: str,
                 start: date, end: date, lookback_days: int, max_workers: int,
                 progress=None) -> Iterator:
    """Fetch tickers concurrently, yield their rows in ticker order, advance state per ticker."""
    state = dlt.current.resource_state().setdefault("last_session", {})
    daily = timespan == "day"
    plans = []
    for ticker in tickers:
        last = state.get(ticker)
        since = start
        if last:
            since = max(start, date.fromisoformat(last) - timedelta(days=lookback_days))
        if since <= end:
            plans.append((ticker, since))
    with ThreadPoolExecutor(max_workers=max(1, max_workers)) as pool:
        futures = [(t, pool.submit(_fetch_aggs, client, t, timespan, since, end)) for t, since in plans]
        for ticker, future in futures:
            raw_rows = future.result()
            now = datetime.now(UTC)
            good, newest = [], None
            for raw in raw_rows:
                reason = validate_agg(raw)
                if reason:
                    yield _quarantined(resource_name, reason, ticker, raw, now)
                    continue
                row = map_agg(raw, ticker, "aggs", now, daily=True)
                if not daily:
                    del row["otc"]
                    row.pop("session_date")
                newest = max(newest or row["ts_ms"], row["ts_ms"])
                good.append(row)
            if good:
                yield good
            if newest is not None:
                session = map_agg({"o": 1, "h": 1, "l": 1, "c": 1, "v": 0, "t": newest}, ticker, "", now,
                                  daily=True)["session_date"]
                state[ticker] = max(session.isoformat(), state.get(ticker) or "")
            if progress:
                progress(ticker, len(good))


@dlt.source(name="polygon", max_table_nesting=0)
def polygon_source(
    tickers: Sequence[str] | None = None,
    start: date | None = None,
    end: date | None = None,
    grouped_dates: Iterable[date] | None = None,
    minute_tickers: Sequence[str] | None = None,
    minute_start: date | None = None,
    minute_end: date | None = None,
    client: PolygonClient | None = None,
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
    max_workers: int = DEFAULT_MAX_WORKERS,
    progress=None,
):
    client = client or PolygonClient()
    end = end or date.today()
    start = start or date(1962, 1, 2)
    tickers = list(tickers or [])

    @dlt.resource(name="daily_aggs", write_disposition="merge", primary_key=("ticker", "session_date"),
                  columns=DAILY_COLUMNS)
    def daily_aggs():
        yield from _ticker_aggs("daily_aggs", client, tickers, "day", start, end, lookback_days,
                                max_workers, progress)

    @dlt.resource(name="grouped_daily", table_name="daily_aggs", write_disposition="merge",
                  primary_key=("ticker", "session_date"), columns=DAILY_COLUMNS)
    def grouped_daily():
        for day in sorted(set(grouped_dates or [])):
            body = client.get_json(f"/v2/aggs/grouped/locale/us/market/stocks/{day.isoformat()}",
                                   {"adjusted": "false"})
            now = datetime.now(UTC)
            rows = []
            for raw in (body.get("results") or []) if isinstance(body, dict) else []:
                ticker = raw.get("T")
                reason = validate_agg(raw) or (None if ticker else "missing fields: T")
                if reason:
                    yield _quarantined("grouped_daily", reason, ticker, raw, now)
                    continue
                row = map_agg(raw, ticker, "grouped", now, daily=True)
                row["session_date"] = day  # grouped bars are stamped 16:00 New York of that day
                rows.append(row)
            if rows:
                yield rows
            if progress:
                progress(day.isoformat(), len(rows))

    @dlt.resource(name="minute_aggs", write_disposition="merge", primary_key=("ticker", "ts_ms"),
                  columns=AGG_COLUMNS)
    def minute_aggs():
        yield from _ticker_aggs("minute_aggs", client, list(minute_tickers or []), "minute",
                                minute_start or start, minute_end or end, lookback_days, max_workers)

    @dlt.resource(name="tickers", write_disposition="merge", primary_key=("ticker", "security_key"),
                  columns=TICKER_COLUMNS)
    def tickers_resource():
        for active in ("true", "false"):
            params = {"market": "stocks", "active": active, "limit": REFERENCE_PAGE_LIMIT}
            for page in client.paginate("/v3/reference/tickers", params):
                now = datetime.now(UTC)
                rows = []
                for raw in page:
                    if tickers and raw.get("ticker") not in tickers:
                        continue
                    rows.append({
                        "ticker": raw["ticker"], "name": raw.get("name"), "market": raw.get("market"),
                        "locale": raw.get("locale"), "primary_exchange": raw.get("primary_exchange"),
                        "type": raw.get("type"), "active": raw.get("active"),
                        "currency_name": raw.get("currency_name"), "cik": raw.get("cik"),
                        "composite_figi": raw.get("composite_figi"),
                        "share_class_figi": raw.get("share_class_figi"),
                        "delisted_utc": parse_timestamp(raw.get("delisted_utc")),
                        "last_updated_utc": parse_timestamp(raw.get("last_updated_utc")),
                        "list_date": parse_date(raw.get("list_date")),
                        # identity over time: a reused symbol is a different security
                        "security_key": raw.get("composite_figi") or raw.get("cik") or raw["ticker"],
                        "ingested_at": now,
                    })
                if rows:
                    yield rows

    def _reference(path: str, mapper):
        filters = [{"ticker": t} for t in tickers] if tickers else [{}]
        for extra in filters:
            for page in client.paginate(path, {"limit": REFERENCE_PAGE_LIMIT, **extra}):
                now = datetime.now(UTC)
                yield [mapper(raw, now) for raw in page]

    @dlt.resource(name="splits", write_disposition="merge", primary_key="id", columns=SPLIT_COLUMNS)
    def splits():
        yield from _reference("/v3/reference/splits", lambda r, now: {
            "id": r.get("id") or f"{r['ticker']}-{r['execution_date']}", "ticker": r["ticker"],
            "execution_date": parse_date(r["execution_date"]),
            "split_from": float(r["split_from"]), "split_to": float(r["split_to"]), "ingested_at": now})

    @dlt.resource(name="dividends", write_disposition="merge", primary_key="id", columns=DIVIDEND_COLUMNS)
    def dividends():
        yield from _reference("/v3/reference/dividends", lambda r, now: {
            "id": r.get("id") or f"{r['ticker']}-{r['ex_dividend_date']}", "ticker": r["ticker"],
            "ex_dividend_date": parse_date(r.get("ex_dividend_date")),
            "pay_date": parse_date(r.get("pay_date")), "record_date": parse_date(r.get("record_date")),
            "declaration_date": parse_date(r.get("declaration_date")),
            "cash_amount": float(r["cash_amount"]) if r.get("cash_amount") is not None else None,
            "currency": r.get("currency"), "dividend_type": r.get("dividend_type"),
            "frequency": r.get("frequency"), "ingested_at": now})

    @dlt.resource(name="market_holidays", write_disposition="merge", primary_key=("exchange", "date"),
                  columns=HOLIDAY_COLUMNS)
    def market_holidays():
        body = client.get_json("/v1/marketstatus/upcoming")
        now = datetime.now(UTC)
        yield [{"exchange": r.get("exchange"), "date": parse_date(r.get("date")), "name": r.get("name"),
                "status": r.get("status"), "open": parse_timestamp(r.get("open")),
                "close": parse_timestamp(r.get("close")), "ingested_at": now}
               for r in (body if isinstance(body, list) else [])]

    return (daily_aggs, grouped_daily, minute_aggs, tickers_resource, splits, dividends, market_holidays)
