"""End to end on DuckDB over the sandbox: a backfill then daily runs across a weekend and a
holiday add up to the same gold as one run over the whole range; the audit trail shows every
step; `runs` and `status` report it."""

from __future__ import annotations

from datetime import date

import pandas as pd

from tests.orchestration.conftest import (
    BACKFILL_FROM,
    EVENING,
    LAST_DAY,
    assert_same_gold,
    query,
    tradlyte,
)

DAILY = [  # (as-of New York date, sessions it should load)
    ("2013-02-15", [date(2013, 2, 15)]),   # Friday
    ("2013-02-16", []),                    # Saturday
    ("2013-02-18", []),                    # Presidents' Day
    ("2013-02-19", [date(2013, 2, 19)]),   # Tuesday
    (LAST_DAY, [date(2013, 2, 20)]),
]


def test_daily_runs_equal_one_full_build(run_env, publish_stub, reference_dir, universe):
    first = tradlyte("run", "--from", BACKFILL_FROM, "--as-of", "2013-02-14" + EVENING)
    assert first.exit_code == 0, first.output
    for day, sessions in DAILY:
        result = tradlyte("run", "--as-of", day + EVENING)
        assert result.exit_code == 0, result.output
        assert ("nothing due" in result.output) == (not sessions), result.output

    assert_same_gold(run_env, reference_dir)

    # independent of dbt: the raw rows and 1d bars are the universe's rows for these sessions
    in_range = universe.daily[(pd.to_datetime(universe.daily["session_date"]) >= BACKFILL_FROM)
                              & (pd.to_datetime(universe.daily["session_date"]) <= LAST_DAY)]
    assert query(run_env, "select count(*) from raw_polygon.daily_aggs")[0][0] == len(in_range)
    per_ticker = dict(query(run_env, "select ticker, count(*) from gold.bars where timeframe = '1d' group by 1"))
    assert per_ticker == in_range.groupby("ticker").size().to_dict()

    # the audit trail: one row per run, every step of every run that had sessions
    runs = query(run_env, "select run_id, status, first_session, last_session, session_count, resumed_from "
                          "from ops.pipeline_runs order by started_at")
    assert [r[1] for r in runs] == ["success", "success", "nothing_due", "nothing_due", "success", "success"]
    assert [r[3] for r in runs] == [date(2013, 2, 14), date(2013, 2, 15), None, None, date(2013, 2, 19),
                                    date(2013, 2, 20)]
    assert runs[0][2] == date(2013, 1, 2) and runs[0][4] == 31
    assert all(r[5] is None for r in runs)
    steps = query(run_env, "select r.run_id, s.step, s.status, s.rows_out, s.watermark, s.dbt_invocation_id, "
                           "s.started_at <= s.finished_at from ops.pipeline_steps s join ops.pipeline_runs r "
                           "using (run_id) order by r.started_at, s.step_order")
    done_runs = [r[0] for r in runs if r[1] == "success"]
    assert [(s[0], s[1]) for s in steps] == [(r, step) for r in done_runs
                                             for step in ("load", "dbt_build", "alerts", "publish")]
    assert all(s[2] == "success" and s[6] for s in steps)
    invocations = [s[5] for s in steps if s[1] == "dbt_build"]
    assert all(invocations) and len(set(invocations)) == 4
    loads = [s for s in steps if s[1] == "load"]
    assert [s[4] for s in loads] == [r[3] for r in runs if r[1] == "success"]
    # the daily load of one session brings exactly that session's rows (plus reference data)
    friday = in_range[pd.to_datetime(in_range["session_date"]) == "2013-02-15"]
    friday_detail = query(run_env, f"select detail from ops.pipeline_steps where run_id = '{done_runs[1]}' "
                                   "and step = 'load'")[0][0]
    assert f'"daily_aggs": {len(friday)}' in friday_detail
    # publish was called once per run with sessions and its counts were recorded
    assert publish_stub.calls == ["duckdb"] * 4
    last_publish = [s for s in steps if s[1] == "publish"][-1]
    assert last_publish[3] == sum(query(run_env, "select (select count(*) from gold.bars) + "
                                                 "(select count(*) from gold.indicators)")[0])

    listing = tradlyte("runs", "--limit", "3")
    assert listing.exit_code == 0
    assert done_runs[-1] in listing.output and "dbt_build  success" in listing.output

    status = tradlyte("status", "--as-of", LAST_DAY + EVENING, "--check")
    assert status.exit_code == 0, status.output
    for layer in ("raw", "bronze", "silver", "gold"):
        assert f"{layer:<8}2013-02-20      up to date" in status.output
    gaps = query(run_env, "select count(*) from gold.data_gaps")[0][0]
    assert f"data gaps: {gaps} " in status.output
    behind = tradlyte("status", "--as-of", "2013-02-22" + EVENING, "--check")
    assert behind.exit_code == 1 and "2 session(s)" in behind.output


def test_dry_run_prints_the_plan_and_records_nothing(run_env):
    result = tradlyte("run", "--from", "2013-02-11", "--as-of", "2013-02-19T12:00", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "5 session(s) due" in result.output and "2013-02-11 .. 2013-02-15" in result.output
    assert not (run_env / "warehouse.duckdb").exists()
