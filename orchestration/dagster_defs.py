"""Optional Dagster view of the daily run (`pip install -e '.[dagster]'`).

    dagster dev -m orchestration.dagster_defs

Assets: the dlt resources of the Polygon source (dagster-dlt), keyed `raw_polygon/<table>`,
which are exactly the keys dagster-dbt gives the dbt sources `raw_polygon.<table>`, so lineage
runs from the API load through bronze and silver to gold; and every dbt model, seed and
snapshot (dagster-dbt, dbt tests become asset checks). One job over all assets and a schedule
on weekdays after the NYSE close, New York time, like `tradlyte schedule`.

It is a second way to run the same steps, not a replacement for `tradlyte run`: no audit trail,
run lock, alerts or publish. Target: `TRADLYTE_DAGSTER_TARGET` (duckdb, default, or postgres),
with the warehouse where the CLI puts it (`core.settings`: the `TRADLYTE_*` variables).
"""


import contextlib
import os
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import dlt
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from core.calendar import NEW_YORK_NAME
from core.resources import DBT_PROJECT_DIR, MACROS_DIR, PROFILES_DIR
from core.settings import PathSettings
from ingestion.polygon import PolygonClient, polygon_source
from ingestion.polygon.settings import DEFAULT_REQUESTS_PER_MINUTE
from ingestion.raw_schema import DATASET_NAME
from orchestration.daily_run import LOAD_RESOURCES
from orchestration.settings import RunSettings

TARGETS = ("duckdb", "postgres")
NYSE_CLOSE = datetime(2000, 1, 3, 16, 0)  # any weekday: only the time of day matters
PIPELINE_NAME = "polygon_dagster"  # its own dlt state, apart from the CLI's `tradlyte_polygon_<target>`


def dagster_target() -> str:
    target = RunSettings().dagster_target
    if target not in TARGETS:
        raise ValueError(f"TRADLYTE_DAGSTER_TARGET={target!r} is not supported: use duckdb or postgres "
                         "(the lake target runs through `tradlyte run --target lake`)")
    return target


def ensure_dagster_home() -> Path:
    """`data/dagster` with a dagster.yaml that turns telemetry off (DAGSTER_HOME for `dagster dev`)."""
    home = Path(os.environ.get("DAGSTER_HOME") or PathSettings().data() / "dagster").resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text("telemetry:\n  enabled: false\n")
    return home


# -- dlt: the Polygon source ---------------------------------------------------------------------

class PolygonApi(dg.ConfigurableResource):
    """Where the Polygon/Massive API is. Unset fields fall back to the CLI's environment variables
    (POLYGON_BASE_URL, MASSIVE_API_KEY / POLYGON_API_KEY); the tests point it at the sandbox."""

    base_url: str | None = None
    api_key: str | None = None
    requests_per_minute: float | None = DEFAULT_REQUESTS_PER_MINUTE

    def client(self) -> PolygonClient:
        return PolygonClient(api_key=self.api_key, base_url=self.base_url,
                             requests_per_minute=self.requests_per_minute)


class LoadConfig(dg.Config):
    """Which sessions to load: `from_date`..`to_date` (ISO dates) when given, else every closed
    session after the newest one in raw_polygon.daily_aggs (a first run: the latest closed one)."""

    from_date: str | None = None
    to_date: str | None = None


class RawTableTranslator(DagsterDltTranslator):
    """dlt resource -> asset `raw_polygon/<table>`, the key dagster-dbt gives the dbt source table,
    so the dbt models depend on the dlt assets. No upstream keys: the API is not an asset here."""

    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        spec = super().get_asset_spec(data)
        return spec.replace_attributes(key=dg.AssetKey([DATASET_NAME, data.resource.table_name]),
                                       deps=[], group_name=DATASET_NAME)


def _daily_resources():
    # grouped_daily writes the table daily_aggs (the daily run's way to load sessions);
    # the per-ticker daily_aggs resource would be a second asset with the same key
    return polygon_source(client=PolygonClient(api_key="definition-only")).with_resources(*LOAD_RESOURCES)


def make_pipeline(target: str) -> dlt.Pipeline:
    from ingestion.pipeline import make_pipeline as make_tradlyte_pipeline

    return make_tradlyte_pipeline(target, PIPELINE_NAME)


def _newest_loaded_session(target: str) -> date | None:
    from core.warehouse import warehouse_for

    if target == "duckdb" and not PathSettings().warehouse().exists():
        return None
    warehouse = warehouse_for(target)
    with warehouse.connect(read_only=True) as con:
        if not con.table_exists(DATASET_NAME, "daily_aggs"):
            return None
        newest = con.query(f"select max(session_date) from {DATASET_NAME}.daily_aggs")[0][0]
    return date.fromisoformat(str(newest)[:10]) if newest else None


def sessions_to_load(config: LoadConfig, target: str, as_of: datetime | None = None) -> list[date]:
    from orchestration.run_plan import plan_run

    start = date.fromisoformat(config.from_date) if config.from_date else None
    end = date.fromisoformat(config.to_date) if config.to_date else None
    watermark = None if start else _newest_loaded_session(target)
    plan = plan_run(as_of or datetime.now(UTC), watermark, start=start, end=end)
    return plan.sessions


@dlt_assets(
    dlt_source=_daily_resources(),
    # a stand-in for the asset specs; the run builds the real pipeline at run time, so the
    # warehouse settings are read when the assets run, not when the definitions load
    dlt_pipeline=dlt.pipeline(pipeline_name=PIPELINE_NAME, destination=dagster_target(),
                              dataset_name=DATASET_NAME, pipelines_dir=str(PathSettings().pipelines())),
    name="polygon_raw",
    dagster_dlt_translator=RawTableTranslator(),
)
def polygon_raw(context: dg.AssetExecutionContext, dlt: DagsterDltResource, polygon: PolygonApi,
                config: LoadConfig):
    target = dagster_target()
    sessions = sessions_to_load(config, target)
    context.log.info(f"loading {len(sessions)} session(s) into {target}: "
                     f"{sessions[0] if sessions else '-'} .. {sessions[-1] if sessions else '-'}")
    source = polygon_source(grouped_dates=sessions, start=sessions[0] if sessions else None,
                            end=sessions[-1] if sessions else None,
                            client=polygon.client()).with_resources(*LOAD_RESOURCES)
    yield from dlt.run(context=context, dlt_source=source, dlt_pipeline=make_pipeline(target))


# -- dbt: the models -------------------------------------------------------------------------------

def _newest_project_file() -> float:
    folders = [DBT_PROJECT_DIR / name for name in ("models", "macros", "seeds", "snapshots", "tests")]
    files = [DBT_PROJECT_DIR / "dbt_project.yml", *[f for d in folders + [MACROS_DIR]
                                                    if d.exists() for f in d.rglob("*") if f.is_file()]]
    return max(f.stat().st_mtime for f in files)


def dbt_manifest() -> Path:
    """target/manifest.json, from `dbt parse` when it is missing or older than the project files."""
    from orchestration.dbt_runner import run_dbt

    manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    if not manifest.exists() or manifest.stat().st_mtime < _newest_project_file():
        run_dbt(["parse"], target=dagster_target())
    return manifest


def dbt_resource() -> DbtCliResource:
    # the dbt next to this Python, so a venv that is not activated still finds it
    local = Path(sys.executable).parent / "dbt"
    return DbtCliResource(project_dir=str(DBT_PROJECT_DIR), profiles_dir=str(PROFILES_DIR),
                          target=dagster_target(), dbt_executable=str(local) if local.exists() else "dbt")


def _prepare_warehouse(target: str, env: dict[str, str]) -> None:
    """What `tradlyte run` does before dbt: extensions and macro package in place, and empty raw
    tables for resources never loaded (dbt reads every raw table of the source)."""
    from core.db import ensure_duckdb_extensions
    from core.warehouse import warehouse_for
    from orchestration.dbt_runner import ensure_packages
    from orchestration.raw_tables import ensure_raw_tables

    if target == "duckdb":
        ensure_duckdb_extensions((), Path(env["TRADLYTE_DUCKDB_EXTENSIONS"]))
    ensure_packages(env)
    ensure_raw_tables(warehouse_for(target))


@contextlib.contextmanager
def _dbt_env(target: str):
    from orchestration.dbt_runner import dbt_environment, environment_overrides

    env = dbt_environment(target)
    with environment_overrides(env):
        yield env


@dbt_assets(manifest=dbt_manifest(), name="tradlyte_dbt",
            dagster_dbt_translator=DagsterDbtTranslator(DagsterDbtTranslatorSettings(enable_asset_checks=True)))
def tradlyte_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    target = dagster_target()
    # the dbt subprocess inherits this environment: the same warehouse paths as the CLI's dbt
    with _dbt_env(target) as env:
        _prepare_warehouse(target, env)
        yield from dbt.cli(["build"], context=context).stream()


# -- job, schedule, definitions --------------------------------------------------------------------

def daily_cron() -> str:
    """Weekdays at the close plus the run delay (TRADLYTE_RUN_DELAY_MINUTES, default 90: 17:30)."""
    from orchestration.run_plan import default_delay

    at = NYSE_CLOSE + timedelta(minutes=int(default_delay().total_seconds() // 60))
    return f"{at.minute} {at.hour} * * 1-5"


daily_job = dg.define_asset_job(
    "tradlyte_daily", selection=dg.AssetSelection.assets(polygon_raw, tradlyte_dbt),
    description="Load the due sessions from Polygon with dlt, then dbt build bronze, silver and gold.")

daily_schedule = dg.ScheduleDefinition(
    name="tradlyte_daily_after_close", job=daily_job, cron_schedule=daily_cron(),
    execution_timezone=NEW_YORK_NAME)

defs = dg.Definitions(
    assets=[polygon_raw, tradlyte_dbt],
    jobs=[daily_job],
    schedules=[daily_schedule],
    resources={"dlt": DagsterDltResource(), "dbt": dbt_resource(), "polygon": PolygonApi()},
)


if __name__ == "__main__":
    # `export DAGSTER_HOME=$(python -m orchestration.dagster_defs)` before `dagster dev`
    print(ensure_dagster_home())
