"""Run a dlt pipeline into one target: the single entry point the CLI, the daily run and the
tests use, so dataset name, pipeline folder and file format are decided in one place."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field

import dlt

from core.settings import PathSettings
from ingestion.destinations import make_destination
from ingestion.raw_schema import DATASET_NAME

log = logging.getLogger("tradlyte.ingestion")

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")


@dataclass
class LoadReport:
    target: str
    pipeline_name: str
    load_ids: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(v for k, v in self.rows.items() if not k.startswith("_dlt"))


def make_pipeline(target: str, name: str = "polygon") -> dlt.Pipeline:
    return dlt.pipeline(
        pipeline_name=f"tradlyte_{name}_{target}",
        destination=make_destination(target),
        dataset_name=DATASET_NAME,
        pipelines_dir=str(PathSettings().pipelines()),
        progress="log" if os.environ.get("TRADLYTE_DLT_PROGRESS") else None,
    )


def run_source(source, target: str, name: str = "polygon") -> LoadReport:
    pipeline = make_pipeline(target, name)
    started = time.monotonic()
    if pipeline.has_pending_data:
        # a previous run was killed between extract and load: finish its packages first, or
        # dlt would set the new data aside
        log.warning("completing pending load packages of %s first", pipeline.pipeline_name)
        pipeline.run()
    loader_file_format = "parquet" if target == "lake" else None
    info = pipeline.run(source, loader_file_format=loader_file_format)
    rows = dict(pipeline.last_trace.last_normalize_info.row_counts) if pipeline.last_trace else {}
    report = LoadReport(target=target, pipeline_name=pipeline.pipeline_name, load_ids=list(info.loads_ids),
                        rows=rows, seconds=time.monotonic() - started)
    log.info("loaded %s rows into %s (%s)", report.total_rows, target, report.rows)
    return report
