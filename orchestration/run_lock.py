"""One daily run per target at a time, with a lock that a crash cannot leave behind.

- PostgreSQL: a session-level advisory lock on a connection held for the whole run. The server
  releases it when the connection ends, including when the process is SIGKILLed.
- DuckDB (targets `duckdb` and `lake`): `flock` on `<warehouse file>.run.lock`; the kernel
  releases it when the process ends, however it ends. The file keeps the holder's pid and run
  id only to make the "busy" message useful; its presence means nothing.

A second run either exits at once with `RunLockBusy` (a one-line message naming the holder) or,
with `wait=True`, blocks until the first one finishes.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from pathlib import Path

from core.db import open_postgres
from core.errors import TradlyteError
from core.settings import PostgresSettings

log = logging.getLogger("tradlyte.run")

# pg_advisory_lock(int4, int4) keys: "trad" as an int, then 1 for the daily run
PG_LOCK_KEYS = (0x74726164, 1)


class RunLockBusy(TradlyteError):
    """Another run holds the lock for this target."""


class FileRunLock:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._fd: int | None = None

    def holder(self) -> str:
        try:
            return self.path.read_text().strip() or "unknown process"
        except OSError:
            return "unknown process"

    def acquire(self, owner: str, wait: bool = False) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                os.close(fd)
                raise RunLockBusy(f"another run holds the lock {self.path} ({self.holder()}); "
                                  "wait for it to finish or pass --wait") from None
            log.info("waiting for the run lock %s held by %s", self.path, self.holder())
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.write(fd, f"{owner}, since {time.strftime('%Y-%m-%dT%H:%M:%S%z')}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class PostgresRunLock:
    def __init__(self, pg: PostgresSettings):
        self.pg = pg
        self._con = None

    def _holder(self, cur) -> str:
        cur.execute("select a.pid, a.application_name, a.backend_start from pg_locks l "
                    "join pg_stat_activity a on a.pid = l.pid where l.locktype = 'advisory' "
                    "and l.classid = %s and l.objid = %s and l.granted", [*(k & 0xFFFFFFFF for k in PG_LOCK_KEYS)])
        row = cur.fetchone()
        return f"{row[1] or 'backend pid ' + str(row[0])}, connected since {row[2]:%Y-%m-%dT%H:%M:%S%z}" \
            if row else "unknown session"

    def acquire(self, owner: str, wait: bool = False) -> None:
        con = open_postgres(self.pg, autocommit=True, application_name=owner)
        with con.cursor() as cur:
            cur.execute("select pg_try_advisory_lock(%s, %s)", PG_LOCK_KEYS)
            if not cur.fetchone()[0]:
                holder = self._holder(cur)
                if not wait:
                    con.close()
                    raise RunLockBusy(f"another run holds the PostgreSQL advisory lock on database "
                                      f"{self.pg.database} ({holder}); wait for it to finish or pass --wait")
                log.info("waiting for the run lock held by %s", holder)
                cur.execute("select pg_advisory_lock(%s, %s)", PG_LOCK_KEYS)
        self._con = con

    def release(self) -> None:
        if self._con is not None:
            try:
                with self._con.cursor() as cur:
                    cur.execute("select pg_advisory_unlock(%s, %s)", PG_LOCK_KEYS)
            finally:
                self._con.close()
                self._con = None


def lock_for(target: str) -> FileRunLock | PostgresRunLock:
    from core.warehouse import warehouse_for

    wh = warehouse_for(target)
    if wh.kind == "postgres":
        return PostgresRunLock(wh.pg)
    return FileRunLock(Path(f"{wh.duckdb_path}.run.lock"))
