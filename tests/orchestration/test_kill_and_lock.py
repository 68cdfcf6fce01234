"""Two runs at once and a run SIGKILLed mid-build (real processes, DuckDB target).

Run A starts; while it loads, run B on the same target exits at once with a clear message
(exit 3). A is killed with SIGKILL while dbt builds gold; the kernel drops its file lock, the
rerun marks A interrupted, resumes after its completed load, and gold ends with no row lost or
duplicated (equal to a single clean run over the same range)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from core.resources import PROJECT_ROOT
from tests.orchestration.conftest import BACKFILL_FROM, EVENING, LAST_DAY, assert_same_gold, query, tradlyte

ARGS = ["run", "--from", BACKFILL_FROM, "--to", LAST_DAY, "--as-of", LAST_DAY + EVENING,
        "--skip", "publish", "--skip", "alerts"]


def _start(args, env) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "orchestration.cli", *args, "--log-json"], env=env,
                            cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _events(proc):
    for line in proc.stderr:
        if line.startswith("{"):
            yield json.loads(line)


def test_second_run_is_refused_and_a_killed_run_is_resumed(run_env, reference_dir):
    env = dict(os.environ)
    a = _start(ARGS, env)
    events = _events(a)
    run_a = None
    for event in events:
        if event.get("step") == "load" and event.get("status") == "running":
            run_a = event["run_id"]
            break
    assert run_a, "run A never started its load"

    b = subprocess.run([sys.executable, "-m", "orchestration.cli", *ARGS], env=env, cwd=PROJECT_ROOT,
                       capture_output=True, text=True)
    assert b.returncode == 3, b.stderr
    assert "another run holds the lock" in b.stderr and run_a in b.stderr

    for event in events:
        if event.get("dbt_event") == "NodeStart" and event.get("node") == "model.tradlyte.bars":
            break
    a.send_signal(signal.SIGKILL)
    a.wait()
    a.stdout.close()
    a.stderr.close()
    assert a.returncode == -signal.SIGKILL

    rerun = tradlyte(*ARGS)
    assert rerun.exit_code == 0, rerun.output
    runs = query(run_env, "select run_id, status, error, resumed_from from ops.pipeline_runs order by started_at")
    assert runs[0][0] == run_a and runs[0][1] == "interrupted" and "killed" in runs[0][2]
    assert runs[1][1] == "success" and runs[1][3] == run_a and len(runs) == 2
    steps = dict(query(run_env, f"select step, status from ops.pipeline_steps where run_id = '{run_a}'"))
    assert steps == {"load": "success", "dbt_build": "interrupted"}
    steps = dict(query(run_env, f"select step, status from ops.pipeline_steps where run_id = '{runs[1][0]}'"))
    assert steps == {"load": "reused", "dbt_build": "success", "alerts": "skipped", "publish": "skipped"}

    dupes = query(run_env, "select count(*) from (select ticker, timeframe, bar_start_at from gold.bars "
                           "group by 1, 2, 3 having count(*) > 1) d")[0][0]
    assert dupes == 0
    assert_same_gold(run_env, reference_dir)


def test_second_run_waits_with_wait_flag(run_env):
    from orchestration.run_lock import lock_for

    holder = lock_for("duckdb")
    holder.acquire("test holder")
    try:
        busy = tradlyte("run", "--as-of", "2013-02-16T12:00")
        assert busy.exit_code == 3 and "test holder" in busy.output
        waiting = _start(["run", "--wait", "--as-of", "2013-02-16T12:00", "--from", "2013-02-16"],
                         dict(os.environ))
        for event in _events(waiting):
            if "waiting for the run lock" in event["message"]:
                assert "test holder" in event["message"]
                break
    finally:
        holder.release()
    out, err = waiting.communicate()
    assert waiting.returncode == 0, err
    assert "nothing due" in out
