"""A load killed with SIGKILL mid-way, then rerun, ends with no row lost and none duplicated."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date

from ingestion.sandbox.server import FaultConfig, SandboxServer
from tests.ingestion.conftest import TICKERS, duckdb_rows

ARGS = ["load", "--source", "polygon", "--tickers", ",".join(TICKERS), "--from", "2012-06-01",
        "--to", "2013-03-01", "--rate", "100000", "--resources", "daily_aggs"]


def _load_process(server, data_dir) -> subprocess.Popen:
    env = {**os.environ, "POLYGON_BASE_URL": server.base_url, "MASSIVE_API_KEY": server.api_key,
           "TRADLYTE_DATA_DIR": str(data_dir)}
    return subprocess.Popen([sys.executable, "-m", "orchestration.cli", *ARGS], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_sigkill_mid_load_then_rerun_loses_and_duplicates_nothing(small_universe, data_dir):
    expected = small_universe.daily
    expected = expected[expected.ticker.isin(TICKERS) & (expected.session_date >= date(2012, 6, 1))]
    slow = FaultConfig(max_page_size=10, delay_s=0.15)
    with SandboxServer(small_universe, faults=slow) as server:
        proc = _load_process(server, data_dir)
        deadline = time.monotonic() + 120
        while len(server.request_log) < 12 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
    with SandboxServer(small_universe) as server:
        rerun = _load_process(server, data_dir)
        out, err = rerun.communicate(timeout=300)
        assert rerun.returncode == 0, err.decode()[-2000:]
    (count, distinct, tickers), = duckdb_rows(
        data_dir, "select count(*), count(distinct (ticker, session_date)), count(distinct ticker) "
                  "from raw_polygon.daily_aggs")
    assert count == distinct == len(expected)
    assert tickers == len(TICKERS)
