"""The alerts evaluator: closed gold bars newer than the cursor -> firings -> channels.

One pass (`Evaluator.run_once`):

1. heartbeat; staleness check (gold's latest session against the NYSE calendar): when stale,
   one `data_stale` system alert per stale episode, price alerts held back, cursor unchanged;
2. per timeframe, one set-based SQL query over the warehouse for every rule (alerts/sql.py),
   bars in (cursor, latest closed bar];
3. decisions in bar order per (rule, timeframe, ticker): already decided (a re-run after a
   crash) -> deliver what is missing; superseded / in cooldown / silenced -> suppressed;
   otherwise decided (recorded in Redis in a MULTI/EXEC with the cooldown reference);
4. delivery per channel, skipping keys already delivered, a global rate limit per channel with
   one digest for the overflow;
5. audit rows to ops.alert_firings, then the cursor is saved.

A crash anywhere re-runs the same bars on restart; the dedup keys make that harmless.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import signal
import socket
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from alerts import channels as ch
from alerts.audit import write_audit
from alerts.rules import Rule, parse_duration
from alerts.settings import DEFAULT_RULES, AlertsSettings, default_stale_grace
from alerts.sql import compile_timeframe
from alerts.state import RedisUnavailable, State, connect_redis, iso
from core.calendar import latest_closed_session
from core.db import DatabaseError
from core.errors import TradlyteError
from core.settings import RedisSettings
from core.targets import GOLD_READ_TARGETS
from core.warehouse import Warehouse, warehouse_for

log = logging.getLogger("tradlyte.alerts")
_EPS = timedelta(microseconds=1)


class ConfigError(TradlyteError, ValueError):
    """A setting or rule set the service cannot run with; the message says which."""


def alerts_warehouse(kind: str | None = None) -> Warehouse:
    """The warehouse gold is read from: `kind`, else TRADLYTE_ALERTS_WAREHOUSE (default duckdb)."""
    kind = kind or AlertsSettings().warehouse
    if kind not in GOLD_READ_TARGETS:
        raise ConfigError(f"unknown warehouse {kind!r}: use {' or '.join(GOLD_READ_TARGETS)}")
    return warehouse_for(kind)


def _rate_limits_from_env(text: str | None) -> dict[str, tuple[int, int]]:
    """`redis=100/60,webhook=20/60` -> {channel: (max deliveries, window seconds)}."""
    out: dict[str, tuple[int, int]] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        try:
            name, spec = part.split("=")
            n, secs = spec.split("/")
            out[name.strip()] = (int(n), int(parse_duration(secs.strip()).total_seconds()))
        except ValueError:
            raise ConfigError(f"TRADLYTE_ALERTS_RATE_LIMIT: cannot parse {part!r} (use channel=N/60s)") from None
    return out


@dataclass
class AlertsConfig:
    rules_path: Path = DEFAULT_RULES
    redis_url: str = "redis://127.0.0.1:6379/0"
    prefix: str = "tradlyte:alerts:"
    stream: str | None = None              # default <prefix>stream
    dead_letter_stream: str | None = None  # default <prefix>deadletter
    stream_maxlen: int = 1_000_000
    webhook_url: str | None = None
    webhook_secret: str = ""
    webhook_timeout: float = 5.0
    webhook_retries: int = 3
    webhook_backoff: float = 0.5
    rate_limits: dict[str, tuple[int, int]] = field(default_factory=dict)
    check_staleness: bool = True
    stale_grace: timedelta = field(default_factory=default_stale_grace)
    system_channels: tuple[str, ...] | None = None
    heartbeat_ttl: int = 180
    batch_size: int = 500
    start_at: datetime | None = None       # first run without a cursor: bars from here (default: latest bar)
    warehouse: Warehouse = field(default_factory=alerts_warehouse)

    def __post_init__(self) -> None:
        self.stream = self.stream or self.prefix + "stream"
        self.dead_letter_stream = self.dead_letter_stream or self.prefix + "deadletter"

    @classmethod
    def from_env(cls, **overrides) -> AlertsConfig:
        env = AlertsSettings()
        kw: dict = {
            "rules_path": env.rules,
            "redis_url": RedisSettings().url.get_secret_value(),
            "prefix": env.prefix,
            "stream": env.stream,
            "dead_letter_stream": env.dead_letter_stream,
            "webhook_url": env.webhook_url.get_secret_value() if env.webhook_url else None,
            "webhook_secret": env.webhook_secret.get_secret_value(),
            "webhook_backoff": env.webhook_backoff,
            "rate_limits": _rate_limits_from_env(env.rate_limit),
            "batch_size": env.batch_size,
            "check_staleness": env.check_staleness,
        }
        if env.stale_grace:
            kw["stale_grace"] = parse_duration(env.stale_grace)
        if env.start_at:
            kw["start_at"] = _aware(env.start_at)
        kw.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**kw)

    def channels_available(self) -> tuple[str, ...]:
        return ("redis", "log") + (("webhook",) if self.webhook_url else ())


def _aware(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


# ------------------------------------------------------------------ staleness

@dataclass
class Staleness:
    stale: bool
    latest_session: date | None
    expected_session: date | None


def latest_gold_session(con) -> date | None:
    row = con.query("select max(last_session_date) from gold.bars where timeframe = ? and is_complete", ["1d"])
    if row[0][0] is None:
        row = con.query("select max(last_session_date) from gold.bars where is_complete")
    value = row[0][0]
    return value.date() if isinstance(value, datetime) else value


# ------------------------------------------------------------------ crash points (fault tests)

_crash_counter = {"n": 0}


@functools.cache
def _crash_target() -> int | None:
    return AlertsSettings().crash_at


def crash_point(name: str) -> None:
    """With TRADLYTE_ALERTS_CRASH_AT=N, SIGKILL this process at the N-th crash point (tests)."""
    target = _crash_target()
    if not target:
        return
    _crash_counter["n"] += 1
    if _crash_counter["n"] == target:
        os.kill(os.getpid(), signal.SIGKILL)


# ------------------------------------------------------------------ results

@dataclass
class RunResult:
    run_id: str
    stale: bool = False
    staleness: Staleness | None = None
    candidates: int = 0
    decided: int = 0
    suppressed: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    delivered: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    digests: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    dead_lettered: int = 0
    cursors: dict[str, str] = field(default_factory=dict)
    firings: list[dict] = field(default_factory=list)

    def summary(self) -> str:
        if self.stale:
            s = self.staleness
            return (f"run {self.run_id}: gold is stale (latest session {s.latest_session if s else None}, "
                    f"expected {s.expected_session if s else None}); price alerts held back")
        return (f"run {self.run_id}: {self.candidates} candidate(s), {self.decided} new firing(s), "
                f"delivered {dict(self.delivered)}, digests {dict(self.digests)}, "
                f"suppressed {dict(self.suppressed)}, dead-lettered {self.dead_lettered}")


# ------------------------------------------------------------------ evaluator

class Evaluator:
    def __init__(self, config: AlertsConfig, rules: list[Rule], clock: Callable[[], datetime] | None = None):
        self.cfg, self.rules = config, rules
        self.clock = clock or (lambda: datetime.now(UTC))
        available = config.channels_available()
        for r in rules:
            missing = [c for c in r.channels if c not in available]
            if missing:
                raise ConfigError(f"rule {r.id!r} ({r.source_file}) uses channel(s) {missing} that are not "
                                  "configured (set TRADLYTE_ALERTS_WEBHOOK_URL for webhook)")
        self._http = None

    # ---------------------------------------------------------------- helpers
    def _state(self) -> State:
        return State(connect_redis(self.cfg.redis_url), self.cfg.prefix)

    def _audit_row(self, run_id: str, event: str, f: dict | None, channel: str | None = None,
                   attempt: int | None = None, status: str = "", detail: str = "") -> tuple:
        f = f or {}
        bar = f.get("bar_start_at")
        return (uuid.uuid4().hex, run_id, self.clock(), event, f.get("idempotency_key"), f.get("rule_id"),
                f.get("rule_version"), f.get("ticker"), f.get("timeframe"),
                datetime.fromisoformat(bar.replace("Z", "+00:00")) if bar else None,
                channel, attempt, status, detail[:2000])

    # ---------------------------------------------------------------- one pass
    def run_once(self) -> RunResult:
        """One pass. Raises RedisUnavailable if Redis fails at any point (what was not marked
        delivered is retried on the next pass) and DatabaseError if gold cannot be read."""
        import redis

        try:
            return self._run_once()
        except redis.RedisError as exc:
            raise RedisUnavailable(f"Redis failed during the pass ({type(exc).__name__}: {exc}); "
                                   "deliveries not marked done will be retried on the next pass") from exc

    def _run_once(self) -> RunResult:
        run_id = uuid.uuid4().hex[:12]
        res = RunResult(run_id=run_id)
        now = self.clock()
        state = self._state()
        self._beat(state, run_id, "running")
        audit: list[tuple] = []
        wh = self.cfg.warehouse

        with wh.connect(read_only=True) as con:
            needed = ["bars", "indicators"] + (["signals"] if any(r.condition.kind == "signal" for r in self.rules)
                                               else [])
            missing = [f"gold.{t}" for t in needed if not con.table_exists("gold", t)]
            if missing:
                raise DatabaseError(f"{', '.join(missing)} not found in {wh.describe()}: build gold first "
                                     "(tradlyte dbt build)")
            if self.cfg.check_staleness:
                latest = latest_gold_session(con)
                expected = latest_closed_session(now, self.cfg.stale_grace)
                res.staleness = Staleness(latest is None or (expected is not None and latest < expected),
                                          latest, expected)
            candidates, uppers = self._evaluate(con, state) if not (res.staleness and res.staleness.stale) \
                else ([], {})

        if res.staleness and res.staleness.stale:
            res.stale = True
            self._system_stale(state, res, audit, now)
            self._write_audit(audit)
            self._beat(state, run_id, "stale")
            log.warning(res.summary())
            return res

        res.candidates = len(candidates)
        firings = self._decide(state, candidates, res, audit, now)
        crash_point("decided")
        self._deliver(state, firings, res, audit, now)
        crash_point("delivered")
        self._write_audit(audit)
        crash_point("audited")
        for tf, upper in uppers.items():
            state.set_cursor(tf, upper)
            res.cursors[tf] = iso(upper)
        crash_point("cursor")
        self._beat(state, run_id, "ok")
        res.firings = firings
        log.info(res.summary())
        return res

    def _beat(self, state: State, run_id: str, status: str) -> None:
        state.heartbeat({"run_id": run_id, "status": status, "pid": os.getpid(), "host": socket.gethostname(),
                         "at": iso(datetime.now(UTC))}, self.cfg.heartbeat_ttl)

    def _evaluate(self, con, state: State) -> tuple[list[tuple[Rule, str, str, datetime, float | None]], dict]:
        by_tf: dict[str, list[Rule]] = defaultdict(list)
        for r in self.rules:
            for tf in r.timeframes:
                by_tf[tf].append(r)
        out = []
        uppers: dict[str, datetime] = {}
        for tf, rules in sorted(by_tf.items()):
            upper = con.query("select max(bar_start_at) from gold.bars where timeframe = ? and is_complete", [tf])
            upper = upper[0][0]
            if upper is None:
                continue
            upper = _aware(upper)
            cursor = state.get_cursor(tf)
            if cursor is None:
                cursor = (_aware(self.cfg.start_at) - _EPS) if self.cfg.start_at else upper - _EPS
            if upper <= cursor:
                continue
            q = compile_timeframe(rules, tf, cursor, upper)
            for rule_index, ticker, bar_start_at, value in con.query(q.sql, q.params):
                out.append((rules[rule_index], ticker, tf, _aware(bar_start_at), value))
            uppers[tf] = upper
        return out, uppers

    # ---------------------------------------------------------------- decisions
    def _decide(self, state: State, candidates, res: RunResult, audit: list, now: datetime) -> list[dict]:
        groups: dict[tuple[str, str, str], list] = defaultdict(list)
        for c in candidates:
            rule, ticker, tf, bar, _ = c
            groups[(rule.id, tf, ticker)].append(c)
        keys_all = [firing_key(c[0], c[1], c[2], c[3]) for c in candidates]
        fired = dict(zip(keys_all, state.fired_many(keys_all), strict=True))
        gkeys = list(groups)
        lasts = dict(zip(gkeys, state.last_many(gkeys), strict=True))
        firings: list[dict] = []
        new: list[dict] = []
        for g in gkeys:
            last = lasts[g]
            for rule, ticker, tf, bar, value in sorted(groups[g], key=lambda c: c[3]):
                key = firing_key(rule, ticker, tf, bar)
                rec = fired.get(key)
                if rec:  # decided in an earlier (crashed) pass: deliver whatever is missing
                    firings.append(rec)
                    last = bar if last is None or bar > last else last
                    continue
                stub = {"idempotency_key": key, "rule_id": rule.id, "rule_version": rule.version,
                        "ticker": ticker, "timeframe": tf, "bar_start_at": iso(bar)}
                reason = None
                if last is not None and bar <= last:
                    reason = "superseded"
                elif rule.in_cooldown(bar, last):
                    reason = "cooldown"
                elif rule.silenced(now):
                    reason = "silenced"
                if reason:
                    res.suppressed[reason] += 1
                    audit.append(self._audit_row(res.run_id, "suppressed", stub, status=reason))
                    continue
                rec = {"kind": "firing", **stub, "description": rule.description,
                       "condition": rule.condition.describe(), "frequency": rule.frequency,
                       "value": None if value is None else float(value), "fired_at": iso(now),
                       "run_id": res.run_id, "channels": list(rule.channels)}
                new.append(rec)
                firings.append(rec)
                last = bar
        for i in range(0, len(new), self.cfg.batch_size):
            chunk = new[i:i + self.cfg.batch_size]
            state.decide(chunk)
            for rec in chunk:
                audit.append(self._audit_row(res.run_id, "fired", rec, status="decided",
                                             detail=f"value={rec['value']}"))
            crash_point("decide-chunk")
        res.decided = len(new)
        return firings

    # ---------------------------------------------------------------- delivery
    def _deliver(self, state: State, firings: list[dict], res: RunResult, audit: list, now: datetime,
                 rate_limited: bool = True) -> None:
        available = self.cfg.channels_available()
        for channel in ("redis", "webhook", "log"):
            items = [f for f in firings if channel in f["channels"]]
            if not items:
                continue
            if channel not in available:  # decided under an older configuration
                log.warning("%d firing(s) for channel %s, which is not configured now: skipped", len(items),
                            channel)
                for f in items:
                    audit.append(self._audit_row(res.run_id, "delivery", f, channel, 0, "unconfigured"))
                continue
            done = state.delivered_many(channel, [f["idempotency_key"] for f in items])
            pending = [f for f, d in zip(items, done, strict=True) if not d]
            if not pending:
                continue
            limit = self.cfg.rate_limits.get(channel) if rate_limited else None
            window, secs = 0, 0
            if limit:
                n, secs = limit
                window = int(now.timestamp() // secs)
                budget = max(n - state.rate_used(channel, window), 0)
            else:
                budget = len(pending)
            individual, overflow = pending[:budget], pending[budget:]
            rate = (window, secs) if limit else None
            self._send(channel, state, individual, res, audit, rate)
            if overflow:
                self._send_digest(channel, state, overflow, res, audit, now)

    def _payload(self, f: dict) -> dict:
        return {k: v for k, v in f.items() if k != "channels"}

    def _send(self, channel: str, state: State, items: list[dict], res: RunResult, audit: list,
              rate: tuple[int, int] | None) -> None:
        if not items:
            return
        rate_key = state.rate_key(channel, rate[0]) if rate else None
        if channel == "redis":
            for i in range(0, len(items), self.cfg.batch_size):
                chunk = items[i:i + self.cfg.batch_size]
                pipe = state.r.pipeline(transaction=False)
                for f in chunk:
                    state.xadd_once(self.cfg.stream, "redis", [f["idempotency_key"]],
                                    ch.stream_fields(self._payload(f)), rate_key=rate_key,
                                    window_ttl=rate[1] * 2 if rate else 0, maxlen=self.cfg.stream_maxlen,
                                    pipe=pipe)
                ids = pipe.execute()
                for f, sid in zip(chunk, ids, strict=True):
                    if sid in (0, b"0"):
                        audit.append(self._audit_row(res.run_id, "delivery", f, "redis", 1, "duplicate"))
                    else:
                        res.delivered["redis"] += 1
                        audit.append(self._audit_row(res.run_id, "delivery", f, "redis", 1, "delivered",
                                                     f"stream id {sid.decode() if isinstance(sid, bytes) else sid}"))
                crash_point("redis-chunk")
            return
        for f in items:
            if channel == "webhook":
                ok = self._webhook(state, f["idempotency_key"], [f["idempotency_key"]], self._payload(f), f,
                                   res, audit)
            else:
                ch.log_delivery(self._payload(f))
                crash_point("log-sent")
                ok = True
                audit.append(self._audit_row(res.run_id, "delivery", f, "log", 1, "delivered"))
            if ok:
                state.mark_delivered(channel, [f["idempotency_key"]])
                res.delivered[channel] += 1
                if rate:
                    state.rate_add(channel, rate[0], 1, rate[1] * 2)
            crash_point(f"{channel}-marked")

    def _webhook(self, state: State, idem: str, keys: list[str], payload: dict, f: dict | None,
                 res: RunResult, audit: list) -> bool:
        """POST; True on 2xx (the caller marks delivered). On failure: dead-letter, keys marked dead."""
        import requests

        if self._http is None:
            self._http = requests.Session()
        result = ch.post_webhook(self.cfg.webhook_url or "", self.cfg.webhook_secret, payload, idem,
                                 timeout=self.cfg.webhook_timeout, retries=self.cfg.webhook_retries,
                                 backoff=self.cfg.webhook_backoff, session=self._http)
        for a in result.attempts:
            audit.append(self._audit_row(res.run_id, "delivery", f or {"idempotency_key": idem}, "webhook",
                                         a.attempt, "ok" if a.error is None else "failed", a.error or f"HTTP {a.status}"))
        crash_point("webhook-sent")
        if result.ok:
            return True
        fields = ch.stream_fields(payload)
        fields.update({"channel": "webhook", "error": result.last_error, "attempts": str(len(result.attempts)),
                       "url": self.cfg.webhook_url or ""})
        state.xadd_once(self.cfg.dead_letter_stream, "webhook", keys, fields, maxlen=self.cfg.stream_maxlen,
                        mark="dead")
        res.dead_lettered += 1
        audit.append(self._audit_row(res.run_id, "delivery", f or {"idempotency_key": idem}, "webhook",
                                     len(result.attempts), "dead_letter", result.last_error))
        log.error("webhook delivery of %s failed after %d attempt(s) (%s); sent to dead-letter stream %s",
                  idem, len(result.attempts), result.last_error, self.cfg.dead_letter_stream)
        return False

    def _send_digest(self, channel: str, state: State, items: list[dict], res: RunResult, audit: list,
                     now: datetime) -> None:
        keys = [f["idempotency_key"] for f in items]
        digest_key = "digest:" + hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()[:24]
        by_rule: dict[str, int] = defaultdict(int)
        for f in items:
            by_rule[f["rule_id"]] += 1
        payload = {"kind": "digest", "idempotency_key": digest_key, "channel": channel, "count": len(items),
                   "by_rule": dict(by_rule), "created_at": iso(now),
                   "firings": [{k: f.get(k) for k in ("idempotency_key", "rule_id", "ticker", "timeframe",
                                                      "bar_start_at", "value")} for f in items]}
        ok = False
        if channel == "redis":
            sid = state.xadd_once(self.cfg.stream, "redis", keys, ch.stream_fields(payload),
                                  maxlen=self.cfg.stream_maxlen, mark="digest")
            ok = sid not in (0, b"0")
            if not ok:  # some key got delivered meanwhile (another process): digest only the rest
                done = state.delivered_many("redis", keys)
                rest = [f for f, d in zip(items, done, strict=True) if not d]
                if rest and len(rest) < len(items):
                    self._send_digest(channel, state, rest, res, audit, now)
                return
        elif channel == "webhook":
            ok = self._webhook(state, digest_key, keys, payload, None, res, audit)
            if ok:
                state.mark_delivered(channel, keys, mark="digest")
        else:
            ch.log_delivery(payload)
            state.mark_delivered(channel, keys, mark="digest")
            ok = True
        if ok:
            res.digests[channel] += 1
            for f in items:
                audit.append(self._audit_row(res.run_id, "delivery", f, channel, 1, "digest", digest_key))
        crash_point(f"{channel}-digest")

    def _system_stale(self, state: State, res: RunResult, audit: list, now: datetime) -> None:
        s = res.staleness
        assert s is not None
        key = f"system:data_stale:{s.latest_session}"
        channels = list(self.cfg.system_channels or self.cfg.channels_available())
        rec = {"kind": "system", "alert": "data_stale", "idempotency_key": key,
               "latest_session": str(s.latest_session), "expected_session": str(s.expected_session),
               "description": f"gold is stale: latest session {s.latest_session}, the NYSE calendar expects "
                              f"{s.expected_session}; price alerts are held back",
               "fired_at": iso(now), "run_id": res.run_id, "channels": channels}
        audit.append(self._audit_row(res.run_id, "system", rec, status="data_stale", detail=rec["description"]))
        self._deliver(state, [rec], res, audit, now, rate_limited=False)

    def _write_audit(self, rows: list[tuple]) -> None:
        write_audit(self.cfg.warehouse, rows)

    # ---------------------------------------------------------------- loop
    def run_forever(self, interval: float = 60.0, max_passes: int | None = None,
                    sleep: Callable[[float], None] = time.sleep) -> None:
        """Pass after pass; Redis or warehouse trouble is logged and retried with backoff."""
        stop = {"flag": False}

        def _stop(*_):
            stop["flag"] = True

        with contextlib.suppress(ValueError):  # not the main thread
            signal.signal(signal.SIGTERM, _stop)
        # the heartbeat must outlive the sleep between passes
        self.cfg.heartbeat_ttl = max(self.cfg.heartbeat_ttl, int(3 * interval) + 10)
        passes, failures = 0, 0
        while not stop["flag"] and (max_passes is None or passes < max_passes):
            passes += 1
            try:
                self.run_once()
                failures = 0
                delay = interval
            except (RedisUnavailable, DatabaseError) as exc:
                failures += 1
                delay = min(interval, 2 ** min(failures, 6))
                log.error("alerts pass failed: %s; retrying in %.0fs", exc, delay)
            if not stop["flag"] and (max_passes is None or passes < max_passes):
                sleep(delay)


def firing_key(rule: Rule, ticker: str, timeframe: str, bar_start_at: datetime) -> str:
    """The idempotency key: rule id, rule version, ticker, timeframe, bar start (UTC)."""
    return f"{rule.id}:v{rule.version}:{ticker}:{timeframe}:{iso(bar_start_at)}"

