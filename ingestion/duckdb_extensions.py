"""Install DuckDB extensions from their PyPI wheels into a local folder, never from the network.

DuckDB would download `httpfs` / `postgres_scanner` on first use; this machine (and many
production hosts) has no route to the extension repository. The `duckdb-extension-*` wheels
carry the binaries for our exact DuckDB version; we install them into the project's
extension directory and turn auto-install off (see shared/stack-notes.md).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

# DuckDB name -> the name the wheel installs under
_WHEEL_NAMES = {"postgres": "postgres_scanner"}


def ensure_extensions(extension_dir: Path, names: tuple[str, ...] = ("httpfs",)) -> None:
    """Make `names` loadable by any connection that uses `extension_directory=extension_dir`."""
    import duckdb_extensions

    extension_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(config={"extension_directory": str(extension_dir),
                                 "autoinstall_known_extensions": False})
    try:
        installed = {
            row[0] for row in con.execute(
                "select extension_name from duckdb_extensions() where installed").fetchall()
        }
        for name in names:
            wheel_name = _WHEEL_NAMES.get(name, name)
            if wheel_name not in installed:
                duckdb_extensions.import_extension(wheel_name, con=con)
    finally:
        con.close()


def connect(path: str | Path = ":memory:", read_only: bool = False, extensions: tuple[str, ...] = (),
            extension_dir: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with local extensions only, UTC session time zone."""
    from orchestration.paths import duckdb_extension_dir

    ext_dir = extension_dir or duckdb_extension_dir()
    if extensions:
        ensure_extensions(ext_dir, extensions)
    con = duckdb.connect(str(path), read_only=read_only, config={
        "extension_directory": str(ext_dir),
        "autoinstall_known_extensions": False,
    })
    con.execute("set TimeZone = 'UTC'")
    for name in extensions:
        con.execute(f"load {_WHEEL_NAMES.get(name, name)}")
    return con
