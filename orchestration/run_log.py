"""Structured logs for the daily run: every record carries the run id.

The run id lives in a context variable set for the span of one run, and a logging filter copies
it onto every record (also records from dlt, dbt and the alerts service logged in that span).
`configure_logging(json_lines=True)` writes one JSON object per line, for log shippers.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO

current_run_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("tradlyte_run_id", default=None)

log = logging.getLogger("tradlyte.run")

# attributes every LogRecord has; anything else was passed through `extra=` and is structured data
_STANDARD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "run_id"}


class RunIdFilter(logging.Filter):
    """Stamp the current run id (or "-") on each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "run_id", None):
            record.run_id = current_run_id.get() or "-"
        return True


class JsonLinesFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "run_id": getattr(record, "run_id", None) or current_run_id.get(),
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s run=%(run_id)s %(message)s"


def configure_logging(json_lines: bool = False, level: int = logging.INFO, stream: IO | None = None) -> None:
    """One handler on the root logger with the run-id filter (replacing the one installed by an
    earlier call, and the plain handler the CLI group sets up, but no one else's)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler._tradlyte_run_log = True
    handler.addFilter(RunIdFilter())
    handler.setFormatter(JsonLinesFormatter() if json_lines else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_tradlyte_run_log", False) or (
                type(old) is logging.StreamHandler and old.stream in (sys.stderr, sys.stdout)):
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    log.setLevel(logging.INFO)


@contextlib.contextmanager
def run_context(run_id: str) -> Iterator[None]:
    token = current_run_id.set(run_id)
    try:
        yield
    finally:
        current_run_id.reset(token)
