"""`tradlyte sandbox serve`: the local Polygon-compatible server for your own experiments."""

from __future__ import annotations

import click

from ingestion.sandbox import DEMO_SPEC
from orchestration.cli.base import UserErrorGroup
from orchestration.cli.options import DATE


@click.group(help="The local Polygon sandbox server.", cls=UserErrorGroup)
def sandbox() -> None:
    pass


@sandbox.command("serve", help="Serve the sandbox universe over HTTP until Ctrl+C.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True)
@click.option("--api-key", default="sandbox-key", show_default=True)
@click.option("--tickers", "n_tickers", type=click.IntRange(min=0), default=DEMO_SPEC["n_tickers"], show_default=True,
              help="Number of synthetic tickers.")
@click.option("--from", "start", type=DATE, default=DEMO_SPEC["start"], show_default=True)
@click.option("--to", "end", type=DATE, default=DEMO_SPEC["end"], show_default=True)
@click.option("--rate-limit", type=click.IntRange(min=1), default=None, help="Requests per minute per key (429 above).")
def sandbox_serve(host, port, api_key, n_tickers, start, end, rate_limit) -> None:
    from ingestion.sandbox.server import ServeOptions, serve_forever
    from ingestion.sandbox.universe import UniverseSpec, build_universe
    from orchestration.cli.options import check_range

    check_range(start, end)
    universe = build_universe(UniverseSpec(n_tickers=n_tickers, start=start.isoformat(), end=end.isoformat()))
    serve_forever(universe, ServeOptions(host=host, port=port, api_key=api_key,
                                         rate_limit_per_minute=rate_limit))
