"""Fixtures for the ML mart tests: the whole project built once per engine (`built`, in
tests/conftest.py: the same warehouse the tests/dbt tests read), and a second warehouse per engine whose data stops at a cut
date, for the point-in-time and incremental tests."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pytest

from tests.conftest import drop_pg_database
from tests.dbt.conftest import make_warehouse, universe  # noqa: F401  (fixture reused)
from tests.ml.support import normalize

# Half way through the synthetic range: the SYN0000 and SYN0007 splits (2012-06-15) and the
# reuse of the SYN0001 symbol by a new company come after the cut.
CUT_FRACTION = 0.5


def cut_date(universe):  # noqa: F811
    sessions = sorted(universe.daily.loc[universe.daily.ticker.str.startswith("SYN"), "session_date"].unique())
    return sessions[int(len(sessions) * CUT_FRACTION)]


@dataclass
class CutWarehouse:
    warehouse: object
    cut: object
    features_at_cut: pd.DataFrame  # gold.ml_features as the cut build left it
    labels_at_cut: pd.DataFrame
    rest: dict  # raw rows that arrive after the cut, by table


@pytest.fixture(scope="session")
def cut_warehouse(built, universe, tmp_path_factory):  # noqa: F811
    """A warehouse on the same engine as `built`, loaded only with what was known at the cut
    date (daily bars up to it, corporate actions up to it) and fully built."""
    warehouse, db = make_warehouse(built.target, tmp_path_factory)
    cut = cut_date(universe)
    daily, splits, dividends = universe.daily, universe.splits, universe.dividends
    try:
        warehouse.load_raw("daily_aggs", daily[daily.session_date <= cut])
        warehouse.load_raw("splits", splits[splits.execution_date <= cut])
        warehouse.load_raw("dividends", dividends[dividends.ex_dividend_date <= cut])
        for table, frame in (("tickers", universe.tickers), ("market_holidays", universe.holidays),
                             ("minute_aggs", universe.minute)):
            warehouse.load_raw(table, frame)
        warehouse.dbt("seed")
        warehouse.dbt("run")
        yield CutWarehouse(
            warehouse, cut,
            normalize(warehouse.query("select * from gold.ml_features")),
            normalize(warehouse.query("select * from gold.ml_labels")),
            {"daily_aggs": daily[daily.session_date > cut], "splits": splits[splits.execution_date > cut],
             "dividends": dividends[dividends.ex_dividend_date > cut]})
    finally:
        if db is not None:
            drop_pg_database(db)
