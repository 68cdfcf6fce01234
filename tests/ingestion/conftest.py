"""Fixtures for the ingestion suites: a sandbox universe and a fresh data folder per test."""

from __future__ import annotations

import pytest

from ingestion.sandbox.universe import UniverseSpec, build_universe

SPEC = UniverseSpec(n_tickers=4, start="2012-06-01", end="2013-03-01", minute_tickers=1, minute_sessions=2)
TICKERS = ["AAPL", "SYN0000", "SYN0001", "SYN0003"]


@pytest.fixture(scope="session")
def small_universe():
    return build_universe(SPEC)


@pytest.fixture()
def data_dir(tmp_path, monkeypatch):
    """Each test gets its own warehouse file and dlt pipeline folder."""
    monkeypatch.setenv("TRADLYTE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("TRADLYTE_DUCKDB_PATH", raising=False)
    monkeypatch.delenv("MASSIVE_API_KEY", raising=False)
    monkeypatch.delenv("POLYGON_API_KEY", raising=False)
    return tmp_path


def duckdb_rows(data_dir, sql: str):
    import duckdb

    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()
