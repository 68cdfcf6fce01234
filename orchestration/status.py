"""`tradlyte status`: how fresh each layer is, the last run, and how many data gaps gold lists.

Freshness of a layer = its newest session date against the newest session the NYSE calendar
says should be loaded by now (close + the run delay). Everything is read read-only, briefly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from core.calendar import latest_closed_session, session_dates
from orchestration.audit import AuditTrail, RunRecord, StepRecord, _as_date
from orchestration.run_plan import default_delay

LAYER_QUERIES = {
    "raw": "select max(session_date) from raw_polygon.daily_aggs",
    "bronze": "select max(session_date) from bronze.bronze_daily_aggs",
    "silver": "select max(session_date) from silver.silver_daily_bars",
    "gold": "select max(last_session_date) from gold.bars where timeframe = '1d'",
}


@dataclass
class LayerFreshness:
    layer: str
    latest_session: date | None
    sessions_behind: int | None
    error: str | None = None


@dataclass
class Status:
    target: str
    warehouse: str
    as_of: datetime
    expected_session: date | None
    layers: list[LayerFreshness] = field(default_factory=list)
    last_run: tuple[RunRecord, list[StepRecord]] | None = None
    gaps: int | None = None
    gaps_error: str | None = None

    @property
    def fresh(self) -> bool:
        return all(layer.sessions_behind == 0 for layer in self.layers)

    def lines(self) -> list[str]:
        out = [f"target {self.target} ({self.warehouse}) at {self.as_of:%Y-%m-%d %H:%M %Z}",
               f"expected latest session: {self.expected_session or 'none'}", "",
               f"{'layer':<8}{'latest session':<16}behind"]
        for layer in self.layers:
            if layer.error:
                out.append(f"{layer.layer:<8}{'-':<16}unavailable: {layer.error}")
            else:
                behind = "up to date" if layer.sessions_behind == 0 else (
                    "empty" if layer.sessions_behind is None else f"{layer.sessions_behind} session(s)")
                out.append(f"{layer.layer:<8}{str(layer.latest_session or '-'):<16}{behind}")
        out.append("")
        if self.last_run is None:
            out.append("last run: none recorded (tradlyte run)")
        else:
            run, steps = self.last_run
            span = f"{run.first_session} .. {run.last_session}" if run.first_session else "no sessions"
            out.append(f"last run: {run.run_id} {run.status}, started {run.started_at:%Y-%m-%d %H:%M:%S %Z}, "
                       f"sessions {span}")
            out.extend(f"  {s.step:<10}{s.status:<12}rows {s.rows_out if s.rows_out is not None else '-'}"
                       + (f"  {s.error.splitlines()[0][:120]}" if s.error else "") for s in steps)
            if run.error:
                out.append(f"  error: {run.error}")
        out.append(f"data gaps: {self.gaps if self.gaps is not None else 'unavailable: ' + str(self.gaps_error)}"
                   " (gold.data_gaps)")
        return out


def _sessions_behind(latest: date | None, expected: date | None) -> int | None:
    if latest is None:
        return None
    if expected is None or latest >= expected:
        return 0
    return len(session_dates(latest + timedelta(days=1), expected))


def _short(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]


def collect_status(target: str, as_of: datetime | None = None, delay: timedelta | None = None) -> Status:
    audit = AuditTrail(target)
    wh = audit.warehouse
    as_of = as_of or datetime.now(UTC)
    expected = latest_closed_session(as_of, default_delay() if delay is None else delay)
    status = Status(target, wh.describe(), as_of, expected)
    with wh.connect(read_only=True) as con:
        for layer, sql in LAYER_QUERIES.items():
            try:
                latest = _as_date(con.query(sql)[0][0])
                status.layers.append(LayerFreshness(layer, latest, _sessions_behind(latest, status.expected_session)))
            except Exception as exc:  # noqa: BLE001 - a missing layer is reported, not fatal
                _rollback(con)
                status.layers.append(LayerFreshness(layer, None, None, _short(exc)))
        try:
            status.gaps = int(con.query("select count(*) from gold.data_gaps")[0][0])
        except Exception as exc:  # noqa: BLE001
            _rollback(con)
            status.gaps_error = _short(exc)
    if audit.exists():
        recent = audit.recent(limit=1)
        status.last_run = recent[0] if recent else None
    return status


def _rollback(con) -> None:
    if con.kind == "postgres":
        con.raw.rollback()
