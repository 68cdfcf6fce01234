"""Database openers: one for DuckDB, one for PostgreSQL, each with one-line errors.

- DuckDB: extensions only from the local extension folder (installed from their PyPI wheels,
  never downloaded), session time zone UTC. A DuckDB file has one writing process at a time;
  when another process holds it, the open is retried for a bounded time with a log line per
  attempt naming the holder (DuckDB's lock error gives its pid), then `DatabaseBusy`.
- PostgreSQL: a connect timeout, session time zone UTC, and errors that tell "server
  unreachable" from "database missing" from "authentication failed", never showing a password.
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import TradlyteError, first_line
from core.settings import PathSettings, PostgresSettings

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger("tradlyte.db")

# DuckDB name -> the name its extension wheel installs under
_EXTENSION_WHEELS = {"postgres": "postgres_scanner"}
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<exe>.*?) \(PID (?P<pid>\d+)\)")


class DatabaseError(TradlyteError):
    """A warehouse cannot be opened or read."""


class DatabaseBusy(DatabaseError):
    """A DuckDB file stayed locked by another process for the whole wait."""


class DatabaseUnreachable(DatabaseError):
    """The database server does not answer."""


class DatabaseMissing(DatabaseError):
    """The server answers but the database (or the DuckDB file) does not exist."""


class AuthenticationFailed(DatabaseError):
    """The server refused the user or password."""


# ------------------------------------------------------------------------------------ DuckDB
def ensure_duckdb_extensions(names: tuple[str, ...], extension_dir: Path | None = None) -> Path:
    """Install `names` from their PyPI wheels into the extension folder (once); returns it."""
    import duckdb
    import duckdb_extensions

    folder = extension_dir or PathSettings().extensions()
    folder.mkdir(parents=True, exist_ok=True)
    if not names:
        return folder
    con = duckdb.connect(config={"extension_directory": str(folder), "autoinstall_known_extensions": False})
    try:
        installed = {row[0] for row in con.execute(
            "select extension_name from duckdb_extensions() where installed").fetchall()}
        for name in names:
            wheel_name = _EXTENSION_WHEELS.get(name, name)
            if wheel_name not in installed:
                duckdb_extensions.import_extension(wheel_name, con=con)  # by keyword: see its docs
    finally:
        con.close()
    return folder


def lock_holder(message: str) -> str | None:
    """'pid 123 (python -m ... dbt build)' from DuckDB's lock error, or None."""
    match = _LOCK_HOLDER.search(message)
    if not match:
        return None
    pid = match.group("pid")
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        command = match.group("exe")
    return f"pid {pid} ({command[:120]})" if command else f"pid {pid}"


def open_duckdb(path: str | Path = ":memory:", read_only: bool = False, extensions: tuple[str, ...] = (),
                wait_seconds: float = 30.0, config: dict[str, Any] | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with local extensions only and time zone UTC.

    A file locked by another process is retried for up to `wait_seconds` (0: one try), then
    `DatabaseBusy` names the holder. A read-only open of a missing file is `DatabaseMissing`.
    """
    import duckdb

    folder = ensure_duckdb_extensions(extensions)
    target = str(path)
    if target != ":memory:":
        file = Path(target)
        if read_only and not file.exists():
            raise DatabaseMissing(f"warehouse file {file} does not exist: load and build it first "
                                  "(tradlyte load, then tradlyte dbt build)")
        file.parent.mkdir(parents=True, exist_ok=True)
    options = {"extension_directory": str(folder), "autoinstall_known_extensions": False, **(config or {})}
    deadline = time.monotonic() + wait_seconds
    attempt = 0
    while True:
        attempt += 1
        try:
            con = duckdb.connect(target, read_only=read_only, config=options)
            break
        except duckdb.IOException as exc:
            holder = lock_holder(str(exc))
            if holder is None:  # not a lock: a bad path, a corrupt file, no permission
                raise DatabaseError(f"cannot open {target}: {first_line(exc)}") from None
            wait = min(0.25 * 2 ** min(attempt, 4), 2.0)
            if time.monotonic() + wait > deadline:
                raise DatabaseBusy(f"{target} is held by another process, {holder}; try again when it "
                                   f"finishes (waited {wait_seconds:.0f}s)") from None
            log.warning("%s is held by %s (attempt %d); retrying in %.2fs", target, holder, attempt, wait)
            time.sleep(wait)
    con.execute("set TimeZone = 'UTC'")
    for name in extensions:
        con.execute(f"load {_EXTENSION_WHEELS.get(name, name)}")
    return con


# -------------------------------------------------------------------------------- PostgreSQL
def _postgres_error(exc: Exception, settings: PostgresSettings, database: str) -> DatabaseError:
    text = first_line(exc)
    where = settings.describe(database)
    if "does not exist" in text and "database" in text:
        return DatabaseMissing(f"PostgreSQL database {database!r} does not exist on {settings.host}:"
                               f"{settings.port}: create it, or set TRADLYTE_PG_DATABASE")
    if any(s in text for s in ("password authentication failed", "no pg_hba.conf entry",
                               "authentication failed", "role \"")):
        return AuthenticationFailed(f"PostgreSQL refused user {settings.user!r} at {settings.host}:"
                                    f"{settings.port} ({_strip_secrets(text, settings)}): check "
                                    "TRADLYTE_PG_USER / TRADLYTE_PG_PASSWORD")
    return DatabaseUnreachable(f"PostgreSQL is not reachable at {settings.host}:{settings.port} "
                               f"({_strip_secrets(text, settings)}): start it, or set TRADLYTE_PG_HOST / "
                               f"TRADLYTE_PG_PORT (wanted {where})")


def _strip_secrets(text: str, settings: PostgresSettings) -> str:
    secret = settings.password.get_secret_value()
    return text.replace(secret, "***") if secret else text


def open_postgres(settings: PostgresSettings | None = None, database: str | None = None,
                  autocommit: bool = False, application_name: str | None = None):
    """A psycopg2 connection (time zone UTC, connect timeout from the settings)."""
    import psycopg2

    settings = settings or PostgresSettings()
    database = database or settings.database
    kwargs = settings.connect_kwargs(database)
    if application_name:
        kwargs["application_name"] = application_name[:63]
    try:
        conn = psycopg2.connect(**kwargs)
    except psycopg2.OperationalError as exc:
        raise _postgres_error(exc, settings, database) from None
    conn.autocommit = autocommit
    with conn.cursor() as cur:
        cur.execute("set time zone 'UTC'")
    if not autocommit:
        conn.commit()
    return conn


def quote_identifier(name: str) -> str:
    """A SQL identifier in double quotes, embedded quotes doubled (PostgreSQL and DuckDB)."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """A SQL string literal, embedded quotes doubled: for statements that take no parameters
    (DuckDB's ATTACH, COPY ... TO)."""
    return "'" + value.replace("'", "''") + "'"


def sql_literal(value: object) -> str:
    """A typed SQL literal for a str, date, aware datetime, int or finite float.

    For DuckDB queries on a latency-sensitive path: binding parameters makes DuckDB's Python
    client import pandas (about a third of a second at start-up) to check the values' types.
    Every value here is typed and quoted, so nothing in it can change the statement.
    """
    import math
    from datetime import date, datetime

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not a finite number: {value!r}")
        return repr(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a timestamp literal must be timezone-aware")
        return f"timestamptz {quote_literal(value.isoformat())}"
    if isinstance(value, date):
        return f"date {quote_literal(value.isoformat())}"
    if isinstance(value, str):
        return quote_literal(value)
    raise TypeError(f"no SQL literal for {type(value).__name__}")


def ensure_postgres_database(settings: PostgresSettings | None = None) -> bool:
    """Create the configured database when missing (a fresh server has only `postgres`).
    Returns True when it was created."""
    settings = settings or PostgresSettings()
    conn = open_postgres(settings, database="postgres", autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute("select 1 from pg_database where datname = %s", (settings.database,))
            if cur.fetchone() is not None:
                return False
            cur.execute(f"create database {quote_identifier(settings.database)}")
            log.info("created PostgreSQL database %s", settings.describe())
            return True
    finally:
        conn.close()
