"""The alerts service's audit trail: `ops.alert_firings`, one row per decision and delivery attempt,
in the warehouse gold is read from (DuckDB file or PostgreSQL)."""

from __future__ import annotations

from core.warehouse import Warehouse

AUDIT_DDL = """
create table if not exists ops.alert_firings (
    event_id text,
    run_id text,
    recorded_at timestamptz,
    event text,
    idempotency_key text,
    rule_id text,
    rule_version integer,
    ticker text,
    timeframe text,
    bar_start_at timestamptz,
    channel text,
    attempt integer,
    status text,
    detail text
)
"""

AUDIT_COLUMNS = ("event_id", "run_id", "recorded_at", "event", "idempotency_key", "rule_id", "rule_version",
                 "ticker", "timeframe", "bar_start_at", "channel", "attempt", "status", "detail")


def write_audit(wh: Warehouse, rows: list[tuple]) -> None:
    """Append audit rows to ops.alert_firings (created if missing) in one short write span."""
    if not rows:
        return
    with wh.connect(read_only=False) as con:
        con.execute("create schema if not exists ops")
        con.execute(AUDIT_DDL)
        cols = ", ".join(AUDIT_COLUMNS)
        if con.kind == "duckdb":  # bulk insert through a registered frame; executemany is row by row
            import pandas as pd

            frame = pd.DataFrame(rows, columns=list(AUDIT_COLUMNS))
            for c in ("recorded_at", "bar_start_at"):
                frame[c] = pd.to_datetime(frame[c], utc=True)
            for c in ("rule_version", "attempt"):
                frame[c] = frame[c].astype("Int64")
            con.raw.register("alert_audit_rows", frame)
            con.execute(f"insert into ops.alert_firings ({cols}) select {cols} from alert_audit_rows")
            con.raw.unregister("alert_audit_rows")
        else:
            from psycopg2.extras import execute_values

            with con.raw.cursor() as cur:
                execute_values(cur, f"insert into ops.alert_firings ({cols}) values %s", rows, page_size=1000)
