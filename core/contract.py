"""The gold contract: the public marts, their keys and the columns readers may name.

The marts (`gold.bars`, `gold.indicators`, `gold.signals`, `gold.data_gaps`, `gold.ml_features`,
`gold.ml_labels`) are documented in docs/design.md and column by column in the dbt YAML. Alert
rule conditions may only name columns listed here; anything else is rejected when a rule is
loaded, so no identifier from a rule file ever reaches SQL unchecked. The timeframes are the
dbt vars `intraday_minutes` and `fib_intervals` of dbt_project/dbt_project.yml (a test keeps
the two in step).
"""

from __future__ import annotations

from dataclasses import dataclass

TIMEFRAMES: tuple[str, ...] = ("1m", "5m", "15m", "30m", "1h", "1d", "3d", "5d", "8d", "13d", "21d", "34d")
INTRADAY_TIMEFRAMES: tuple[str, ...] = TIMEFRAMES[:5]

# numeric columns of gold.indicators a condition may compare
INDICATOR_COLUMNS: tuple[str, ...] = (
    "close",
    "sma_5", "sma_10", "sma_20", "sma_50", "sma_200",
    "ema_12", "ema_26", "ema_50", "ema_200",
    "macd", "macd_signal", "macd_hist",
    "rsi_14",
    "bb_upper", "bb_middle", "bb_lower",
    "atr_14",
    "stoch_k", "stoch_d",
    "obv",
)

BARS_COLUMNS: tuple[str, ...] = (
    "ticker", "timeframe", "bar_start_at", "bar_end_at", "first_session_date", "last_session_date",
    "open", "high", "low", "close", "volume", "vwap", "transaction_count", "session_count",
    "is_complete",
)

SIGNALS_COLUMNS: tuple[str, ...] = ("ticker", "timeframe", "bar_start_at", "signal", "direction", "value")

# signal names documented in the contract; other names matching SIGNAL_NAME_RE are accepted too
# (gold may add signals), they are bound as parameters.
KNOWN_SIGNALS: tuple[str, ...] = (
    "golden_cross", "death_cross", "rsi_overbought", "rsi_oversold", "macd_cross_up",
    "macd_cross_down", "bb_break_up", "bb_break_down", "new_52w_high", "new_52w_low",
)
SIGNAL_NAME_RE = r"^[a-z][a-z0-9_]{0,62}$"


@dataclass(frozen=True)
class Mart:
    name: str
    key: tuple[str, ...]
    time_column: str  # what retention and routing cut on


# the marts the serving cache holds (published to PostgreSQL, read through the archive route)
SERVED_MARTS: dict[str, Mart] = {
    mart.name: mart for mart in (
        Mart("bars", ("ticker", "timeframe", "bar_start_at"), "bar_start_at"),
        Mart("indicators", ("ticker", "timeframe", "bar_start_at"), "bar_start_at"),
        Mart("signals", ("ticker", "timeframe", "bar_start_at", "signal"), "bar_start_at"),
        Mart("data_gaps", ("ticker", "session_date"), "session_date"),
    )
}
