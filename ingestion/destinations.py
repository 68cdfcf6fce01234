"""The three places raw data can land, selected by one option: duckdb | postgres | lake.

Settings come from `core.settings`, the same environment variables as dbt's profiles
(profiles/profiles.yml), so the load and the build always agree on where the warehouse is.
"""

from __future__ import annotations

import dlt

from core.db import ensure_postgres_database
from core.settings import LakeSettings, PathSettings, PostgresSettings
from core.targets import TARGETS


def make_destination(target: str):
    if target == "duckdb":
        path = PathSettings().warehouse()
        path.parent.mkdir(parents=True, exist_ok=True)
        return dlt.destinations.duckdb(str(path))
    if target == "postgres":
        settings = PostgresSettings()
        ensure_postgres_database(settings)
        return dlt.destinations.postgres(settings.sqlalchemy_url())
    if target == "lake":
        lake = LakeSettings()
        credentials = {"aws_access_key_id": lake.access_key_id, "aws_secret_access_key": lake.secret(),
                       "region_name": lake.region}
        if lake.endpoint:
            credentials["endpoint_url"] = lake.endpoint
        # one folder per table: s3://bucket/raw_polygon/<table>/<load_id>.<file_id>.parquet
        return dlt.destinations.filesystem(
            bucket_url=lake.bucket_url, credentials=credentials,
            layout="{table_name}/{load_id}.{file_id}.{ext}")
    raise ValueError(f"unknown target {target!r}: choose one of {', '.join(TARGETS)}")
