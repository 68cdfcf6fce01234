"""Fixtures for the ML mart tests: the whole project built once per engine (tests/dbt's `built`,
from the same sandbox universe), and a second warehouse per engine whose data stops at a cut
date, for the point-in-time and incremental tests."""

from __future__ import annotations

import pytest

from tests.conftest import drop_pg_database
from tests.dbt.conftest import built, make_warehouse, universe  # noqa: F401  (fixtures reused)

CUT_DATE_FRACTION = 0.8


def cut_date(universe):  # noqa: F811
    """A session 80% into the synthetic range: later splits and sessions are still to come."""
    sessions = sorted(universe.daily.loc[universe.daily.ticker.str.startswith("SYN"), "session_date"].unique())
    return sessions[int(len(sessions) * CUT_DATE_FRACTION)]


@pytest.fixture(scope="session")
def cut_warehouse(built, universe, tmp_path_factory):  # noqa: F811
    """A warehouse on the same engine as `built`, loaded only with what was known at the cut
    date (daily bars up to it, splits executed by then) and fully built."""
    engine = built.target
    warehouse, db = make_warehouse(engine, tmp_path_factory)
    cut = cut_date(universe)
    try:
        warehouse.load_raw("daily_aggs", universe.daily[universe.daily.session_date <= cut])
        warehouse.load_raw("splits", universe.splits[universe.splits.execution_date <= cut])
        for table, frame in (("tickers", universe.tickers), ("dividends", universe.dividends),
                             ("market_holidays", universe.holidays), ("minute_aggs", universe.minute)):
            warehouse.load_raw(table, frame)
        warehouse.dbt("seed")
        warehouse.dbt("run")
        yield warehouse, cut
    finally:
        if db is not None:
            drop_pg_database(db)
