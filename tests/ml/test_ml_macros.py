"""The rolling-window macros of macros/macros/ml_features.sql on both engines (and on Spark, in
tests/spark), against numpy, on a series with ties (the first max / min and the <= rank must
count them as documented)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.conftest import drop_pg_database
from tests.dbt.conftest import make_warehouse

VALUES = [3.0, 7.0, 7.0, 1.0, 5.0, 1.0, 9.0, 4.0, 9.0, 2.0]
WINDOW, LIST_SIZE = 4, 6
_ROWS = ", ".join(f"('S', {i}, {v})" for i, v in enumerate(VALUES))
# the fixture table on every engine (tests/spark runs the same check on Spark)
SERIES_TABLE_SQL = f"create table fixtures.series as select * from (values {_ROWS}) as t (ticker, rn, x)"


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def warehouse(request, tmp_path_factory):
    wh, db = make_warehouse(request.param, tmp_path_factory)
    wh.execute("create schema if not exists fixtures")
    wh.execute(SERIES_TABLE_SQL)
    try:
        yield wh
    finally:
        if db is not None:
            drop_pg_database(db)


def test_rolling_list_macros_match_numpy(warehouse):
    assert_rolling_list_macros_match_numpy(warehouse)


def assert_rolling_list_macros_match_numpy(warehouse) -> None:
    """The macros over fixtures.series (SERIES_TABLE_SQL) in `warehouse`, row by row against numpy."""
    sql = f"""
        with lists as (
            select
                ticker,
                rn,
                cast(x as {{{{ tradlyte_macros.double_type() }}}}) as x,
                {{{{ tradlyte_macros.rolling_list('cast(x as ' ~ tradlyte_macros.double_type() ~ ')', {LIST_SIZE},
                                                   partition_by='ticker') }}}} as xs
            from fixtures.series
        )
        select
            rn,
            {{{{ tradlyte_macros.list_count_at_most(tradlyte_macros.list_tail('xs', {WINDOW}), 'x') }}}} as at_most,
            {{{{ tradlyte_macros.list_argmax(tradlyte_macros.list_tail('xs', {WINDOW})) }}}} as argmax,
            {{{{ tradlyte_macros.list_argmin(tradlyte_macros.list_tail('xs', {WINDOW})) }}}} as argmin,
            {{{{ tradlyte_macros.list_quantile(tradlyte_macros.list_tail('xs', {WINDOW}), 0.8) }}}} as q80,
            {{{{ tradlyte_macros.rolling_corr('x', 'rn', {WINDOW}, partition_by='ticker') }}}} as corr
        from lists
        order by rn
    """
    table = warehouse.dbt("show", "--inline", sql, "--limit", "100", "--output", "json").results[0].agate_table
    rows = [tuple(r.values()) for r in table.rows]
    assert len(rows) == len(VALUES)
    x = np.array(VALUES)
    for rn, at_most, argmax, argmin, q80, corr in rows:
        rn = int(rn)
        window = x[max(0, rn - WINDOW + 1):rn + 1]
        assert int(at_most) == int((window <= x[rn]).sum())
        assert int(argmax) == int(np.argmax(window)) + 1  # first (oldest) maximum
        assert int(argmin) == int(np.argmin(window)) + 1
        assert float(q80) == pytest.approx(np.quantile(window, 0.8), rel=1e-12)
        if len(window) >= 2 and window.std() > 0:
            expected = np.corrcoef(window, np.arange(rn - len(window) + 1, rn + 1))[0, 1]
            assert float(corr) == pytest.approx(expected, rel=1e-9)
        else:
            assert corr is None


FORMULA_WINDOWS = (5, 20)


def _bar_series(n: int = 70) -> pd.DataFrame:
    """One security's daily bars: a random walk with a repeated close (ties) and a day without volume."""
    rng = np.random.default_rng(11)
    close = 50 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
    close[30] = close[29]
    open_ = close * (1 + rng.normal(0, 0.01, n))
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.02, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.02, n))
    volume = rng.integers(1_000, 100_000, n).astype(float)
    volume[40] = 0.0
    vwap = (high + low + close) / 3
    return pd.DataFrame({"rn": np.arange(n), "open": open_, "high": high, "low": low, "close": close,
                         "volume": volume, "vwap": vwap})


def test_feature_formulas_match_the_pandas_reference(warehouse):
    """Every row feature and, for two window sizes, every window stat and feature of
    macros/macros/ml_feature_formulas.sql on one series, against tests/reference (written from
    the documented formulas with numpy windows). The SQL around the macros is gold.ml_features'
    shape: the moves (ml_moves_cte), the window stats, the order statistics of the lists."""
    from tests.reference import ml_features as ref

    series = _bar_series()
    values = ", ".join(f"('S', 'S-KEY', {r.rn}, {r.open!r}, {r.high!r}, {r.low!r}, {r.close!r}, {r.volume!r}, "
                       f"{r.vwap!r})" for r in series.itertuples())
    warehouse.execute("drop table if exists fixtures.bar_series")
    warehouse.execute(f"create table fixtures.bar_series as select * from (values {values}) "
                      "as t (ticker, security_key, rn, open, high, low, close, volume, vwap)")
    windows = ", ".join(map(str, FORMULA_WINDOWS))
    sql = """
        {%- set double = tradlyte_macros.double_type() %}
        with bars as (
            select ticker, security_key, rn, {% for c in ['open', 'high', 'low', 'close', 'volume', 'vwap'] %}
                cast({{ c }} as {{ double }}) as {{ c }}{{ ',' if not loop.last }}{% endfor %}
            from fixtures.bar_series
        ),
        {{ tradlyte_macros.ml_moves_cte('moves', 'bars') }},
        stats as (
            select
                *,
                {{ tradlyte_macros.rolling_list('close', WINDOW_MAX) }} as close_list,
                {{ tradlyte_macros.rolling_list('high', WINDOW_MAX) }} as high_list,
                {{ tradlyte_macros.rolling_list('low', WINDOW_MAX) }} as low_list,
                {% for d in [WINDOWS] %}{% for stat in tradlyte_macros.ml_window_stats() %}
                {{ tradlyte_macros.ml_window_stat(stat, d) }} as {{ stat }}_{{ d }},{% endfor %}{% endfor %}
                1 as done
            from moves
        ),
        ordered as (
            select
                *,
                {% for d in [WINDOWS] %}
                {%- set closes = tradlyte_macros.list_tail('close_list', d) %}
                {{ tradlyte_macros.list_quantile(closes, 0.8) }} as close_q80_{{ d }},
                {{ tradlyte_macros.list_quantile(closes, 0.2) }} as close_q20_{{ d }},
                {{ tradlyte_macros.list_count_at_most(closes, 'close') }} as close_rank_count_{{ d }},
                {{ tradlyte_macros.list_argmax(tradlyte_macros.list_tail('high_list', d)) }} as high_argmax_{{ d }},
                {{ tradlyte_macros.list_argmin(tradlyte_macros.list_tail('low_list', d)) }} as low_argmin_{{ d }},
                {% endfor %}
                1 as done_ordering
            from stats
        )
        select
            rn,
            {% for f in tradlyte_macros.ml_row_features() %}
            {{ tradlyte_macros.ml_row_feature(f) }} as {{ f }},{% endfor %}
            {% for d in [WINDOWS] %}{% for f in tradlyte_macros.ml_window_features() %}
            {{ tradlyte_macros.ml_window_feature(f, d) }} as {{ f }}_{{ d }},{% endfor %}{% endfor %}
            1 as done
        from ordered
        order by rn
    """.replace("WINDOW_MAX", str(max(FORMULA_WINDOWS))).replace("WINDOWS", windows)
    table = warehouse.dbt("show", "--inline", sql, "--limit", "-1", "--output", "json").results[0].agate_table
    actual = pd.DataFrame([list(r.values()) for r in table.rows], columns=list(table.column_names))
    actual = actual.drop(columns="done").apply(pd.to_numeric, errors="coerce").astype(float)

    rolled = ref.rolling_features(series)
    expected = pd.concat([series[["rn"]].astype(float), ref.row_features(series),
                          rolled[[f"{f}_{d}" for d in FORMULA_WINDOWS for f in ref.ROLLING]]], axis=1)
    assert sorted(actual.columns) == sorted(expected.columns)
    assert len(actual) == len(series)
    for column in expected.columns:
        a, e = actual[column].to_numpy(float), expected[column].to_numpy(float)
        same = np.isclose(a, e, rtol=1e-9, atol=1e-12) | (np.isnan(a) & np.isnan(e))
        assert same.all(), f"{column} differs at rows {np.where(~same)[0][:5].tolist()}: {a[~same][:3]} vs {e[~same][:3]}"
