"""Each condition kind fires on the right bar and only there, on DuckDB and on PostgreSQL."""

from __future__ import annotations

import json

from tests.alerts.conftest import after_close, make_evaluator, ny_midnight, rule, sessions, stream_entries

DAYS = sessions("2024-03-04", 8)


def fired(prefix):
    return [(e["rule_id"], e["ticker"], e["bar_start_at"]) for e in stream_entries(prefix) if e["kind"] == "firing"]


def bar(i):
    return ny_midnight(DAYS[i]).strftime("%Y-%m-%dT%H:%M:%SZ")


def run(gold, prefix, rules, start=0):
    ev = make_evaluator(gold.wh, prefix, rules, after_close(DAYS[-1]), start_at=ny_midnight(DAYS[start]))
    return ev.run_once()


def test_comparison_fires_on_each_bar_where_true(gold, redis_prefix):
    gold.add_daily("AAA", DAYS, rsi_14=[50, 65, 75, 80, 60, 72, 69, 71])
    gold.add_daily("BBB", DAYS, rsi_14=[50] * 8)
    res = run(gold, redis_prefix, [rule(id="rsi-hot", condition="rsi_14 > 70")])
    assert fired(redis_prefix) == [("rsi-hot", "AAA", bar(i)) for i in (2, 3, 5, 7)]
    assert res.decided == 4
    entry = stream_entries(redis_prefix)[0]
    assert json.loads(entry["json"])["value"] == 75.0
    assert entry["idempotency_key"] == f"rsi-hot:v1:AAA:1d:{bar(2)}"


def test_comparison_between_columns_and_operators(gold, redis_prefix):
    gold.add_daily("AAA", DAYS, close=[10, 11, 12, 13, 14, 15, 16, 17], sma_20=[12] * 8)
    run(gold, redis_prefix, [rule(id="below", condition="close <= sma_20"),
                             rule(id="eq", condition={"left": "close", "op": "==", "right": 15})])
    got = fired(redis_prefix)
    assert sorted(g for g in got if g[0] == "below") == [("below", "AAA", bar(i)) for i in (0, 1, 2)]
    assert [g for g in got if g[0] == "eq"] == [("eq", "AAA", bar(5))]


def test_crosses_above_and_below(gold, redis_prefix):
    #               0    1    2    3    4    5    6    7
    close = [90, 95, 101, 105, 99, 98, 100, 103]
    gold.add_daily("AAA", DAYS, close=close, sma_200=[100] * 8)
    run(gold, redis_prefix, [rule(id="up", condition="close crosses_above sma_200"),
                             rule(id="down", condition="close crosses_below sma_200"),
                             rule(id="up70", condition="close crosses_above 102")])
    got = fired(redis_prefix)
    # 6: close == sma is not above; 7 is (previous 100 <= 100)
    assert sorted(g for g in got if g[0] == "up") == [("up", "AAA", bar(2)), ("up", "AAA", bar(7))]
    assert [g for g in got if g[0] == "down"] == [("down", "AAA", bar(4))]
    assert sorted(g for g in got if g[0] == "up70") == [("up70", "AAA", bar(3)), ("up70", "AAA", bar(7))]


def test_crossing_needs_the_bar_before_the_cursor(gold, redis_prefix):
    gold.add_daily("AAA", DAYS, close=[90, 95, 101, 105, 99, 98, 100, 103], sma_200=[100] * 8)
    run(gold, redis_prefix, [rule(id="up", condition="close crosses_above sma_200")], start=2)
    assert fired(redis_prefix) == [("up", "AAA", bar(2)), ("up", "AAA", bar(7))]


def test_moves_pct_against_previous_bar(gold, redis_prefix):
    gold.add_daily("AAA", DAYS, close=[100, 102, 108, 107, 100, 104.9, 110.2, 110])
    res = run(gold, redis_prefix, [rule(id="move5", condition="close moves_pct 5")])
    # 102->108 +5.88%, 107->100 -6.54%, 104.9->110.2 +5.05%; 100->104.9 is 4.9%
    assert fired(redis_prefix) == [("move5", "AAA", bar(i)) for i in (2, 4, 6)]
    values = [round(f["value"], 2) for f in res.firings]
    assert values == [5.88, -6.54, 5.05]


def test_signal_condition(gold, redis_prefix):
    gold.add_daily("AAA", DAYS)
    gold.add_daily("BBB", DAYS)
    gold.add_signal("AAA", DAYS[3], "golden_cross", value=101.5)
    gold.add_signal("BBB", DAYS[5], "death_cross", direction="down")
    gold.add_signal("BBB", DAYS[6], "golden_cross", value=99.0)
    run(gold, redis_prefix, [rule(id="gc", condition={"signal": "golden_cross"})])
    assert fired(redis_prefix) == [("gc", "AAA", bar(3)), ("gc", "BBB", bar(6))]


def test_ticker_list_and_open_bar_excluded(gold, redis_prefix):
    gold.add_daily("AAA", DAYS, complete=False, rsi_14=[80] * 8)
    gold.add_daily("BBB", DAYS, rsi_14=[80] * 8)
    res = run(gold, redis_prefix, [rule(id="hot", tickers=["AAA"], condition="rsi_14 > 70")])
    # AAA's last bar is still open: never evaluated; BBB not in the list
    assert fired(redis_prefix) == [("hot", "AAA", bar(i)) for i in range(7)]
    assert res.cursors["1d"] == bar(7)


def test_cursor_only_new_bars(gold, redis_prefix):
    gold.add_daily("AAA", DAYS[:5], rsi_14=[80] * 5)
    r = [rule(id="hot", condition="rsi_14 > 70")]
    ev = make_evaluator(gold.wh, redis_prefix, r, after_close(DAYS[4]), start_at=ny_midnight(DAYS[0]))
    assert ev.run_once().decided == 5
    assert ev.run_once().decided == 0  # nothing new
    gold.add_daily("AAA", DAYS[5:], rsi_14=[80, 60, 90])
    res = ev.run_once()
    assert [f["bar_start_at"] for f in res.firings] == [bar(5), bar(7)]
    assert len(fired(redis_prefix)) == 7


def test_first_run_without_start_reads_latest_bar_only(gold, redis_prefix):
    gold.add_daily("AAA", DAYS, rsi_14=[80] * 8)
    ev = make_evaluator(gold.wh, redis_prefix, [rule(id="hot", condition="rsi_14 > 70")], after_close(DAYS[-1]))
    assert [f["bar_start_at"] for f in ev.run_once().firings] == [bar(7)]


def test_intraday_bars_across_the_overnight_gap(gold, redis_prefix):
    """5m bars: the previous bar of the first bar of a session is the last bar of the session before,
    and the still-open last bar is not evaluated."""
    from datetime import time, timedelta

    from tests.alerts.conftest import NY

    def at(d, hh, mm):
        from datetime import datetime

        return datetime.combine(d, time(hh, mm), tzinfo=NY).astimezone(ny_midnight(d).tzinfo)

    d1, d2 = DAYS[4], DAYS[5]  # Friday, Monday
    starts = [at(d1, 15, 50), at(d1, 15, 55), at(d2, 9, 30), at(d2, 9, 35), at(d2, 9, 40), at(d2, 9, 45)]
    gold.add_intraday("AAA", "5m", starts, 5, complete=False, close=[100, 100, 106, 106.5, 100, 120])
    gold.add_daily("AAA", DAYS, rsi_14=[99] * 8)  # other timeframes are not touched by a 5m rule
    ev = make_evaluator(gold.wh, redis_prefix, [rule(id="gap", timeframes=["5m"], condition="close moves_pct 5")],
                        starts[-1] + timedelta(minutes=1), start_at=starts[2])
    res = ev.run_once()
    iso = [s.strftime("%Y-%m-%dT%H:%M:%SZ") for s in starts]
    assert fired(redis_prefix) == [("gap", "AAA", iso[2]), ("gap", "AAA", iso[4])]
    assert res.cursors == {"5m": iso[4]}
    assert fired(redis_prefix)[0][2].endswith("13:30:00Z")  # 09:30 New York (EDT since 2024-03-10)
