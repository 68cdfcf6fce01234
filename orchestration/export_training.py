"""Export a training set: gold.ml_features joined with gold.ml_labels, split by date.

Sessions between --from and --to are cut, in time order, into train / valid / test, with an
embargo of `embargo_sessions` sessions dropped before valid and before test: a label looks up
to 21 sessions ahead (entry at the next open, exit 20 sessions later), so without the gap the
last training labels would overlap the first validation features' period. Each split is one
Parquet file; manifest.json lists the feature and label columns, the date ranges, row counts
and a data version (a hash of the marts' row counts and newest `updated_at`), so a model can
record exactly which data it was trained on.

The output is a local folder or an `s3://bucket/prefix` (the lake's S3 settings: credentials
from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, TRADLYTE_S3_ENDPOINT for a non-AWS store).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import urlparse

import pandas as pd

from core.db import DatabaseError, open_duckdb, open_postgres
from core.errors import TradlyteError
from core.settings import LakeSettings, PathSettings

KEY_COLUMNS = ["ticker", "session_date"]
ID_COLUMNS = ["ticker", "session_date", "session_index", "security_key", "series_row"]
SPLITS = ("train", "valid", "test")
DEFAULT_EMBARGO_SESSIONS = 21


class ExportError(TradlyteError):
    """A problem the user can fix (no data in range, unreachable warehouse, bad output path)."""


@dataclass(frozen=True)
class SplitPlan:
    valid_fraction: float = 0.15
    test_fraction: float = 0.15
    embargo_sessions: int = DEFAULT_EMBARGO_SESSIONS

    def assign(self, sessions: list[date]) -> dict[str, list[date]]:
        """Cut the ordered sessions into train / valid / test with embargo gaps between them."""
        if not (0 <= self.valid_fraction < 1 and 0 <= self.test_fraction < 1
                and self.valid_fraction + self.test_fraction < 1):
            raise ExportError("--valid-fraction and --test-fraction must be in [0, 1) and sum to less than 1")
        if self.embargo_sessions < 0:
            raise ExportError("--embargo-sessions must be >= 0")
        n = len(sessions)
        usable = n - 2 * self.embargo_sessions
        n_test = int(round(usable * self.test_fraction))
        n_valid = int(round(usable * self.valid_fraction))
        n_train = usable - n_test - n_valid
        if n_train <= 0:
            raise ExportError(f"{n} sessions between --from and --to are too few for the splits and "
                              f"two embargo gaps of {self.embargo_sessions}; widen the range or lower the gap")
        gap = self.embargo_sessions
        train = sessions[:n_train]
        valid = sessions[n_train + gap:n_train + gap + n_valid]
        test = sessions[n_train + 2 * gap + n_valid:]
        return {"train": train, "valid": valid, "test": test}


def _query_duckdb(sql: str) -> pd.DataFrame:
    con = open_duckdb(PathSettings().warehouse(), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def _query_postgres(sql: str) -> pd.DataFrame:
    conn = open_postgres()
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            columns = [d[0] for d in cur.description]
            return pd.DataFrame(cur.fetchall(), columns=columns)
    finally:
        conn.close()


def query(target: str, sql: str) -> pd.DataFrame:
    try:
        return _query_duckdb(sql) if target == "duckdb" else _query_postgres(sql)
    except DatabaseError:
        raise
    except Exception as exc:  # noqa: BLE001 - missing tables and the like
        first = str(exc).strip().splitlines()[0]
        raise ExportError(f"reading gold.ml_features / gold.ml_labels failed ({first}); "
                          f"build them with `tradlyte dbt build --target {target}`") from None


def _training_frame(target: str, start: date, end: date) -> pd.DataFrame:
    labels = query(target, "select * from gold.ml_labels where 1 = 0").columns
    label_columns = [c for c in labels if c.startswith("label_")]
    select_labels = ", ".join(f"labels.{c}" for c in label_columns)
    frame = query(target, f"""
        select features.*, {select_labels}
        from gold.ml_features as features
        left join gold.ml_labels as labels
            on features.ticker = labels.ticker and features.session_date = labels.session_date
        where features.session_date between date '{start.isoformat()}' and date '{end.isoformat()}'
        order by features.session_date, features.ticker
    """)
    frame = frame.drop(columns=["updated_at"])
    frame["session_date"] = pd.to_datetime(frame["session_date"]).dt.date
    for column in frame.columns:
        if column not in ID_COLUMNS and column != "ind_is_warm" and frame[column].dtype == object:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    return frame


def data_version(target: str) -> tuple[str, dict]:
    """A short hash of each mart's row count and newest updated_at: changes whenever the data does."""
    stats = query(target, """
        select 'ml_features' as mart, count(*) as row_count, cast(max(updated_at) as varchar) as newest
        from gold.ml_features
        union all
        select 'ml_labels', count(*), cast(max(updated_at) as varchar) from gold.ml_labels
    """)
    tables = {r.mart: {"rows": int(r.row_count), "max_updated_at": r.newest} for r in stats.itertuples()}
    digest = hashlib.sha256(json.dumps(tables, sort_keys=True).encode()).hexdigest()[:16]
    return digest, tables


class Output:
    """A local folder or an s3://bucket/prefix to write files into."""

    def __init__(self, location: str):
        self.location = location.rstrip("/")
        parsed = urlparse(location)
        self.is_s3 = parsed.scheme == "s3"
        if parsed.scheme not in ("", "s3", "file"):
            raise ExportError(f"--out must be a local path or s3://bucket/prefix, not {location}")
        if self.is_s3:
            from pyarrow import fs

            lake = LakeSettings()
            options: dict = {"region": lake.region}
            if lake.endpoint:
                options.update(endpoint_override=lake.endpoint_host, scheme="https" if lake.use_ssl else "http")
            self.fs = fs.S3FileSystem(access_key=lake.access_key_id, secret_key=lake.secret(), **options)
            self.root = (parsed.netloc + parsed.path).rstrip("/")
        else:
            from pyarrow import fs

            self.fs = fs.LocalFileSystem()
            self.root = os.path.abspath(parsed.path if parsed.scheme == "file" else location)
            os.makedirs(self.root, exist_ok=True)

    def path(self, name: str) -> str:
        return f"{self.root}/{name}"

    def uri(self, name: str) -> str:
        return f"{self.location}/{name}"

    def write_parquet(self, name: str, frame: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), self.path(name), filesystem=self.fs)
        except OSError as exc:
            raise ExportError(f"cannot write {self.uri(name)} ({exc}); check the path and S3 credentials") from None

    def write_text(self, name: str, text: str) -> None:
        try:
            with self.fs.open_output_stream(self.path(name)) as stream:
                stream.write(text.encode())
        except OSError as exc:
            raise ExportError(f"cannot write {self.uri(name)} ({exc}); check the path and S3 credentials") from None


def export_training(start: date, end: date, out: str, target: str = "duckdb",
                    plan: SplitPlan | None = None) -> dict:
    """Write train/valid/test Parquet files and manifest.json to `out`; return the manifest."""
    plan = plan or SplitPlan()
    if start > end:
        raise ExportError("--from must not be after --to")
    frame = _training_frame(target, start, end)
    if frame.empty:
        raise ExportError(f"gold.ml_features has no rows between {start} and {end}; check the dates or build first")
    sessions = sorted(frame["session_date"].unique())
    assigned = plan.assign(sessions)
    output = Output(out)  # only once there is something to write
    label_columns = [c for c in frame.columns if c.startswith("label_")]
    feature_columns = [c for c in frame.columns if c not in ID_COLUMNS and c not in label_columns]
    version, tables = data_version(target)
    splits = {}
    for name in SPLITS:
        chosen = set(assigned[name])
        part = frame[frame["session_date"].isin(chosen)]
        output.write_parquet(f"{name}.parquet", part)
        splits[name] = {
            "file": f"{name}.parquet",
            "from": min(chosen).isoformat() if chosen else None,
            "to": max(chosen).isoformat() if chosen else None,
            "sessions": len(chosen),
            "rows": int(len(part)),
        }
    manifest = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": {"target": target, "features": "gold.ml_features", "labels": "gold.ml_labels"},
        "from": start.isoformat(),
        "to": end.isoformat(),
        "key": KEY_COLUMNS,
        "id_columns": ID_COLUMNS,
        "features": feature_columns,
        "labels": label_columns,
        "embargo_sessions": plan.embargo_sessions,
        "valid_fraction": plan.valid_fraction,
        "test_fraction": plan.test_fraction,
        "splits": splits,
        "rows": int(sum(s["rows"] for s in splits.values())),
        "data_version": version,
        "tables": tables,
    }
    output.write_text("manifest.json", json.dumps(manifest, indent=2) + "\n")
    return manifest
