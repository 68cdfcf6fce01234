"""Delivery: Redis Streams payloads, signed webhooks, retries and dead letter, Redis outages."""

from __future__ import annotations

import json
import socket

import pytest
import redis

from alerts.channels import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, verify
from alerts.evaluator import AlertsConfig, Evaluator
from alerts.rules import parse_rule
from alerts.state import RedisUnavailable, State
from tests.alerts.conftest import (
    REDIS_URL,
    Receiver,
    after_close,
    make_evaluator,
    ny_midnight,
    rule,
    sessions,
    stream_entries,
)

DAYS = sessions("2024-03-04", 4)


@pytest.fixture()
def hot_gold(duck_gold):
    duck_gold.add_daily("AAA", DAYS, rsi_14=[50, 80, 60, 85])
    duck_gold.add_daily("BBB", DAYS, rsi_14=[80, 50, 50, 50])
    return duck_gold


def evaluator(gold, prefix, receiver=None, **kw):
    channels = kw.pop("channels", ["redis", "webhook"] if receiver else ["redis"])
    return make_evaluator(gold.wh, prefix, [rule(id="hot", version=3, condition="rsi_14 > 70", channels=channels)],
                          after_close(DAYS[-1]), start_at=ny_midnight(DAYS[0]),
                          webhook_url=receiver.url if receiver else None, webhook_secret="topsecret", **kw)


def test_stream_payload_is_consumer_group_friendly(hot_gold, redis_prefix):
    evaluator(hot_gold, redis_prefix).run_once()
    r = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    stream = redis_prefix + "stream"
    r.xgroup_create(stream, "workers", id="0")
    got = r.xreadgroup("workers", "w1", {stream: ">"}, count=10)
    entries = got[0][1]
    assert len(entries) == 3
    _id, fields = entries[0]
    assert fields["kind"] == "firing" and fields["rule_id"] == "hot" and fields["rule_version"] == "3"
    assert fields["ticker"] == "BBB" and fields["timeframe"] == "1d"
    body = json.loads(fields["json"])
    assert body["idempotency_key"] == fields["idempotency_key"] == f"hot:v3:BBB:1d:{fields['bar_start_at']}"
    assert body["condition"] == "rsi_14 > 70" and body["value"] == 80.0
    r.close()


def test_webhook_signed_with_idempotency_key(hot_gold, redis_prefix, receiver):
    evaluator(hot_gold, redis_prefix, receiver).run_once()
    assert len(receiver.requests) == 3
    for req in receiver.requests:
        h = {k.lower(): v for k, v in req["headers"].items()}
        assert verify("topsecret", req["body"], h[SIGNATURE_HEADER.lower()])
        assert not verify("other", req["body"], h[SIGNATURE_HEADER.lower()])
        assert h[IDEMPOTENCY_HEADER.lower()] == req["json"]["idempotency_key"]
        assert h["content-type"] == "application/json"
    # a second pass (cursor saved) and a pass from scratch (cursor lost) send nothing again
    evaluator(hot_gold, redis_prefix, receiver).run_once()
    r = redis.Redis.from_url(REDIS_URL)
    r.delete(redis_prefix + "cursor:1d")
    r.close()
    evaluator(hot_gold, redis_prefix, receiver).run_once()
    assert len(receiver.requests) == 3
    assert len(stream_entries(redis_prefix)) == 3


def test_webhook_500_retried_then_dead_lettered(hot_gold, redis_prefix):
    rec = Receiver(always_status=500)
    try:
        ev = evaluator(hot_gold, redis_prefix, rec, webhook_retries=2)
        res = ev.run_once()
        assert rec.calls == 9  # 3 firings x (1 + 2 retries)
        assert res.dead_lettered == 3 and res.delivered["redis"] == 3 and "webhook" not in res.delivered
        dead = stream_entries(redis_prefix, redis_prefix + "deadletter")
        assert len(dead) == 3
        assert {d["error"] for d in dead} == {"HTTP 500"} and {d["attempts"] for d in dead} == {"3"}
        assert {d["idempotency_key"] for d in dead} == {e["idempotency_key"] for e in stream_entries(redis_prefix)}
        rows = hot_gold.query("select status, count(*) from ops.alert_firings where channel = 'webhook' group by 1")
        assert dict(rows) == {"failed": 9, "dead_letter": 3}
        # dead-lettered keys are not retried on the next pass (replay from the dead-letter stream)
        r = redis.Redis.from_url(REDIS_URL)
        r.delete(redis_prefix + "cursor:1d")
        r.close()
        ev.run_once()
        assert rec.calls == 9
    finally:
        rec.close()


def test_webhook_recovers_after_transient_500(hot_gold, redis_prefix):
    rec = Receiver(fail_first=2)
    try:
        res = evaluator(hot_gold, redis_prefix, rec, webhook_retries=3).run_once()
        assert res.delivered["webhook"] == 3 and res.dead_lettered == 0
        assert len({r["json"]["idempotency_key"] for r in rec.requests}) == 3
    finally:
        rec.close()


def test_webhook_4xx_not_retried(hot_gold, redis_prefix):
    rec = Receiver(always_status=410)
    try:
        res = evaluator(hot_gold, redis_prefix, rec, webhook_retries=3).run_once()
        assert rec.calls == 3 and res.dead_lettered == 3
    finally:
        rec.close()


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_redis_unreachable_clear_error_nothing_delivered(hot_gold, redis_prefix, receiver):
    bad = f"redis://127.0.0.1:{_closed_port()}/0"
    config = AlertsConfig(redis_url=bad, prefix=redis_prefix, warehouse=hot_gold.wh, check_staleness=False,
                          webhook_url=receiver.url, webhook_secret="k", start_at=ny_midnight(DAYS[0]))
    ev = Evaluator(config, [parse_rule(rule(id="hot", condition="rsi_14 > 70", channels=["redis", "webhook"]))],
                   clock=lambda: after_close(DAYS[-1]))
    with pytest.raises(RedisUnavailable, match=r"Redis not reachable at redis://127\.0\.0\.1:\d+/0"):
        ev.run_once()
    assert receiver.requests == []
    # the service loop logs and retries with backoff instead of dying
    sleeps = []
    ev.run_forever(interval=60, max_passes=3, sleep=sleeps.append)
    assert sleeps == [2, 4]
    # Redis back: everything is delivered once
    ev.cfg.redis_url = REDIS_URL
    assert ev.run_once().delivered == {"redis": 3, "webhook": 3}


def test_redis_failure_mid_pass_marks_nothing_and_webhook_is_resent_with_same_key(
        hot_gold, redis_prefix, receiver, monkeypatch):
    ev = evaluator(hot_gold, redis_prefix, receiver)
    real = State.mark_delivered
    calls = {"n": 0}

    def flaky(self, channel, keys, mark="delivered"):
        calls["n"] += 1
        if calls["n"] == 1:
            raise redis.ConnectionError("connection reset by peer")
        return real(self, channel, keys, mark)

    monkeypatch.setattr(State, "mark_delivered", flaky)
    with pytest.raises(RedisUnavailable, match="retried on the next pass"):
        ev.run_once()
    assert len(receiver.requests) == 1
    ev.run_once()
    keys = [r["json"]["idempotency_key"] for r in receiver.requests]
    # at-least-once: the unmarked webhook is sent again with the same idempotency key
    assert len(keys) == 4 and len(set(keys)) == 3 and keys[0] == keys[1]
    assert len(stream_entries(redis_prefix)) == 3  # the stream stays exactly-once


def test_log_channel(hot_gold, redis_prefix, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="tradlyte.alerts.deliveries")
    evaluator(hot_gold, redis_prefix, channels=["log"]).run_once()
    lines = [r.getMessage() for r in caplog.records if r.name == "tradlyte.alerts.deliveries"]
    assert len(lines) == 3 and all(line.startswith("alert {") for line in lines)
    assert json.loads(lines[0][len("alert "):])["ticker"] == "BBB"
