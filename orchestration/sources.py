"""The `--source` of a load: `polygon` (the real API), `sandbox` (the bundled local server) or
`flatfiles` (Polygon's S3 day files).

`--source sandbox` starts the bundled Polygon sandbox and loads from it like from the real API.
The loader (`ingestion.load`) knows nothing of the sandbox: this module builds the sandbox's
universe, serves it on a free loopback port and hands the loader the server's URL and key,
plus the universe's tickers (the real API would be asked for the symbols you name).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import replace

from ingestion.load import LoadError, LoadRequest, run_load
from ingestion.pipeline import LoadReport
from ingestion.sandbox import DEMO_SPEC
from orchestration.cli.load import SOURCES


def sandbox_spec() -> dict:
    """TRADLYTE_SANDBOX_SPEC (JSON) when set, else the demo's universe."""
    from orchestration.settings import RunSettings

    return RunSettings().sandbox_spec or dict(DEMO_SPEC)


@contextlib.contextmanager
def sandbox_request(request: LoadRequest, spec: dict | None = None) -> Iterator[LoadRequest]:
    """`request` pointed at a sandbox server serving `spec`'s universe, for the length of the block."""
    from ingestion.sandbox.server import SandboxServer
    from ingestion.sandbox.universe import UniverseSpec, build_universe

    universe = build_universe(UniverseSpec(**(spec if spec is not None else sandbox_spec())))
    minute_tickers = request.minute_tickers
    if minute_tickers is None and len(universe.minute):
        minute_tickers = sorted(universe.minute["ticker"].unique())
    with SandboxServer(universe) as server:
        yield replace(request, source="polygon", base_url=server.base_url, api_key=server.api_key,
                      tickers=request.tickers or sorted(universe.daily["ticker"].unique()),
                      minute_tickers=minute_tickers)


def load(source: str, request: LoadRequest, sandbox: dict | None = None, progress_factory=None) -> LoadReport:
    """Run `request` against `source` (`sandbox`: `sandbox` or the demo spec's universe)."""
    if source == "sandbox":
        with sandbox_request(request, sandbox) as pointed:
            return run_load(pointed, progress_factory=progress_factory)
    if source not in SOURCES:
        raise LoadError(f"unknown source {source!r}: use one of {', '.join(SOURCES)}")
    return run_load(replace(request, source=source), progress_factory=progress_factory)
