"""`tradlyte bars`: one ticker's bars from the serving cache and the archive, as one series."""

from __future__ import annotations

import sys

import click

from orchestration.cli.options import DATE, check_range

TIMEFRAME_HELP = "1m 5m 15m 30m 1h 1d 3d 5d 8d 13d 21d 34d."


@click.command(help="One ticker's bars: the PostgreSQL serving cache inside the retention window, the lake "
                    "beyond it, as one series.")
@click.argument("ticker")
@click.option("--timeframe", default="1d", show_default=True, help=TIMEFRAME_HELP)
@click.option("--from", "start", type=DATE, required=True, help="First New York date, YYYY-MM-DD.")
@click.option("--to", "end", type=DATE, required=True,
              help="Last New York date, YYYY-MM-DD (bars starting on it included).")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Output file (default: CSV to stdout).")
def bars(ticker, timeframe, start, end, fmt, out) -> None:
    from orchestration.cli.base import UserError
    from serving.bars import BarsRequest, query_bars

    check_range(start, end)
    if fmt == "parquet" and not out:
        raise UserError("--format parquet needs --out PATH")
    series = query_bars(BarsRequest(ticker.upper(), timeframe, start, end))
    if fmt == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(series, out)
    else:
        import pyarrow.csv as pacsv

        pacsv.write_csv(series, out or sys.stdout.buffer)
    if out:
        click.echo(f"{series.num_rows:,} bars written to {out}", err=True)
