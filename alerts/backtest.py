"""How often a rule would have fired over history, from gold (no delivery, no state).

Frequency (`once` re-arming) and the cooldown (bar time) are applied exactly as the live
evaluator applies them; silences and the channel rate limit are wall-clock delivery concerns
and are not simulated.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from alerts.rules import Rule
from alerts.sql import compile_timeframe
from core.calendar import ny_midnight
from core.warehouse import Warehouse


@dataclass
class BacktestResult:
    rule_id: str
    start: date
    end: date
    firings: list[tuple[str, str, datetime, float | None]] = field(default_factory=list)
    suppressed_cooldown: int = 0

    @property
    def total(self) -> int:
        return len(self.firings)

    def by_ticker(self) -> Counter:
        return Counter(f[0] for f in self.firings)

    def report(self, top: int = 10) -> str:
        lines = [f"rule {self.rule_id}: {self.total} firing(s) from {self.start} to {self.end}"
                 f" ({self.suppressed_cooldown} more held back by the cooldown)"]
        by_tf = Counter(f[1] for f in self.firings)
        if by_tf:
            lines.append("  by timeframe: " + ", ".join(f"{k} {v}" for k, v in sorted(by_tf.items())))
        tickers = self.by_ticker()
        if tickers:
            lines.append(f"  tickers: {len(tickers)}; most: " +
                         ", ".join(f"{t} {n}" for t, n in tickers.most_common(top)))
        return "\n".join(lines)


def backtest(wh: Warehouse, rule: Rule, start: date, end: date) -> BacktestResult:
    lo = ny_midnight(start)
    hi = ny_midnight(end + timedelta(days=1)) - timedelta(microseconds=1)
    out = BacktestResult(rule.id, start, end)
    with wh.connect(read_only=True) as con:
        for tf in rule.timeframes:
            q = compile_timeframe([rule], tf, lo - timedelta(microseconds=1), hi)
            groups: dict[str, list] = defaultdict(list)
            for _idx, ticker, bar, value in con.query(q.sql, q.params):
                groups[ticker].append((bar, value))
            for ticker, hits in groups.items():
                last = None
                for bar, value in sorted(hits, key=lambda h: h[0]):
                    if rule.in_cooldown(bar, last):
                        out.suppressed_cooldown += 1
                        continue
                    out.firings.append((ticker, tf, bar, value))
                    last = bar
    out.firings.sort(key=lambda f: (f[2], f[0]))
    return out
