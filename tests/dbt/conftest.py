"""Fixtures for the dbt suites: a warehouse per engine, loaded from a sandbox universe."""

from __future__ import annotations

import pandas as pd
import pytest

from ingestion.sandbox.universe import UniverseSpec
from tests.conftest import create_pg_database
from tests.dbt_support import RawWarehouse

# Small but complete: bokeh real prices (2000-2013, real splits) + 10 synthetic tickers over
# two years with splits, dividends, holes, a delisting, an IPO, a reused symbol, minute bars.
SPEC = UniverseSpec(n_tickers=12, start="2011-06-01", end="2013-03-01", minute_tickers=2, minute_sessions=3)


@pytest.fixture(scope="session")
def universe(dbt_universe):
    """The universe `built` was loaded from (defined in tests/conftest.py, shared with tests/ml)."""
    return dbt_universe


def make_warehouse(engine: str, tmp_path_factory) -> tuple[RawWarehouse, object]:
    if engine == "duckdb":
        path = tmp_path_factory.mktemp("wh") / "warehouse.duckdb"
        return RawWarehouse("duckdb", duckdb_path=path), None
    db = create_pg_database("dbt")
    return RawWarehouse("postgres", pg=db), db


@pytest.fixture(params=["duckdb", "postgres"])
def engine(request) -> str:
    return request.param


def normalize_bars(frame: pd.DataFrame) -> pd.DataFrame:
    """Bars from any engine (or pandas) in one set of dtypes, for row-for-row comparison."""
    out = frame.copy()
    for col in ("bar_start_at", "bar_end_at"):
        out[col] = pd.to_datetime(out[col], utc=True).dt.as_unit("us")
    for col in ("first_session_date", "last_session_date"):
        out[col] = pd.to_datetime(out[col]).dt.date
    for col in ("open", "high", "low", "close", "volume", "vwap", "transaction_count"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    out["session_count"] = out["session_count"].astype(int)
    out["is_complete"] = out["is_complete"].astype(bool)
    out["ticker"] = out["ticker"].astype(str)
    out["timeframe"] = out["timeframe"].astype(str)
    return out.drop(columns=[c for c in ("updated_at",) if c in out.columns])


BAR_KEY = ["ticker", "timeframe", "bar_start_at"]
