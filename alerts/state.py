"""Durable alerts state in Redis: cursors, firing decisions, per-channel delivery keys,
last-firing times (cooldown), rate-limit windows and the heartbeat.

Keys (all under the configurable prefix, default `tradlyte:alerts:`):

    cursor:<timeframe>             ISO bar_start_at evaluated through (inclusive)
    fired:<idempotency key>        the firing decided (JSON), before any delivery
    dlv:<channel>:<idem key>       delivered (or dead-lettered) on that channel
    last:<rule>:<timeframe>:<ticker>  bar_start_at of the last decided firing (cooldown)
    rl:<channel>:<window>          deliveries in the current rate-limit window
    heartbeat                      JSON, with a TTL
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime

import redis

from core.errors import TradlyteError

# Atomically: if none of the dedup keys exist, XADD the entry, mark every dedup key, count the
# delivery in the rate-limit window. Returns the stream id, or 0 if any key was already there.
# KEYS: stream, rate key ('' for none), dedup keys...   ARGV: ttl, maxlen, window ttl, mark, k1, v1, ...
XADD_ONCE = """
for i = 3, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then return 0 end
end
local fields = {}
for i = 5, #ARGV do fields[#fields + 1] = ARGV[i] end
local id
if tonumber(ARGV[2]) > 0 then
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', unpack(fields))
else
  id = redis.call('XADD', KEYS[1], '*', unpack(fields))
end
for i = 3, #KEYS do
  redis.call('SET', KEYS[i], ARGV[4] .. '|' .. id, 'EX', ARGV[1])
end
if KEYS[2] ~= '' then
  redis.call('INCR', KEYS[2])
  redis.call('EXPIRE', KEYS[2], ARGV[3])
end
return id
"""


class RedisUnavailable(TradlyteError):
    """Redis (the alerts state store) cannot be reached: nothing was marked delivered."""


def connect_redis(url: str) -> redis.Redis:
    client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=10)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise RedisUnavailable(f"Redis not reachable at {_safe_url(url)} ({exc}); alerts state lives there, "
                               "nothing was delivered or marked delivered; will retry") from None
    return client


def _safe_url(url: str) -> str:
    if "@" in url:
        scheme, rest = url.split("://", 1) if "://" in url else ("redis", url)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def iso(ts: datetime) -> str:
    """UTC ISO-8601 with a Z, the form used in idempotency keys and payloads."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


class State:
    def __init__(self, client: redis.Redis, prefix: str = "tradlyte:alerts:", ttl_days: int = 400):
        self.r, self.prefix = client, prefix
        self.ttl = ttl_days * 86400
        self._xadd = client.register_script(XADD_ONCE)

    def key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    # cursors
    def get_cursor(self, timeframe: str) -> datetime | None:
        raw = self.r.get(self.key("cursor", timeframe))
        return datetime.fromisoformat(raw.decode()) if raw else None

    def set_cursor(self, timeframe: str, ts: datetime) -> None:
        self.r.set(self.key("cursor", timeframe), ts.isoformat())

    # decisions
    def fired_many(self, keys: list[str]) -> list[dict | None]:
        if not keys:
            return []
        out = []
        for i in range(0, len(keys), 1000):
            chunk = keys[i:i + 1000]
            vals = self.r.mget([self.key("fired", k) for k in chunk])
            out += [json.loads(v) if v else None for v in vals]
        return out

    def last_many(self, ids: list[tuple[str, str, str]]) -> list[datetime | None]:
        if not ids:
            return []
        out = []
        for i in range(0, len(ids), 1000):
            vals = self.r.mget([self.key("last", *x) for x in ids[i:i + 1000]])
            out += [datetime.fromisoformat(v.decode()) if v else None for v in vals]
        return out

    def decide(self, firings: Iterable[dict]) -> None:
        """Record decisions (and the cooldown reference) in one MULTI/EXEC."""
        pipe = self.r.pipeline(transaction=True)
        for f in firings:
            pipe.set(self.key("fired", f["idempotency_key"]), json.dumps(f), ex=self.ttl)
            pipe.set(self.key("last", f["rule_id"], f["timeframe"], f["ticker"]), f["bar_start_at"],
                     ex=self.ttl)
        pipe.execute()

    # deliveries
    def delivered_many(self, channel: str, keys: list[str]) -> list[bool]:
        out: list[bool] = []
        for i in range(0, len(keys), 1000):
            chunk = keys[i:i + 1000]
            out += [v is not None for v in self.r.mget([self.key("dlv", channel, k) for k in chunk])]
        return out

    def mark_delivered(self, channel: str, keys: list[str], mark: str = "delivered") -> None:
        pipe = self.r.pipeline(transaction=True)
        for k in keys:
            pipe.set(self.key("dlv", channel, k), mark, ex=self.ttl)
        pipe.execute()

    def xadd_once(self, stream: str, dedup_channel: str, keys: list[str], fields: dict[str, str],
                  rate_key: str | None = None, window_ttl: int = 0, maxlen: int = 0,
                  mark: str = "delivered", pipe=None):
        """XADD `fields` to `stream` unless any of `keys` is already delivered on `dedup_channel`."""
        flat: list[str] = []
        for k, v in fields.items():
            flat += [k, v]
        return self._xadd(
            keys=[stream, rate_key or "", *[self.key("dlv", dedup_channel, k) for k in keys]],
            args=[self.ttl, maxlen, max(window_ttl, 1), mark, *flat], client=pipe)

    # rate limit
    def rate_key(self, channel: str, window: int) -> str:
        return self.key("rl", channel, str(window))

    def rate_used(self, channel: str, window: int) -> int:
        v = self.r.get(self.rate_key(channel, window))
        return int(v) if v else 0

    def rate_add(self, channel: str, window: int, n: int, ttl: int) -> None:
        pipe = self.r.pipeline(transaction=True)
        pipe.incrby(self.rate_key(channel, window), n)
        pipe.expire(self.rate_key(channel, window), max(ttl, 1))
        pipe.execute()

    # heartbeat
    def heartbeat(self, payload: dict, ttl: int) -> None:
        self.r.set(self.key("heartbeat"), json.dumps(payload), ex=max(int(ttl), 1))
