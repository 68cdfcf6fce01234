"""The audit trail of the daily run: `ops.pipeline_runs` (one row per run) and
`ops.pipeline_steps` (one row per step of a run), in the target's own warehouse.

Connections go through `core.warehouse.Warehouse` (the same TRADLYTE_* settings as dbt's
profile), each operation in one short span, so a DuckDB file is never held between steps.
A run that resumes an interrupted one gets its own run id and points at it (`resumed_from`);
the steps already done are recorded as `reused`.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from core.db import ensure_postgres_database
from core.warehouse import Warehouse, warehouse_for

RUNS_DDL = """
create table if not exists ops.pipeline_runs (
    run_id text primary key,
    target text not null,
    source text,
    status text not null,
    started_at timestamptz not null,
    finished_at timestamptz,
    as_of timestamptz,
    first_session date,
    last_session date,
    session_count integer,
    full_refresh boolean,
    resumed_from text,
    pid integer,
    host text,
    error text
)
"""

STEPS_DDL = """
create table if not exists ops.pipeline_steps (
    run_id text not null,
    step text not null,
    step_order integer not null,
    status text not null,
    started_at timestamptz not null,
    finished_at timestamptz,
    rows_in bigint,
    rows_out bigint,
    watermark date,
    dbt_invocation_id text,
    detail text,
    error text,
    primary key (run_id, step)
)
"""

DONE_STEP_STATUSES = ("success", "reused")


def now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass
class StepRecord:
    run_id: str
    step: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    rows_in: int | None
    rows_out: int | None
    watermark: date | None
    dbt_invocation_id: str | None
    detail: str | None
    error: str | None


@dataclass
class RunRecord:
    run_id: str
    target: str
    source: str | None
    status: str
    started_at: datetime
    finished_at: datetime | None
    as_of: datetime | None
    first_session: date | None
    last_session: date | None
    session_count: int | None
    full_refresh: bool | None
    resumed_from: str | None
    pid: int | None
    host: str | None
    error: str | None


RUN_COLUMNS = tuple(RunRecord.__dataclass_fields__)
STEP_COLUMNS = tuple(StepRecord.__dataclass_fields__)


class AuditTrail:
    def __init__(self, target: str, warehouse: Warehouse | None = None):
        self.target = target
        self.warehouse = warehouse or warehouse_for(target)
        self._ready = False

    # ------------------------------------------------------------------ setup
    def ensure_tables(self) -> None:
        if self._ready:
            return
        if self.warehouse.kind == "postgres":
            ensure_postgres_database(self.warehouse.pg)
        else:
            Path(self.warehouse.duckdb_path).parent.mkdir(parents=True, exist_ok=True)
        with self.warehouse.connect(read_only=False) as con:
            con.execute("create schema if not exists ops")
            con.execute(RUNS_DDL)
            con.execute(STEPS_DDL)
        self._ready = True

    def exists(self) -> bool:
        """Whether the audit tables exist (without creating anything): for read-only commands."""
        if self.warehouse.kind == "duckdb" and not Path(self.warehouse.duckdb_path).exists():
            return False
        with self.warehouse.connect(read_only=True) as con:
            return con.table_exists("ops", "pipeline_runs") and con.table_exists("ops", "pipeline_steps")

    # ------------------------------------------------------------------ runs
    def start_run(self, run: RunRecord) -> None:
        self.ensure_tables()
        values = [getattr(run, c) for c in RUN_COLUMNS]
        with self.warehouse.connect(read_only=False) as con:
            con.execute(f"insert into ops.pipeline_runs ({', '.join(RUN_COLUMNS)}) values "
                        f"({', '.join('?' for _ in RUN_COLUMNS)})", values)

    def finish_run(self, run_id: str, status: str, error: str | None = None) -> None:
        with self.warehouse.connect(read_only=False) as con:
            con.execute("update ops.pipeline_runs set status = ?, finished_at = ?, error = ? where run_id = ?",
                        [status, now_utc(), error, run_id])

    def mark_interrupted(self) -> list[str]:
        """Runs and steps still `running` although we now hold the run lock: their process died
        (killed, OOM, power cut). Record that, so the trail never shows a run running forever."""
        self.ensure_tables()
        message = "the process ended without recording a result (killed or crashed)"
        with self.warehouse.connect(read_only=False) as con:
            stale = [r[0] for r in con.query(
                "select run_id from ops.pipeline_runs where target = ? and status = 'running'", [self.target])]
            for run_id in stale:
                con.execute("update ops.pipeline_steps set status = 'interrupted', finished_at = ?, error = ? "
                            "where run_id = ? and status = 'running'", [now_utc(), message, run_id])
                con.execute("update ops.pipeline_runs set status = 'interrupted', finished_at = ?, error = ? "
                            "where run_id = ?", [now_utc(), message, run_id])
        return stale

    # ------------------------------------------------------------------ steps
    def start_step(self, run_id: str, step: str, order: int, status: str = "running",
                   detail: str | None = None) -> None:
        finished = now_utc() if status != "running" else None
        with self.warehouse.connect(read_only=False) as con:
            con.execute("insert into ops.pipeline_steps (run_id, step, step_order, status, started_at, "
                        "finished_at, detail) values (?, ?, ?, ?, ?, ?, ?)",
                        [run_id, step, order, status, now_utc(), finished, detail])

    def finish_step(self, run_id: str, step: str, status: str, rows_in: int | None = None,
                    rows_out: int | None = None, watermark: date | None = None,
                    dbt_invocation_id: str | None = None, detail: Any = None, error: str | None = None) -> None:
        text = detail if detail is None or isinstance(detail, str) else json.dumps(detail, default=str,
                                                                                    sort_keys=True)
        with self.warehouse.connect(read_only=False) as con:
            con.execute("update ops.pipeline_steps set status = ?, finished_at = ?, rows_in = ?, rows_out = ?, "
                        "watermark = ?, dbt_invocation_id = ?, detail = ?, error = ? "
                        "where run_id = ? and step = ?",
                        [status, now_utc(), rows_in, rows_out, watermark, dbt_invocation_id, text, error,
                         run_id, step])

    # ------------------------------------------------------------------ reading
    def _runs(self, con, where: str = "", params: list | None = None, limit: int | None = None) -> list[RunRecord]:
        sql = (f"select {', '.join(RUN_COLUMNS)} from ops.pipeline_runs where target = ? {where} "
               "order by started_at desc, run_id desc" + (f" limit {int(limit)}" if limit else ""))
        return [RunRecord(*row) for row in con.query(sql, [self.target, *(params or [])])]

    def watermark(self, read_only: bool = False) -> date | None:
        """The newest session of any completed run: the next run starts after it."""
        if not read_only:
            self.ensure_tables()
        with self.warehouse.connect(read_only=read_only) as con:
            row = con.query("select max(last_session) from ops.pipeline_runs where target = ? "
                            "and status = 'success'", [self.target])
        return _as_date(row[0][0]) if row else None

    def latest_run(self, read_only: bool = False) -> RunRecord | None:
        if not read_only:
            self.ensure_tables()
        with self.warehouse.connect(read_only=read_only) as con:
            runs = self._runs(con, "and status <> 'dry_run'", limit=1)
        return runs[0] if runs else None

    def done_steps(self, run_id: str, read_only: bool = False) -> dict[str, str]:
        """Steps of `run_id` that completed, each with the run that did it (following resumes)."""
        done: dict[str, str] = {}
        with self.warehouse.connect(read_only=read_only) as con:
            rows = con.query("select step, status from ops.pipeline_steps where run_id = ?", [run_id])
            origin = con.query("select resumed_from from ops.pipeline_runs where run_id = ?", [run_id])
        for step, status in rows:
            if status in DONE_STEP_STATUSES:
                done[step] = run_id
        if origin and origin[0][0]:
            for step, source_run in self.done_steps(origin[0][0], read_only).items():
                done.setdefault(step, source_run)
        return done

    def recent(self, limit: int = 10, read_only: bool = True) -> list[tuple[RunRecord, list[StepRecord]]]:
        with self.warehouse.connect(read_only=read_only) as con:
            runs = self._runs(con, limit=limit)
            out = []
            for run in runs:
                steps = [StepRecord(*row) for row in con.query(
                    f"select {', '.join(STEP_COLUMNS)} from ops.pipeline_steps where run_id = ? "
                    "order by step_order", [run.run_id])]
                out.append((run, steps))
        return out


def _as_date(value) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def host_name() -> str:
    return socket.gethostname()
