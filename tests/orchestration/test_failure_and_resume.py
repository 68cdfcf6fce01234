"""A dbt model made to fail: the run records the failure, stops, exits non-zero; after the fix
the same command resumes at the failed step and completes.

The failing model lives in a temporary folder added to dbt's model paths through
TRADLYTE_EXTRA_MODEL_PATH (dbt_project.yml), so no real model is touched."""

from __future__ import annotations

from tests.orchestration.conftest import EVENING, query, tradlyte

BROKEN = "select cast('not a number' as integer) as boom from {{ ref('silver_daily_bars') }}\n"
FIXED = "select count(*) as bar_count from {{ ref('silver_daily_bars') }}\n"
ARGS = ("run", "--from", "2013-02-04", "--as-of", "2013-02-14" + EVENING)


def test_failed_model_stops_the_run_and_rerun_resumes(run_env, publish_stub, tmp_path_factory, monkeypatch):
    models = tmp_path_factory.mktemp("extra_models")
    (models / "run_failure_probe.sql").write_text(BROKEN)
    monkeypatch.setenv("TRADLYTE_EXTRA_MODEL_PATH", str(models))

    failed = tradlyte(*ARGS)
    assert failed.exit_code == 1
    assert "step dbt_build failed" in failed.output and "run_failure_probe" in failed.output
    run_id, status, error = query(run_env, "select run_id, status, error from ops.pipeline_runs")[0]
    assert status == "failed" and "dbt_build" in error
    steps = query(run_env, "select step, status, error, dbt_invocation_id from ops.pipeline_steps "
                           "order by step_order")
    assert [(s[0], s[1]) for s in steps] == [("load", "success"), ("dbt_build", "failed")]
    assert "run_failure_probe" in steps[1][2] and steps[1][3]
    assert publish_stub.calls == []  # later steps never ran
    loads_before = query(run_env, "select count(*) from raw_polygon._dlt_loads")[0][0]

    (models / "run_failure_probe.sql").write_text(FIXED)
    resumed = tradlyte(*ARGS)
    assert resumed.exit_code == 0, resumed.output
    runs = query(run_env, "select run_id, status, resumed_from from ops.pipeline_runs order by started_at")
    assert [(r[1], r[2]) for r in runs] == [("failed", None), ("success", run_id)]
    steps = query(run_env, "select step, status, detail from ops.pipeline_steps where run_id = ? "
                           "order by step_order".replace("?", f"'{runs[1][0]}'"))
    assert [(s[0], s[1]) for s in steps] == [("load", "reused"), ("dbt_build", "success"),
                                             ("alerts", "success"), ("publish", "success")]
    assert run_id in steps[0][2]
    # the load was not repeated: no new dlt load package
    assert query(run_env, "select count(*) from raw_polygon._dlt_loads")[0][0] == loads_before
    assert query(run_env, "select bar_count from main.run_failure_probe")[0][0] == \
        query(run_env, "select count(*) from silver.silver_daily_bars")[0][0]
    assert publish_stub.calls == ["duckdb"]

    # the plan is done: the same command now finds nothing due and starts no new work
    again = tradlyte(*ARGS[:1], "--as-of", "2013-02-14" + EVENING)
    assert again.exit_code == 0 and "nothing due" in again.output
