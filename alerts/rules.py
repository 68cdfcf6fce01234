"""Alert rules: YAML files validated with pydantic, conditions parsed against the gold contract.

A rule file holds one rule (a mapping) or several (`rules: [...]` or a top-level list). Every
problem is reported as `RuleError(file, rule, field, message)`; a broken file does not stop the
other files from loading (`load_rules` returns the good rules and the errors).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from core.calendar import NEW_YORK
from core.contract import INDICATOR_COLUMNS, SIGNAL_NAME_RE, TIMEFRAMES

CHANNELS = ("redis", "webhook", "log")
RULE_ID_RE = r"^[a-z0-9][a-z0-9_.-]{0,79}$"
TICKER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-_:]{0,19}$")
_DURATION_RE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_COMPARE_OPS = {">": ">", ">=": ">=", "<": "<", "<=": "<=", "==": "=", "=": "=", "!=": "<>"}
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class RuleError(Exception):
    """A rule that cannot be loaded: names the file, the rule and the field."""

    def __init__(self, file: str, rule: str | None, field: str | None, message: str):
        self.file, self.rule, self.field, self.message = file, rule, field, message
        where = file + (f": rule {rule!r}" if rule else "") + (f": field {field!r}" if field else "")
        super().__init__(f"{where}: {message}")


def parse_duration(value: Any) -> timedelta:
    """`90s`, `15m`, `4h`, `3d`, `1w`, or a number of seconds."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return timedelta(seconds=value)
    if isinstance(value, str):
        m = _DURATION_RE.match(value)
        if m:
            return timedelta(seconds=int(m.group(1)) * _DURATION_UNITS[m.group(2)])
    raise ValueError(f"not a duration: {value!r} (use e.g. 90s, 15m, 4h, 3d, 1w)")


# ---------------------------------------------------------------- conditions

@dataclass(frozen=True)
class Operand:
    """Either a gold.indicators column or a literal number (always bound as a parameter)."""

    column: str | None = None
    number: float | None = None

    def __str__(self) -> str:
        return self.column if self.column is not None else f"{self.number:g}"


@dataclass(frozen=True)
class Condition:
    kind: Literal["signal", "compare", "crosses_above", "crosses_below", "moves_pct"]
    signal: str | None = None
    left: str | None = None          # a contract column
    op: str | None = None            # SQL comparison operator for `compare`
    right: Operand | None = None
    pct: float | None = None

    def describe(self) -> str:
        if self.kind == "signal":
            return f"signal {self.signal}"
        if self.kind == "compare":
            return f"{self.left} {self.op} {self.right}"
        if self.kind == "moves_pct":
            return f"{self.left} moves_pct {self.pct:g}"
        return f"{self.left} {self.kind} {self.right}"


def _column(name: str) -> str:
    if name not in INDICATOR_COLUMNS:
        raise ValueError(f"unknown column {name!r}: not a numeric column of gold.indicators "
                         f"(allowed: {', '.join(INDICATOR_COLUMNS)})")
    return name


def _operand(token: Any) -> Operand:
    if isinstance(token, bool):
        raise ValueError(f"not a number or column: {token!r}")
    if isinstance(token, int | float):
        return Operand(number=float(token))
    text = str(token).strip()
    if _NUMBER_RE.match(text):
        return Operand(number=float(text))
    if re.fullmatch(r"[a-z_][a-z0-9_]*", text):
        return Operand(column=_column(text))
    raise ValueError(f"not a number or a gold.indicators column: {text!r}")


def parse_condition(raw: Any) -> Condition:
    """`{signal: golden_cross}`, `"rsi_14 > 70"`, `"close crosses_above sma_200"`,
    `"close moves_pct 5"`, or `{left: rsi_14, op: ">", right: 70}`."""
    if isinstance(raw, dict):
        if set(raw) == {"signal"}:
            name = raw["signal"]
            if not isinstance(name, str) or not re.match(SIGNAL_NAME_RE, name):
                raise ValueError(f"signal name {name!r} must match {SIGNAL_NAME_RE}")
            return Condition(kind="signal", signal=name)
        if set(raw) == {"left", "op", "right"}:
            return parse_condition(f"{raw['left']} {raw['op']} {raw['right']}")
        raise ValueError("a condition mapping is {signal: NAME} or {left: COLUMN, op: OP, right: VALUE}")
    if not isinstance(raw, str):
        raise ValueError(f"a condition is a string like 'rsi_14 > 70' or {{signal: NAME}}, got {raw!r}")
    text = raw.strip()
    if text.startswith("signal "):
        return parse_condition({"signal": text[len("signal "):].strip()})
    parts = text.split()
    if len(parts) != 3:
        raise ValueError(f"cannot parse condition {text!r}: expected '<column> <operator> <value>'")
    left_tok, op, right_tok = parts
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", left_tok):
        raise ValueError(f"left side {left_tok!r} is not a column name")
    left = _column(left_tok)
    if op in _COMPARE_OPS:
        right = _operand(right_tok)
        if right.column == left:
            raise ValueError("comparing a column with itself")
        return Condition(kind="compare", left=left, op=_COMPARE_OPS[op], right=right)
    if op in ("crosses_above", "crosses_below"):
        right = _operand(right_tok)
        if right.column == left:
            raise ValueError("a column cannot cross itself")
        return Condition(kind=op, left=left, right=right)  # type: ignore[arg-type]
    if op == "moves_pct":
        if not _NUMBER_RE.match(right_tok):
            raise ValueError(f"moves_pct needs a number, got {right_tok!r}")
        pct = float(right_tok)
        if not 0 < pct < 10_000:
            raise ValueError("moves_pct must be a positive percentage")
        return Condition(kind="moves_pct", left=left, pct=pct)
    raise ValueError(f"unknown operator {op!r} (use > >= < <= == != crosses_above crosses_below moves_pct)")


# ---------------------------------------------------------------- silences

class Silence(BaseModel):
    """A window in New York time when the rule does not deliver.

    Either absolute (`start`/`end`, ISO local times in America/New_York) or recurring
    (`daily: "HH:MM-HH:MM"`, optional `days: [mon, ...]`; a window may wrap past midnight).
    """

    model_config = ConfigDict(extra="forbid")
    start: datetime | None = None
    end: datetime | None = None
    daily: str | None = None
    days: list[str] | None = None
    reason: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Silence:
        if self.daily is None and (self.start is None or self.end is None):
            raise ValueError("a silence needs start and end, or daily: 'HH:MM-HH:MM'")
        if self.daily is not None and (self.start is not None or self.end is not None):
            raise ValueError("a silence is either start/end or daily, not both")
        if self.daily is not None:
            self._daily_bounds()
        if self.start is not None and self.end is not None and self._abs(self.end) <= self._abs(self.start):
            raise ValueError("silence end must be after start")
        for d in self.days or []:
            if d not in _WEEKDAYS:
                raise ValueError(f"unknown weekday {d!r} (use {', '.join(_WEEKDAYS)})")
        return self

    @staticmethod
    def _abs(value: datetime) -> datetime:
        return value.replace(tzinfo=NEW_YORK) if value.tzinfo is None else value

    def _daily_bounds(self) -> tuple[time, time]:
        m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", self.daily or "")
        if not m:
            raise ValueError(f"daily window {self.daily!r} must look like '16:00-20:00'")
        h1, m1, h2, m2 = (int(x) for x in m.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59:
            raise ValueError(f"daily window {self.daily!r} has an invalid time")
        end = time(23, 59, 59, 999999) if h2 == 24 else time(h2, m2)
        return time(h1, m1), end

    def active(self, now: datetime) -> bool:
        local = now.astimezone(NEW_YORK)
        if self.start is not None and self.end is not None:
            return self._abs(self.start) <= now < self._abs(self.end)
        start, end = self._daily_bounds()
        t = local.time()
        if start <= end:
            inside, day = start <= t < end, local
        else:  # wraps midnight: the part after midnight belongs to the previous day's window
            inside = t >= start or t < end
            day = local if t >= start else local - timedelta(days=1)
        return inside and (not self.days or _WEEKDAYS[day.weekday()] in self.days)


# ---------------------------------------------------------------- rules

class Throttle(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cooldown: timedelta = timedelta(0)

    @field_validator("cooldown", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> timedelta:
        return parse_duration(value)


class Rule(BaseModel):
    """One alert rule. `cooldown` is measured in bar time (bar_start_at of the last delivered
    firing of the same rule, ticker and timeframe), so live runs, restarts and backtests agree."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
    id: str = Field(pattern=RULE_ID_RE)
    version: int = Field(ge=1)
    description: str = Field(min_length=1)
    tickers: Literal["all"] | list[str]
    timeframes: list[Literal[TIMEFRAMES]] = Field(min_length=1)  # type: ignore[valid-type]
    condition: Condition
    frequency: Literal["once", "once_per_bar"] = "once_per_bar"
    throttle: Throttle = Field(default_factory=Throttle)
    channels: list[Literal[CHANNELS]] = Field(min_length=1)  # type: ignore[valid-type]
    silences: list[Silence] = Field(default_factory=list)
    source_file: str | None = Field(default=None, exclude=True)

    @field_validator("condition", mode="before")
    @classmethod
    def _condition(cls, value: Any) -> Condition:
        if isinstance(value, Condition):
            return value
        return parse_condition(value)

    @field_validator("tickers")
    @classmethod
    def _tickers(cls, value: Any) -> Any:
        if value == "all":
            return value
        if not value:
            raise ValueError("tickers is 'all' or a non-empty list")
        for t in value:
            if not TICKER_RE.match(t):
                raise ValueError(f"invalid ticker {t!r}")
        return sorted(set(value))

    @field_validator("timeframes", "channels")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    def silenced(self, now: datetime) -> bool:
        return any(s.active(now) for s in self.silences)

    def in_cooldown(self, bar: datetime, last: datetime | None) -> bool:
        """True if `bar` starts less than the cooldown after `last` (the last firing's bar).

        Compared in New York wall time, so `1d` / `1w` mean calendar days across DST changes.
        """
        cd = self.throttle.cooldown
        if last is None or not cd:
            return False
        local = bar.astimezone(NEW_YORK).replace(tzinfo=None)
        return local < last.astimezone(NEW_YORK).replace(tzinfo=None) + cd


def _field_of(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "rule"


def parse_rule(raw: Any, file: str = "<memory>", index: int = 0) -> Rule:
    rule_name = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else f"#{index + 1}"
    if not isinstance(raw, dict):
        raise RuleError(file, rule_name, None, f"a rule is a mapping, got {type(raw).__name__}")
    try:
        rule = Rule.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        extra = f" ({len(exc.errors()) - 1} more problem(s))" if len(exc.errors()) > 1 else ""
        raise RuleError(file, rule_name, _field_of(err["loc"]), msg + extra) from None
    rule.source_file = file
    return rule


def load_rule_file(path: Path) -> list[Rule]:
    """All rules in one file; raises RuleError on the first problem (the file is all or nothing)."""
    name = str(path)
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise RuleError(name, None, None, f"invalid YAML: {exc}".replace("\n", " ")) from None
    except OSError as exc:
        raise RuleError(name, None, None, f"cannot read: {exc}") from None
    if isinstance(doc, dict) and "rules" in doc:
        items = doc["rules"]
    elif isinstance(doc, list):
        items = doc
    elif isinstance(doc, dict):
        items = [doc]
    else:
        raise RuleError(name, None, None, "empty file or not a mapping / list of rules")
    if not isinstance(items, list) or not items:
        raise RuleError(name, None, "rules", "expected a non-empty list of rules")
    rules = [parse_rule(item, name, i) for i, item in enumerate(items)]
    seen: set[str] = set()
    for r in rules:
        if r.id in seen:
            raise RuleError(name, r.id, "id", "duplicate rule id")
        seen.add(r.id)
    return rules


def rule_files(path: Path) -> list[Path]:
    path = Path(path)
    if path.is_file():
        return [path]
    return sorted([*path.glob("*.yml"), *path.glob("*.yaml")])


def load_rules(path: Path | str) -> tuple[list[Rule], list[RuleError]]:
    """Load every rule under `path` (a file or a folder of *.yml). Bad files are reported, not fatal."""
    path = Path(path)
    rules: list[Rule] = []
    errors: list[RuleError] = []
    if not path.exists():
        return [], [RuleError(str(path), None, None, "no such file or folder")]
    ids: dict[str, str] = {}
    for f in rule_files(path):
        try:
            loaded = load_rule_file(f)
        except RuleError as exc:
            errors.append(exc)
            continue
        for r in loaded:
            if r.id in ids:
                errors.append(RuleError(str(f), r.id, "id", f"duplicate rule id (also in {ids[r.id]})"))
                continue
            ids[r.id] = str(f)
            rules.append(r)
    return rules, errors
