"""`tradlyte alerts ...`: run the evaluator, validate rule files, backtest a rule.

Errors a user can hit (bad rule, Redis down, warehouse locked) end with one clear line and a
non-zero exit code, never a traceback.
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import date
from pathlib import Path

import click

os.environ.setdefault("DO_NOT_TRACK", "1")


class AlertsError(click.ClickException):
    exit_code = 2


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")


def _load(rules_path: Path, strict: bool):
    from alerts.rules import load_rules

    rules, errors = load_rules(rules_path)
    for err in errors:
        click.echo(f"rule error: {err}", err=True)
    if errors and strict:
        raise AlertsError(f"{len(errors)} rule file problem(s) in {rules_path}")
    if not rules:
        raise AlertsError(f"no valid rules in {rules_path}")
    return rules, errors


@click.group("alerts")
def alerts() -> None:
    """Evaluate alert rules on gold and deliver firings (Redis Streams, webhooks, log)."""


@alerts.command("run")
@click.option("--once", "mode", flag_value="once", default=True, help="One pass, then exit (default).")
@click.option("--forever", "mode", flag_value="forever", help="Pass after pass every --interval seconds.")
@click.option("--interval", default=60.0, show_default=True, type=float, help="Seconds between passes.")
@click.option("--rules", "rules_path", type=click.Path(path_type=Path), default=None,
              help="Rule file or folder (env TRADLYTE_ALERTS_RULES, default alerts/rules).")
@click.option("--warehouse", type=click.Choice(["duckdb", "postgres"]), default=None,
              help="Where gold lives (env TRADLYTE_ALERTS_WAREHOUSE, default duckdb).")
@click.option("--prefix", default=None, help="Redis key prefix (env TRADLYTE_ALERTS_PREFIX).")
@click.option("--start-at", default=None, help="First run without a cursor: evaluate bars from this UTC time.")
@click.option("--no-staleness", is_flag=True, help="Skip the stale-gold check.")
@click.option("-v", "--verbose", is_flag=True)
def run(mode: str, interval: float, rules_path: Path | None, warehouse: str | None, prefix: str | None,
        start_at: str | None, no_staleness: bool, verbose: bool) -> None:
    """Evaluate the rules on closed bars newer than the cursor and deliver the firings."""
    from datetime import datetime

    from alerts.evaluator import AlertsConfig, ConfigError, Evaluator, _aware
    from alerts.state import RedisUnavailable
    from alerts.warehouse import Warehouse, WarehouseError

    _setup_logging(verbose)
    try:
        overrides: dict = {"warehouse": Warehouse.from_env(warehouse), "rules_path": rules_path, "prefix": prefix}
        if start_at:
            overrides["start_at"] = _aware(datetime.fromisoformat(start_at))
        if no_staleness:
            overrides["check_staleness"] = False
        cfg = AlertsConfig.from_env(**overrides)
        rules, _ = _load(cfg.rules_path, strict=False)
        ev = Evaluator(cfg, rules)
        if mode == "forever":
            ev.run_forever(interval=interval)
        else:
            click.echo(ev.run_once().summary())
    except (RedisUnavailable, WarehouseError, ConfigError) as exc:
        raise AlertsError(str(exc)) from None


@alerts.command("check")
@click.argument("rules_path", type=click.Path(path_type=Path), required=False)
def check(rules_path: Path | None) -> None:
    """Validate rule files (default alerts/rules); exit 2 if any is invalid."""
    from alerts.evaluator import DEFAULT_RULES
    from alerts.rules import load_rules

    path = rules_path or Path(os.environ.get("TRADLYTE_ALERTS_RULES", DEFAULT_RULES))
    rules, errors = load_rules(path)
    for r in rules:
        click.echo(f"ok  {r.id} v{r.version} ({r.source_file}): {r.condition.describe()} "
                   f"on {','.join(r.timeframes)}, {r.frequency}, -> {','.join(r.channels)}")
    for err in errors:
        click.echo(f"ERR {err}", err=True)
    if errors:
        raise AlertsError(f"{len(errors)} problem(s); {len(rules)} rule(s) valid")
    click.echo(f"{len(rules)} rule(s) valid")


@alerts.command("backtest")
@click.argument("rule_id")
@click.option("--from", "start", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First session (NY date).")
@click.option("--to", "end", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Last session (NY date).")
@click.option("--rules", "rules_path", type=click.Path(path_type=Path), default=None)
@click.option("--warehouse", type=click.Choice(["duckdb", "postgres"]), default=None)
def backtest_cmd(rule_id: str, start, end, rules_path: Path | None, warehouse: str | None) -> None:
    """How often RULE_ID would have fired between --from and --to (from gold)."""
    from alerts.backtest import backtest
    from alerts.evaluator import DEFAULT_RULES
    from alerts.warehouse import Warehouse, WarehouseError

    path = rules_path or Path(os.environ.get("TRADLYTE_ALERTS_RULES", DEFAULT_RULES))
    rules, _ = _load(path, strict=False)
    match = [r for r in rules if r.id == rule_id]
    if not match:
        raise AlertsError(f"no valid rule {rule_id!r} in {path} (known: {', '.join(r.id for r in rules)})")
    s, e = date.fromisoformat(start.date().isoformat()), date.fromisoformat(end.date().isoformat())
    if e < s:
        raise AlertsError("--to is before --from")
    try:
        result = backtest(Warehouse.from_env(warehouse), match[0], s, e)
    except WarehouseError as exc:
        raise AlertsError(str(exc)) from None
    click.echo(result.report())


def main() -> None:  # pragma: no cover
    alerts()


if __name__ == "__main__":  # pragma: no cover
    main()
