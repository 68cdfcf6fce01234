"""The three places raw data can land, selected by one option: duckdb | postgres | lake.

Settings come from the same environment variables as dbt's profiles (profiles/profiles.yml),
so the load and the build always agree on where the warehouse is.
"""

from __future__ import annotations

import os
from pathlib import Path

import dlt

from orchestration.paths import data_dir, duckdb_path

TARGETS = ("duckdb", "postgres", "lake")


def postgres_settings() -> dict[str, str]:
    return {
        "host": os.environ.get("TRADLYTE_PG_HOST", "127.0.0.1"),
        "port": os.environ.get("TRADLYTE_PG_PORT", "5432"),
        "user": os.environ.get("TRADLYTE_PG_USER", "postgres"),
        # dlt's postgres destination wants a password even with trust auth
        "password": os.environ.get("TRADLYTE_PG_PASSWORD") or "unused",
        "database": os.environ.get("TRADLYTE_PG_DATABASE", "tradlyte"),
    }


def ensure_postgres_database() -> None:
    """Create the target database when missing (a fresh server has only `postgres`)."""
    import psycopg2

    s = postgres_settings()
    try:
        conn = psycopg2.connect(host=s["host"], port=s["port"], user=s["user"], password=s["password"],
                                dbname="postgres", connect_timeout=5)
    except psycopg2.OperationalError as exc:
        raise RuntimeError(
            f"PostgreSQL is not reachable at {s['host']}:{s['port']} ({str(exc).strip()}). Start it, or "
            "set TRADLYTE_PG_HOST / TRADLYTE_PG_PORT / TRADLYTE_PG_USER.") from exc
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("select 1 from pg_database where datname = %s", (s["database"],))
        if cur.fetchone() is None:
            cur.execute(f'create database "{s["database"]}"')
    conn.close()


def lake_bucket_url() -> str:
    return f"s3://{os.environ.get('TRADLYTE_LAKE_BUCKET', 'tradlyte-lake')}"


def make_destination(target: str):
    if target == "duckdb":
        path = duckdb_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        return dlt.destinations.duckdb(str(path))
    if target == "postgres":
        ensure_postgres_database()
        s = postgres_settings()
        return dlt.destinations.postgres(
            f"postgresql://{s['user']}:{s['password']}@{s['host']}:{s['port']}/{s['database']}")
    if target == "lake":
        endpoint = os.environ.get("TRADLYTE_S3_ENDPOINT") or os.environ.get("AWS_ENDPOINT_URL_S3")
        credentials = {
            "aws_access_key_id": os.environ.get("AWS_ACCESS_KEY_ID"),
            "aws_secret_access_key": os.environ.get("AWS_SECRET_ACCESS_KEY"),
            "region_name": os.environ.get("AWS_REGION", "us-east-1"),
        }
        if endpoint:
            credentials["endpoint_url"] = endpoint
        # one folder per table: s3://bucket/raw_polygon/<table>/<load_id>.<file_id>.parquet
        return dlt.destinations.filesystem(
            bucket_url=lake_bucket_url(), credentials=credentials,
            layout="{table_name}/{load_id}.{file_id}.{ext}")
    raise ValueError(f"unknown target {target!r}: choose one of {', '.join(TARGETS)}")


def pipelines_dir() -> Path:
    path = data_dir() / "dlt_pipelines"
    path.mkdir(parents=True, exist_ok=True)
    return path
