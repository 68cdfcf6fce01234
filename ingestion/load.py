"""One load request, whatever the source: the real API, the bundled sandbox, or flat files."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from ingestion.pipeline import LoadReport, run_source

ALL_RESOURCES = ("daily_aggs", "grouped_daily", "minute_aggs", "tickers", "splits", "dividends",
                 "market_holidays")


@dataclass
class LoadRequest:
    source: str = "sandbox"  # polygon | sandbox | flatfiles
    target: str = "duckdb"
    tickers: list[str] | None = None
    start: date | None = None
    end: date | None = None
    minute_tickers: list[str] | None = None
    resources: list[str] | None = None
    grouped_dates: list[date] | None = None
    requests_per_minute: float | None = None
    lookback_days: int = 5
    sandbox_spec: dict | None = None


@contextlib.contextmanager
def _client_for(request: LoadRequest) -> Iterator:
    from ingestion.polygon.helpers import PolygonClient

    if request.source == "polygon":
        yield PolygonClient(requests_per_minute=request.requests_per_minute or 5.0), None
        return
    from ingestion.sandbox.server import SandboxServer
    from ingestion.sandbox.universe import UniverseSpec, build_universe

    universe = build_universe(UniverseSpec(**(request.sandbox_spec or {})))
    with SandboxServer(universe) as server:
        yield PolygonClient(api_key=server.api_key, base_url=server.base_url,
                            requests_per_minute=request.requests_per_minute), universe


def run_load(request: LoadRequest, progress_factory: Callable | None = None) -> LoadReport:
    if request.source == "flatfiles":
        from ingestion.flatfiles import run_backfill

        if request.start is None:
            raise ValueError("a flat-file backfill needs --from (and usually --to)")
        weekdays = sum(1 for i in range(((request.end or date.today()) - request.start).days + 1)
                       if (request.start + timedelta(days=i)).weekday() < 5)
        progress = progress_factory(weekdays, "days") if progress_factory else None
        return run_backfill(request.start, request.end or date.today(), request.target,
                            kinds=("day", "minute") if request.minute_tickers else ("day",), progress=progress)

    from ingestion.polygon import polygon_source

    with _client_for(request) as (client, universe):
        tickers = request.tickers
        minute_tickers = request.minute_tickers
        if universe is not None:
            tickers = tickers or sorted(universe.daily["ticker"].unique())
            if minute_tickers is None and len(universe.minute):
                minute_tickers = sorted(universe.minute["ticker"].unique())
        resources = list(request.resources or ALL_RESOURCES)
        if not request.grouped_dates and "grouped_daily" in resources and request.resources is None:
            resources.remove("grouped_daily")
        if not minute_tickers and "minute_aggs" in resources:
            resources.remove("minute_aggs")
        progress = progress_factory(len(tickers or []), "tickers") if progress_factory and tickers else None
        source = polygon_source(
            tickers=tickers, start=request.start, end=request.end, grouped_dates=request.grouped_dates,
            minute_tickers=minute_tickers, client=client, lookback_days=request.lookback_days,
            progress=progress,
        ).with_resources(*resources)
        return run_source(source, request.target)
