"""The rolling-window macros of macros/macros/ml_features.sql on both engines (and on Spark, in
tests/spark), against numpy, on a series with ties (the first max / min and the <= rank must
count them as documented)."""

from __future__ import annotations

import numpy as np
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
