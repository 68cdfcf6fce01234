"""The sandbox is a faithful stand-in for Polygon: deterministic data with the documented
features, Polygon-shaped responses and errors, rate limits, and split adjustment."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import requests

from ingestion.sandbox.server import FaultConfig, SandboxServer
from ingestion.sandbox.universe import UniverseSpec, build_universe

SPEC = UniverseSpec(n_tickers=24, start="2012-01-03", end="2013-03-01", minute_tickers=2, minute_sessions=2)


@pytest.fixture(scope="module")
def universe():
    return build_universe(SPEC)


def _get(server, path, key="sandbox-key", **params):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return requests.get(server.base_url + path, params=params, headers=headers, timeout=10)


def test_universe_is_deterministic(universe):
    again = build_universe(SPEC)
    pd.testing.assert_frame_equal(universe.daily, again.daily)
    pd.testing.assert_frame_equal(universe.minute, again.minute)


def test_bokeh_real_prices_carry_real_splits(universe):
    aapl = universe.daily[universe.daily.ticker == "AAPL"].set_index("session_date")
    before, after = aapl.loc[pd.Timestamp("2005-02-25").date()], aapl.loc[pd.Timestamp("2005-02-28").date()]
    assert 1.8 < before.close / after.close < 2.2  # unadjusted: the 2:1 split halves the price
    assert {"AAPL", "MSFT"} <= set(universe.splits.ticker)


def test_synthetic_events_are_present(universe):
    daily, tickers = universe.daily, universe.tickers
    # splits: raw close jumps by the ratio on the execution date
    split = universe.splits[universe.splits.ticker == "SYN0007"].iloc[0]
    series = daily[daily.ticker == "SYN0007"].set_index("session_date").close
    ratio = series.shift(1).loc[split.execution_date] / series.loc[split.execution_date]
    assert 1.5 < ratio < 2.7
    # delisting and IPO
    assert not tickers.set_index("ticker").loc["SYN0006", "active"]
    assert daily[daily.ticker == "SYN0004"].session_date.min() > universe.sessions.session_date.iloc[100]
    # a reused symbol: two securities, non-overlapping lives
    reused = tickers[tickers.ticker == "SYN0001"]
    assert reused.security_key.nunique() == 2
    # the 100x glitch
    glitch_ticker, glitch_date = universe.notes["glitch"]
    series = daily[daily.ticker == glitch_ticker].set_index("session_date").close
    assert series.loc[glitch_date] / series.shift(1).loc[glitch_date] > 50
    # holes and dividends
    assert universe.notes["holes"] > 0 and len(universe.dividends) > 0
    # OHLC envelope everywhere
    assert (daily.high >= daily[["open", "close"]].max(axis=1)).all()
    assert (daily.low <= daily[["open", "close"]].min(axis=1)).all()


def test_minute_bars_agree_with_their_daily_bar(universe):
    minute = universe.minute.copy()
    minute["session_date"] = pd.to_datetime(minute.ts_ms, unit="ms", utc=True).dt.tz_convert(
        "America/New_York").dt.date
    for (ticker, day), rows in minute.groupby(["ticker", "session_date"]):
        bar = universe.daily[(universe.daily.ticker == ticker) & (universe.daily.session_date == day)].iloc[0]
        assert rows.high.max() == pytest.approx(bar.high) and rows.low.min() == pytest.approx(bar.low)
        assert rows.volume.sum() == pytest.approx(bar.volume, rel=1e-9)
        assert len(rows) in (390, 210)  # a full session or a half day


def test_adjusted_true_applies_splits(universe):
    with SandboxServer(universe) as server:
        raw = _get(server, "/v2/aggs/ticker/AAPL/range/1/day/2005-02-25/2005-02-28", adjusted="false").json()
        adj = _get(server, "/v2/aggs/ticker/AAPL/range/1/day/2005-02-25/2005-02-28", adjusted="true").json()
    assert raw["results"][0]["c"] == pytest.approx(2 * adj["results"][0]["c"])
    assert raw["results"][1]["c"] == adj["results"][1]["c"]  # on and after the execution date


def test_errors_are_polygon_shaped(universe):
    with SandboxServer(universe, faults=FaultConfig(forbidden_paths=("/v3/reference/dividends",))) as server:
        missing = _get(server, "/v3/reference/tickers", key=None)
        wrong = _get(server, "/v3/reference/tickers", key="nope")
        forbidden = _get(server, "/v3/reference/dividends")
        query_key = requests.get(server.base_url + "/v3/reference/tickers",
                                 params={"apiKey": "sandbox-key"}, timeout=10)
    assert missing.status_code == wrong.status_code == 401
    assert forbidden.status_code == 403 and forbidden.json()["status"] == "NOT_AUTHORIZED"
    assert set(wrong.json()) == {"status", "request_id", "error"}
    assert query_key.status_code == 200


def test_rate_limit_answers_429_with_retry_after(universe):
    with SandboxServer(universe, rate_limit_per_minute=3) as server:
        codes = [_get(server, "/v1/marketstatus/now") for _ in range(4)]
    assert [c.status_code for c in codes] == [200, 200, 200, 429]
    assert float(codes[-1].headers["Retry-After"]) > 0


def test_pagination_next_url_has_no_key_and_covers_everything(universe):
    with SandboxServer(universe) as server:
        body = _get(server, "/v3/reference/tickers", limit=5).json()
        seen = list(body["results"])
        while "next_url" in body:
            assert "apiKey" not in body["next_url"]
            body = requests.get(body["next_url"], headers={"Authorization": "Bearer sandbox-key"},
                                timeout=10).json()
            seen += body.get("results", [])
    assert len(seen) == len(universe.tickers)


def test_grouped_daily_stamps_4pm_new_york(universe):
    with SandboxServer(universe) as server:
        body = _get(server, "/v2/aggs/grouped/locale/us/market/stocks/2013-02-28", adjusted="false").json()
    stamp = pd.Timestamp(body["results"][0]["t"], unit="ms", tz="UTC").tz_convert("America/New_York")
    assert (stamp.hour, stamp.minute) == (16, 0)
    assert {r["T"] for r in body["results"]} >= {"AAPL", "SYN0000"}
    assert np.isfinite([r["c"] for r in body["results"]]).all()
