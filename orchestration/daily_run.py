"""`tradlyte run`: the daily job — load the due sessions, build dbt, alerts once, publish.

Order and guarantees:
- One run per target at a time (`run_lock`); a second one exits with a clear message or waits.
- The plan (`run_plan`) comes from the NYSE calendar and the last completed run's watermark.
- Every run and step is recorded in `ops.pipeline_runs` / `ops.pipeline_steps` (`audit`).
- A failing step stops the later ones, records its error and makes the run exit non-zero.
- Rerunning the same plan after a failure or a crash resumes after the last completed step
  (the load is an idempotent dlt merge and dbt's incremental models are rebuilt from their
  look-back, so repeating a half-done step never duplicates rows).
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from orchestration.audit import AuditTrail, RunRecord, host_name
from orchestration.run_lock import lock_for
from orchestration.run_log import run_context
from orchestration.run_plan import RunPlan, plan_run

log = logging.getLogger("tradlyte.run")

STEPS = ("load", "dbt_build", "alerts", "publish")
# market_holidays is one request (the upcoming closures); minute bars are not part of the daily run
LOAD_RESOURCES = ["grouped_daily", "tickers", "splits", "dividends", "market_holidays"]
ERROR_TEXT_LIMIT = 4000


class StepFailed(RuntimeError):
    """A step failed; `rows`/`detail`/`invocation_id` are what it got to record before failing."""

    def __init__(self, message: str, invocation_id: str | None = None, detail: Any = None):
        super().__init__(message)
        self.invocation_id, self.detail = invocation_id, detail


@dataclass
class RunOptions:
    target: str = "duckdb"
    source: str = "sandbox"
    start: date | None = None
    end: date | None = None
    full_refresh: bool = False
    dry_run: bool = False
    as_of: datetime | None = None
    delay: timedelta | None = None
    wait: bool = False
    skip: tuple[str, ...] = ()
    sandbox_spec: dict | None = None
    requests_per_minute: float | None = None
    dbt_vars: dict | None = None


@dataclass
class StepOutcome:
    step: str
    status: str
    rows_in: int | None = None
    rows_out: int | None = None
    watermark: date | None = None
    dbt_invocation_id: str | None = None
    detail: Any = None
    error: str | None = None


@dataclass
class RunResult:
    run_id: str | None
    status: str  # success | failed | nothing_due | dry_run
    plan: RunPlan
    steps: list[StepOutcome] = field(default_factory=list)
    resumed_from: str | None = None
    error: str | None = None

    @property
    def exit_code(self) -> int:
        return 1 if self.status == "failed" else 0


# ------------------------------------------------------------------------------- the steps
@dataclass
class StepContext:
    options: RunOptions
    plan: RunPlan
    run_id: str
    loaded_rows: int | None = None


def step_load(ctx: StepContext) -> StepOutcome:
    from ingestion.load import LoadRequest
    from orchestration.sources import load

    opts = ctx.options
    request = LoadRequest(target=opts.target, resources=list(LOAD_RESOURCES),
                          grouped_dates=list(ctx.plan.sessions), start=ctx.plan.first_session,
                          end=ctx.plan.last_session, requests_per_minute=opts.requests_per_minute)
    report = load(opts.source, request, sandbox=opts.sandbox_spec)
    ctx.loaded_rows = report.total_rows
    rows = {k: v for k, v in sorted(report.rows.items()) if not k.startswith("_dlt")}
    return StepOutcome("load", "success", rows_in=len(ctx.plan.sessions), rows_out=report.total_rows,
                       watermark=ctx.plan.last_session, detail={"rows": rows, "load_ids": report.load_ids})


class DbtEventRecorder:
    """dbt's structured events as run log lines (models as they start and finish) and the
    invocation id. dbt runs nodes in worker threads, so the run id is carried explicitly."""

    def __init__(self, run_id: str):
        self.run_id = run_id
        self.invocation_id: str | None = None

    def __call__(self, event) -> None:
        self.invocation_id = self.invocation_id or getattr(event.info, "invocation_id", None) or None
        name = event.info.name
        if name not in ("NodeStart", "NodeFinished"):
            return
        node = event.data.node_info
        level = logging.INFO if node.resource_type in ("model", "seed", "snapshot") else logging.DEBUG
        log.log(level, "dbt %s %s", "started" if name == "NodeStart" else f"finished ({node.node_status})",
                node.unique_id, extra={"run_id": self.run_id, "step": "dbt_build", "dbt_event": name,
                                       "node": node.unique_id, "node_status": node.node_status})


def _gold_row_counts(target: str, results) -> dict[str, int]:
    """Rows in each gold model the build produced (adapters do not report rows for tables)."""
    from core.warehouse import warehouse_for

    relations = sorted({(r.node.schema, r.node.alias) for r in results
                        if r.node.resource_type == "model" and r.node.schema == "gold"
                        and str(r.status) == "success"})
    if not relations:
        return {}
    with warehouse_for(target).connect(read_only=True) as con:
        return {f"{schema}.{table}": int(con.query(f'select count(*) from "{schema}"."{table}"')[0][0])
                for schema, table in relations}


def step_dbt_build(ctx: StepContext) -> StepOutcome:
    from core.warehouse import warehouse_for
    from orchestration.dbt_runner import run_dbt
    from orchestration.raw_tables import ensure_raw_tables

    if ctx.options.target in ("duckdb", "postgres"):
        created = ensure_raw_tables(warehouse_for(ctx.options.target))
        if created:
            log.info("created empty raw tables %s (nothing loaded into them yet)", ", ".join(created),
                     extra={"step": "dbt_build"})
    args = ["build", *(["--full-refresh"] if ctx.options.full_refresh else [])]
    recorder = DbtEventRecorder(ctx.run_id)
    outcome = run_dbt(args, target=ctx.options.target, vars=ctx.options.dbt_vars, raise_on_failure=False,
                      callbacks=[recorder])
    invocation_id = outcome.invocation_id or recorder.invocation_id
    statuses: dict[str, int] = {}
    for result in outcome.results:
        statuses[str(result.status)] = statuses.get(str(result.status), 0) + 1
    detail: dict[str, Any] = {"nodes": len(outcome.results), "statuses": statuses}
    if not outcome.success:
        failures = outcome.failures() or ["dbt build did not complete (see dbt_project/logs/dbt.log)"]
        raise StepFailed(f"dbt build failed ({len(failures)} node(s)): " + "\n".join(failures),
                         invocation_id, detail)
    counts = _gold_row_counts(ctx.options.target, outcome.results) if ctx.options.target != "lake" else {}
    detail["gold_rows"] = counts
    return StepOutcome("dbt_build", "success", rows_in=ctx.loaded_rows, rows_out=sum(counts.values()),
                       watermark=ctx.plan.last_session, dbt_invocation_id=invocation_id, detail=detail)


def step_alerts(ctx: StepContext) -> StepOutcome:
    """One pass of the alerts service over the new gold (what `tradlyte alerts run --once` does)."""
    from alerts.evaluator import AlertsConfig, Evaluator
    from alerts.rules import load_rules
    from core.warehouse import warehouse_for

    if ctx.options.target not in ("duckdb", "postgres"):
        return StepOutcome("alerts", "skipped",
                           detail=f"the alerts service reads gold from duckdb or postgres, not {ctx.options.target}")
    cfg = AlertsConfig.from_env(warehouse=warehouse_for(ctx.options.target))
    rules, errors = load_rules(cfg.rules_path)
    for err in errors:
        log.warning("alert rule problem: %s", err, extra={"step": "alerts"})
    if not rules:
        raise StepFailed(f"no valid alert rules in {cfg.rules_path}")
    as_of = ctx.plan.as_of
    result = Evaluator(cfg, rules, clock=lambda: as_of).run_once()
    return StepOutcome("alerts", "success", rows_in=result.candidates, rows_out=result.decided,
                       detail=result.summary())


def step_publish(ctx: StepContext) -> StepOutcome:
    try:
        from orchestration.publish import publish_gold
    except ImportError as exc:
        raise StepFailed(f"the publish step needs orchestration.publish ({exc}); "
                         "skip it with --skip publish") from None
    published = publish_gold(ctx.options.target)
    return StepOutcome("publish", "success", rows_out=sum(published.values()), detail=published)


STEP_FUNCTIONS: dict[str, Callable[[StepContext], StepOutcome]] = {
    "load": step_load, "dbt_build": step_dbt_build, "alerts": step_alerts, "publish": step_publish,
}


# ------------------------------------------------------------------------------- the run
def _first_line(text: str) -> str:
    return next((line for line in str(text).strip().splitlines() if line.strip()), repr(text))


def make_plan(audit: AuditTrail, options: RunOptions, as_of: datetime, read_only: bool = False) -> RunPlan:
    watermark = audit.watermark(read_only=read_only)
    return plan_run(as_of, watermark, options.start, options.end, options.delay, options.full_refresh)


def dry_run(options: RunOptions) -> RunResult:
    """The plan only: nothing locked, written or loaded (the audit trail is read, read-only)."""
    audit = AuditTrail(options.target)
    as_of = options.as_of or datetime.now(UTC)
    if audit.exists():
        plan = make_plan(audit, options, as_of, read_only=True)
        latest = audit.latest_run(read_only=True)
    else:
        plan, latest = plan_run(as_of, None, options.start, options.end, options.delay, options.full_refresh), None
    resumes = _resumable(latest, plan)
    return RunResult(None, "dry_run", plan, resumed_from=resumes.run_id if resumes else None,
                     steps=[StepOutcome(s, "skipped" if s in options.skip else "planned") for s in STEPS])


def _resumable(latest: RunRecord | None, plan: RunPlan) -> RunRecord | None:
    """The last run, when it stopped part-way through the same plan."""
    if latest is None or latest.status not in ("failed", "interrupted"):
        return None
    same = (latest.first_session == plan.first_session and latest.last_session == plan.last_session
            and bool(latest.full_refresh) == plan.full_refresh)
    return latest if same else None


def run_daily(options: RunOptions) -> RunResult:
    if options.dry_run:
        return dry_run(options)
    unknown = set(options.skip) - set(STEPS)
    if unknown:
        raise ValueError(f"unknown step(s) to skip: {', '.join(sorted(unknown))}; steps are {', '.join(STEPS)}")
    run_id = f"run-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    audit = AuditTrail(options.target)
    if audit.warehouse.kind == "postgres":
        from core.db import ensure_postgres_database

        ensure_postgres_database(audit.warehouse.pg)
    lock = lock_for(options.target)
    with run_context(run_id):
        lock.acquire(f"tradlyte run pid={os.getpid()} run_id={run_id}", wait=options.wait)
        try:
            return _locked_run(options, audit, run_id)
        finally:
            lock.release()


def _locked_run(options: RunOptions, audit: AuditTrail, run_id: str) -> RunResult:
    audit.ensure_tables()
    for stale in audit.mark_interrupted():
        log.warning("run %s was interrupted (its process died); recorded as interrupted", stale)
    as_of = options.as_of or datetime.now(UTC)
    plan = make_plan(audit, options, as_of)
    resumes = _resumable(audit.latest_run(), plan)
    done = audit.done_steps(resumes.run_id) if resumes else {}
    record = RunRecord(run_id=run_id, target=options.target, source=options.source, status="running",
                       started_at=datetime.now(UTC), finished_at=None, as_of=as_of,
                       first_session=plan.first_session, last_session=plan.last_session,
                       session_count=len(plan.sessions), full_refresh=plan.full_refresh,
                       resumed_from=resumes.run_id if resumes else None, pid=os.getpid(), host=host_name(),
                       error=None)
    audit.start_run(record)
    log.info("run started on %s: %s", options.target, plan.describe(),
             extra={"target": options.target, "sessions": len(plan.sessions),
                    "resumed_from": record.resumed_from})
    result = RunResult(run_id, "running", plan, resumed_from=record.resumed_from)
    if not plan.sessions:
        audit.finish_run(run_id, "nothing_due")
        result.status = "nothing_due"
        log.info("nothing due: %s", plan.reason)
        return result
    ctx = StepContext(options, plan, run_id)
    for order, step in enumerate(STEPS, start=1):
        if step in done:
            detail = f"completed by run {done[step]}"
            audit.start_step(run_id, step, order, status="reused", detail=detail)
            result.steps.append(StepOutcome(step, "reused", detail=detail))
            log.info("step %s reused: %s", step, detail, extra={"step": step, "status": "reused"})
            continue
        if step in options.skip:
            audit.start_step(run_id, step, order, status="skipped", detail="skipped by --skip")
            result.steps.append(StepOutcome(step, "skipped", detail="skipped by --skip"))
            log.info("step %s skipped", step, extra={"step": step, "status": "skipped"})
            continue
        audit.start_step(run_id, step, order)
        log.info("step %s started", step, extra={"step": step, "status": "running"})
        try:
            outcome = STEP_FUNCTIONS[step](ctx)
        except Exception as exc:  # noqa: BLE001 - recorded, then the run stops with a non-zero exit
            text = str(exc).strip() or repr(exc)
            if not isinstance(exc, StepFailed):
                text = f"{type(exc).__name__}: {text}"
            audit.finish_step(run_id, step, "failed", error=text[:ERROR_TEXT_LIMIT],
                              dbt_invocation_id=getattr(exc, "invocation_id", None),
                              detail=getattr(exc, "detail", None))
            result.steps.append(StepOutcome(step, "failed", error=text))
            result.status, result.error = "failed", f"step {step} failed: {_first_line(text)}"
            audit.finish_run(run_id, "failed", result.error)
            log.error("step %s failed: %s", step, text, extra={"step": step, "status": "failed"})
            return result
        audit.finish_step(run_id, step, outcome.status, outcome.rows_in, outcome.rows_out, outcome.watermark,
                          outcome.dbt_invocation_id, outcome.detail)
        result.steps.append(outcome)
        log.info("step %s %s (%s rows)", step, outcome.status, outcome.rows_out,
                 extra={"step": step, "status": outcome.status, "rows_out": outcome.rows_out,
                        "dbt_invocation_id": outcome.dbt_invocation_id})
    audit.finish_run(run_id, "success")
    result.status = "success"
    log.info("run finished: success; watermark %s", plan.last_session, extra={"status": "success"})
    return result
