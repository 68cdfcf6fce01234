"""`tradlyte load`: Polygon data into the raw_polygon dataset of a target."""

from __future__ import annotations

import time

import click

from orchestration.cli.options import DATE, CommaList, check_range, target_option

SOURCES = ("polygon", "sandbox", "flatfiles")  # sandbox: orchestration.sources starts it
RESOURCES = ("daily_aggs", "grouped_daily", "minute_aggs", "tickers", "splits", "dividends", "market_holidays")


class Progress:
    """Tickers or days done, rows and rate, on one refreshed stderr line."""

    def __init__(self, total: int, unit: str):
        self.total, self.unit, self.done, self.rows = total, unit, 0, 0
        self.started = time.monotonic()

    def __call__(self, _item: str, rows: int) -> None:
        self.done += 1
        self.rows += rows
        elapsed = max(time.monotonic() - self.started, 1e-6)
        click.echo(f"\r  {self.done}/{self.total} {self.unit}, {self.rows:,} rows, "
                   f"{self.rows / elapsed:,.0f} rows/s", err=True, nl=False)
        if self.done >= self.total:
            click.echo("", err=True)


@click.command(help="Load Polygon data into the raw_polygon dataset of a target.")
@click.option("--source", "source_name", type=click.Choice(SOURCES), default="sandbox", show_default=True,
              help="polygon: the real API (needs MASSIVE_API_KEY); sandbox: the bundled local server; "
                   "flatfiles: Polygon's S3 day files.")
@click.option("--tickers", type=CommaList(upper=True), default=None,
              help="Comma-separated symbols (default: all the source has).")
@click.option("--from", "start", type=DATE, default=None, help="First date, YYYY-MM-DD.")
@click.option("--to", "end", type=DATE, default=None, help="Last date, YYYY-MM-DD (default today).")
@target_option()
@click.option("--minute-tickers", type=CommaList(upper=True), default=None,
              help="Comma-separated symbols to load minute bars for.")
@click.option("--resources", type=CommaList(RESOURCES), default=None,
              help=f"Comma-separated subset of: {', '.join(RESOURCES)}.")
@click.option("--grouped-dates", type=CommaList(), default=None,
              help="Comma-separated dates for whole-market grouped daily.")
@click.option("--rate", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Requests per minute (default 5 for polygon, unlimited for sandbox).")
@click.option("--lookback-days", type=click.IntRange(min=0), default=5, show_default=True,
              help="Days re-read before the last loaded day on incremental runs.")
def load(source_name, tickers, start, end, target, minute_tickers, resources, grouped_dates, rate,
         lookback_days) -> None:
    from ingestion.load import LoadRequest
    from orchestration.sources import load as load_from

    check_range(start, end)
    dates = [DATE.convert(d, None, None) for d in grouped_dates] if grouped_dates else None
    request = LoadRequest(target=target, tickers=tickers, start=start, end=end, minute_tickers=minute_tickers,
                          resources=resources, grouped_dates=dates, requests_per_minute=rate,
                          lookback_days=lookback_days)
    report = load_from(source_name, request, progress_factory=Progress)
    click.echo(f"Loaded {report.total_rows:,} rows into {target} in {report.seconds:.1f}s: "
               + ", ".join(f"{k}={v:,}" for k, v in sorted(report.rows.items()) if not k.startswith("_dlt")))
