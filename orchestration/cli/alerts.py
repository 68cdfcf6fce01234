"""`tradlyte alerts ...`: run the evaluator, validate rule files, backtest a rule.

Errors a user can hit (bad rule, Redis down, warehouse locked) end with one clear line and a
non-zero exit code, never a traceback.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from orchestration.cli.base import UserErrorGroup
from orchestration.cli.options import DATE, GOLD_READ_TARGETS, check_range

rules_option = click.option("--rules", "rules_path", type=click.Path(path_type=Path), default=None,
                            help="Rule file or folder (env TRADLYTE_ALERTS_RULES, default alerts/rules).")
warehouse_option = click.option("--warehouse", type=click.Choice(GOLD_READ_TARGETS), default=None,
                                help="Where gold lives (env TRADLYTE_ALERTS_WAREHOUSE, default duckdb).")


def _rules_path(given: Path | None) -> Path:
    from alerts.settings import AlertsSettings

    return given or AlertsSettings().rules


def _load(rules_path: Path):
    from alerts.rules import load_rules
    from orchestration.cli.base import UserError

    rules, errors = load_rules(rules_path)
    for err in errors:
        click.echo(f"rule error: {err}", err=True)
    if not rules:
        raise UserError(f"no valid rules in {rules_path}")
    return rules


@click.group("alerts", cls=UserErrorGroup)
def alerts() -> None:
    """Evaluate alert rules on gold and deliver firings (Redis Streams, webhooks, log)."""


@alerts.command("run")
@click.option("--once", "mode", flag_value="once", default=True, help="One pass, then exit (default).")
@click.option("--forever", "mode", flag_value="forever", help="Pass after pass every --interval seconds.")
@click.option("--interval", default=60.0, show_default=True, type=click.FloatRange(min=0),
              help="Seconds between passes.")
@rules_option
@warehouse_option
@click.option("--prefix", default=None, help="Redis key prefix (env TRADLYTE_ALERTS_PREFIX).")
@click.option("--start-at", default=None, help="First run without a cursor: evaluate bars from this UTC time.")
@click.option("--no-staleness", is_flag=True, help="Skip the stale-gold check.")
@click.option("-v", "--verbose", is_flag=True)
def run(mode: str, interval: float, rules_path: Path | None, warehouse: str | None, prefix: str | None,
        start_at: str | None, no_staleness: bool, verbose: bool) -> None:
    """Evaluate the rules on closed bars newer than the cursor and deliver the firings."""
    from datetime import datetime

    from alerts.evaluator import AlertsConfig, Evaluator, _aware, alerts_warehouse

    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    overrides: dict = {"warehouse": alerts_warehouse(warehouse), "rules_path": rules_path, "prefix": prefix}
    if start_at:
        overrides["start_at"] = _aware(datetime.fromisoformat(start_at))
    if no_staleness:
        overrides["check_staleness"] = False
    cfg = AlertsConfig.from_env(**overrides)
    ev = Evaluator(cfg, _load(cfg.rules_path))
    if mode == "forever":
        ev.run_forever(interval=interval)
    else:
        click.echo(ev.run_once().summary())


@alerts.command("check")
@click.argument("rules_path", type=click.Path(path_type=Path), required=False)
def check(rules_path: Path | None) -> None:
    """Validate rule files (default alerts/rules); exit 2 if any is invalid."""
    from alerts.rules import load_rules
    from orchestration.cli.base import UserError

    path = _rules_path(rules_path)
    rules, errors = load_rules(path)
    for r in rules:
        click.echo(f"ok  {r.id} v{r.version} ({r.source_file}): {r.condition.describe()} "
                   f"on {','.join(r.timeframes)}, {r.frequency}, -> {','.join(r.channels)}")
    for err in errors:
        click.echo(f"ERR {err}", err=True)
    if errors:
        raise UserError(f"{len(errors)} problem(s); {len(rules)} rule(s) valid")
    click.echo(f"{len(rules)} rule(s) valid")


@alerts.command("backtest")
@click.argument("rule_id")
@click.option("--from", "start", type=DATE, required=True, help="First session (NY date).")
@click.option("--to", "end", type=DATE, required=True, help="Last session (NY date).")
@rules_option
@warehouse_option
def backtest_cmd(rule_id: str, start, end, rules_path: Path | None, warehouse: str | None) -> None:
    """How often RULE_ID would have fired between --from and --to (from gold)."""
    from alerts.backtest import backtest
    from alerts.evaluator import alerts_warehouse
    from orchestration.cli.base import UserError

    check_range(start, end)
    path = _rules_path(rules_path)
    rules = _load(path)
    match = [r for r in rules if r.id == rule_id]
    if not match:
        raise UserError(f"no valid rule {rule_id!r} in {path} (known: {', '.join(r.id for r in rules)})")
    click.echo(backtest(alerts_warehouse(warehouse), match[0], start, end).report())
