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


def test_accepted_timeframes_follow_the_bar_sizes(warehouse):
    """The list comes from the vars (or the arguments), not from a copy: other bar sizes accept
    their own labels and reject the default ones."""
    call = "tradlyte_macros.test_accepted_timeframes(model='fixtures.bars', column_name='timeframe', {})"
    assert _failing(warehouse, call.format("intraday_minutes=[60], fib_intervals=[2, 8]")) == [
        "LOW_ABOVE_OPEN"]  # 3d
    failing = warehouse.dbt("show", "--inline", "select * from ({{ " + call.format("") + " }}) f",
                            "--output", "json", vars={"fib_intervals": [2, 3, 8], "intraday_minutes": [5]})
    assert sorted(str(r[0]) for r in failing.results[0].agate_table.rows) == ["GOOD"]  # its 1h bar


def test_timeframes_are_the_labels_gold_bars_writes(warehouse):
    rows = _show(warehouse, "select '{{ tradlyte_macros.timeframes(var('intraday_minutes'), "
                            "var('fib_intervals')) | join(' ') }}' as labels")
    assert rows[0][0] == "1m 5m 15m 30m 1h 1d 3d 5d 8d 13d 21d 34d"


def _talib_lookback(name: str, **parameters) -> int:
    from talib import abstract

    function = abstract.Function(name)
    function.parameters = parameters
    return function.lookback


@pytest.mark.parametrize("periods", [
    None,  # the project's var indicator_periods
    {"sma": [3, 7], "ema": [9], "macd": [30, 10, 5], "rsi": 5, "bollinger": [8, 1.5], "atr": 21,
     "stochastic": [5, 4, 2]},
])
def test_ta_lookbacks_are_talibs(warehouse, periods):
    """ta_lookbacks (the NULL-before bars and the warm-up of gold.indicators) against TA-Lib's own
    lookback functions; a fast MACD period above the slow one is swapped, as TA-Lib does."""
    import json
    from pathlib import Path

    import yaml

    if periods is None:
        project = yaml.safe_load((Path(__file__).parents[2] / "dbt_project" / "dbt_project.yml").read_text())
        periods = project["vars"]["indicator_periods"]
    rows = _show(warehouse, "select '{{ tojson(tradlyte_macros.ta_lookbacks(" + json.dumps(periods)
                 + ")) }}' as lookbacks")
    actual = json.loads(rows[0][0])
    fast, slow, signal = periods["macd"]
    k, k_slowing, d = periods["stochastic"]
    expected = {
        **{f"sma_{n}": _talib_lookback("SMA", timeperiod=n) for n in periods["sma"]},
        **{f"ema_{n}": _talib_lookback("EMA", timeperiod=n) for n in periods["ema"]},
        "macd": _talib_lookback("MACD", fastperiod=fast, slowperiod=slow, signalperiod=signal),
        "rsi": _talib_lookback("RSI", timeperiod=periods["rsi"]),
        "bollinger": _talib_lookback("BBANDS", timeperiod=periods["bollinger"][0],
                                     nbdevup=float(periods["bollinger"][1]), nbdevdn=float(periods["bollinger"][1])),
        "atr": _talib_lookback("ATR", timeperiod=periods["atr"]),
        "stochastic": _talib_lookback("STOCH", fastk_period=k, slowk_period=k_slowing, slowd_period=d),
    }
    assert actual == {**expected, "warm": max(expected.values())}


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


def test_star_pruned_drops_the_helper_columns_where_the_engine_can(warehouse):
    """DuckDB leaves the helper columns out (`* exclude`); PostgreSQL, with no such form, keeps
    them: the recurrence CTEs rely on exactly this."""
    outcome = warehouse.dbt("show", "--inline", """
        with source as (select 1 as kept, 2 as helper_a, 3 as helper_b)
        select {{ tradlyte_macros.star_pruned('source', ['helper_a', 'helper_b']) }} from source
    """, "--output", "json")
    columns = list(outcome.results[0].agate_table.column_names)
    assert columns == (["kept"] if warehouse.target == "duckdb" else ["kept", "helper_a", "helper_b"])


@pytest.mark.parametrize("beta", [0.5, 0.95])
def test_linear_recurrences_are_exact_from_a_seed_and_from_a_stored_anchor(warehouse, beta):
    """3,000 rows: several of DuckDB's closed-form blocks at beta 0.5 (600 rows each), shared
    by a slow recurrence (beta 0.99) in the same call; one partition seeded at row 3 (a fresh
    series), one continued from a stored value at row 1000 (an incremental run); every value
    against the plain loop."""
    import math

    warehouse.dbt("run-operation", "tradlyte_macros.install_indicator_functions")
    recurrences = {"fast": beta, "slow": 0.99}
    calls = ", ".join(
        f"('{name}', tradlyte_macros.recurrence_term('x', {1 - b}, '100.0', 3, '42.0'), "
        f"tradlyte_macros.recurrence_origin(3), {b})" for name, b in recurrences.items())
    rows = _show_all(warehouse, f"""
        with source as (
            select
                parts.part,
                g.i as rn,
                sin(g.i) + 2 as x,
                case when parts.part = 'anchored' then 1000 end as anchor_index
            from (select 'fresh' as part union all select 'anchored' as part) as parts
            cross join generate_series(0, 2999) as g (i)
        ),
        {{{{ tradlyte_macros.linear_recurrences_cte('rec', 'source', ['part'], [{calls}]) }}}}
        select part, rn, fast, slow from rec
    """)
    assert len(rows) == 6000
    for column, (name, b) in enumerate(recurrences.items(), start=2):
        actual = {(part, int(rn)): row[column] for row in rows for part, rn in [row[:2]]}
        for part, origin, start_value in (("fresh", 3, 100.0), ("anchored", 1000, 42.0)):
            assert all(actual[(part, rn)] is None for rn in range(origin)), (name, part)
            value = start_value
            assert float(actual[(part, origin)]) == pytest.approx(value, rel=1e-12)
            for rn in range(origin + 1, 3000):
                value = b * value + (1 - b) * (math.sin(rn) + 2)
                assert float(actual[(part, rn)]) == pytest.approx(value, rel=1e-12), (name, part, rn)


def _show_all(warehouse, sql: str) -> list[tuple]:
    outcome = warehouse.dbt("show", "--inline", sql, "--limit", "-1", "--output", "json")
    return [tuple(row.values()) for row in outcome.results[0].agate_table.rows]
