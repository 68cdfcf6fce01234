"""Frequencies, cooldown, rate limit with digest, silences, stale-data inhibition, audit, heartbeat."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import redis

from tests.alerts.conftest import (
    REDIS_URL,
    after_close,
    make_evaluator,
    ny_midnight,
    rule,
    sessions,
    stream_entries,
)

DAYS = sessions("2024-03-04", 10)


def bar(i):
    return ny_midnight(DAYS[i]).strftime("%Y-%m-%dT%H:%M:%SZ")


def firing_bars(prefix, rule_id=None):
    return [e["bar_start_at"] for e in stream_entries(prefix)
            if e["kind"] == "firing" and (rule_id is None or e["rule_id"] == rule_id)]


def test_once_fires_until_rearmed(gold, redis_prefix):
    gold.add_daily("AAA", DAYS, rsi_14=[50, 75, 80, 85, 60, 71, 72, 50, 50, 90])
    ev = make_evaluator(gold.wh, redis_prefix, [rule(id="once", frequency="once", condition="rsi_14 > 70"),
                                                rule(id="every", condition="rsi_14 > 70")],
                        after_close(DAYS[-1]), start_at=ny_midnight(DAYS[0]))
    ev.run_once()
    assert firing_bars(redis_prefix, "once") == [bar(1), bar(5), bar(9)]
    assert firing_bars(redis_prefix, "every") == [bar(i) for i in (1, 2, 3, 5, 6, 9)]


def test_once_state_survives_between_passes(gold, redis_prefix):
    """Bar by bar: the condition staying true over passes does not re-fire."""
    rsi = [50, 75, 80, 85, 60, 71]
    r = [rule(id="once", frequency="once", condition="rsi_14 > 70")]
    for i in range(len(rsi)):
        gold.add_daily("AAA", [DAYS[i]], rsi_14=[rsi[i]])
        make_evaluator(gold.wh, redis_prefix, r, after_close(DAYS[i]), start_at=ny_midnight(DAYS[0])).run_once()
    assert firing_bars(redis_prefix) == [bar(1), bar(5)]


def test_cooldown_per_rule_and_ticker(gold, redis_prefix):
    gold.add_daily("AAA", DAYS, rsi_14=[80] * 10)
    gold.add_daily("BBB", DAYS[3:], rsi_14=[80] * 7)
    # calendar days between DAYS: 2024-03-04..15 (Mon..Fri, Mon..Fri); a 3-day cooldown in bar time
    res = make_evaluator(gold.wh, redis_prefix, [rule(id="hot", condition="rsi_14 > 70", throttle={"cooldown": "3d"})],
                         after_close(DAYS[-1]), start_at=ny_midnight(DAYS[0])).run_once()
    aaa = [e["bar_start_at"] for e in stream_entries(redis_prefix) if e["ticker"] == "AAA"]
    bbb = [e["bar_start_at"] for e in stream_entries(redis_prefix) if e["ticker"] == "BBB"]
    # Mon 4 -> next >= Thu 7 -> next >= Sun 10 = Mon 11 -> next >= Thu 14
    assert aaa == [bar(0), bar(3), bar(5), bar(8)]
    assert bbb == [bar(3), bar(5), bar(8)]
    assert res.suppressed["cooldown"] == 10 - 4 + 7 - 3


def test_cooldown_holds_across_passes(gold, redis_prefix):
    r = [rule(id="hot", condition="rsi_14 > 70", throttle={"cooldown": "3d"})]
    for i in range(6):
        gold.add_daily("AAA", [DAYS[i]], rsi_14=[80])
        make_evaluator(gold.wh, redis_prefix, r, after_close(DAYS[i]), start_at=ny_midnight(DAYS[0])).run_once()
    assert firing_bars(redis_prefix) == [bar(0), bar(3), bar(5)]


def test_rate_limit_sends_digest_for_the_overflow(duck_gold, redis_prefix, receiver):
    tickers = [f"T{i:03d}" for i in range(25)]
    for t in tickers:
        duck_gold.add_daily(t, DAYS[:2], rsi_14=[50, 80])
    now = after_close(DAYS[1])
    ev = make_evaluator(duck_gold.wh, redis_prefix,
                        [rule(id="hot", condition="rsi_14 > 70", channels=["redis", "webhook", "log"])], now,
                        start_at=ny_midnight(DAYS[0]), webhook_url=receiver.url, webhook_secret="s3cret",
                        rate_limits={"redis": (10, 60), "webhook": (5, 60)})
    res = ev.run_once()
    entries = stream_entries(redis_prefix)
    singles = [e for e in entries if e["kind"] == "firing"]
    digests = [e for e in entries if e["kind"] == "digest"]
    assert len(singles) == 10 and len(digests) == 1
    digest = json.loads(digests[0]["json"])
    assert digest["count"] == 15 and digest["by_rule"] == {"hot": 15}
    covered = {e["ticker"] for e in singles} | {f["ticker"] for f in digest["firings"]}
    assert covered == set(tickers)
    hooks = [r["json"] for r in receiver.requests]
    assert sum(h["kind"] == "firing" for h in hooks) == 5
    assert [h["count"] for h in hooks if h["kind"] == "digest"] == [20]
    assert res.delivered["log"] == 25 and res.digests == {"redis": 1, "webhook": 1}
    # the window is used up: more firings in the same minute go straight into a digest
    for t in tickers[:3]:
        duck_gold.add_daily(t, DAYS[2:3], rsi_14=[90])
    ev.run_once()
    entries = stream_entries(redis_prefix)
    assert [json.loads(e["json"])["count"] for e in entries if e["kind"] == "digest"] == [15, 3]
    # a pass in a later window has budget again; nothing already delivered is repeated
    for t in tickers[:3]:
        duck_gold.add_daily(t, DAYS[3:4], rsi_14=[90])
    ev.clock = lambda: now + timedelta(minutes=2)
    ev.run_once()
    keys = [e["idempotency_key"] for e in stream_entries(redis_prefix) if e["kind"] == "firing"]
    assert len(keys) == len(set(keys)) == 13


def test_silence_windows_new_york_time(gold, redis_prefix):
    gold.add_daily("AAA", DAYS[:2], rsi_14=[80, 80])
    rules = [
        rule(id="abs", condition="rsi_14 > 70",
             silences=[{"start": "2024-03-05T20:00:00", "end": "2024-03-05T23:30:00", "reason": "maintenance"}]),
        rule(id="daily", condition="rsi_14 > 70", silences=[{"daily": "22:00-06:00", "days": ["tue"]}]),
        rule(id="loud", condition="rsi_14 > 70"),
    ]
    # 2024-03-05 is a Tuesday; 23:00 UTC = 19:00 New York (EST): no silence active
    at_19 = datetime(2024, 3, 6, 0, 0, tzinfo=UTC)      # 19:00 NY Tue
    at_22 = datetime(2024, 3, 6, 3, 30, tzinfo=UTC)     # 22:30 NY Tue: both silences
    ev = make_evaluator(gold.wh, redis_prefix, rules, at_22, start_at=ny_midnight(DAYS[1]))
    res = ev.run_once()
    assert {e["rule_id"] for e in stream_entries(redis_prefix)} == {"loud"}
    assert res.suppressed["silenced"] == 2
    # outside the windows the next bar fires for all three (the silenced bar is not sent late)
    gold.add_daily("AAA", DAYS[2:3], rsi_14=[80])
    ev.clock = lambda: at_19 + timedelta(days=1)
    ev.run_once()
    assert sorted(e["rule_id"] for e in stream_entries(redis_prefix)) == ["abs", "daily", "loud", "loud"]


def test_silence_daily_window_wraps_midnight():
    from alerts.rules import Silence

    s = Silence(daily="22:00-06:00", days=["tue"])
    assert s.active(datetime(2024, 3, 6, 3, 30, tzinfo=UTC))      # Tue 22:30 NY
    assert s.active(datetime(2024, 3, 6, 10, 0, tzinfo=UTC))      # Wed 05:00 NY, Tuesday's window
    assert not s.active(datetime(2024, 3, 6, 12, 0, tzinfo=UTC))  # Wed 07:00 NY
    assert not s.active(datetime(2024, 3, 7, 3, 30, tzinfo=UTC))  # Wed 22:30 NY
    summer = Silence(daily="09:30-16:00")
    assert summer.active(datetime(2024, 7, 1, 13, 30, tzinfo=UTC))  # 09:30 EDT
    assert not summer.active(datetime(2024, 7, 1, 13, 29, tzinfo=UTC))


def test_stale_gold_holds_price_alerts_and_alerts_once(gold, redis_prefix):
    gold.add_daily("AAA", DAYS[:5], rsi_14=[80] * 5)
    r = [rule(id="hot", condition="rsi_14 > 70")]
    late = after_close(DAYS[7])  # three sessions after the last bar in gold
    ev = make_evaluator(gold.wh, redis_prefix, r, late, start_at=ny_midnight(DAYS[0]), check_staleness=True)
    res = ev.run_once()
    assert res.stale and res.staleness.latest_session == DAYS[4] and res.staleness.expected_session == DAYS[7]
    entries = stream_entries(redis_prefix)
    assert [(e["kind"], e["alert"]) for e in entries] == [("system", "data_stale")]
    assert ev.run_once().stale
    assert len(stream_entries(redis_prefix)) == 1  # one data_stale alert per episode
    # gold catches up: held alerts are delivered (the cursor did not move)
    gold.add_daily("AAA", DAYS[5:8], rsi_14=[80] * 3)
    res = ev.run_once()
    assert not res.stale
    assert len([e for e in stream_entries(redis_prefix) if e["kind"] == "firing"]) == 8


def test_fresh_gold_within_grace(gold, redis_prefix):
    gold.add_daily("AAA", DAYS[:5], rsi_14=[80] * 5)
    # 3h after the close of the next session: within the 6h grace, DAYS[4] is still the expected one
    ev = make_evaluator(gold.wh, redis_prefix, [rule(id="hot", condition="rsi_14 > 70")],
                        after_close(DAYS[5], hours=3), check_staleness=True)
    assert not ev.run_once().stale


def test_audit_rows_and_heartbeat(gold, redis_prefix, receiver):
    gold.add_daily("AAA", DAYS[:3], rsi_14=[80, 60, 80], sma_50=[1, 1, 1])
    receiver.fail_first = 1
    ev = make_evaluator(gold.wh, redis_prefix, [rule(id="hot", condition="rsi_14 > 70", channels=["redis", "webhook"],
                                                     throttle={"cooldown": "1d"})],
                        after_close(DAYS[2]), start_at=ny_midnight(DAYS[0]), webhook_url=receiver.url,
                        webhook_secret="k")
    ev.run_once()
    rows = gold.query("select event, status, channel, attempt, ticker from ops.alert_firings "
                      "order by recorded_at, event, channel, attempt")
    events = sorted((r[0], r[1], r[2] or "", r[3] or 0) for r in rows)
    assert events == sorted([
        ("fired", "decided", "", 0), ("fired", "decided", "", 0),
        ("delivery", "delivered", "redis", 1), ("delivery", "delivered", "redis", 1),
        ("delivery", "failed", "webhook", 1), ("delivery", "ok", "webhook", 2), ("delivery", "ok", "webhook", 1),
    ])
    hb = redis.Redis.from_url(REDIS_URL)
    assert json.loads(hb.get(redis_prefix + "heartbeat"))["status"] == "ok"
    assert 0 < hb.ttl(redis_prefix + "heartbeat") <= 180
    hb.close()
