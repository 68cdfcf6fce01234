"""One load request, whatever the source: the Polygon REST API (the real one, or any server that
speaks its protocol, such as the sandbox: pass its `base_url`) or Polygon's flat files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from core.errors import TradlyteError
from ingestion.pipeline import LoadReport, run_source

ALL_RESOURCES = ("daily_aggs", "grouped_daily", "minute_aggs", "tickers", "splits", "dividends",
                 "market_holidays")
SOURCES = ("polygon", "flatfiles")


class LoadError(TradlyteError):
    """A load request that cannot run as asked."""


@dataclass
class LoadRequest:
    source: str = "polygon"  # polygon | flatfiles
    target: str = "duckdb"
    tickers: list[str] | None = None
    start: date | None = None
    end: date | None = None
    minute_tickers: list[str] | None = None
    resources: list[str] | None = None
    grouped_dates: list[date] | None = None
    requests_per_minute: float | None = None
    lookback_days: int = 5
    # another server speaking Polygon's REST protocol (default POLYGON_BASE_URL / the real API)
    base_url: str | None = None
    api_key: str | None = None


def run_load(request: LoadRequest, progress_factory: Callable | None = None) -> LoadReport:
    if request.source == "flatfiles":
        return _run_flatfiles(request, progress_factory)
    if request.source != "polygon":
        raise LoadError(f"unknown source {request.source!r}: use one of {', '.join(SOURCES)}")

    from ingestion.polygon import polygon_source
    from ingestion.polygon.helpers import PolygonClient
    from ingestion.polygon.settings import DEFAULT_REQUESTS_PER_MINUTE

    # the free plan's pace, unless told otherwise (or talking to a local server that needs none)
    rate = request.requests_per_minute
    if rate is None and request.base_url is None:
        rate = DEFAULT_REQUESTS_PER_MINUTE
    client = PolygonClient(api_key=request.api_key, base_url=request.base_url, requests_per_minute=rate)
    resources = list(request.resources or ALL_RESOURCES)
    if not request.grouped_dates and "grouped_daily" in resources and request.resources is None:
        resources.remove("grouped_daily")
    if not request.minute_tickers and "minute_aggs" in resources:
        resources.remove("minute_aggs")
    tickers = request.tickers
    progress = progress_factory(len(tickers), "tickers") if progress_factory and tickers else None
    source = polygon_source(
        tickers=tickers, start=request.start, end=request.end, grouped_dates=request.grouped_dates,
        minute_tickers=request.minute_tickers, client=client, lookback_days=request.lookback_days,
        progress=progress,
    ).with_resources(*resources)
    return run_source(source, request.target)


def _run_flatfiles(request: LoadRequest, progress_factory: Callable | None) -> LoadReport:
    from ingestion.flatfiles import run_backfill

    if request.start is None:
        raise LoadError("a flat-file backfill needs --from (and usually --to)")
    end = request.end or date.today()
    weekdays = sum(1 for i in range((end - request.start).days + 1)
                   if (request.start + timedelta(days=i)).weekday() < 5)
    progress = progress_factory(weekdays, "days") if progress_factory else None
    return run_backfill(request.start, end, request.target,
                        kinds=("day", "minute") if request.minute_tickers else ("day",), progress=progress)
