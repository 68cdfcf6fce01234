"""Compile rules into one set-based SQL query per timeframe (DuckDB and PostgreSQL).

Identifiers come only from the gold contract (checked when the rule was parsed); every value
(thresholds, signal names, tickers, times) is a bound parameter. The query reads closed bars
(`gold.bars.is_complete`) in (lookback_start, upper], computes previous-bar values with `lag`,
one boolean hit column per rule, the previous bar's hit (for `once`: fire only when the
condition was false on the previous bar, i.e. the rule re-armed), and returns the hits whose
bar is in (cursor, upper].
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from alerts.rules import Condition, Rule

# how far back to read so every ticker's previous bar (and the one before, for `once` on a
# crossing) is inside the window, even across holidays and gaps
_LOOKBACK = {
    "1m": timedelta(days=5), "5m": timedelta(days=6), "15m": timedelta(days=7), "30m": timedelta(days=8),
    "1h": timedelta(days=10), "1d": timedelta(days=21),
}


def lookback(timeframe: str) -> timedelta:
    if timeframe in _LOOKBACK:
        return _LOOKBACK[timeframe]
    n = int(timeframe.rstrip("d"))
    return timedelta(days=4 * n + 14)


@dataclass
class Query:
    sql: str
    params: list


def _columns(cond: Condition) -> set[str]:
    cols = set()
    if cond.left:
        cols.add(cond.left)
    if cond.right is not None and cond.right.column:
        cols.add(cond.right.column)
    return cols


def _needs_prev(cond: Condition) -> bool:
    return cond.kind in ("crosses_above", "crosses_below", "moves_pct")


def _condition_sql(cond: Condition, sig_index: dict[str, int], params: list) -> tuple[str, str]:
    """(boolean expression, value expression) over the `base` CTE."""
    if cond.kind == "signal":
        k = sig_index[cond.signal]  # type: ignore[index]
        return f"(s{k} = 1)", f"sv{k}"
    left = cond.left
    if cond.kind == "moves_pct":
        params.append(cond.pct - 1e-9)  # type: ignore[operator]
        return (f"(abs({left} / nullif(p_{left}, 0) - 1) * 100 >= ?)",
                f"(({left} / nullif(p_{left}, 0) - 1) * 100)")
    right = cond.right
    assert right is not None
    if cond.kind == "compare":
        if right.column:
            return f"({left} {cond.op} {right.column})", left  # type: ignore[return-value]
        params.append(right.number)
        return f"({left} {cond.op} ?)", left  # type: ignore[return-value]
    gt, le = (">", "<=") if cond.kind == "crosses_above" else ("<", ">=")
    if right.column:
        return f"({left} {gt} {right.column} and p_{left} {le} p_{right.column})", left  # type: ignore[return-value]
    params.extend([right.number, right.number])
    return f"({left} {gt} ? and p_{left} {le} ?)", left  # type: ignore[return-value]


def compile_timeframe(rules: list[Rule], timeframe: str, cursor: datetime, upper: datetime,
                      lower: datetime | None = None) -> Query:
    """One query returning (rule_index, ticker, bar_start_at, value) for every hit of `rules`
    on closed `timeframe` bars with cursor < bar_start_at <= upper."""
    if not rules:
        raise ValueError("no rules")
    lower = lower if lower is not None else cursor - lookback(timeframe)
    cols: set[str] = set()
    prev_cols: set[str] = set()
    signals: list[str] = []
    for r in rules:
        c = r.condition
        cols |= _columns(c)
        if _needs_prev(c):
            prev_cols |= _columns(c)
        if c.kind == "signal" and c.signal not in signals:
            signals.append(c.signal)  # type: ignore[arg-type]
    cols_sorted = sorted(cols)
    prev_sorted = sorted(prev_cols)
    sig_index = {s: i for i, s in enumerate(signals)}
    params: list = []

    # tickers: restrict the scan when no rule asks for all
    ticker_filter = ""
    if all(r.tickers != "all" for r in rules):
        universe = sorted({t for r in rules for t in r.tickers})
        ticker_filter = f" and i.ticker in ({', '.join('?' for _ in universe)})"
    else:
        universe = []

    ind_cols = "".join(f", i.{c}" for c in cols_sorted)
    parts = [
        "with ind as (\n"
        f"  select i.ticker, i.bar_start_at{ind_cols}\n"
        "  from gold.indicators as i\n"
        "  inner join gold.bars as b\n"
        "    on b.ticker = i.ticker and b.timeframe = i.timeframe and b.bar_start_at = i.bar_start_at\n"
        f"  where i.timeframe = ? and i.bar_start_at > ? and i.bar_start_at <= ? and b.is_complete{ticker_filter}\n"
        ")"
    ]
    params += [timeframe, lower, upper, *universe]

    if signals:
        sig_cols = []
        for s, k in sig_index.items():
            sig_cols.append(f"max(case when signal = ? then 1 else 0 end) as s{k}")
            sig_cols.append(f"max(case when signal = ? then value end) as sv{k}")
            params += [s, s]
        parts.append(
            ",\nsig as (\n"
            f"  select ticker, bar_start_at, {', '.join(sig_cols)}\n"
            "  from gold.signals\n"
            f"  where timeframe = ? and bar_start_at > ? and bar_start_at <= ? "
            f"and signal in ({', '.join('?' for _ in signals)})\n"
            "  group by ticker, bar_start_at\n"
            ")"
        )
        params += [timeframe, lower, upper, *signals]

    base_cols = ["ind.ticker", "ind.bar_start_at"] + [f"ind.{c}" for c in cols_sorted]
    base_cols += [f"lag(ind.{c}) over w as p_{c}" for c in prev_sorted]
    join = ""
    if signals:
        base_cols += [f"coalesce(sig.s{k}, 0) as s{k}" for k in sig_index.values()]
        base_cols += [f"sig.sv{k}" for k in sig_index.values()]
        join = " left join sig on sig.ticker = ind.ticker and sig.bar_start_at = ind.bar_start_at"
    parts.append(
        ",\nbase as (\n"
        f"  select {', '.join(base_cols)}\n"
        f"  from ind{join}\n"
        "  window w as (partition by ind.ticker order by ind.bar_start_at)\n"
        ")"
    )

    hit_cols = []
    for i, r in enumerate(rules):
        expr, value = _condition_sql(r.condition, sig_index, params)
        hit_cols.append(f"coalesce({expr}, false) as h{i}")
        hit_cols.append(f"cast({value} as double precision) as v{i}")
    parts.append(",\nhits as (\n"
                 f"  select ticker, bar_start_at, {', '.join(hit_cols)}\n"
                 "  from base\n)")
    lag_cols = [f"lag(h{i}) over w as ph{i}" for i, r in enumerate(rules) if r.frequency == "once"]
    parts.append(",\nlagged as (\n"
                 f"  select *{''.join(', ' + c for c in lag_cols)}\n"
                 "  from hits\n"
                 "  window w as (partition by ticker order by bar_start_at)\n)")
    parts.append(",\nfresh as (\n  select * from lagged where bar_start_at > ?\n)")
    params.append(cursor)

    # unpivot: one row per (bar, rule) whose firing condition holds; a single pass, linear in rules
    rows = []
    for i, r in enumerate(rules):
        fire = f"h{i}"
        if r.frequency == "once":
            fire += f" and not coalesce(ph{i}, false)"
        if r.tickers != "all":
            fire += f" and f.ticker in ({', '.join('?' for _ in r.tickers)})"
            params += list(r.tickers)
        rows.append(f"({i}, {fire}, v{i})")
    sql = ("".join(parts) + "\n"
           "select r.rule_index, f.ticker, f.bar_start_at, r.value\n"
           "from fresh as f\n"
           f"cross join lateral (values {', '.join(rows)}) as r (rule_index, fire, value)\n"
           "where r.fire\n"
           "order by f.bar_start_at, r.rule_index, f.ticker")
    return Query(sql=sql, params=params)
