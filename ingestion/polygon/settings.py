"""Constants of the Polygon (Massive) source; the raw tables' column hints are in
`ingestion.raw_schema`."""

from __future__ import annotations

AGGS_PAGE_LIMIT = 50_000
REFERENCE_PAGE_LIMIT = 1000
DEFAULT_LOOKBACK_DAYS = 5
DEFAULT_REQUESTS_PER_MINUTE = 5.0  # the free plan; paid plans pass a higher rate
DEFAULT_MAX_WORKERS = 4
MAX_RETRIES = 6
