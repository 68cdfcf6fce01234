"""Plain `dbt` (the executable, as Dagster, Airflow/Cosmos and CI scripts call it) builds the
same warehouse from the repository root and from dbt_project/, with no TRADLYTE_* path set.

The project runs from a copy of the clone's dbt folders (dbt_project/, profiles/, macros/) in a
temporary directory, so the profile's defaults point into the copy's data/ and nothing is
written into the real clone's data/.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ingestion.sandbox.universe import UniverseSpec, build_universe
from tests.dbt_support import RawWarehouse

REPO = Path(__file__).resolve().parents[2]
DBT = Path(sys.executable).parent / "dbt"
# every variable that sets a path of the profile, and the ones that choose project or profile
PATH_VARIABLES = ("TRADLYTE_DATA_DIR", "TRADLYTE_DUCKDB_PATH", "TRADLYTE_DUCKDB_EXTENSIONS",
                  "TRADLYTE_LAKE_DUCKDB_PATH", "TRADLYTE_SPARK_DIR", "TRADLYTE_SPARK_RAW",
                  "TRADLYTE_TARGET", "DBT_PROFILES_DIR", "DBT_PROJECT_DIR")
# gold.bars and what it reads (their data tests run in the rest of the suite)
BARS = ("--select", "+bars", "--exclude-resource-type", "test")
BUILT_ARTIFACTS = shutil.ignore_patterns("target", "dbt_packages", "logs", "*.duckdb", "*.duckdb.wal")


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """<tmp>/repo with the clone's dbt_project/, profiles/ and macros/ (sources, no build output),
    the local macro package installed."""
    root = tmp_path_factory.mktemp("plain_dbt") / "repo"
    for folder in ("dbt_project", "profiles", "macros"):
        shutil.copytree(REPO / folder, root / folder, ignore=BUILT_ARTIFACTS)
    plain_dbt("deps", "--project-dir", "dbt_project", cwd=root)
    return root


def plain_dbt(*args: str, cwd: Path, **env: str) -> None:
    environment = {k: v for k, v in os.environ.items() if k not in PATH_VARIABLES}
    environment.update(DO_NOT_TRACK="1", DBT_SEND_ANONYMOUS_USAGE_STATS="false", **env)
    done = subprocess.run([str(DBT), *args], cwd=cwd, env=environment, capture_output=True, text=True)
    assert done.returncode == 0, f"dbt {' '.join(args)} in {cwd} failed:\n{done.stdout[-4000:]}\n{done.stderr[-2000:]}"


def gold_bars(warehouse: Path) -> pd.DataFrame:
    frame = RawWarehouse("duckdb", duckdb_path=warehouse).query("select * from gold.bars")
    return frame.sort_values(["ticker", "timeframe", "bar_start_at"]).reset_index(drop=True)


def test_root_and_project_folder_build_the_same_warehouse(clone):
    warehouse = clone / "data" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    universe = build_universe(UniverseSpec(n_tickers=3, start="2012-06-01", end="2012-12-31", include_bokeh=False,
                                           minute_tickers=1, minute_sessions=2))
    RawWarehouse("duckdb", duckdb_path=warehouse).load_universe(universe)

    # from the repository root, the way orchestrators call dbt
    plain_dbt("build", "--project-dir", "dbt_project", "--profiles-dir", "profiles", *BARS, cwd=clone)
    from_root = gold_bars(warehouse)
    assert set(from_root.timeframe) >= {"1m", "1h", "1d", "3d", "34d"}

    # from dbt_project/, the way the README shows (DBT_PROFILES_DIR=../profiles), rebuilt whole
    plain_dbt("build", *BARS, "--full-refresh", cwd=clone / "dbt_project",
              DBT_PROFILES_DIR="../profiles")
    from_project = gold_bars(warehouse)

    # one warehouse file, the clone's data/warehouse.duckdb, written by both runs with the same rows
    assert sorted(clone.parent.rglob("*.duckdb")) == [warehouse]
    assert (from_project.updated_at > from_root.updated_at.max()).all()
    pd.testing.assert_frame_equal(from_project.drop(columns="updated_at"), from_root.drop(columns="updated_at"))


def test_data_dir_moves_the_default_warehouse(clone, tmp_path):
    """TRADLYTE_DATA_DIR, as the tradlyte CLI reads it, is where plain dbt's warehouse goes
    (`dbt debug` opens it to test the connection)."""
    data = tmp_path / "elsewhere"
    data.mkdir()
    plain_dbt("debug", "--project-dir", "dbt_project", "--profiles-dir", "profiles", cwd=clone,
              TRADLYTE_DATA_DIR=str(data))
    assert (data / "warehouse.duckdb").exists()
