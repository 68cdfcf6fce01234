"""The local macro package, tested on both engines: cross-db helpers return the same values,
and each generic test passes clean rows and catches the bad ones."""

from __future__ import annotations

import pytest

from tests.conftest import drop_pg_database
from tests.dbt.conftest import make_warehouse


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def warehouse(request, tmp_path_factory):
    wh, db = make_warehouse(request.param, tmp_path_factory)
    wh.execute("create schema if not exists fixtures")
    wh.execute("""
        create table fixtures.bars as
        select * from (values
            ('GOOD', 10.0, 12.0, 9.0, 11.0, 100.0, date '2020-01-02', '1d'),
            ('HIGH_BELOW_CLOSE', 10.0, 10.5, 9.0, 11.0, 100.0, date '2020-01-02', '1d'),
            ('LOW_ABOVE_OPEN', 10.0, 12.0, 10.5, 11.0, 100.0, date '2020-01-02', '3d'),
            ('NEGATIVE_VOLUME', 10.0, 12.0, 9.0, 11.0, -1.0, date '2020-01-02', '8d'),
            ('FUTURE', 10.0, 12.0, 9.0, 11.0, 100.0, date '2999-01-01', '2d'),
            ('GOOD', 10.0, 12.0, 9.0, 11.0, 100.0, date '2020-01-02', '1h')
        ) as t (ticker, open, high, low, close, volume, session_date, timeframe)
    """)
    try:
        yield wh
    finally:
        if db is not None:
            drop_pg_database(db)


def _show(warehouse, sql: str) -> list[tuple]:
    outcome = warehouse.dbt("show", "--inline", sql, "--limit", "100", "--output", "json")
    table = outcome.results[0].agate_table
    return [tuple(row.values()) for row in table.rows]


def _failing(warehouse, test_call: str) -> list[str]:
    rows = _show(warehouse, f"select * from ({{{{ {test_call} }}}}) as failures")
    return sorted(str(r[0]) for r in rows)


def test_ohlc_sane_catches_each_broken_envelope(warehouse):
    failing = _failing(warehouse, "tradlyte_macros.test_ohlc_sane(model='fixtures.bars')")
    assert failing == ["HIGH_BELOW_CLOSE", "LOW_ABOVE_OPEN", "NEGATIVE_VOLUME"]


def test_not_in_future(warehouse):
    failing = _failing(warehouse, "tradlyte_macros.test_not_in_future(model='fixtures.bars', "
                                  "column_name='session_date')")
    assert failing == ["FUTURE"]


def test_accepted_timeframes(warehouse):
    failing = _failing(warehouse, "tradlyte_macros.test_accepted_timeframes(model='fixtures.bars', "
                                  "column_name='timeframe')")
    assert failing == ["FUTURE"]  # its timeframe '2d' is not in the contract


def test_unique_combination_of_columns(warehouse):
    rows = _show(warehouse, "select * from ({{ tradlyte_macros.test_unique_combination_of_columns("
                            "model='fixtures.bars', combination_of_columns=['ticker', 'session_date']) }}) f")
    assert [(r[0], int(r[2])) for r in rows] == [("GOOD", 2)]


def test_cross_db_time_helpers(warehouse):
    rows = _show(warehouse, """
        select
            cast({{ tradlyte_macros.ny_midnight("cast('2024-03-11' as date)") }} as varchar) as summer_midnight,
            cast({{ tradlyte_macros.ny_midnight("cast('2024-01-02' as date)") }} as varchar) as winter_midnight,
            cast({{ tradlyte_macros.ny_date("cast('2024-03-11 03:59:00+00' as timestamp with time zone)") }} as varchar) as before_ny_midnight,
            cast({{ tradlyte_macros.epoch_ms_to_timestamp('1710129600000') }} as varchar) as from_ms,
            {{ tradlyte_macros.int_div(17, 5) }} as int_div,
            {{ tradlyte_macros.minutes_between("cast('2024-01-02 14:30:00+00' as timestamp with time zone)",
                                               "cast('2024-01-02 15:29:00+00' as timestamp with time zone)") }} as minutes
    """)
    summer, winter, day_before, from_ms, quotient, minutes = rows[0]
    assert summer.startswith("2024-03-11 04:00:00")  # EDT: UTC-4
    assert winter.startswith("2024-01-02 05:00:00")  # EST: UTC-5
    assert day_before == "2024-03-10"
    assert from_ms.startswith("2024-03-11 04:00:00")
    assert (int(quotient), int(minutes)) == (3, 59)


def test_first_by_and_last_by(warehouse):
    rows = _show(warehouse, """
        select
            {{ tradlyte_macros.first_by('ticker', 'volume') }} as first_ticker,
            {{ tradlyte_macros.last_by('ticker', 'volume') }} as last_ticker
        from fixtures.bars
        where ticker in ('NEGATIVE_VOLUME', 'HIGH_BELOW_CLOSE')
    """)
    assert rows[0] == ("NEGATIVE_VOLUME", "HIGH_BELOW_CLOSE")
