"""Rule files: schema validation with clear errors, contract columns, injection attempts."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from alerts.rules import RuleError, load_rules, parse_condition, parse_rule
from alerts.sql import compile_timeframe
from tests.alerts.conftest import (
    RULES_DIR,
    after_close,
    make_evaluator,
    ny_midnight,
    rule,
    sessions,
    stream_entries,
)

GOOD = """
id: hot
version: 2
description: RSI above 70
tickers: [AAA]
timeframes: [1d]
condition: "rsi_14 > 70"
frequency: once
throttle: {cooldown: 2d}
channels: [redis]
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def test_example_rules_load():
    rules, errors = load_rules(RULES_DIR)
    assert errors == []
    assert {r.id for r in rules} >= {"rsi-overbought-daily", "price-above-sma200", "big-daily-move", "golden-cross"}
    kinds = {r.condition.kind for r in rules}
    assert kinds >= {"compare", "crosses_above", "moves_pct", "signal"}


def test_malformed_file_reported_other_rules_still_load(tmp_path):
    write(tmp_path, "a_good.yml", GOOD)
    write(tmp_path, "b_bad_yaml.yml", "id: [unclosed\n")
    write(tmp_path, "c_bad_field.yml", GOOD.replace("version: 2", "version: two").replace("id: hot", "id: hot2"))
    write(tmp_path, "d_more.yml", "rules:\n  - " + GOOD.strip().replace("\n", "\n    ").replace("id: hot", "id: hot3"))
    rules, errors = load_rules(tmp_path)
    assert sorted(r.id for r in rules) == ["hot", "hot3"]
    msgs = {Path(e.file).name: e for e in errors}
    assert set(msgs) == {"b_bad_yaml.yml", "c_bad_field.yml"}
    assert "invalid YAML" in str(msgs["b_bad_yaml.yml"])
    bad = msgs["c_bad_field.yml"]
    assert (bad.rule, bad.field) == ("hot2", "version")
    assert "c_bad_field.yml: rule 'hot2': field 'version'" in str(bad)


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"condition": "rsi_15 > 70"}, "condition", "unknown column 'rsi_15'"),
    ({"condition": "volume > 10"}, "condition", "unknown column 'volume'"),
    ({"condition": "rsi_14 >> 70"}, "condition", "unknown operator"),
    ({"condition": "close moves_pct -5"}, "condition", "positive"),
    ({"condition": {"signal": "golden cross"}}, "condition", "signal name"),
    ({"timeframes": ["2d"]}, "timeframes.0", "Input should be"),
    ({"channels": ["sms"]}, "channels.0", "Input should be"),
    ({"frequency": "always"}, "frequency", "Input should be"),
    ({"throttle": {"cooldown": "soon"}}, "throttle.cooldown", "not a duration"),
    ({"tickers": ["AAA; drop table x"]}, "tickers", "invalid ticker"),
    ({"silences": [{"start": "2024-01-02T10:00", "end": "2024-01-01T10:00"}]}, "silences.0", "after start"),
    ({"silences": [{"daily": "25:00-26:00"}]}, "silences.0", "invalid time"),
    ({"extra": 1}, "extra", "Extra inputs"),
    ({"id": "Bad Id"}, "id", "String should match"),
])
def test_invalid_fields_named(change, field, words):
    with pytest.raises(RuleError) as exc:
        parse_rule(rule(condition="rsi_14 > 70", **change) if "condition" not in change else rule(**change),
                   "f.yml")
    assert exc.value.field == field
    assert words in str(exc.value)
    assert str(exc.value).startswith("f.yml: rule ")


def test_missing_required_field():
    raw = rule(condition="rsi_14 > 70")
    del raw["description"]
    with pytest.raises(RuleError) as exc:
        parse_rule(raw, "f.yml")
    assert exc.value.field == "description" and "Field required" in exc.value.message


@pytest.mark.parametrize("text", [
    "rsi_14 > 70; drop table gold.bars",
    "rsi_14 > 70 or 1=1",
    "rsi_14 > (select 1)",
    "rsi_14 > '70'",
    "close > sma_200--",
    "close crosses_above sma_200)",
    "rsi_14 > 70e",
    "RSI_14 > 70",
    "close > 1 union select",
])
def test_injection_attempts_rejected(text):
    with pytest.raises(ValueError):
        parse_condition(text)
    with pytest.raises(RuleError):
        parse_rule(rule(condition=text))


def test_values_are_bound_never_spliced():
    r = parse_rule(rule(condition="rsi_14 > 70.123456", tickers=["AAA", "BRK.B"]))
    sig = parse_rule(rule(id="s", condition={"signal": "golden_cross"}))
    from datetime import UTC, datetime

    q = compile_timeframe([r, sig], "1d", datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC))
    assert "70.123456" not in q.sql and "BRK.B" not in q.sql and "golden_cross" not in q.sql and "1d" not in q.sql
    assert 70.123456 in q.params and "BRK.B" in q.params and "golden_cross" in q.params
    assert q.sql.count("?") == len(q.params)


def test_unknown_ticker_never_fires(duck_gold, redis_prefix):
    """A ticker list entry cannot carry SQL; a rule whose tickers do not exist simply never fires."""
    days = sessions("2024-03-04", 3)
    duck_gold.add_daily("AAA", days, rsi_14=[80, 80, 80])
    ev = make_evaluator(duck_gold.wh, redis_prefix, [rule(id="hot", condition="rsi_14 > 70", tickers=["ZZZ"])],
                        after_close(days[-1]), start_at=ny_midnight(days[0]))
    assert ev.run_once().decided == 0
    assert stream_entries(redis_prefix) == []
    assert duck_gold.query("select count(*) from gold.bars")[0][0] == 3


def test_duplicate_ids_across_files(tmp_path):
    write(tmp_path, "a.yml", GOOD)
    write(tmp_path, "b.yml", GOOD)
    rules, errors = load_rules(tmp_path)
    assert [r.id for r in rules] == ["hot"]
    assert len(errors) == 1 and errors[0].field == "id" and "duplicate" in errors[0].message


def test_missing_path():
    rules, errors = load_rules("/nonexistent/rules")
    assert rules == [] and "no such file" in str(errors[0])
