"""Where things live: the project root, the dbt project, the data folder.

Every path is absolute so dbt, dlt and DuckDB agree whatever the working directory is.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
PROFILES_DIR = PROJECT_ROOT / "profiles"


def data_dir() -> Path:
    """The data folder (`TRADLYTE_DATA_DIR`, default `<project>/data`); created on first use."""
    path = Path(os.environ.get("TRADLYTE_DATA_DIR", PROJECT_ROOT / "data")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def duckdb_path() -> Path:
    """The embedded warehouse file (`TRADLYTE_DUCKDB_PATH`, default `data/warehouse.duckdb`)."""
    return Path(os.environ.get("TRADLYTE_DUCKDB_PATH", data_dir() / "warehouse.duckdb")).resolve()


def duckdb_extension_dir() -> Path:
    return Path(os.environ.get("TRADLYTE_DUCKDB_EXTENSIONS", data_dir() / "duckdb_extensions")).resolve()


def lake_duckdb_path() -> Path:
    """The lake target's DuckDB file (`TRADLYTE_LAKE_DUCKDB_PATH`, default `data/lake.duckdb`): bronze
    and silver state and the gold tables whose Parquet copies live on S3."""
    return Path(os.environ.get("TRADLYTE_LAKE_DUCKDB_PATH", data_dir() / "lake.duckdb")).resolve()


def spark_dir() -> Path:
    """The spark target's own folder (`TRADLYTE_SPARK_DIR`, default `data/spark`): the warehouse of
    managed tables and the Derby metastore, so nothing lands in the working directory."""
    return Path(os.environ.get("TRADLYTE_SPARK_DIR", data_dir() / "spark")).resolve()


def spark_raw_root() -> str:
    """Where the spark target reads dlt's raw Parquet (`TRADLYTE_SPARK_RAW`, default
    `data/lake/raw_polygon`): <root>/<table>/*.parquet, a local path or an s3a:// URL."""
    return os.environ.get("TRADLYTE_SPARK_RAW", str((data_dir() / "lake" / "raw_polygon").resolve()))
