"""The `tradlyte` command line: load data, serve the sandbox, build dbt, run the demo.

Errors a user can hit (bad key, unreachable service, bad input) end with one line saying what
to do and a non-zero exit code, never a traceback; rows already loaded stay loaded.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from datetime import date

import click

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")

DEMO_SPEC = {"n_tickers": 20, "start": "2011-01-03", "end": "2013-03-01", "minute_tickers": 2,
             "minute_sessions": 5}


class UserError(click.ClickException):
    """An error with a message for the user: printed on one line, exit code 2."""

    exit_code = 2


def _root_cause(exc: BaseException) -> BaseException:
    """dlt wraps errors raised inside resources; find the one that speaks to the user."""
    from ingestion.polygon.helpers import PolygonError

    seen = exc
    while seen is not None:
        if isinstance(seen, PolygonError | UserError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return exc


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


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


@click.group(help="Tradlyte Pipeline: Polygon (Massive) stock data -> dlt -> dbt bronze/silver/gold.")
@click.option("-v", "--verbose", is_flag=True, help="Log at INFO level.")
def main(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")


# -- load ---------------------------------------------------------------------------------------
@main.command(help="Load Polygon data into the raw_polygon dataset of a target.")
@click.option("--source", "source_name", type=click.Choice(["polygon", "sandbox", "flatfiles"]),
              default="sandbox", show_default=True,
              help="polygon: the real API (needs MASSIVE_API_KEY); sandbox: the bundled local server; "
                   "flatfiles: Polygon's S3 day files.")
@click.option("--tickers", default=None, help="Comma-separated symbols (default: all the source has).")
@click.option("--from", "start", default=None, help="First date, YYYY-MM-DD.")
@click.option("--to", "end", default=None, help="Last date, YYYY-MM-DD (default today).")
@click.option("--target", type=click.Choice(["duckdb", "postgres", "lake"]), default="duckdb",
              show_default=True, help="Where raw tables land.")
@click.option("--minute-tickers", default=None, help="Comma-separated symbols to load minute bars for.")
@click.option("--resources", default=None,
              help="Comma-separated subset of: daily_aggs, grouped_daily, minute_aggs, tickers, splits, "
                   "dividends, market_holidays.")
@click.option("--grouped-dates", default=None, help="Comma-separated dates for whole-market grouped daily.")
@click.option("--rate", type=float, default=None,
              help="Requests per minute (default 5 for polygon, unlimited for sandbox).")
@click.option("--lookback-days", type=int, default=5, show_default=True,
              help="Days re-read before the last loaded day on incremental runs.")
def load(source_name, tickers, start, end, target, minute_tickers, resources, grouped_dates, rate,
         lookback_days) -> None:
    from ingestion.load import LoadRequest, run_load

    request = LoadRequest(
        source=source_name, target=target,
        tickers=[t.strip() for t in tickers.split(",")] if tickers else None,
        start=_date(start), end=_date(end),
        minute_tickers=[t.strip() for t in minute_tickers.split(",")] if minute_tickers else None,
        resources=[r.strip() for r in resources.split(",")] if resources else None,
        grouped_dates=[date.fromisoformat(d.strip()) for d in grouped_dates.split(",")] if grouped_dates else None,
        requests_per_minute=rate, lookback_days=lookback_days,
    )
    try:
        report = run_load(request, progress_factory=Progress)
    except Exception as exc:  # noqa: BLE001 - turned into one clear line below
        cause = _root_cause(exc)
        if cause is exc and not isinstance(exc, RuntimeError | ValueError):
            raise
        raise UserError(str(cause).strip().splitlines()[0] if str(cause).strip() else repr(cause)) from None
    click.echo(f"Loaded {report.total_rows:,} rows into {target} in {report.seconds:.1f}s: "
               + ", ".join(f"{k}={v:,}" for k, v in sorted(report.rows.items()) if not k.startswith("_dlt")))


# -- sandbox ------------------------------------------------------------------------------------
@main.group(help="The local Polygon sandbox server.")
def sandbox() -> None:
    pass


@sandbox.command("serve", help="Serve the sandbox universe over HTTP until Ctrl+C.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8765, show_default=True)
@click.option("--api-key", default="sandbox-key", show_default=True)
@click.option("--tickers", "n_tickers", type=int, default=DEMO_SPEC["n_tickers"], show_default=True,
              help="Number of synthetic tickers.")
@click.option("--from", "start", default=DEMO_SPEC["start"], show_default=True)
@click.option("--to", "end", default=DEMO_SPEC["end"], show_default=True)
@click.option("--rate-limit", type=int, default=None, help="Requests per minute per key (429 above).")
def sandbox_serve(host, port, api_key, n_tickers, start, end, rate_limit) -> None:
    from ingestion.sandbox.server import ServeOptions, serve_forever
    from ingestion.sandbox.universe import UniverseSpec, build_universe

    universe = build_universe(UniverseSpec(n_tickers=n_tickers, start=start, end=end))
    serve_forever(universe, ServeOptions(host=host, port=port, api_key=api_key,
                                         rate_limit_per_minute=rate_limit))


# -- dbt ----------------------------------------------------------------------------------------
@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
              help="Run a dbt command on the project, e.g. `tradlyte dbt build --target postgres`.")
@click.option("--target", type=click.Choice(["duckdb", "postgres", "lake", "spark"]), default="duckdb",
              show_default=True)
@click.argument("dbt_args", nargs=-1, type=click.UNPROCESSED)
def dbt(target, dbt_args) -> None:
    from orchestration.audit import warehouse_for
    from orchestration.dbt_runner import DbtRunError, run_dbt
    from orchestration.raw_tables import ensure_raw_tables

    if target != "lake":  # the lake's raw views are made by its own on-run-start hook
        try:
            ensure_raw_tables(warehouse_for(target))
        except Exception as exc:  # noqa: BLE001 - an unreachable database, in one line
            raise UserError(f"cannot open the {target} warehouse: {str(exc).strip().splitlines()[0]}; "
                            "check the TRADLYTE_PG_* / TRADLYTE_DUCKDB_PATH settings") from None
    try:
        run_dbt(list(dbt_args) or ["build"], target=target, quiet=False)
    except DbtRunError as exc:
        raise UserError(str(exc)) from None


# -- bars ---------------------------------------------------------------------------------------
@main.command(help="One ticker's bars: the PostgreSQL serving cache inside the retention window, the lake "
                   "beyond it, as one series.")
@click.argument("ticker")
@click.option("--timeframe", default="1d", show_default=True, help="1m 5m 15m 30m 1h 1d 3d 5d 8d 13d 21d 34d.")
@click.option("--from", "start", required=True, help="First New York date, YYYY-MM-DD.")
@click.option("--to", "end", required=True, help="Last New York date, YYYY-MM-DD (bars starting on it included).")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Output file (default: CSV to stdout).")
def bars(ticker, timeframe, start, end, fmt, out) -> None:
    from orchestration.bars_query import BarsQueryError, BarsRequest, query_bars
    from orchestration.gold_stores import GoldStoreError
    from orchestration.publish import PublishError

    if fmt == "parquet" and not out:
        raise UserError("--format parquet needs --out PATH")
    try:
        request = BarsRequest(ticker.upper(), timeframe, date.fromisoformat(start), date.fromisoformat(end))
        series = query_bars(request)
    except ValueError as exc:
        raise UserError(f"bad date: {exc}; use YYYY-MM-DD") from None
    except (BarsQueryError, GoldStoreError, PublishError) as exc:
        raise UserError(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - an unreachable S3 or a missing extension, in one line
        raise UserError(f"cannot read bars: {str(exc).strip().splitlines()[0]}") from None
    if fmt == "parquet":
        series.to_parquet(out, index=False)
    elif out:
        series.to_csv(out, index=False)
    else:
        click.echo(series.to_csv(index=False), nl=False)
    if out:
        click.echo(f"{len(series):,} bars written to {out}", err=True)


# -- demo ---------------------------------------------------------------------------------------
@main.command(help="Load the sandbox into data/warehouse.duckdb, build dbt, and print where to look.")
def demo() -> None:
    from orchestration.demo import run_demo

    try:
        run_demo(DEMO_SPEC)
    except Exception as exc:  # noqa: BLE001
        cause = _root_cause(exc)
        if cause is exc and not isinstance(exc, RuntimeError):
            raise
        raise UserError(str(cause)) from None


# -- ML training export ---------------------------------------------------------------------
@main.command("export-training", help="Write gold.ml_features joined with gold.ml_labels as train/valid/test "
                                       "Parquet files plus manifest.json to a folder or s3://bucket/prefix.")
@click.option("--from", "start", required=True, help="First session, YYYY-MM-DD.")
@click.option("--to", "end", required=True, help="Last session, YYYY-MM-DD.")
@click.option("--out", required=True, help="Output folder or s3://bucket/prefix.")
@click.option("--target", type=click.Choice(["duckdb", "postgres"]), default="duckdb", show_default=True)
@click.option("--valid-fraction", type=float, default=0.15, show_default=True, help="Share of sessions for valid.")
@click.option("--test-fraction", type=float, default=0.15, show_default=True, help="Share of sessions for test.")
@click.option("--embargo-sessions", type=int, default=21, show_default=True,
              help="Sessions dropped between splits (>= the longest label look-ahead).")
def export_training(start, end, out, target, valid_fraction, test_fraction, embargo_sessions) -> None:
    from orchestration.export_training import ExportError, SplitPlan
    from orchestration.export_training import export_training as run_export

    try:
        manifest = run_export(_parse_date(start, "--from"), _parse_date(end, "--to"), out, target,
                              SplitPlan(valid_fraction, test_fraction, embargo_sessions))
    except ExportError as exc:
        raise UserError(str(exc)) from None
    for name, split in manifest["splits"].items():
        click.echo(f"{name}: {split['rows']:,} rows, {split['from']} .. {split['to']}")
    click.echo(f"{len(manifest['features'])} features, data version {manifest['data_version']} -> {out}")


def _parse_date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{option} must be a date as YYYY-MM-DD, not {value!r}") from None


def _register_commands() -> None:
    """Commands that live in their own modules: the alerts group, the daily run and its kin."""
    from alerts.cli import alerts as alerts_group
    from orchestration.run_cli import COMMANDS as run_commands

    main.add_command(alerts_group)
    for command in run_commands:
        main.add_command(command)


_register_commands()

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
