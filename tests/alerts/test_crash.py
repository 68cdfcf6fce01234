"""Fault tests: the evaluator process is SIGKILLed at random (seeded) points, over many runs, then
restarted. Every expected firing reaches the Redis stream exactly once and the webhook receiver
at least once with the same idempotency key (duplicates only from a kill between a 2xx and its
mark), none is lost.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import yaml

from tests.alerts.conftest import REDIS_URL, Receiver, ny_midnight, sessions, stream_entries

ROOT = Path(__file__).resolve().parents[2]
DAYS = sessions("2024-03-04", 6)
TICKERS = [f"T{i:02d}" for i in range(8)]
RULES = [
    {"id": "hot", "version": 1, "description": "rsi", "tickers": "all", "timeframes": ["1d"],
     "condition": "rsi_14 > 70", "frequency": "once_per_bar", "channels": ["redis", "webhook", "log"]},
    {"id": "up", "version": 1, "description": "cross", "tickers": "all", "timeframes": ["1d"],
     "condition": "close crosses_above sma_50", "frequency": "once", "throttle": {"cooldown": "2d"},
     "channels": ["redis", "webhook"]},
]


def _gold(duck_gold):
    rng = random.Random(11)
    for t in TICKERS:
        duck_gold.add_daily(t, DAYS, rsi_14=[rng.choice([50, 80]) for _ in DAYS],
                            close=[rng.choice([95.0, 105.0]) for _ in DAYS], sma_50=[100.0] * len(DAYS))


def _env(duck_gold, prefix: str, rules_file: Path, hook: str, crash_at: int | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADLYTE_")}
    env.update({
        "TRADLYTE_DUCKDB_PATH": str(duck_gold.wh.duckdb_path), "TRADLYTE_ALERTS_WAREHOUSE": "duckdb",
        "TRADLYTE_REDIS_URL": REDIS_URL, "TRADLYTE_ALERTS_PREFIX": prefix,
        "TRADLYTE_ALERTS_RULES": str(rules_file), "TRADLYTE_ALERTS_WEBHOOK_URL": hook,
        "TRADLYTE_ALERTS_WEBHOOK_SECRET": "k", "TRADLYTE_ALERTS_WEBHOOK_BACKOFF": "0.01",
        "TRADLYTE_ALERTS_START_AT": ny_midnight(DAYS[0]).isoformat(), "TRADLYTE_ALERTS_CHECK_STALENESS": "0",
        "TRADLYTE_ALERTS_BATCH_SIZE": "3", "DO_NOT_TRACK": "1",
    })
    if crash_at:
        env["TRADLYTE_ALERTS_CRASH_AT"] = str(crash_at)
    return env


def _run(env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "orchestration.cli", "alerts", "run", "--once"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def _expected(duck_gold, prefix: str, rules_file: Path, hook: str) -> set[str]:
    done = _run(_env(duck_gold, prefix, rules_file, hook, None))
    assert done.returncode == 0, done.stderr
    return {e["idempotency_key"] for e in stream_entries(prefix) if e["kind"] == "firing"}


def _check(prefix: str, expected: set[str], receiver: Receiver, kills: int) -> None:
    keys = [e["idempotency_key"] for e in stream_entries(prefix)]
    assert Counter(keys) == Counter(expected), "stream must hold every expected firing exactly once"
    hooks = Counter(r["json"]["idempotency_key"] for r in receiver.requests)
    assert set(hooks) == expected, "every firing must reach the webhook"
    assert sum(hooks.values()) - len(hooks) <= kills  # at most one resend per kill


def test_sigkill_at_seeded_crash_points(duck_gold, redis_prefix, tmp_path):
    _gold(duck_gold)
    rules_file = tmp_path / "rules.yml"
    rules_file.write_text(yaml.safe_dump({"rules": RULES}))
    base = Receiver()
    try:
        expected = _expected(duck_gold, redis_prefix + "ref:", rules_file, base.url)
    finally:
        base.close()
    assert len(expected) >= 15
    rng = random.Random(20240304)
    total_kills = 0
    for scenario in range(6):
        prefix = f"{redis_prefix}s{scenario}:"
        receiver = Receiver()
        try:
            kills = 0
            for _attempt in range(30):
                crash_at = rng.randint(1, 3 * len(expected) + 12) if kills < 4 else None
                done = _run(_env(duck_gold, prefix, rules_file, receiver.url, crash_at))
                if done.returncode == -signal.SIGKILL:
                    kills += 1
                    continue
                assert done.returncode == 0, done.stderr
                break
            total_kills += kills
            _check(prefix, expected, receiver, kills)
        finally:
            receiver.close()
    assert total_kills >= 10


def test_sigkill_from_outside_at_random_times(duck_gold, redis_prefix, tmp_path):
    _gold(duck_gold)
    rules_file = tmp_path / "rules.yml"
    rules_file.write_text(yaml.safe_dump({"rules": RULES}))
    base = Receiver()
    try:
        expected = _expected(duck_gold, redis_prefix + "ref:", rules_file, base.url)
    finally:
        base.close()
    rng = random.Random(7)
    for scenario in range(3):
        prefix = f"{redis_prefix}x{scenario}:"
        receiver = Receiver()
        try:
            kills = 0
            for _ in range(4):
                env = _env(duck_gold, prefix, rules_file, receiver.url, None)
                proc = subprocess.Popen([sys.executable, "-m", "orchestration.cli", "alerts", "run", "--once"], cwd=ROOT, env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(rng.uniform(0.3, 3.0))
                if proc.poll() is None:
                    os.kill(proc.pid, signal.SIGKILL)
                    kills += 1
                proc.wait()
            done = _run(_env(duck_gold, prefix, rules_file, receiver.url, None))
            assert done.returncode == 0, done.stderr
            _check(prefix, expected, receiver, kills)
        finally:
            receiver.close()


def test_sigkill_with_rate_limit_digests(duck_gold, redis_prefix, tmp_path):
    """With a rate limit, each firing reaches the stream exactly once, alone or inside a digest."""
    import json

    _gold(duck_gold)
    rules_file = tmp_path / "rules.yml"
    rules_file.write_text(yaml.safe_dump({"rules": RULES}))
    base = Receiver()
    try:
        expected = _expected(duck_gold, redis_prefix + "ref:", rules_file, base.url)
    finally:
        base.close()
    rng = random.Random(99)
    for scenario in range(3):
        prefix = f"{redis_prefix}d{scenario}:"
        receiver = Receiver()
        try:
            kills = 0
            for _attempt in range(30):
                crash_at = rng.randint(1, 2 * len(expected)) if kills < 3 else None
                env = _env(duck_gold, prefix, rules_file, receiver.url, crash_at)
                env["TRADLYTE_ALERTS_RATE_LIMIT"] = "redis=6/1h"
                done = _run(env)
                if done.returncode == -signal.SIGKILL:
                    kills += 1
                    continue
                assert done.returncode == 0, done.stderr
                break
            entries = stream_entries(prefix)
            keys = [e["idempotency_key"] for e in entries if e["kind"] == "firing"]
            assert len(keys) == 6
            for e in entries:
                if e["kind"] == "digest":
                    keys += [f["idempotency_key"] for f in json.loads(e["json"])["firings"]]
            assert Counter(keys) == Counter(expected)
        finally:
            receiver.close()
