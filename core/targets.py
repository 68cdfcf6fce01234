"""The names of the targets (no imports: the CLI's option lists read them at start-up)."""

from __future__ import annotations

# where raw data lands and dbt builds (`tradlyte load --target`, `tradlyte run --target`)
TARGETS: tuple[str, ...] = ("duckdb", "postgres", "lake")
# every dbt target of profiles/profiles.yml
DBT_TARGETS: tuple[str, ...] = (*TARGETS, "spark")
# where gold can be read as an archive (the lake's Parquet or the DuckDB file)
ARCHIVE_TARGETS: tuple[str, ...] = ("lake", "duckdb")
# where the alerts service and the ML export read gold
GOLD_READ_TARGETS: tuple[str, ...] = ("duckdb", "postgres")
