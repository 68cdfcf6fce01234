"""Run dbt in-process through dbt's programmatic runner (`dbtRunner`).

One place decides how dbt is called: project and profiles directories, the target, absolute
paths for the DuckDB file and its extension folder, telemetry off, and the local macro
package installed (`dbt deps` for `packages.yml`'s `local: ../macros`) before the first run.
dbt keeps global state, so invocations are serialised by a lock.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from core.resources import DBT_PROJECT_DIR, PROFILES_DIR
from core.settings import PathSettings

_DBT_LOCK = threading.Lock()


class DbtRunError(RuntimeError):
    """A dbt command failed; the message lists the failing nodes and their errors."""


@dataclass
class DbtOutcome:
    success: bool
    invocation_id: str | None
    results: list = field(default_factory=list)

    def failures(self) -> list[str]:
        return [
            f"{r.node.unique_id}: {r.status}: {(r.message or '').strip()[:2000]}"
            for r in self.results
            if str(r.status) in {"error", "fail", "runtime error"}
        ]


@contextlib.contextmanager
def environment_overrides(overrides: Mapping[str, str]) -> Iterator[None]:
    """`overrides` set in os.environ for the block (dbt reads env_var() from there), then restored."""
    saved = {key: os.environ.get(key) for key in overrides}
    os.environ.update(overrides)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def dbt_environment(target: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    # absolute paths from the same settings the loader uses, so dbt and dlt agree on every file
    # (a caller's TRADLYTE_DATA_DIR in `extra` moves every default)
    with environment_overrides(extra or {}):
        paths = PathSettings()
    env = {
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "TRADLYTE_TARGET": target,
        "TRADLYTE_DUCKDB_PATH": str(paths.warehouse()),
        "TRADLYTE_LAKE_DUCKDB_PATH": str(paths.lake_warehouse()),
        "TRADLYTE_DUCKDB_EXTENSIONS": str(paths.extensions()),
    }
    if target == "spark":
        env["TRADLYTE_SPARK_DIR"] = str(paths.spark())
        env["TRADLYTE_SPARK_RAW"] = paths.spark_raw_root()
        # the local JVM binds loopback only; its UI is off in the profile
        env["SPARK_LOCAL_IP"] = os.environ.get("SPARK_LOCAL_IP", "127.0.0.1")
    env.update(extra or {})
    return env


def _release_duckdb_file() -> None:
    """dbt-duckdb keeps its database open for the life of the process; a DuckDB file has one
    writing process at a time, so let go of it as soon as dbt is done."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        if DuckDBConnectionManager._ENV is not None:
            with contextlib.suppress(Exception):
                DuckDBConnectionManager._ENV.close()
            DuckDBConnectionManager._ENV = None


def ensure_packages(env: Mapping[str, str]) -> None:
    """`dbt deps` once, so the local macro package is installed before the first command."""
    from dbt.cli.main import dbtRunner

    if (DBT_PROJECT_DIR / "dbt_packages" / "tradlyte_macros").exists():
        return
    with environment_overrides(env):
        res = dbtRunner().invoke(["deps", "--project-dir", str(DBT_PROJECT_DIR),
                                  "--profiles-dir", str(PROFILES_DIR), "--quiet"])
    if not res.success:
        raise DbtRunError(f"dbt deps failed: {res.exception}")


def run_dbt(
    args: Sequence[str],
    target: str = "duckdb",
    vars: Mapping | None = None,
    env: Mapping[str, str] | None = None,
    raise_on_failure: bool = True,
    quiet: bool = True,
    callbacks: Sequence[Callable] | None = None,
) -> DbtOutcome:
    """Run one dbt command (`["build", "--select", "bronze"]`) against `target`;
    `callbacks` receive dbt's structured events (node started / finished ...) as they happen."""
    import json

    from dbt.cli.main import dbtRunner

    full_env = dbt_environment(target, env)
    if target in {"duckdb", "lake"}:
        from pathlib import Path

        from core.db import ensure_duckdb_extensions

        ensure_duckdb_extensions(("httpfs",) if target == "lake" else (),
                                 Path(full_env["TRADLYTE_DUCKDB_EXTENSIONS"]))
    cli = [*args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(PROFILES_DIR),
           "--target", target]
    if vars:
        cli += ["--vars", json.dumps(dict(vars))]
    if quiet:
        cli.append("--quiet")
    with _DBT_LOCK:
        ensure_packages(full_env)
        with environment_overrides(full_env):
            try:
                res = dbtRunner(callbacks=list(callbacks or [])).invoke(cli)
            finally:
                if target in {"duckdb", "lake"}:
                    _release_duckdb_file()
    results = list(getattr(res.result, "results", []) or []) if res.result is not None else []
    invocation_id = None
    with contextlib.suppress(Exception):
        invocation_id = res.result.args.get("invocation_id") if hasattr(res.result, "args") else None
    if invocation_id is None:
        with contextlib.suppress(Exception):
            from dbt.events.functions import get_invocation_id

            invocation_id = get_invocation_id()
    outcome = DbtOutcome(success=bool(res.success), invocation_id=invocation_id, results=results)
    if raise_on_failure and not outcome.success:
        detail = "\n".join(outcome.failures()) or str(res.exception)
        raise DbtRunError(f"dbt {' '.join(args)} on target {target} failed:\n{detail}")
    return outcome


def prepare_target(target: str, args: Sequence[str] = ("build",)) -> None:
    """What a dbt command needs before it starts: the raw tables dbt's sources read (dlt creates a
    table only when rows arrive), on the warehouses the CLI loads itself. The lake's raw views
    and Spark's raw tables are made by their own on-run-start hooks."""
    if target not in ("duckdb", "postgres"):
        return
    from core.db import DatabaseError
    from core.warehouse import warehouse_for
    from orchestration.raw_tables import ensure_raw_tables

    try:
        ensure_raw_tables(warehouse_for(target))
    except DatabaseError as exc:
        raise DatabaseError(f"cannot open the {target} warehouse: {exc}") from None
