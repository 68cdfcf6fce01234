"""The `alerts` click group: check, backtest, run (including a clear Redis error)."""

from __future__ import annotations

import socket
from datetime import date

from click.testing import CliRunner

from alerts.backtest import backtest
from alerts.rules import parse_rule
from orchestration.cli.alerts import alerts
from tests.alerts.conftest import REDIS_URL, RULES_DIR, ny_midnight, rule, sessions, stream_entries

DAYS = sessions("2024-03-04", 10)


def test_check_example_rules():
    res = CliRunner().invoke(alerts, ["check", str(RULES_DIR)])
    assert res.exit_code == 0, res.output
    assert "rule(s) valid" in res.output and "rsi-overbought-daily" in res.output


def test_check_reports_bad_file_and_fails(tmp_path):
    (tmp_path / "ok.yml").write_text((RULES_DIR / "big_moves.yml").read_text())
    (tmp_path / "bad.yml").write_text((RULES_DIR / "big_moves.yml").read_text()
                                      .replace("close moves_pct 5", "close > 1; delete from gold.bars")
                                      .replace("big-daily-move", "bad-one"))
    res = CliRunner().invoke(alerts, ["check", str(tmp_path)])
    assert res.exit_code == 2
    assert "ok  big-daily-move" in res.output
    assert "bad.yml: rule 'bad-one': field 'condition'" in res.output
    assert "1 problem(s); 1 rule(s) valid" in res.output


def _rules_file(tmp_path, **kw):
    import yaml

    p = tmp_path / "rules.yml"
    p.write_text(yaml.safe_dump({"rules": [rule(**kw)]}))
    return p


def test_backtest_counts_history(duck_gold, tmp_path, monkeypatch):
    duck_gold.add_daily("AAA", DAYS, rsi_14=[50, 80, 80, 60, 80, 80, 80, 50, 75, 50])
    duck_gold.add_daily("BBB", DAYS, rsi_14=[80] * 10)
    r = parse_rule(rule(id="once", frequency="once", condition="rsi_14 > 70"))
    res = backtest(duck_gold.wh, r, DAYS[0], DAYS[-1])
    assert res.by_ticker() == {"AAA": 3, "BBB": 1}
    res = backtest(duck_gold.wh, r, DAYS[2], DAYS[5])  # AAA already above 70 on the bar before
    assert res.by_ticker() == {"AAA": 1}
    cool = parse_rule(rule(id="cool", condition="rsi_14 > 70", throttle={"cooldown": "1w"}))
    res = backtest(duck_gold.wh, cool, DAYS[0], DAYS[-1])
    assert res.by_ticker() == {"AAA": 2, "BBB": 2} and res.suppressed_cooldown == 4 + 8  # New York calendar days across DST
    # the CLI
    rules_file = _rules_file(tmp_path, id="once", frequency="once", condition="rsi_14 > 70")
    monkeypatch.setenv("TRADLYTE_DUCKDB_PATH", str(duck_gold.wh.duckdb_path))
    out = CliRunner().invoke(alerts, ["backtest", "once", "--from", str(DAYS[0]), "--to", str(DAYS[-1]),
                                      "--rules", str(rules_file), "--warehouse", "duckdb"])
    assert out.exit_code == 0, out.output
    assert "rule once: 4 firing(s)" in out.output and "AAA 3" in out.output
    out = CliRunner().invoke(alerts, ["backtest", "nope", "--from", "2024-01-01", "--to", "2024-02-01",
                                      "--rules", str(rules_file)])
    assert out.exit_code == 2 and "no valid rule 'nope'" in out.output


def test_backtest_on_postgres(gold):
    gold.add_daily("AAA", DAYS, close=[90, 101, 99, 102, 103, 98, 97, 104, 105, 90], sma_200=[100] * 10)
    r = parse_rule(rule(id="x", condition="close crosses_above sma_200"))
    res = backtest(gold.wh, r, date(2024, 3, 1), date(2024, 3, 31))
    assert [f[2] for f in res.firings] == [ny_midnight(DAYS[i]) for i in (1, 3, 7)]


def test_run_once_cli(duck_gold, redis_prefix, tmp_path, monkeypatch):
    duck_gold.add_daily("AAA", DAYS[:3], rsi_14=[80, 50, 80])
    rules_file = _rules_file(tmp_path, id="hot", condition="rsi_14 > 70")
    monkeypatch.setenv("TRADLYTE_DUCKDB_PATH", str(duck_gold.wh.duckdb_path))
    monkeypatch.setenv("TRADLYTE_REDIS_URL", REDIS_URL)
    args = ["run", "--once", "--rules", str(rules_file), "--warehouse", "duckdb", "--prefix", redis_prefix,
            "--start-at", ny_midnight(DAYS[0]).isoformat(), "--no-staleness"]
    out = CliRunner().invoke(alerts, args)
    assert out.exit_code == 0, out.output
    assert "2 new firing(s)" in out.output
    assert len(stream_entries(redis_prefix)) == 2
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    monkeypatch.setenv("TRADLYTE_REDIS_URL", f"redis://127.0.0.1:{port}/0")
    out = CliRunner().invoke(alerts, args)
    assert out.exit_code == 2
    assert f"Redis not reachable at redis://127.0.0.1:{port}/0" in out.output
    assert "Traceback" not in out.output


def test_run_warehouse_missing_is_clear(redis_prefix, tmp_path, monkeypatch):
    monkeypatch.setenv("TRADLYTE_DUCKDB_PATH", str(tmp_path / "none.duckdb"))
    monkeypatch.setenv("TRADLYTE_REDIS_URL", REDIS_URL)
    out = CliRunner().invoke(alerts, ["run", "--once", "--prefix", redis_prefix, "--rules", str(RULES_DIR)])
    assert out.exit_code == 2 and "does not exist" in out.output


def test_duckdb_held_by_writer_retries_with_clear_message(duck_gold, redis_prefix):
    import pytest

    from core.db import DatabaseBusy

    duck_gold.add_daily("AAA", DAYS[:2], rsi_14=[80, 80])
    # a writer in another process holds the file
    import subprocess
    import sys
    import time

    holder = subprocess.Popen([sys.executable, "-c",
                               "import duckdb,sys,time; c=duckdb.connect(sys.argv[1]); print('held', flush=True); "
                               "time.sleep(60)", str(duck_gold.wh.duckdb_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        duck_gold.wh.wait_seconds = 0.5
        with pytest.raises(DatabaseBusy, match="held by another process"), duck_gold.wh.connect():
            pass
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.1)
    with duck_gold.wh.connect() as con:
        assert con.query("select count(*) from gold.bars")[0][0] == 2


def test_run_without_gold_tables_is_clear(redis_prefix, tmp_path, monkeypatch):
    import duckdb

    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()
    monkeypatch.setenv("TRADLYTE_DUCKDB_PATH", str(path))
    monkeypatch.setenv("TRADLYTE_REDIS_URL", REDIS_URL)
    out = CliRunner().invoke(alerts, ["run", "--once", "--prefix", redis_prefix, "--rules", str(RULES_DIR)])
    assert out.exit_code == 2
    assert "gold.bars, gold.indicators, gold.signals not found" in out.output and "build gold first" in out.output
