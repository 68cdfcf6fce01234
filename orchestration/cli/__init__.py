"""The `tradlyte` command line: one module per command group, imported only when it runs.

Start-up stays light: this package and the command modules import only click and the standard
library at module level; each command imports what it needs (dlt, dbt, DuckDB, pandas) when
it runs, so `tradlyte --help` and `tradlyte <cmd> --help` answer at once.

Errors a user can hit (`core.errors.TradlyteError`: bad input, a service down, a locked file,
a bad key) end with one line saying what to do and exit 2; `-v` shows the traceback too.
"""

from __future__ import annotations

import os

from orchestration.cli.base import TradlyteGroup

# telemetry off for everything the CLI starts (dlt, dbt, DuckDB-based tools)
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")

# command name -> "module:attribute", imported on first use
COMMANDS = {
    "load": "orchestration.cli.load:load",
    "sandbox": "orchestration.cli.sandbox:sandbox",
    "dbt": "orchestration.cli.dbt:dbt",
    "bars": "orchestration.cli.bars:bars",
    "publish": "orchestration.cli.publish:publish",
    "demo": "orchestration.cli.demo:demo",
    "export-training": "orchestration.cli.export:export_training",
    "run": "orchestration.cli.run:run_command",
    "runs": "orchestration.cli.run:runs_command",
    "schedule": "orchestration.cli.run:schedule_command",
    "status": "orchestration.cli.run:status_command",
    "alerts": "orchestration.cli.alerts:alerts",
}

main = TradlyteGroup(
    name="tradlyte", lazy_commands=COMMANDS,
    help="Tradlyte Pipeline: Polygon (Massive) stock data -> dlt -> dbt bronze/silver/gold.")
