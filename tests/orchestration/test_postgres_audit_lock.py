"""The audit trail and the run lock on PostgreSQL (and the file lock's crash behaviour)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime

import pytest

from orchestration.audit import AuditTrail, RunRecord
from orchestration.run_lock import FileRunLock, RunLockBusy, lock_for


@pytest.fixture()
def pg_env(pg_database, monkeypatch):
    for key, value in pg_database.env().items():
        monkeypatch.setenv(key, value)
    return pg_database


def _record(run_id: str, status: str, last: date | None, resumed_from: str | None = None) -> RunRecord:
    now = datetime.now(UTC)
    return RunRecord(run_id, "postgres", "sandbox", status, now, None, now, date(2013, 2, 1), last, 1, False,
                     resumed_from, os.getpid(), "test", None)


def test_audit_trail_on_postgres(pg_env):
    audit = AuditTrail("postgres")
    audit.start_run(_record("r1", "running", date(2013, 2, 14)))
    audit.start_step("r1", "load", 1)
    audit.finish_step("r1", "load", "success", rows_in=10, rows_out=250, watermark=date(2013, 2, 14),
                      detail={"rows": {"daily_aggs": 250}})
    audit.start_step("r1", "dbt_build", 2)
    audit.finish_step("r1", "dbt_build", "failed", dbt_invocation_id="inv-1", error="model x failed")
    audit.finish_run("r1", "failed", "step dbt_build failed: model x failed")
    assert audit.watermark() is None  # a failed run moves no watermark
    assert audit.latest_run().status == "failed"

    audit.start_run(_record("r2", "running", date(2013, 2, 14), resumed_from="r1"))
    audit.start_step("r2", "load", 1, status="reused", detail="completed by run r1")
    audit.start_step("r2", "dbt_build", 2)
    # r2's process dies here; the next lock holder finds it still running
    assert audit.mark_interrupted() == ["r2"]
    assert audit.done_steps("r2") == {"load": "r2"}
    assert audit.done_steps("r1") == {"load": "r1"}

    audit.start_run(_record("r3", "running", date(2013, 2, 15)))
    audit.finish_run("r3", "success")
    assert audit.watermark() == date(2013, 2, 15)

    recent = audit.recent(limit=5)
    assert [r.run_id for r, _ in recent] == ["r3", "r2", "r1"]
    r2_steps = {s.step: s.status for s in recent[1][1]}
    assert r2_steps == {"load": "reused", "dbt_build": "interrupted"}
    r1_steps = {s.step: s for s in recent[2][1]}
    assert r1_steps["load"].rows_out == 250 and r1_steps["load"].watermark == date(2013, 2, 14)
    assert r1_steps["dbt_build"].dbt_invocation_id == "inv-1" and r1_steps["dbt_build"].error == "model x failed"


HOLD_LOCK = textwrap.dedent("""
    import sys, time
    from orchestration.run_lock import lock_for
    lock = lock_for(sys.argv[1])
    lock.acquire("holder process")
    print("held", flush=True)
    time.sleep(3600)
""")


def _holder(target: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, target], env=dict(os.environ),
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


@pytest.mark.parametrize("target", ["postgres", "duckdb"])
def test_lock_is_exclusive_and_survives_a_crash(target, request, tmp_path, monkeypatch):
    if target == "postgres":
        request.getfixturevalue("pg_env")
    monkeypatch.setenv("TRADLYTE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("TRADLYTE_DUCKDB_PATH", raising=False)
    proc = _holder(target)
    try:
        with pytest.raises(RunLockBusy, match="holder process"):
            lock_for(target).acquire("second", wait=False)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
    lock = lock_for(target)
    lock.acquire("after the crash", wait=False)  # released by the server / kernel
    try:
        with pytest.raises(RunLockBusy):
            lock_for(target).acquire("third", wait=False)
    finally:
        lock.release()
    if target == "duckdb":
        assert isinstance(lock, FileRunLock) and lock.path.name == "warehouse.duckdb.run.lock"
