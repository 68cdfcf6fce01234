"""Where the project's own files are: the dbt project, its profiles, the macro package.

In a source checkout they sit next to the Python packages; every path here is absolute, so
dbt, dlt and DuckDB agree whatever the working directory is.
"""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
PROFILES_DIR = PROJECT_ROOT / "profiles"
MACROS_DIR = PROJECT_ROOT / "macros"


def default_data_dir() -> Path:
    """`<checkout>/data`: the folder the dbt profiles default to as well."""
    return PROJECT_ROOT / "data"
