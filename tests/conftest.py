"""Shared fixtures: real PostgreSQL, Redis and S3 (SeaweedFS) per test run, cleaned up after.

Services: PostgreSQL on 127.0.0.1:5432 (trust auth), Redis on 127.0.0.1:6379 (both started
before the session / CI run), S3 from `weed mini` started here on free loopback ports.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

# Telemetry off for everything the tests start (dlt, dbt, DuckDB-based tools).
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
# PostgreSQL's JIT (on by default, above jit_above_cost) compiles every expression of a plan
# with LLVM before running it. The gold models are large plans over CTEs whose row counts the
# planner overestimates by orders of magnitude, so on the test data the compile is nearly all of
# the run: gold.bars' incremental select spends 11.2 s of 11.6 s compiling 395 functions. JIT
# changes how expressions run, not what they return, so the results under test are the same.
# libpq reads PGOPTIONS at connect time: dbt, dlt, psycopg2 and subprocesses all pick it up.
os.environ.setdefault("PGOPTIONS", "-c jit=off")

PG_HOST = os.environ.get("TRADLYTE_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("TRADLYTE_PG_PORT", "5432"))
PG_USER = os.environ.get("TRADLYTE_PG_USER", "postgres")
REDIS_URL = os.environ.get("TRADLYTE_REDIS_URL", "redis://127.0.0.1:6379/0")

RUN_ID = uuid.uuid4().hex[:10]


def _pg_admin_connect():
    import psycopg2

    try:
        conn = psycopg2.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", password="x")
    except psycopg2.OperationalError as exc:  # pragma: no cover - environment problem
        pytest.fail(f"PostgreSQL not reachable on {PG_HOST}:{PG_PORT} ({exc}); start it and rerun")
    conn.autocommit = True
    return conn


class PgDatabase:
    """A throw-away PostgreSQL database."""

    def __init__(self, name: str):
        self.name = name
        self.host, self.port, self.user = PG_HOST, PG_PORT, PG_USER

    @property
    def dsn(self) -> str:
        # dlt's postgres destination wants a password even with trust auth
        return f"postgresql://{self.user}:unused@{self.host}:{self.port}/{self.name}"

    def env(self) -> dict[str, str]:
        return {
            "TRADLYTE_PG_HOST": self.host,
            "TRADLYTE_PG_PORT": str(self.port),
            "TRADLYTE_PG_USER": self.user,
            "TRADLYTE_PG_PASSWORD": "unused",
            "TRADLYTE_PG_DATABASE": self.name,
        }

    def connect(self):
        import psycopg2

        return psycopg2.connect(host=self.host, port=self.port, user=self.user, dbname=self.name,
                                password="unused")


def create_pg_database(suffix: str = "") -> PgDatabase:
    name = f"tradlyte_test_{RUN_ID}{('_' + suffix) if suffix else ''}_{uuid.uuid4().hex[:6]}"
    conn = _pg_admin_connect()
    with conn.cursor() as cur:
        cur.execute(f'create database "{name}"')
    conn.close()
    return PgDatabase(name)


def drop_pg_database(db: PgDatabase) -> None:
    conn = _pg_admin_connect()
    with conn.cursor() as cur:
        cur.execute(f'drop database if exists "{db.name}" with (force)')
    conn.close()


@pytest.fixture()
def pg_database() -> Iterator[PgDatabase]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    db = create_pg_database()
    try:
        yield db
    finally:
        drop_pg_database(db)


@pytest.fixture(scope="module")
def pg_module_database() -> Iterator[PgDatabase]:
    """A PostgreSQL database shared by the tests of one module (for slow dbt builds)."""
    db = create_pg_database("m")
    try:
        yield db
    finally:
        drop_pg_database(db)


@pytest.fixture()
def redis_prefix() -> Iterator[str]:
    """A unique Redis key prefix; every key under it is deleted afterwards."""
    import redis

    prefix = f"tradlyte-test:{RUN_ID}:{uuid.uuid4().hex[:8]}:"
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as exc:  # pragma: no cover - environment problem
        pytest.fail(f"Redis not reachable at {REDIS_URL} ({exc}); start it and rerun")
    try:
        yield prefix
    finally:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.fixture(scope="session")
def s3_server():
    """One real S3 server (SeaweedFS `weed mini`) on free loopback ports for the whole run."""
    from ingestion.s3_server import SeaweedS3

    with SeaweedS3(buckets=["tradlyte-test"]) as server:
        yield server


@pytest.fixture()
def s3_bucket(s3_server) -> Iterator[str]:
    """A fresh, empty bucket on the shared S3 server; emptied and removed afterwards."""
    client = s3_server.boto3_client()
    name = f"t-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    try:
        yield name
    finally:
        paginator = client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=name):
            objects = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if objects:
                client.delete_objects(Bucket=name, Delete={"Objects": objects})
        client.delete_bucket(Bucket=name)


# -- the dbt project built on each engine, shared by tests/dbt and tests/ml ---------------------
# Defined here, once: a fixture imported into a second conftest is a second fixture of its own,
# so when tests/ml imported tests/dbt's `built` every engine's warehouse was built twice.


@pytest.fixture(scope="session")
def dbt_universe():
    """The sandbox universe of the dbt and ML tests (tests/dbt/conftest.py's SPEC)."""
    from ingestion.sandbox.universe import build_universe
    from tests.dbt.conftest import SPEC

    return build_universe(SPEC)


@pytest.fixture(scope="session", params=["duckdb", "postgres"])
def built(request, dbt_universe, tmp_path_factory):
    """The whole project built (models and dbt tests) once per engine for the session.
    Tests only read it (tests/ml's point-in-time tests build their own warehouse)."""
    from tests.dbt.conftest import make_warehouse

    warehouse, db = make_warehouse(request.param, tmp_path_factory)
    try:
        warehouse.load_universe(dbt_universe)
        warehouse.build()
        yield warehouse
    finally:
        if db is not None:
            drop_pg_database(db)
