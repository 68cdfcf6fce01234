"""`tradlyte run | runs | schedule | status`: the daily job and what it left behind.

Exit codes of `run`: 0 done (or nothing due), 1 a step failed (rerun to resume), 2 bad input or
an unreachable service, 3 another run holds the lock (without --wait).
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from datetime import datetime, timedelta

import click

from orchestration.cli.options import DATE, NY_TIME, check_range, target_option

STEPS = ("load", "dbt_build", "alerts", "publish")  # orchestration.daily_run.STEPS (a test keeps them equal)

run_target_option = target_option(help="Warehouse the run loads and builds (its audit trail lives there too).")
as_of_option = click.option("--as-of", "as_of", type=NY_TIME, default=None,
                            help="Pretend it is this time (ISO; no offset = New York time). Default: now.")
delay_option = click.option("--delay-minutes", type=click.IntRange(min=0), default=None,
                            help="Minutes after the close before a session is due "
                                 "(env TRADLYTE_RUN_DELAY_MINUTES, default 90).")


def _delay(minutes: int | None) -> timedelta | None:
    return None if minutes is None else timedelta(minutes=minutes)


class JsonObject(click.ParamType):
    name = "JSON"

    def convert(self, value, param, ctx) -> dict:
        if isinstance(value, dict):
            return value
        try:
            parsed = json.loads(value)
        except ValueError as exc:
            self.fail(f"not JSON ({exc})", param, ctx)
        if not isinstance(parsed, dict):
            self.fail("must be a JSON object, e.g. '{\"lookback_sessions\": 20}'", param, ctx)
        return parsed


@click.command("run", help="The daily run: load the due sessions, dbt build, alerts once, publish.")
@run_target_option
@click.option("--source", type=click.Choice(["sandbox", "polygon"]), default="sandbox", show_default=True,
              help="sandbox: the bundled local Polygon server (spec from TRADLYTE_SANDBOX_SPEC); "
                   "polygon: the real API (MASSIVE_API_KEY).")
@click.option("--from", "start", type=DATE, default=None,
              help="First session to load (YYYY-MM-DD); default: after the last completed run.")
@click.option("--to", "end", type=DATE, default=None, help="Last session to load (YYYY-MM-DD); default: latest closed.")
@click.option("--full-refresh", is_flag=True, help="Rebuild every dbt model from scratch.")
@click.option("--dry-run", is_flag=True, help="Print the plan and exit; nothing is loaded or recorded.")
@click.option("--wait", is_flag=True, help="If another run holds the lock, wait for it instead of exiting.")
@click.option("--skip", multiple=True, type=click.Choice(STEPS), help="Skip a step (repeatable).")
@click.option("--rate", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Requests per minute to the source.")
@click.option("--dbt-vars", type=JsonObject(), default=None, help="dbt vars as JSON, passed to dbt build.")
@click.option("--log-json", is_flag=True, help="Log JSON lines (env TRADLYTE_LOG_JSON=1).")
@as_of_option
@delay_option
def run_command(target, source, start, end, full_refresh, dry_run, wait, skip, rate, dbt_vars, log_json,
                as_of, delay_minutes) -> None:
    from orchestration.daily_run import RunOptions, run_daily
    from orchestration.run_log import configure_logging
    from orchestration.sources import sandbox_spec

    check_range(start, end)
    from orchestration.settings import RunSettings

    configure_logging(json_lines=log_json or RunSettings().log_json)
    options = RunOptions(target=target, source=source, start=start, end=end, full_refresh=full_refresh,
                         dry_run=dry_run, as_of=as_of, delay=_delay(delay_minutes), wait=wait, skip=tuple(skip),
                         sandbox_spec=sandbox_spec() if source == "sandbox" else None,
                         requests_per_minute=rate, dbt_vars=dbt_vars)
    result = run_daily(options)
    if result.status == "dry_run":
        click.echo(f"plan for target {target}: {result.plan.describe()}")
        if result.resumed_from:
            click.echo(f"would resume run {result.resumed_from} after its last completed step")
        click.echo("steps: " + ", ".join(f"{s.step} ({s.status})" for s in result.steps))
        return
    click.echo(f"run {result.run_id} on {target}: {result.plan.describe()}"
               + (f" (resumes {result.resumed_from})" if result.resumed_from else ""))
    for step in result.steps:
        rows = f", {step.rows_out:,} rows" if step.rows_out is not None else ""
        click.echo(f"  {step.step:<10} {step.status}{rows}")
    if result.status == "failed":
        click.echo(f"run {result.run_id} failed: {result.error}. Fix the cause and rerun the same command: "
                   "it resumes at the failed step.", err=True)
        sys.exit(result.exit_code)
    click.echo(f"run {result.run_id}: {result.status}")


@click.command("runs", help="Recent daily runs and their steps, from ops.pipeline_runs / ops.pipeline_steps.")
@run_target_option
@click.option("--limit", type=click.IntRange(min=1), default=10, show_default=True)
def runs_command(target, limit) -> None:
    from orchestration.audit import AuditTrail

    audit = AuditTrail(target)
    if not audit.exists():
        click.echo(f"no runs recorded on {target} yet (tradlyte run --target {target})")
        return
    for run, steps in audit.recent(limit=limit):
        span = f"{run.first_session}..{run.last_session}" if run.first_session else "-"
        took = f"{(run.finished_at - run.started_at).total_seconds():.1f}s" if run.finished_at else "-"
        click.echo(f"{run.run_id}  {run.status:<12} sessions {span:<23} started {run.started_at:%Y-%m-%d %H:%M:%S}"
                   f"  took {took}" + (f"  resumed {run.resumed_from}" if run.resumed_from else ""))
        for s in steps:
            extra = []
            if s.rows_out is not None:
                extra.append(f"rows {s.rows_out:,}")
            if s.watermark:
                extra.append(f"watermark {s.watermark}")
            if s.dbt_invocation_id:
                extra.append(f"dbt {s.dbt_invocation_id}")
            if s.error:
                extra.append("error: " + s.error.strip().splitlines()[0][:160])
            elif s.status in ("reused", "skipped") and s.detail:
                extra.append(s.detail)
            click.echo(f"    {s.step:<10} {s.status:<12} " + "  ".join(extra))
        if run.error and not any(s.error for s in steps):
            click.echo(f"    error: {run.error}")


def cron_entry(target: str, delay_minutes: int, python: str, project_root: str, log_path: str) -> str:
    close = datetime(2000, 1, 3, 16, 0) + timedelta(minutes=delay_minutes)
    command = (f"mkdir -p {shlex.quote(os.path.dirname(log_path))} && cd {shlex.quote(project_root)} && "
               f"{shlex.quote(python)} -m orchestration.cli run "
               f"--target {target} --source polygon --log-json >> {shlex.quote(log_path)} 2>&1")
    return "\n".join([
        f"# Tradlyte daily run: weekdays {close:%H:%M} New York time, {delay_minutes} min after the 16:00 close.",
        "# The run asks the NYSE calendar what is due, so holidays, half days and a missed day are handled;",
        "# it takes a lock, so an overlapping start exits at once (exit code 3).",
        "CRON_TZ=America/New_York",
        f"{close.minute} {close.hour} * * 1-5 {command}",
        "# cron without CRON_TZ (Debian/Ubuntu cron): use a systemd timer instead,",
        f"#   OnCalendar=Mon..Fri {close:%H:%M} America/New_York",
    ])


@click.command("schedule", help="Print a cron entry for the daily run (America/New_York time).")
@run_target_option
@delay_option
@click.option("--log-file", default=None, help="Where cron appends the run's log (default data/logs/daily-run.log).")
def schedule_command(target, delay_minutes, log_file) -> None:
    from core.resources import PROJECT_ROOT
    from core.settings import PathSettings
    from orchestration.run_plan import default_delay

    minutes = delay_minutes if delay_minutes is not None else int(default_delay().total_seconds() // 60)
    log_path = log_file or str(PathSettings().data() / "logs" / "daily-run.log")
    click.echo(cron_entry(target, minutes, sys.executable, str(PROJECT_ROOT), log_path))


@click.command("status", help="Freshness per layer, the last run, and the data-gaps count.")
@run_target_option
@as_of_option
@delay_option
@click.option("--check", is_flag=True, help="Exit 1 when a layer is behind the calendar (for monitoring).")
def status_command(target, as_of, delay_minutes, check) -> None:
    from orchestration.status import collect_status

    status = collect_status(target, as_of, _delay(delay_minutes))
    for line in status.lines():
        click.echo(line)
    if check and not status.fresh:
        sys.exit(1)
