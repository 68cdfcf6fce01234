"""The alerts service's settings (TRADLYTE_ALERTS_*), read in this module only.

Connection settings (Redis, PostgreSQL, the DuckDB file) are `core.settings`'; what is here is
the service's own behaviour: which warehouse and rules, the Redis key prefix and streams, the
webhook, rate limits and staleness.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_RULES = Path(__file__).resolve().parent / "rules"


class AlertsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRADLYTE_ALERTS_", extra="ignore", env_ignore_empty=True)

    warehouse: str = "duckdb"          # duckdb | postgres: where gold is read
    rules: Path = DEFAULT_RULES        # a rule file or a folder of them
    prefix: str = "tradlyte:alerts:"   # Redis key prefix of the service's state and streams
    stream: str | None = None          # default <prefix>stream
    dead_letter_stream: str | None = None  # default <prefix>deadletter
    webhook_url: SecretStr | None = None   # often carries a token: never logged
    webhook_secret: SecretStr = SecretStr("")
    webhook_backoff: float = 0.5
    rate_limit: str | None = None      # channel=N/window, e.g. redis=100/60s,webhook=20/60s
    stale_grace: str | None = None     # a duration: how long after the close gold may lag
    batch_size: int = 500
    start_at: datetime | None = None   # a first run without a cursor evaluates bars from here
    check_staleness: bool = True
    crash_at: int | None = None        # fault tests: SIGKILL at the N-th crash point


def default_stale_grace() -> timedelta:
    return timedelta(hours=6)
