"""The daily run's own settings (read in this module only; connections are `core.settings`')."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DELAY_MINUTES = 90


class RunSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRADLYTE_", extra="ignore", env_ignore_empty=True)

    run_delay_minutes: int = DEFAULT_DELAY_MINUTES  # after the 16:00 close, when a session is due
    log_json: bool = False                          # JSON log lines (same as --log-json)
    serving_retention_years: int | None = None      # overrides the dbt var of the same name
    sandbox_spec: dict | None = None                # the sandbox universe (UniverseSpec fields), JSON
    dagster_target: str = "duckdb"                  # the Dagster view builds duckdb or postgres
